"""Field checks for config dataclasses (used inside ``Annotated[...]``)."""

from __future__ import annotations

from collections.abc import Callable, Sized
from typing import Annotated, Any

from substrate.components.core import validators
from substrate.components.core.validators import Problem
from substrate.config.schema import Invalid


def rule(fn: Callable[..., Problem | None], *args: Any) -> Callable[[Any], None]:
    """Adapt a shared validator (substrate.components.core.validators) into a field check."""

    def check(value: Any) -> None:
        problem = fn(value, *args)
        if problem is not None:
            raise Invalid(problem.problem, problem.allowed)

    check.__name__ = f"rule_{fn.__name__}"
    return check


def object_name(problem: str, max_length: int = 63) -> Callable[[str], None]:
    """A mapping key that names Kubernetes objects: a DNS label of at most ``max_length``."""

    def check(value: str) -> None:
        if validators.dns_label(value, max_length) is not None:
            raise Invalid(
                problem, f"lowercase letters, digits and '-', at most {max_length} characters"
            )

    return check


def non_empty(what: str) -> Callable[[Sized], None]:
    def check(value: Sized) -> None:
        if len(value) == 0:
            raise Invalid("is empty", f"at least one {what}")

    return check


def between(low: int, high: int) -> Callable[[int], None]:
    def check(value: int) -> None:
        if not low <= value <= high:
            raise Invalid("is out of range", f"{low} to {high}")

    return check


def unique(value: list[Any]) -> None:
    seen: set[str] = set()
    for item in value:
        key = str(item)
        if key in seen:
            raise Invalid(f"lists {key!r} twice", "each entry once")
        seen.add(key)


Quantity = Annotated[str, rule(validators.quantity)]
"""A Kubernetes quantity (CPU, counts)."""
Memory = Annotated[str, rule(validators.memory_quantity)]
"""A memory or storage size: a quantity of at least 1Mi (a smaller one is a forgotten unit)."""
