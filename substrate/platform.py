"""Compose the platform from typed config: the only place config meets components.

Layers are built in dependency order; each takes the typed config and the layers before it.
"""

from __future__ import annotations

from dataclasses import dataclass

from substrate.config import PlatformConfig
from substrate.layers import capacity, foundation


@dataclass(frozen=True)
class Platform:
    foundation: foundation.Foundation
    capacity: capacity.Capacity


def build_platform(cfg: PlatformConfig) -> Platform:
    base = foundation.build(cfg)
    nodes = capacity.build(cfg, base)
    return Platform(foundation=base, capacity=nodes)
