"""pipeline.nn."""
