"""The static-drift hashes Karpenter v1.14.1 stamps on NodePools, EC2NodeClasses and NodeClaims.

Karpenter computes them with `github.com/mitchellh/hashstructure/v2` (FormatV2, FNV-1 64-bit,
options `SlicesAsSets`, `IgnoreZeroValue`, `ZeroNil`) over Go structs:

- `NodePool.Hash()` (kubernetes-sigs/karpenter `pkg/apis/v1/nodepool.go`) hashes
  `spec.template`: metadata labels and annotations, taints, startupTaints, nodeClassRef,
  terminationGracePeriod, expireAfter. `requirements` carry `hash:"ignore"` (requirements drift
  is checked separately), and weight, limits and disruption are outside the template.
- `EC2NodeClass.Hash(caBundle)` (aws/karpenter-provider-aws `pkg/apis/v1/ec2nodeclass.go`)
  hashes `[spec, amiFamily(), caBundle]`. Subnet, security-group, capacity-reservation and AMI
  selector terms, `ipPrefixCount` and `amiFamily` carry `hash:"ignore"` (their drift is
  checked against what they resolve to); everything else, **tags included**, is hashed.

This module walks a manifest (the JSON an API server would hand Karpenter) through the same Go
struct layouts, field order and zero-value rules, so its numbers equal Karpenter's: the tests
reproduce the constants in upstream's `ec2nodeclass_hash_test.go`. Only the hashing is modelled;
CRD defaults the API server would add are not.
"""

from __future__ import annotations

import re
import struct
from collections.abc import Mapping
from fractions import Fraction
from functools import lru_cache
from typing import Any

from substrate.engines.karpenter.gotypes import (
    DURATION,
    EC2_NODE_CLASS_SPEC,
    NODE_CLAIM_TEMPLATE,
    STRING,
    T,
)

NODEPOOL_HASH_VERSION = "v3"
EC2NODECLASS_HASH_VERSION = "v5"

_FNV_OFFSET = 14695981039346656037
_FNV_PRIME = 1099511628211
_MASK = (1 << 64) - 1


def fnv1_64(data: bytes) -> int:
    """Go's hash/fnv New64 (FNV-1, not FNV-1a)."""
    h = _FNV_OFFSET
    for byte in data:
        h = (h * _FNV_PRIME) & _MASK
        h ^= byte
    return h


def _ordered(a: int, b: int) -> int:
    return fnv1_64(struct.pack("<QQ", a, b))


def _finish(a: int) -> int:
    return fnv1_64(struct.pack("<Q", a))


# -- values ------------------------------------------------------------------------------------
class _Missing:
    """A field absent from the manifest: Go's zero value (nil pointer, slice or map)."""

    def __repr__(self) -> str:
        return "MISSING"


MISSING: Any = _Missing()
_UNITS = {"ns": 1, "us": 10**3, "µs": 10**3, "ms": 10**6, "s": 10**9, "m": 60 * 10**9}
_UNITS["h"] = 60 * _UNITS["m"]
_BINARY = {"Ki": 1, "Mi": 2, "Gi": 3, "Ti": 4, "Pi": 5, "Ei": 6}
_DECIMAL = {"n": -3, "u": -2, "m": -1, "": 0, "k": 1, "M": 2, "G": 3, "T": 4, "P": 5, "E": 6}


@lru_cache(maxsize=1024)
def parse_duration(text: str) -> int:
    """Go's time.ParseDuration, in nanoseconds (decimal fractions allowed, e.g. "1.5h")."""
    if text in ("0", ""):
        return 0
    parts = re.findall(r"(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)", text)
    if not parts or "".join(a + b for a, b in parts) != text.lstrip("+"):
        raise ValueError(f"invalid duration {text!r}")
    return int(sum(Fraction(num) * _UNITS[unit] for num, unit in parts))


def canonical_quantity(text: str) -> str:
    """resource.Quantity's String() for integral quantities ("2G", "100Gi", "1Gi" for 1024Mi)."""
    m = re.fullmatch(r"(\d+)(Ki|Mi|Gi|Ti|Pi|Ei|[numkMGTPE]?)", text)
    if m is None:
        return text
    number, suffix = int(m.group(1)), m.group(2)
    if suffix in _BINARY:
        value = number * 1024 ** _BINARY[suffix]
        if -1024 < value < 1024:
            return str(value)
        exp = 0
        while value % 1024 == 0 and exp < 6:
            value //= 1024
            exp += 1
        names = {v: k for k, v in _BINARY.items()}
        return f"{value}{names[exp]}" if exp else str(value)
    value = Fraction(number) * Fraction(1000) ** _DECIMAL[suffix]
    if value.denominator != 1 or value == 0:
        return text if value else "0"
    whole = int(value)
    exp = 0
    while whole % 1000 == 0 and exp < 6:
        whole //= 1000
        exp += 1
    names = {v: k for k, v in _DECIMAL.items()}
    return f"{whole}{names[exp]}"


