"""The Spark tenant's S3 access as the IAM evaluator sees it: the pod session of a Spark pod
under the tenant's `spark` service account (EKS Pod Identity), its role's policy and the S3
gateway endpoint's policy (when the plan sets one), from the plan; the grants from the stack."""

from __future__ import annotations

from functools import cache

import pytest

from substrate.components.core.validators import partition_of
from substrate.components.workloads.spark_operator import SERVICE_ACCOUNT
from substrate.engines import aws_plan
from substrate.engines.iam import Decision, Policies, Principal, Request, evaluate
from substrate.plan.mocks import ACCOUNT_ID
from tests.conftest import planned
from tests.helpers import stack_yaml, typed_config
from tests.journeys.journey import journey
from tests.journeys.test_spark import SPARK_DOCS, SPARK_STACKS


@cache
def _plan(stack: str) -> aws_plan.AwsPlan:
    cfg = typed_config(stack_yaml(stack))
    return aws_plan.from_records(
        planned(stack).records,
        partition=partition_of(cfg.region),
        region=cfg.region,
        account=ACCOUNT_ID,
    )


def _pod(stack: str, namespace: str) -> Principal:
    plan = _plan(stack)
    association = plan.association(namespace, SERVICE_ACCOUNT)
    return plan.pod_principal(association, "features-exec-1", "uid-features-exec-1")


def _decide(stack: str, principal: Principal, action: str, resource: str, **ctx: str) -> Decision:
    plan = _plan(stack)
    assert principal.role_arn is not None
    endpoint = plan.endpoints.get("s3")
    policies = Policies(
        identity=plan.identity_policies(plan.role(principal.role_arn)),
        endpoint=endpoint.policy if endpoint else None,
    )
    context = {"aws:SecureTransport": "true", **ctx}
    if endpoint is not None:
        context["aws:SourceVpc"] = endpoint.vpc_id
    return evaluate(Request(principal, action, resource, context), policies)


@journey(
    user="data engineer of the Spark tenant (its executors' S3A client)",
    stack="dev, staging, prod",
    steps=[
        "an executor under data-eng/spark reads its read grant and writes its read-write grant",
        "it writes to the read-only prefix, reads another prefix of the bucket, reads another "
        "bucket, lists the bucket outside its prefixes",
        "a pod of another tenant's namespace looks for a spark association",
    ],
    outcome="the IAM evaluator allows the granted reads, writes and listings and denies every "
    "other request (implicit deny); no other tenant namespace has a Spark role",
    docs=[SPARK_DOCS],
)
@pytest.mark.parametrize("stack", SPARK_STACKS)
def test_spark_service_account_reaches_only_its_tenants_s3_grants(stack: str) -> None:
    cfg = typed_config(stack_yaml(stack))
    spark = cfg.workloads.spark
    assert spark is not None
    partition = partition_of(cfg.region)
    for tenant, grants in spark.tenants.items():
        for namespace in cfg.tenants[tenant].namespaces:
            pod = _pod(stack, namespace)
            for g in grants.s3:
                bucket = f"arn:{partition}:s3:::{g.bucket}"
                obj = f"{bucket}/{g.prefix}part-00000.parquet"
                assert _decide(stack, pod, "s3:GetObject", obj), obj
                put = _decide(stack, pod, "s3:PutObject", obj)
                assert bool(put) == (g.access == "read-write"), (obj, put.reason)
                listing = _decide(stack, pod, "s3:ListBucket", bucket, **{"s3:prefix": g.prefix})
                assert listing, listing.reason
            bucket = f"arn:{partition}:s3:::{spark.tenants[tenant].s3[0].bucket}"
            assert not _decide(stack, pod, "s3:GetObject", f"{bucket}/secrets/keys.csv")
            assert not _decide(stack, pod, "s3:ListBucket", bucket, **{"s3:prefix": ""})
            other = f"arn:{partition}:s3:::another-teams-bucket/raw/x.parquet"
            assert not _decide(stack, pod, "s3:GetObject", other)
            assert not _decide(stack, pod, "s3:DeleteBucket", bucket)
    spark_namespaces = {ns for t in spark.tenants for ns in cfg.tenants[t].namespaces}
    for association in _plan(stack).associations:
        if association.service_account == SERVICE_ACCOUNT:
            assert association.namespace in spark_namespaces
