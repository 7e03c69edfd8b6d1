"""The IAM side of a plan: roles, their policies, Pod Identity associations, VPC endpoints.

Reads the recorded resources of a plan (``PlanResult.records``: type, name, inputs in the
engine's camelCase shape) and returns what the IAM evaluator needs, so a journey or
``substrate check`` can ask what a principal of the planned platform may do. Nothing here
decides access: ``substrate.engines.iam`` does.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from substrate.engines import aws_managed
from substrate.engines.iam import Kind, Policy, Principal, Request

ROLE = "aws:iam/role:Role"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
ATTACHMENT = "aws:iam/rolePolicyAttachment:RolePolicyAttachment"
MANAGED_POLICY = "aws:iam/policy:Policy"
ASSOCIATION = "aws:eks/podIdentityAssociation:PodIdentityAssociation"
ENDPOINT = "aws:ec2/vpcEndpoint:VpcEndpoint"
CLUSTER = "eks:index:Cluster"

POD_IDENTITY_SERVICE = "pods.eks.amazonaws.com"
POD_IDENTITY_TAGS = (
    "eks-cluster-arn",
    "eks-cluster-name",
    "kubernetes-namespace",
    "kubernetes-service-account",
    "kubernetes-pod-name",
    "kubernetes-pod-uid",
)
"""Session tags EKS Pod Identity adds when it assumes a role (EKS User Guide, "Enable or disable
session tags"; EKS Best Practices Guide, "ABAC and EKS Pod Identity")."""


class Record(Protocol):
    """What the extraction reads of a plan record (``substrate.plan.recorder.ResourceRecord``)."""

    @property
    def type(self) -> str: ...
    @property
    def name(self) -> str: ...
    @property
    def inputs(self) -> dict[str, Any]: ...


class UnresolvedPolicyError(LookupError):
    """A role carries a policy whose document is not in the plan (an AWS managed policy)."""


@dataclass(frozen=True)
class Role:
    name: str
    arn: str
    tags: Mapping[str, str]
    trust: Policy
    inline: tuple[Policy, ...] = ()
    managed: tuple[str, ...] = ()
    """Attached managed policy ARNs."""
    logical: str = ""
    """The Pulumi resource name (`name` is the IAM name, which pulumi-aws may auto-name with a
    random suffix drawn at `pulumi up`)."""


@dataclass(frozen=True)
class Association:
    cluster: str
    namespace: str
    service_account: str
    role_arn: str
    session_tags: bool = True
    """False when the association sets disableSessionTags."""


@dataclass(frozen=True)
class Endpoint:
    name: str
    service: str
    """The service name's suffix after the Region, e.g. ``bedrock-runtime``."""
    vpc_id: str
    policy: Policy


@dataclass(frozen=True)
class AwsPlan:
    partition: str
    region: str
    account: str
    roles: Mapping[str, Role]
    """By role ARN."""
    associations: tuple[Association, ...]
    endpoints: Mapping[str, Endpoint]
    """By service suffix."""
    clusters: tuple[str, ...]
    managed: Mapping[str, Policy] = field(default_factory=dict)
    """Customer managed policies declared in the plan and the AWS managed policies whose
    documents ``aws_managed`` carries, by ARN."""

    def cluster_arn(self, name: str) -> str:
        """``arn:${Partition}:eks:${Region}:${Account}:cluster/${ClusterName}``."""
        return f"arn:{self.partition}:eks:{self.region}:{self.account}:cluster/{name}"

    def role(self, arn: str) -> Role:
        return self.roles[arn]

    def identity_policies(self, role: Role) -> list[Policy]:
        """Inline and attached managed policies of ``role``; UnresolvedPolicyError when one of
        them is not in the plan (its statements, including any Deny, are unknown)."""
        unknown = [arn for arn in role.managed if arn not in self.managed]
        if unknown:
            raise UnresolvedPolicyError(f"{role.name}: policies not in the plan: {unknown}")
        return [*role.inline, *(self.managed[arn] for arn in role.managed)]

    def association(self, namespace: str, service_account: str) -> Association:
        for found in self.associations:
            if (found.namespace, found.service_account) == (namespace, service_account):
                return found
        raise LookupError(f"no Pod Identity association for {namespace}/{service_account}")

    def pod_session_tags(
        self,
        association: Association,
        pod: str,
        pod_uid: str,
        *,
        namespace: str | None = None,
        service_account: str | None = None,
    ) -> dict[str, str]:
        """The six session tags of a pod's session (another pod's namespace or service account
        when given)."""
        return {
            "eks-cluster-arn": self.cluster_arn(association.cluster),
            "eks-cluster-name": association.cluster,
            "kubernetes-namespace": namespace or association.namespace,
            "kubernetes-service-account": service_account or association.service_account,
            "kubernetes-pod-name": pod,
            "kubernetes-pod-uid": pod_uid,
        }

    def pod_principal(self, association: Association, pod: str, pod_uid: str) -> Principal:
        """The role session a pod's SDK signs with: the role's tags and the Pod Identity
        session tags (aws:PrincipalTag/...). The session name is not used by any policy here."""
        role = self.role(association.role_arn)
        tags = self.pod_session_tags(association, pod, pod_uid) if association.session_tags else {}
        return Principal.role_session(
            role.arn, f"eks-{association.cluster}-{pod}", role_tags=role.tags, session_tags=tags
        )

    def assume_role_requests(self, role: Role, tags: Mapping[str, str]) -> list[Request]:
        """What STS authorizes when EKS Pod Identity assumes ``role`` with session ``tags``:
        sts:AssumeRole and sts:TagSession by the service principal, with aws:RequestTag/<key>,
        aws:TagKeys and aws:SourceAccount (IAM User Guide, "Passing session tags in AWS STS";
        EKS User Guide, "Create IAM role with trust policy required by EKS Pod Identity")."""
        context: dict[str, str | list[str]] = {
            f"aws:RequestTag/{key}": value for key, value in tags.items()
        }
        context["aws:TagKeys"] = list(tags)
        context["aws:SourceAccount"] = self.account
        service = Principal.service(POD_IDENTITY_SERVICE)
        return [
            Request(service, action, role.arn, context, resource_account=self.account)
            for action in ("sts:AssumeRole", "sts:TagSession")
        ]


def _policy_text(value: Any) -> str | Mapping[str, Any]:
    if isinstance(value, str | dict):
        return value
    raise ValueError(f"a policy document is JSON text, not {type(value).__name__}")


def _roles(records: list[Record]) -> dict[str, Role]:
    by_name: dict[str, Record] = {}
    for r in records:
        if r.type == ROLE:
            by_name[str(r.inputs.get("name") or r.name)] = r
    inline: dict[str, list[Policy]] = {n: [] for n in by_name}
    managed: dict[str, list[str]] = {n: [] for n in by_name}
    for r in records:
        if r.type == ROLE_POLICY:
            role = str(r.inputs["role"])
            inline[role].append(
                Policy.parse(r.name, Kind.IDENTITY, _policy_text(r.inputs["policy"]))
            )
        elif r.type == ATTACHMENT:
            managed[str(r.inputs["role"])].append(str(r.inputs["policyArn"]))
    return {
        name: Role(
            name,
            "",
            dict(r.inputs.get("tags") or {}),
            Policy.parse(f"{name}-trust", Kind.TRUST, _policy_text(r.inputs["assumeRolePolicy"])),
            tuple(inline[name]),
            tuple(managed[name]),
            r.name,
        )
        for name, r in by_name.items()
    }


def from_records(
    records: Iterable[Record], *, partition: str, region: str, account: str
) -> AwsPlan:
    """The IAM objects of a plan whose resources live in ``account``/``region``."""
    items = list(records)
    roles = {
        f"arn:{partition}:iam::{account}:role/{name}": Role(
            role.name,
            f"arn:{partition}:iam::{account}:role/{name}",
            role.tags,
            role.trust,
            role.inline,
            role.managed,
            role.logical,
        )
        for name, role in _roles(items).items()
    }
    managed = {
        **aws_managed.policies(partition),
        **{
            f"arn:{partition}:iam::{account}:policy/{r.inputs.get('name') or r.name}": (
                Policy.parse(r.name, Kind.IDENTITY, _policy_text(r.inputs["policy"]))
            )
            for r in items
            if r.type == MANAGED_POLICY
        },
    }
    associations = tuple(
        Association(
            str(r.inputs["clusterName"]),
            str(r.inputs["namespace"]),
            str(r.inputs["serviceAccount"]),
            str(r.inputs["roleArn"]),
            not r.inputs.get("disableSessionTags", False),
        )
        for r in items
        if r.type == ASSOCIATION
    )
    prefix = f"com.amazonaws.{region}."
    endpoints = {}
    for r in items:
        if r.type == ENDPOINT and "policy" in r.inputs:
            service = str(r.inputs["serviceName"]).removeprefix(prefix)
            policy = Policy.parse(r.name, Kind.ENDPOINT, _policy_text(r.inputs["policy"]))
            endpoints[service] = Endpoint(r.name, service, str(r.inputs.get("vpcId", "")), policy)
    clusters = tuple(str(r.inputs["name"]) for r in items if r.type == CLUSTER)
    return AwsPlan(partition, region, account, roles, associations, endpoints, clusters, managed)
