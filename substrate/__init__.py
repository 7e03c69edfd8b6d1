"""Substrate: typed stack configuration, platform composition and the offline plan."""
