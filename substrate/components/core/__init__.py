"""Substrate components: core."""
