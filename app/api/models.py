"""Integration API: models."""
