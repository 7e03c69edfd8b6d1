"""The SPIRE server's AWS access as the IAM evaluator sees it: its pod session, its role's
policies, the key policy the plan hands SPIRE for the keys it creates, its database user."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache

from substrate.components.core.iam import to_json
from substrate.components.core.validators import partition_of
from substrate.components.identity.spire import SERVER_SERVICE_ACCOUNT
from substrate.components.identity.spire_crds import SPIRE_SERVER_NAMESPACE
from substrate.components.identity.spire_database import MASTER_USER, SPIRE_USER, connect_arn
from substrate.config.platform import PlatformConfig
from substrate.engines import aws_plan
from substrate.engines.iam import Decision, Kind, Policies, Policy, Principal, Request, evaluate
from substrate.engines.iam.model import Value
from substrate.plan.mocks import ACCOUNT_ID, rds_master_secret_arn, rds_resource_id
from tests.conftest import planned
from tests.helpers import stack_yaml, typed_config

DATABASE_RESOURCE = "spire-database-instance"
"""The plan's name of the SPIRE RDS instance (substrate.layers.identity)."""


@dataclass(frozen=True)
class SpireAccess:
    cfg: PlatformConfig
    plan: aws_plan.AwsPlan
    key_policy: Policy
    """The key policy SPIRE puts on every key it creates (from the release's values)."""
    other_key_policy: Policy
    """A key of the account that SPIRE did not create: KMS's default key policy (the account's
    IAM policies decide)."""

    @property
    def server(self) -> Principal:
        """The session of the first server replica (StatefulSet pod ``spire-server-0``)."""
        association = self.plan.association(SPIRE_SERVER_NAMESPACE, SERVER_SERVICE_ACCOUNT)
        return self.plan.pod_principal(association, "spire-server-0", "uid-spire-server-0")

    def arn(self, service: str, resource: str) -> str:
        p, r, a = self.plan.partition, self.plan.region, self.plan.account
        return f"arn:{p}:{service}:{r}:{a}:{resource}"

    def key(self, name: str) -> str:
        return self.arn("kms", f"key/{name}")

    def spire_alias(self, key_id: str, trust_domain: str | None = None) -> str:
        """The alias SPIRE 1.14 gives a key of server ``s1`` in the trust domain:
        `alias/SPIRE_SERVER/{trust domain, "." as "_"}/{server id}/{key id}` (awskms.go)."""
        domain = (trust_domain or self.cfg.identity.trust_domain).replace(".", "_")
        return f"alias/SPIRE_SERVER/{domain}/s1/{key_id}"

    def connect(self, user: str = SPIRE_USER, resource: str = DATABASE_RESOURCE) -> str:
        p, r, a = self.plan.partition, self.plan.region, self.plan.account
        return connect_arn(p, r, a, rds_resource_id(resource), user)

    @property
    def master_secret(self) -> str:
        return rds_master_secret_arn(DATABASE_RESOURCE, self.plan.partition, self.plan.region)

    def decide(
        self,
        action: str,
        resource: str,
        context: Mapping[str, Value] | None = None,
        *,
        principal: Principal | None = None,
        identity: list[Policy] | None = None,
        spire_key: bool = True,
    ) -> Decision:
        """``action`` on ``resource`` by the server (or ``principal`` with ``identity``); a KMS
        key is judged with the key policy SPIRE creates its keys with (``spire_key``) or with
        the default key policy of any other key."""
        who = principal or self.server
        if identity is None:
            assert who.role_arn is not None
            identity = self.plan.identity_policies(self.plan.role(who.role_arn))
        is_key = resource.startswith(self.arn("kms", "key/"))
        policies = Policies(
            identity=identity,
            resource=(self.key_policy if spire_key else self.other_key_policy) if is_key else None,
            resource_must_allow=is_key,
        )
        request = Request(who, action, resource, dict(context or {}), self.plan.account)
        return evaluate(request, policies)


def master_user_connect(access: SpireAccess) -> str:
    return access.connect(MASTER_USER)


@cache
def access(stack: str) -> SpireAccess:
    cfg = typed_config(stack_yaml(stack))
    plan = planned(stack)
    iam = aws_plan.from_records(
        plan.records, partition=partition_of(cfg.region), region=cfg.region, account=ACCOUNT_ID
    )
    (spire,) = [r for r in plan.releases if r["chart"].endswith("spire")]
    text = spire["values"]["spire-server"]["keyManager"]["awsKMS"]["keyPolicy"]["policy"]
    default = to_json(
        [
            {
                "Sid": "EnableIamPolicies",
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:{iam.partition}:iam::{iam.account}:root"},
                "Action": "kms:*",
                "Resource": "*",
            }
        ]
    )
    return SpireAccess(
        cfg,
        iam,
        Policy.parse("spire-key-policy", Kind.RESOURCE, text),
        Policy.parse("default-key-policy", Kind.RESOURCE, default),
    )
