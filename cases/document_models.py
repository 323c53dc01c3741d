"""Issued documents: models (filled in by the documents feature)."""
