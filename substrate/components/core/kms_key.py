"""Customer managed KMS keys with Substrate's defaults, in one place: rotation on (R5), a
30-day deletion window, and the caller's key policy (`substrate.components.core.kms_policies`, no
`*`
principal)."""

from __future__ import annotations

from collections.abc import Mapping

import pulumi
import pulumi_aws as aws

DELETION_WINDOW_DAYS = 30
"""The longest window KMS allows: a key scheduled for deletion by mistake can be recovered."""


def customer_key(
    name: str,
    *,
    description: str,
    policy: pulumi.Input[str],
    tags: Mapping[str, str],
    opts: pulumi.ResourceOptions,
) -> aws.kms.Key:
    return aws.kms.Key(
        name,
        description=description,
        enable_key_rotation=True,
        deletion_window_in_days=DELETION_WINDOW_DAYS,
        policy=policy,
        tags=dict(tags),
        opts=opts,
    )
