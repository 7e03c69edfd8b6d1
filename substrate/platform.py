"""Compose the platform from typed config: the only place config meets components.

Layers are built in dependency order; each takes the typed config and the layers before it.
"""

from __future__ import annotations

from dataclasses import dataclass

from substrate.config import PlatformConfig
from substrate.layers import foundation, identity, observability


@dataclass(frozen=True)
class Platform:
    foundation: foundation.Foundation
    identity: identity.Identity
    observability: observability.Observability


def build_platform(cfg: PlatformConfig) -> Platform:
    base = foundation.build(cfg)
    ident = identity.build(cfg, base)
    obs = observability.build(cfg, base)
    return Platform(foundation=base, identity=ident, observability=obs)
