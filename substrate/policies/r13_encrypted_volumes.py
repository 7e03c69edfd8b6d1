"""R13: node volumes and persistent volumes are encrypted with a customer managed key."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pulumi_policy import EnforcementLevel, ResourceValidationPolicy

from ._props import MISSING, UNKNOWN, by_type, is_true, items, value
from ._types import EC2_NODE_CLASS, LAUNCH_TEMPLATE, STORAGE_CLASS

EBS_CSI = "ebs.csi.aws.com"


def _volumes(mappings: Any, kms_key: str, where: str) -> list[str]:
    if mappings is UNKNOWN:
        return []
    listed = items(mappings)
    if not listed:
        return [
            f"{where} declares no block device mappings, so the root volume follows the AMI "
            "and account defaults; declare it encrypted with a customer key"
        ]
    problems = []
    for i, mapping in enumerate(listed):
        device = value(mapping, "deviceName")
        encrypted, key = value(mapping, "ebs", "encrypted"), value(mapping, "ebs", kms_key)
        if encrypted is not UNKNOWN and not is_true(encrypted):
            problems.append(f"{where}[{i}] ({device}) is not encrypted")
        elif key is MISSING or key is None:
            problems.append(
                f"{where}[{i}] ({device}) is encrypted with the AWS managed key; "
                f"set {kms_key} to a customer managed key"
            )
    return problems


def _launch_template(props: Mapping[str, Any], _config: Mapping[str, Any]) -> list[str]:
    return _volumes(value(props, "blockDeviceMappings"), "kmsKeyId", "blockDeviceMappings")


def _node_class(props: Mapping[str, Any], _config: Mapping[str, Any]) -> list[str]:
    return _volumes(
        value(props, "spec", "blockDeviceMappings"), "kmsKeyID", "spec.blockDeviceMappings"
    )


def _storage_class(props: Mapping[str, Any], _config: Mapping[str, Any]) -> list[str]:
    if value(props, "provisioner") != EBS_CSI:
        return []
    encrypted = value(props, "parameters", "encrypted")
    key = value(props, "parameters", "kmsKeyId")
    if encrypted is not UNKNOWN and not is_true(encrypted):
        return ['the EBS StorageClass does not set parameters.encrypted: "true"']
    if key is MISSING:
        return [
            "the EBS StorageClass encrypts with the AWS managed key; set parameters.kmsKeyId "
            "to a customer managed key"
        ]
    return []


POLICY = ResourceValidationPolicy(
    name="r13-encrypted-volumes",
    description="R13: root, data and persistent EBS volumes are encrypted with a customer "
    "managed KMS key (launch templates, EC2NodeClasses, EBS StorageClasses).",
    enforcement_level=EnforcementLevel.MANDATORY,
    validate=by_type(
        {
            LAUNCH_TEMPLATE: _launch_template,
            EC2_NODE_CLASS: _node_class,
            STORAGE_CLASS: _storage_class,
        }
    ),
)