def _is_zero(value: Any, t: T) -> bool:
    """reflect.Value.IsZero for the Go value the manifest unmarshals into."""
    if value is MISSING or value is None:
        return True
    if t.kind in ("ptr", "slice", "map"):
        return False  # present in JSON: a non-nil pointer, slice or map
    if t.kind == "struct":
        if t.name == "Duration" and not isinstance(value, Mapping):
            return parse_duration(str(value)) == 0
        return all(_is_zero(value.get(f.json, MISSING), f.type) for f in t.fields)
    if t.kind == "nillable":
        return value == "Never"
    if t.kind == "duration":
        return parse_duration(str(value)) == 0
    if t.kind in ("int32", "int64"):
        return int(value) == 0
    if t.kind == "bool":
        return value is False
    return value == ""


def _visit(value: Any, t: T) -> int:
    if t.kind == "ptr":
        assert t.elem is not None
        return _visit(value, t.elem)  # ZeroNil: a nil pointer hashes as its element's zero
    if value is None:
        value = MISSING
    if t.kind in ("map", "slice", "nillable", "struct"):
        return _visit_composite(value, t)
    if t.kind == "bool":
        return fnv1_64(struct.pack("<b", 1 if value is True else 0))
    if t.kind == "int32":
        return fnv1_64(struct.pack("<i", 0 if value is MISSING else int(value)))
    if t.kind in ("int64", "duration"):
        number = 0 if value is MISSING else value
        if t.kind == "duration":
            number = parse_duration(str(number)) if number else 0
        return fnv1_64(struct.pack("<q", int(number)))
    if t.kind in ("string", "quantity"):
        text = "" if value is MISSING else str(value)
        return fnv1_64((canonical_quantity(text) if t.kind == "quantity" else text).encode())
    raise TypeError(f"no Go kind {t.kind!r}")


def _visit_composite(value: Any, t: T) -> int:
    if t.kind == "map":
        assert t.elem is not None
        h = 0
        for key, item in ({} if value is MISSING else value).items():
            h ^= _ordered(_visit(key, STRING), _visit(item, t.elem))
        return _finish(h)
    if t.kind == "slice":
        assert t.elem is not None
        h = 0
        for item in [] if value is MISSING else value:
            h ^= _visit(item, t.elem)  # SlicesAsSets: order-free, no finishing round
        return h
    if t.kind == "nillable":
        h = _visit("NillableDuration", STRING)
        if value is not MISSING and value != "Never":
            h = _finish(h ^ _ordered(_visit("Duration", STRING), _visit(value, DURATION)))
        return h
    return _visit_struct(value, t)


def _visit_struct(value: Any, t: T) -> int:
    if t.name == "Duration" and value is not MISSING and not isinstance(value, Mapping):
        value = {"": value}  # metav1.Duration marshals as a bare duration string
    fields = {} if value is MISSING else value
    h = _visit(t.name, STRING)
    for f in t.fields:
        inner = fields.get(f.json, MISSING)
        if f.tag == "ignore" or _is_zero(inner, f.type):
            continue
        field_type = STRING if f.tag == "string" else f.type
        h = _finish(h ^ _ordered(_visit(f.go, STRING), _visit(inner, field_type)))
    return h


def nodepool_hash(nodepool: Mapping[str, Any]) -> str:
    """`karpenter.sh/nodepool-hash` of a NodePool manifest (hash of `spec.template`)."""
    return str(_visit(nodepool.get("spec", {}).get("template", MISSING), NODE_CLAIM_TEMPLATE))


def ami_family(spec: Mapping[str, Any]) -> str:
    """EC2NodeClass.AMIFamily(): the explicit field, else the alias's family, else Custom."""
    if spec.get("amiFamily"):
        return str(spec["amiFamily"])
    families = {"al2": "AL2", "al2023": "AL2023", "bottlerocket": "Bottlerocket"}
    families |= {f"windows{y}": f"Windows{y}" for y in (2019, 2022, 2025)}
    for term in spec.get("amiSelectorTerms") or ():
        if term.get("alias"):
            return families[str(term["alias"]).split("@", 1)[0]]
    return "Custom"


def ec2nodeclass_hash(nodeclass: Mapping[str, Any], ca_bundle: str = "") -> str:
    """`karpenter.k8s.aws/ec2nodeclass-hash` of an EC2NodeClass manifest."""
    spec = nodeclass.get("spec", {})
    parts = (
        _visit(spec, EC2_NODE_CLASS_SPEC),
        _visit(ami_family(spec), STRING),
        _visit(ca_bundle, STRING),
    )
    return str(parts[0] ^ parts[1] ^ parts[2])
