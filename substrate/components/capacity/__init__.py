"""Substrate components: capacity."""
