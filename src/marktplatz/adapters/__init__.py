"""Adapters to outside systems, each with a real implementation and a harmless twin."""
