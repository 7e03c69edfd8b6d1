"""Instance metadata options as each node source declares them (shared by R9 and R10)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ._props import MISSING, UNKNOWN, value
from ._types import EC2_NODE_CLASS, EKS_COMPONENT, LAUNCH_TEMPLATE, NODE_GROUP

# EC2NodeClass.spec.metadataOptions defaults (karpenter.k8s.aws/v1 CRD): required, hop limit 1.
NODE_CLASS_DEFAULTS = {"httpTokens": "required", "httpPutResponseHopLimit": 1}


def metadata_option(resource_type: str, props: Mapping[str, Any], option: str) -> Any:
    if resource_type == LAUNCH_TEMPLATE:
        return value(props, "metadataOptions", option)
    if resource_type == EC2_NODE_CLASS:
        found = value(props, "spec", "metadataOptions", option)
        return NODE_CLASS_DEFAULTS[option] if found is MISSING else found
    raise ValueError(resource_type)


def unmanaged_nodes(resource_type: str, props: Mapping[str, Any]) -> list[str]:
    """Node sources whose metadata options no launch template controls."""
    if resource_type == NODE_GROUP and value(props, "launchTemplate") is MISSING:
        return [
            "the managed node group has no launch template, so its instance metadata "
            "options are EKS defaults; attach a launch template that sets them"
        ]
    if (
        resource_type == EKS_COMPONENT
        and value(props, "skipDefaultNodeGroup") is not True
        and value(props, "skipDefaultNodeGroup") is not UNKNOWN
    ):
        return [
            "pulumi-eks would create its default self-managed node group; set "
            "skipDefaultNodeGroup and use node groups with launch templates"
        ]
    return []
