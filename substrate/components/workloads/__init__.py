"""Substrate components: workloads."""
