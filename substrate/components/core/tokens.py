"""Type tokens of Substrate's components.

Every component registers as ``substrate:index:<ClassName>``: the token the schema analyzer
gives it (substrate.provider), so a program in another language that constructs it through the
provider and a Python program that imports it record the same type. Before 0.2 each component
had a module of its own in its token (``substrate:storage:StorageClasses``); that token is an
alias, so `pulumi up` of a stack deployed before renames the components (and their children's
URNs) in place instead of replacing them.
"""

import pulumi

PACKAGE = "substrate"


def component_args(
    old_token: str, name: str, opts: pulumi.ResourceOptions | None
) -> tuple[str, str, None, pulumi.ResourceOptions]:
    """``ComponentResource.__init__``'s arguments for a component whose pre-0.2 token was
    ``old_token``: the schema's token, and ``opts`` with that old type as an alias."""
    package, _, class_name = old_token.split(":")
    if package != PACKAGE:
        raise ValueError(f"{old_token} is not a {PACKAGE} token")
    alias = pulumi.ResourceOptions(aliases=[pulumi.Alias(type_=old_token)])
    return f"{PACKAGE}:index:{class_name}", name, None, pulumi.ResourceOptions.merge(opts, alias)
