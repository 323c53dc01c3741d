"""Bulk intake: models."""
