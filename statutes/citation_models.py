"""Statute citations pinned to cases: models."""
