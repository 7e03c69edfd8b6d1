"""A stack's deployer as the engines see it: where its runners' requests come from, which
endpoint and security groups they meet in the plan, and what the STS endpoint lets through."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from functools import cache
from typing import Any

from substrate.components.core.validators import partition_of
from substrate.config.platform import PlatformConfig
from substrate.engines import aws_plan, security_groups
from substrate.engines.iam import Decision, Principal, Request, through_endpoint
from substrate.plan.mocks import ACCOUNT_ID, digest
from substrate.plan.recorder import ResourceRecord
from tests.conftest import planned
from tests.helpers import stack_yaml, typed_config

CLUSTER = "eks:index:Cluster"
GITHUB = "token.actions.githubusercontent.com"


@dataclass(frozen=True)
class Deployer:
    stack: str
    cfg: PlatformConfig
    records: tuple[ResourceRecord, ...]
    plan: aws_plan.AwsPlan

    @property
    def cluster(self) -> dict[str, Any]:
        return next(r.inputs for r in self.records if r.type == CLUSTER)

    def runner_address(self) -> str:
        """An address inside the deployer's first source CIDR (a runner)."""
        return str(next(ipaddress.IPv4Network(self.cfg.deploy.source_cidrs[0]).hosts()))

    def public_endpoint_admits(self, address: str) -> bool:
        """EKS admits a request on the public endpoint when it is on and one of
        publicAccessCidrs contains the source (EKS User Guide, "Cluster API server endpoint")."""
        cluster = self.cluster
        if not cluster.get("endpointPublicAccess"):
            return False
        ip = ipaddress.ip_address(address)
        return any(ip in ipaddress.ip_network(c) for c in cluster.get("publicAccessCidrs") or [])

    def _groups(self) -> dict[str, str]:
        return {
            r.name: f"sg-{digest(r.type, r.name)}"
            for r in self.records
            if r.type == security_groups.GROUP
        }

    def cluster_group_admits(self, address: str, port: int = 443) -> list[str]:
        """Rules of the cluster security group (on the private endpoint's ENIs) admitting it."""
        group = f"sg-{digest('eks-cluster-sg', str(self.cluster['name']))}"
        rules = security_groups.inbound_rules(self.records, group, self._groups())
        return security_groups.admits(rules, port, address)

    def endpoints_group_admits(self, address: str, port: int = 443) -> list[str]:
        """Rules of the interface endpoints' security group admitting it."""
        ids = self._groups()
        rules = security_groups.inbound_rules(self.records, ids["endpoints-sg"], ids)
        return security_groups.admits(rules, port, address)

    def oidc_exchange(self, role: str) -> Decision:
        """A runner's AssumeRoleWithWebIdentity for ``role`` through the STS endpoint (the
        endpoint's part of the decision; the role's trust policy is the account's, not the
        plan's)."""
        provider = f"arn:{self.plan.partition}:iam::{self.plan.account}:oidc-provider/{GITHUB}"
        claims = {f"{GITHUB}:aud": "sts.amazonaws.com", f"{GITHUB}:sub": "repo:org/substrate:x"}
        request = Request(
            Principal.web_identity(provider), "sts:AssumeRoleWithWebIdentity", role, claims
        )
        return through_endpoint(request, self.plan.endpoints["sts"].policy)


@cache
def deployer(stack: str) -> Deployer:
    cfg = typed_config(stack_yaml(stack))
    records = planned(stack).records
    plan = aws_plan.from_records(
        records, partition=partition_of(cfg.region), region=cfg.region, account=ACCOUNT_ID
    )
    return Deployer(stack, cfg, tuple(records), plan)
