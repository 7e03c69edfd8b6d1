"""Substrate components: agents."""
