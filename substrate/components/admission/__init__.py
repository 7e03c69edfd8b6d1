"""Substrate components: admission."""
