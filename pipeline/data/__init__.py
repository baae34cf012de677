"""pipeline.data."""
