"""Compose the platform from typed config: the only place config meets components.

Layers are built in dependency order; each takes the typed config and the layers before it.
"""

from __future__ import annotations

from dataclasses import dataclass

from substrate.config import PlatformConfig
from substrate.layers import admission, foundation


@dataclass(frozen=True)
class Platform:
    foundation: foundation.Foundation
    admission: admission.Admission


def build_platform(cfg: PlatformConfig) -> Platform:
    base = foundation.build(cfg)
    return Platform(foundation=base, admission=admission.build(cfg, base))
