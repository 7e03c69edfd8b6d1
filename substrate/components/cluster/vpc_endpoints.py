"""VPC endpoints for the AWS APIs the cluster calls: private DNS, a policy each, 443 from nodes.

Interface endpoints get one security group that accepts HTTPS only from the cluster security
group (the group EKS attaches to managed nodes and Karpenter's node classes select), plus the
deployer's runners when they run in or are routed into the VPC, and sends nothing. Gateway
endpoints (S3) attach to the private route tables. Service names are
`com.amazonaws.<region>.<service>` (AWS PrivateLink Guide, "AWS services that integrate with
AWS PrivateLink"), in the aws and aws-us-gov partitions alike.
"""

from collections.abc import Mapping, Sequence
from typing import NotRequired, Required, TypedDict

import pulumi
import pulumi_aws as aws

from substrate.components.core import validators
from substrate.components.core._args import check_args
from substrate.components.core.aws_context import aws_context
from substrate.components.core.validators import partition_of

GATEWAY_SERVICES = ("s3", "dynamodb")
BASELINE_INTERFACE_SERVICES = ("sts", "ecr.api", "ecr.dkr", "ssm")
"""R24's baseline interface endpoints; with the S3 gateway endpoint they cover credentials,
image pulls (ECR API, registry, layers in S3) and SSM parameters (AMI resolution)."""


def endpoint_service_name(service: str, region: str) -> str:
    """The endpoint service name of an AWS service in ``region``.

    China Regions are refused: there some services use a `cn.com.amazonaws` prefix and others
    do not, per service, which Substrate does not track.
    """
    if partition_of(region) == "aws-cn":
        raise ValueError(
            f"endpoint service names in {region} (aws-cn) differ per service; Substrate does "
            "not derive them"
        )
    return f"com.amazonaws.{region}.{service}"


class EndpointArgs(TypedDict, total=False):
    service: Required[str]
    """Service suffix, e.g. `sts`, `ecr.dkr`, `bedrock-runtime`, `s3`."""
    policy: Required[pulumi.Input[str]]
    """Endpoint policy (JSON); never the allow-all default (R24)."""


class VpcEndpointsArgs(TypedDict, total=False):
    vpc_id: Required[pulumi.Input[str]]
    """The cluster's VPC."""
    subnet_ids: Required[pulumi.Input[Sequence[pulumi.Input[str]]]]
    """Private subnets that get an endpoint network interface (one per AZ)."""
    source_security_group_id: Required[pulumi.Input[str]]
    """Security group allowed to reach interface endpoints on 443 (the cluster's)."""
    extra_source_cidrs: NotRequired[Sequence[str]]
    """More networks allowed to reach interface endpoints on 443 (a deploy runner routed into
    the VPC: its STS and ECR calls resolve to the endpoints through private DNS)."""
    extra_source_security_groups: NotRequired[Sequence[str]]
    """More security groups allowed the same way."""
    interface: Required[Sequence[EndpointArgs]]
    """Interface endpoints, created with private DNS."""
    gateway: NotRequired[Sequence[EndpointArgs]]
    """Gateway endpoints (`s3`, `dynamodb`), attached to `route_table_ids`."""
    route_table_ids: NotRequired[pulumi.Input[Sequence[pulumi.Input[str]]]]
    """Private route tables the gateway endpoints are added to."""
    tags: NotRequired[Mapping[str, str]]
    """Tags for the endpoints and the security group."""


def _validate(args: VpcEndpointsArgs) -> None:
    seen: set[str] = set()
    for key in ("interface", "gateway"):
        for i, spec in enumerate(args.get(key, [])):  # type: ignore[call-overload]
            service = spec["service"]
            if validators.endpoint_service(service):
                raise ValueError(
                    f"VpcEndpointsArgs.{key}[{i}].service: {service!r} is not a service"
                )
            if service in seen:
                raise ValueError(
                    f"VpcEndpointsArgs.{key}[{i}].service: {service!r} is listed twice"
                )
            if (key == "gateway") != (service in GATEWAY_SERVICES):
                kind = "a gateway" if service in GATEWAY_SERVICES else "an interface"
                raise ValueError(
                    f"VpcEndpointsArgs.{key}[{i}].service: {service!r} is {kind} endpoint"
                )
            seen.add(service)
    if args.get("gateway") and "route_table_ids" not in args:
        raise ValueError("VpcEndpointsArgs.route_table_ids: required with gateway endpoints")


def _ingress(args: VpcEndpointsArgs) -> list[aws.ec2.SecurityGroupIngressArgs]:
    rules = [
        aws.ec2.SecurityGroupIngressArgs(
            description="HTTPS from the cluster security group",
            protocol="tcp",
            from_port=443,
            to_port=443,
            security_groups=[args["source_security_group_id"]],
        )
    ]
    cidrs, groups = args.get("extra_source_cidrs", []), args.get("extra_source_security_groups", [])
    if cidrs or groups:
        rules.append(
            aws.ec2.SecurityGroupIngressArgs(
                description="HTTPS from the deployer's runners",
                protocol="tcp",
                from_port=443,
                to_port=443,
                cidr_blocks=list(cidrs) or None,
                security_groups=list(groups) or None,
            )
        )
    return rules


def slug(service: str) -> str:
    return service.replace(".", "-")


class VpcEndpoints(pulumi.ComponentResource):
    endpoint_ids: dict[str, pulumi.Output[str]]
    security_group_id: pulumi.Output[str]

    def __init__(
        self, name: str, args: VpcEndpointsArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        check_args(self, args)
        super().__init__("substrate:network:VpcEndpoints", name, None, opts)
        _validate(args)
        tags = dict(args.get("tags", {}))
        child = pulumi.ResourceOptions(parent=self)
        region = aws_context(self).region
        group = aws.ec2.SecurityGroup(
            f"{name}-sg",
            description="VPC interface endpoints: HTTPS from the cluster's nodes only",
            vpc_id=args["vpc_id"],
            ingress=_ingress(args),
            tags={**tags, "Name": f"{name}-vpc-endpoints"},
            opts=child,
        )
        self.endpoint_ids = {}
        for spec in args["interface"]:
            service = spec["service"]
            endpoint = aws.ec2.VpcEndpoint(
                f"{name}-{slug(service)}",
                vpc_id=args["vpc_id"],
                service_name=region.apply(lambda r, s=service: endpoint_service_name(s, r)),
                vpc_endpoint_type="Interface",
                private_dns_enabled=True,
                subnet_ids=args["subnet_ids"],
                security_group_ids=[group.id],
                policy=spec["policy"],
                tags={**tags, "Name": f"{name}-{slug(service)}"},
                opts=child,
            )
            self.endpoint_ids[service] = endpoint.id
        for spec in args.get("gateway", []):
            service = spec["service"]
            endpoint = aws.ec2.VpcEndpoint(
                f"{name}-{slug(service)}",
                vpc_id=args["vpc_id"],
                service_name=region.apply(lambda r, s=service: endpoint_service_name(s, r)),
                vpc_endpoint_type="Gateway",
                route_table_ids=args.get("route_table_ids", []),
                policy=spec["policy"],
                tags={**tags, "Name": f"{name}-{slug(service)}"},
                opts=child,
            )
            self.endpoint_ids[service] = endpoint.id
        self.security_group_id = group.id
        self.register_outputs({"securityGroupId": group.id, "endpointIds": dict(self.endpoint_ids)})
