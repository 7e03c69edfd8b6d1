"""Substrate components: identity."""
