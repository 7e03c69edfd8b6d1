"""Substrate components: bedrock."""
