"""VPC endpoints as a policy sees them (R24, R25)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from ._props import value

_SERVICE_NAME = re.compile(r"^(cn\.)?com\.amazonaws\.(?P<region>[a-z0-9-]+)\.(?P<service>.+)$")


def service_of(props: Mapping[str, Any]) -> str | None:
    """`bedrock-runtime` for `com.amazonaws.us-west-2.bedrock-runtime`; None if no service."""
    name = value(props, "serviceName")
    match = _SERVICE_NAME.match(name) if isinstance(name, str) else None
    return match.group("service") if match else None


def region_of(props: Mapping[str, Any]) -> str | None:
    """`us-west-2` for `com.amazonaws.us-west-2.s3`; None if unknown."""
    name = value(props, "serviceName")
    match = _SERVICE_NAME.match(name) if isinstance(name, str) else None
    return match.group("region") if match else None
