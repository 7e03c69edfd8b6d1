"""Substrate components: observability."""
