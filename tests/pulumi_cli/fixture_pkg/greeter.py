"""A component with one required input, one optional input and two outputs, no child resources:
the least a cross-language SDK has to carry. No `from __future__ import annotations` here: the
schema analyzer reads these annotations at run time."""

from typing import TypedDict

import pulumi


class GreeterArgs(TypedDict):
    who: pulumi.Input[str]
    """Who is greeted."""
    times: pulumi.Input[int | None]
    """How many times (default 1)."""


class Greeter(pulumi.ComponentResource):
    """Greets someone."""

    greeting: pulumi.Output[str]
    """The greeting, repeated."""
    times_type: pulumi.Output[str]
    """The Python type `times` arrived as."""

    def __init__(
        self, name: str, args: GreeterArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("fixture:index:Greeter", name, {}, opts)
        times = pulumi.Output.from_input(args.get("times") or 1)
        self.greeting = pulumi.Output.all(args["who"], times).apply(
            lambda values: " ".join([f"hello {values[0]}"] * int(values[1]))
        )
        self.times_type = times.apply(lambda value: type(value).__name__)
        self.register_outputs({"greeting": self.greeting, "times_type": self.times_type})
