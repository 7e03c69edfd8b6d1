"""Stack configuration: parsed once, at the edge, into typed objects."""

from substrate.config.platform import PlatformConfig, load_config, stack_file_config
from substrate.config.schema import ConfigError

__all__ = ["ConfigError", "PlatformConfig", "load_config", "stack_file_config"]
