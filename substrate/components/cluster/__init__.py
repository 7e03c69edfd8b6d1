"""Substrate components: cluster."""
