"""What the Pulumi engine and the AWS provider refuse or fill in before a resource exists.

The mock engine would accept anything; `pulumi up` does not. Two rules are applied here, with
the messages the engine and provider print:

- **URNs are unique.** The engine refuses a second registration of a URN in one program
  ("Duplicate resource URN '<urn>'; try giving it a unique name": pulumi/pulumi
  ``pkg/diag/errors.go``, GetDuplicateResourceURNError).
- **Disabled default providers.** With ``pulumi:disable-default-providers`` naming a package,
  the engine refuses a resource of that package registered without an explicit provider
  ("Default provider for '<package>' disabled. '<type>' must use an explicit provider.":
  pulumi/pulumi ``pkg/resource/deploy/source_eval.go``).
- **Auto-naming.** pulumi-aws gives a resource without an explicit name the name
  ``<logical name><separator><7 random hex>``, refused when that exceeds the property's maximum
  ("could not make instance of '<type>': name '<prefix>' plus 7 random chars is longer than
  maximum length <n>": pulumi-terraform-bridge ``ComputeAutoNameDefault`` wrapping the SDK's
  ``NewUniqueName``). The maxima are pulumi-aws 7's: ``provider/autonaming.go`` applies
  ``AutoName("name", 255, "-")`` to every resource with an input ``name``, and
  ``provider/resource_overrides.go`` overrides the types listed below (IAM role 64, EventBridge
  rule 64, SQS queue 80 plus ``.fifo``, KMS alias 238 plus the ``alias/`` prefix, EKS node group
  ``nodeGroupName``, EventBridge target ``targetId``). The random part is a digest of the type
  and logical name here, so plans stay byte-identical.

``AUTONAMED`` must cover every AWS type the platform creates that has an auto-named property
(``tests/plan/test_engine_rules.py`` checks the plans against the pinned SDK's inputs).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


class EngineRefusalError(Exception):
    """What `pulumi up` would stop with: one line, the engine's or the provider's message."""


@dataclass(frozen=True)
class AutoName:
    property: str
    """The auto-named input (camelCase, as the engine shows it)."""
    maxlen: int
    separator: str = "-"
    randlen: int = 7
    prefix: str = ""
    """Added after the random part is drawn (KMS aliases: ``alias/``)."""
    fifo_suffix: bool = False
    """``.fifo`` is appended when ``fifoQueue`` is true (SQS)."""


AUTONAMED: Mapping[str, AutoName] = {
    "aws:iam/role:Role": AutoName("name", 64),
    "aws:iam/rolePolicy:RolePolicy": AutoName("name", 255),
    "aws:iam/policy:Policy": AutoName("name", 255),
    "aws:iam/instanceProfile:InstanceProfile": AutoName("name", 255),
    "aws:ec2/securityGroup:SecurityGroup": AutoName("name", 255),
    "aws:ec2/launchTemplate:LaunchTemplate": AutoName("name", 255),
    "aws:eks/nodeGroup:NodeGroup": AutoName("nodeGroupName", 255),
    "aws:cloudwatch/eventRule:EventRule": AutoName("name", 64),
    "aws:cloudwatch/eventTarget:EventTarget": AutoName("targetId", 255),
    "aws:cloudwatch/logGroup:LogGroup": AutoName("name", 255),
    "aws:sqs/queue:Queue": AutoName("name", 80, fifo_suffix=True),
    "aws:kms/alias:Alias": AutoName("name", 238, prefix="alias/"),
    "aws:ecr/repository:Repository": AutoName("name", 255),
    "aws:rds/subnetGroup:SubnetGroup": AutoName("name", 255),
    "aws:ec2/placementGroup:PlacementGroup": AutoName("name", 255),
    # CreateInferenceProfile's inferenceProfileName: 1-64 characters.
    "aws:bedrock/inferenceProfile:InferenceProfile": AutoName("name", 64),
}
"""Auto-named property and maximum length per AWS type the platform (or a program planned
offline) creates."""


def duplicate_urn(urn: str) -> EngineRefusalError:
    return EngineRefusalError(f"Duplicate resource URN '{urn}'; try giving it a unique name")


def default_provider_disabled(package: str, type_: str) -> EngineRefusalError:
    return EngineRefusalError(
        f"Default provider for '{package}' disabled. '{type_}' must use an explicit provider."
    )


def _random(type_: str, name: str, length: int) -> str:
    return hashlib.sha256(f"autoname/{type_}/{name}".encode()).hexdigest()[:length]


def autoname(type_: str, name: str, inputs: Mapping[str, Any]) -> tuple[str, str] | None:
    """(property, value) the provider fills in for a resource registered without it, None when
    the type has no auto-named property or the program set it; EngineRefusalError when the name
    cannot fit."""
    rule = AUTONAMED.get(type_)
    if rule is None or inputs.get(rule.property) not in (None, ""):
        return None
    prefix = f"{name}{rule.separator}"
    if len(prefix) + rule.randlen > rule.maxlen:
        raise EngineRefusalError(
            f"could not make instance of '{type_}': name '{prefix}' plus {rule.randlen} random "
            f"chars is longer than maximum length {rule.maxlen}"
        )
    value = prefix + _random(type_, name, rule.randlen)
    if rule.fifo_suffix and inputs.get("fifoQueue") is True:
        value += ".fifo"
    if rule.prefix and not value.startswith(rule.prefix):
        value = rule.prefix + value
    return rule.property, value


def longest_logical_name(type_: str) -> int | None:
    """The longest logical name the provider can auto-name for ``type_`` (None: no rule)."""
    rule = AUTONAMED.get(type_)
    if rule is None:
        return None
    return rule.maxlen - rule.randlen - len(rule.separator)
