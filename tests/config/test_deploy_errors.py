"""Config that `pulumi up` could not deploy is refused with one line: names the provider cannot
auto-name, admins whose access entries would collide, API access no deployer can use."""

from __future__ import annotations

from typing import Any

from tests.helpers import config_error, stack_yaml, typed_config


def _rename_agent(old: str, new: str) -> Any:
    def mutate(c: dict[str, Any]) -> None:
        agents = c["substrate:agents"]
        agents[new] = agents.pop(old)
        for agent in agents.values():  # callers name agents too
            callers = (agent.get("callers") or {}).get("agents") or []
            agent.get("callers", {})["agents"] = [new if n == old else n for n in callers]

    return mutate


def test_an_agent_name_its_bedrock_role_cannot_fit_is_refused() -> None:
    name = "customer-support-escalations"  # 28 characters: the longest that fits
    raw = stack_yaml("prod")
    _rename_agent("support", name)(raw)
    assert name in typed_config(raw).agents
    longer = name + "x"
    assert config_error("prod", _rename_agent("support", longer)) == (
        f'substrate:agents.{longer} = "{longer}": is 29 characters: its Bedrock role '
        f"'agent-{longer}-bedrock-identity-role' plus the 8-character suffix pulumi-aws adds is "
        "longer than the 64 characters IAM allows (allowed: agent names of at most 28 "
        "characters for agents that call models)"
    )


def test_an_agent_without_models_gets_no_role_and_keeps_the_longer_limit() -> None:
    raw = stack_yaml("prod")
    name = "a-very-long-agent-name-that-calls-no-model"[:40]
    _rename_agent("research", name)(raw)
    raw["substrate:agents"][name].pop("models")
    assert name in typed_config(raw).agents


def test_admins_whose_access_entries_would_share_a_urn_are_refused() -> None:
    def admins(*arns: str) -> Any:
        return lambda c: c["substrate:cluster"].update(admins=list(arns))

    first = "arn:aws:iam::210987654321:role/substrate-deploy-prod"
    assert config_error("prod", admins(first, first.replace("role/", "user/"))) == (
        'substrate:cluster.admins[1] = "arn:aws:iam::210987654321:user/substrate-deploy-prod": '
        "gets the same EKS access-entry name as admins[0] "
        "(arn:aws:iam::210987654321:role/substrate-deploy-prod), so both would register one "
        "resource URN, which the Pulumi engine refuses (allowed: admins whose role or user paths "
        "and names differ (case-insensitively))"
    )
    raw = stack_yaml("prod")
    paths = [
        "arn:aws:iam::210987654321:role/team-a/admin",
        "arn:aws:iam::210987654321:role/team-b/admin",
        "arn:aws:iam::210987654321:role/substrate-deploy-prod",
    ]
    admins(*paths)(raw)
    assert typed_config(raw).cluster.admins == paths


def _public_cidrs(*cidrs: str) -> Any:
    return lambda c: c["substrate:cluster"]["endpoint"].update(publicAccessCidrs=list(cidrs))


def test_public_access_cidrs_refuse_private_reserved_and_host_bit_networks() -> None:
    assert config_error("dev", _public_cidrs("203.0.113.0/24", "10.20.0.0/16")) == (
        'substrate:cluster.endpoint.publicAccessCidrs[1] = "10.20.0.0/16": is a private or '
        "reserved range, which never reaches a public endpoint (allowed: public egress CIDRs "
        "of offices, VPNs, CI runners (RFC 5737 documentation ranges as placeholders))"
    )
    assert config_error("dev", _public_cidrs("169.254.0.0/16")).startswith(
        'substrate:cluster.endpoint.publicAccessCidrs[0] = "169.254.0.0/16": is a private or '
        "reserved range"
    )
    assert config_error("dev", _public_cidrs("203.0.113.7/24")) == (
        'substrate:cluster.endpoint.publicAccessCidrs[0] = "203.0.113.7/24": has host bits set '
        '(allowed: the network address, "203.0.113.0/24")'
    )


def test_production_refuses_unpinned_eks_addons() -> None:
    def unpin(c: dict[str, Any]) -> None:
        del c["substrate:cluster"]["addonVersions"]["coredns"]
        del c["substrate:cluster"]["addonVersions"]["kube-proxy"]

    message = config_error("prod", unpin)
    assert message.startswith('substrate:cluster.addonVersions = {"aws-ebs-csi-driver": ')
    assert message.endswith(
        ": leaves coredns, kube-proxy unpinned in a production environment (EKS would install "
        "its current default, which a later deploy can silently change) (allowed: a version for "
        "every EKS managed add-on, from `aws eks describe-addon-versions --kubernetes-version "
        "1.35 --addon-name <name>`)"
    )
