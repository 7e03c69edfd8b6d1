"""A stack's image pulls as the IAM evaluator sees them: the roles EC2 gives the system node
group's and Karpenter's nodes, the ECR and S3 endpoint policies from the plan, and the
authorizations one pull makes (substrate.engines.ecr_pulls)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from substrate.components.core.validators import partition_of
from substrate.config.platform import PlatformConfig
from substrate.engines import aws_plan, ecr_pulls
from substrate.engines.ecr_pulls import Image, Step
from substrate.engines.iam import Decision, Policies, Principal, Request, evaluate, through_endpoint
from substrate.plan.mocks import ACCOUNT_ID
from tests.conftest import planned
from tests.helpers import stack_yaml, typed_config

NODE_GROUP = "aws:eks/nodeGroup:NodeGroup"
INSTANCE = "i-0123456789abcdef0"


@dataclass(frozen=True)
class StackPulls:
    name: str
    cfg: PlatformConfig
    plan: aws_plan.AwsPlan
    node_roles: dict[str, str]
    """"system node group" / "Karpenter node class <name>" -> the role ARN EC2 gives it."""

    @property
    def partition(self) -> str:
        return self.plan.partition

    def own_image(self, repository: str = "team/app") -> Image:
        """An image in the stack's own account registry, in its Region."""
        return Image(self.plan.account, self.plan.region, repository)

    def node(self, role_arn: str) -> Principal:
        """The instance profile session of a node (session name: the instance id)."""
        role = self.plan.role(role_arn)
        return Principal.role_session(role.arn, INSTANCE, role_tags=role.tags)

    def decide(self, who: Principal, step: Step) -> Decision:
        """One authorization of a pull: through the step's endpoint, with the node role's
        policies for the node's own requests, the endpoint policy alone for the presigned
        layer download (signed by ECR's account: ``who`` is then ignored)."""
        endpoint = self.plan.endpoints[step.endpoint]
        context = {"aws:SourceVpc": endpoint.vpc_id, "aws:SecureTransport": "true"}
        if not step.signed_by_node:
            signer = ecr_pulls.layer_signer(self.partition)
            return through_endpoint(
                Request(signer, step.action, step.resource, context), endpoint.policy
            )
        assert who.role_arn is not None
        identity = self.plan.identity_policies(self.plan.role(who.role_arn))
        policies = Policies(identity=identity, endpoint=endpoint.policy)
        return evaluate(
            Request(who, step.action, step.resource, context, resource_account=self.plan.account),
            policies,
        )

    def s3_read(self, who: Principal, resource: str, action: str = "s3:GetObject") -> Decision:
        """A request through the S3 gateway endpoint, judged by the endpoint policy alone."""
        endpoint = self.plan.endpoints["s3"]
        context = {"aws:SourceVpc": endpoint.vpc_id}
        return through_endpoint(Request(who, action, resource, context), endpoint.policy)


def _node_roles(stack: str, plan: aws_plan.AwsPlan) -> dict[str, str]:
    result = planned(stack)
    group = next(r for r in result.records if r.type == NODE_GROUP)
    roles = {"system node group": str(group.inputs["nodeRoleArn"])}
    by_name = {role.name: arn for arn, role in plan.roles.items()}
    for obj in result.manifests.values():
        if obj.get("kind") == "EC2NodeClass":
            roles[f"Karpenter node class {obj['metadata']['name']}"] = by_name[obj["spec"]["role"]]
    return roles


@cache
def pulls(stack: str) -> StackPulls:
    cfg = typed_config(stack_yaml(stack))
    plan = aws_plan.from_records(
        planned(stack).records,
        partition=partition_of(cfg.region),
        region=cfg.region,
        account=ACCOUNT_ID,
    )
    return StackPulls(stack, cfg, plan, _node_roles(stack, plan))
