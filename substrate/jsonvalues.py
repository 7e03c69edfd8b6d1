"""JSON documents that travel as strings (Pulumi structured config, IAM policies in inputs)."""

from __future__ import annotations

import json
from typing import Any


def decode_json_string(value: Any) -> Any:
    """The parsed document when ``value`` is a JSON object/array string; otherwise ``value``."""
    if isinstance(value, str) and value[:1] in "{[":
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            return value
    return value
