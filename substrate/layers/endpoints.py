"""Endpoints layer: VPC endpoints for AWS APIs, including Bedrock's, in the cluster's VPC.

Built after the cluster because interface endpoints accept HTTPS only from the cluster
security group. Baseline endpoints (R24) come from `substrate:network.endpoints` (the S3 gateway
also admits the presigned ECR layer downloads, see substrate.components.cluster.endpoint_policies);
the
`bedrock-runtime` endpoint from `substrate:bedrock` (no `bedrock-agent-runtime` endpoint: no role
Substrate creates may call it).
"""

from __future__ import annotations

import pulumi

from substrate.components.bedrock import bedrock_models, bedrock_policies
from substrate.components.cluster import endpoint_policies
from substrate.components.cluster.vpc_endpoints import (
    BASELINE_INTERFACE_SERVICES,
    EndpointArgs,
    VpcEndpoints,
    VpcEndpointsArgs,
)
from substrate.config import PlatformConfig
from substrate.layers.bedrock import Bedrock
from substrate.layers.foundation import Foundation


def _runtime_policy(cfg: PlatformConfig, base: Foundation, bed: Bedrock) -> pulumi.Output[str]:
    assert cfg.bedrock is not None
    catalog = list(bed.catalog.values())
    guardrail = cfg.bedrock.guardrail
    profiles = sorted(bed.routes)
    apps = [
        (bed.catalog[model], arn)
        for _, by_model in sorted(bed.application_profiles.items())
        for model, arn in sorted(by_model.items())
    ]

    def render(values: list) -> str:
        parts, *rest = values
        routed, app_arns = rest[: len(profiles)], rest[len(profiles) :]
        partition, region, account = parts[1], parts[3], parts[4]
        cluster_arn = ":".join(parts)
        regions = dict(zip(profiles, routed, strict=True))
        resolved = [
            bedrock_models.resolve(m, partition, region, account, regions.get(m.id))
            for m in catalog
        ]
        # The agents' application profiles, each beside the catalog model it copies (same
        # actions, same guardrail condition).
        resolved += [
            bedrock_models.resolve(
                m, partition, region, account, regions.get(m.id), application_profile=arn
            )
            for (m, _), arn in zip(apps, app_arns, strict=True)
        ]
        grant = None
        if guardrail is not None:
            grant = bedrock_policies.guardrail_grant(
                partition,
                region,
                account,
                guardrail.id,
                guardrail.version,
                profile=guardrail.cross_region_profile,
            )
        return bedrock_policies.runtime_endpoint_policy(resolved, account, cluster_arn, grant)

    cluster = base.cluster.cluster_arn.apply(lambda arn: arn.split(":"))
    return pulumi.Output.all(
        cluster, *(bed.routes[p] for p in profiles), *(arn for _, arn in apps)
    ).apply(render)


def build(cfg: PlatformConfig, base: Foundation, bed: Bedrock) -> VpcEndpoints | None:
    net = cfg.network
    account = base.cluster.cluster_arn.apply(lambda arn: arn.split(":")[4])
    perimeter = account.apply(bedrock_policies.perimeter_endpoint_policy)

    def perimeter_endpoint(service: str) -> EndpointArgs:
        return {"service": service, "policy": perimeter}

    interface: list[EndpointArgs] = []
    gateway: list[EndpointArgs] = []
    if net.endpoints.creates(net.creates_vpc):
        roles = [r for r in (cfg.deploy.role, cfg.deploy.preview_role) if r]
        sts = account.apply(lambda a: endpoint_policies.sts_policy(a, roles))
        interface.append({"service": "sts", "policy": sts})
        interface += [perimeter_endpoint(s) for s in BASELINE_INTERFACE_SERVICES if s != "sts"]
        s3 = base.cluster.cluster_arn.apply(
            lambda arn: endpoint_policies.s3_gateway_policy(
                arn.split(":")[4], arn.split(":")[1], arn.split(":")[3]
            )
        )
        gateway.append({"service": "s3", "policy": s3})
    interface += [perimeter_endpoint(s) for s in net.endpoints.additional]
    if cfg.bedrock is not None:
        interface.append({"service": "bedrock-runtime", "policy": _runtime_policy(cfg, base, bed)})
    if not interface and not gateway:
        return None
    args: VpcEndpointsArgs = {
        "vpc_id": base.network.vpc_id,
        "subnet_ids": base.network.private_subnet_ids,
        "source_security_group_id": base.cluster.cluster_security_group_id,
        "extra_source_cidrs": list(cfg.deploy.source_cidrs)
        if cfg.deploy.api_access == "private"
        else [],
        "extra_source_security_groups": list(cfg.deploy.source_security_groups),
        "interface": interface,
        "tags": base.tags,
    }
    if gateway:
        args["gateway"] = gateway
        args["route_table_ids"] = (
            base.network.private_route_table_ids
            if net.existing is None
            else list(net.existing.private_route_table_ids)
        )
    return VpcEndpoints("endpoints", args)
