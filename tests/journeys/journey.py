"""A journey: one thing a user of the platform does, on one stack, and what the engines decide.

A journey is a test function decorated with :func:`journey`. It states the user, the stack, the
steps and the expected outcome in words (admitted on pool X, denied with message Y, N GPU-hours
billed, connection allowed or denied), then drives the real engines (Kyverno CLI, Kueue, Helm,
promtool, the NetworkPolicy analyzer, the IAM evaluator) against the stack's plan and asserts
exactly that outcome. Docs that claim something works point at the journey that shows it with
``<!-- journey: tests/journeys/<file>.py::<function> -->``; ``test_docs_claims.py`` keeps the two
in step. A journey that fails today because another issue owns the fix is marked
``pytest.mark.xfail(strict=True, reason="issue N: ...")``: it fails loudly once it passes.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import pytest

F = TypeVar("F", bound=Callable[..., Any])


@dataclass(frozen=True)
class Journey:
    user: str
    """Who does it: "ML engineer of tenant ml-research", "platform engineer", ..."""
    stack: str
    """The stack (or stacks, comma separated) it runs on."""
    steps: tuple[str, ...]
    """What the user does, in order."""
    outcome: str
    """What the engines decide, stated so that it can be wrong."""
    docs: tuple[str, ...] = ()
    """`docs/<file>.md#<anchor>` sections whose claims this journey proves."""

    def describe(self) -> str:
        steps = "\n".join(f"  {i}. {s}" for i, s in enumerate(self.steps, 1))
        return f"user: {self.user}\nstack: {self.stack}\nsteps:\n{steps}\noutcome: {self.outcome}"


def journey(
    *,
    user: str,
    stack: str,
    steps: Sequence[str],
    outcome: str,
    docs: Sequence[str] = (),
) -> Callable[[F], F]:
    """Declare the decorated test a journey (see the module docstring)."""
    record = Journey(user, stack, tuple(steps), outcome, tuple(docs))

    def mark(fn: F) -> F:
        fn.journey = record  # type: ignore[attr-defined]
        return pytest.mark.journey(fn)

    return mark


def of(item: pytest.Item) -> Journey | None:
    fn = getattr(item, "function", None)
    return getattr(fn, "journey", None)
