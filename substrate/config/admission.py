"""``substrate:admission``: Kyverno and the Substrate admission-policy set."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Literal

from substrate.components.cluster import image_cache
from substrate.components.core import validators
from substrate.components.core.labels import SYSTEM_NAMESPACES
from substrate.config.checks import between, non_empty, rule, unique
from substrate.config.schema import ConfigError, Invalid, doc

Namespace = Annotated[str, rule(validators.dns_label, 63)]
Registry = Annotated[str, rule(validators.image_registry)]
WorkloadClass = Literal["training", "inference", "batch", "agent", "data"]

PRODUCTION_MIN_ADMISSION_REPLICAS = 3


def _not_system(namespaces: list[str]) -> None:
    for name in namespaces:
        if name in SYSTEM_NAMESPACES:
            raise Invalid(
                f"lists {name!r}, which is always excluded",
                "platform namespaces other than " + ", ".join(SYSTEM_NAMESPACES),
            )


def _credentialed_hosts(value: dict[str, str]) -> None:
    for host in value:
        if host not in image_cache.CREDENTIALED:
            raise Invalid(
                f"lists {host!r}, an upstream that needs no credentials or that ECR cannot cache",
                ", ".join(image_cache.CREDENTIALED),
            )


@dataclass(frozen=True)
class AdmissionConfig:
    """Kyverno admission control (R27-R34): the controller's availability and webhook scope, and
    whether the Substrate ValidatingPolicies only report (Audit) or also reject (Enforce)."""

    mode: Literal["Audit", "Enforce"] = doc(
        "`Enforce` rejects violating requests (validationActions [Deny]); `Audit` admits them, "
        "records them in policy reports and warns the client (validationActions [Audit, Warn]).",
        default="Audit",
    )
    failure_policy: Literal["Fail", "Ignore"] = doc(
        "What the API server does when Kyverno cannot answer: `Fail` rejects (no unchecked "
        "workloads), `Ignore` admits. System and platform namespaces are never sent to Kyverno, "
        "so `Fail` cannot block node bootstrap or teardown.",
        default="Fail",
    )
    admission_replicas: Annotated[int, between(1, 10)] = doc(
        "Kyverno admission-controller replicas (spread across zones, with a PodDisruptionBudget "
        "when more than one); at least 3 when environment.tier is production.",
        default=3,
    )
    controller_replicas: Annotated[int, between(1, 5)] = doc(
        "Replicas of Kyverno's background, cleanup and reports controllers (leader-elected; "
        "more than one is a warm standby).",
        default=2,
    )
    webhook_timeout_seconds: Annotated[int, between(1, 29)] = doc(
        "Timeout of Kyverno's admission webhooks (R34: under 30 s, the API server's maximum).",
        default=10,
    )
    namespace: Namespace = doc(
        "Namespace Kyverno runs in (excluded from its own webhooks).", default="kyverno"
    )
    excluded_namespaces: Annotated[list[Namespace], unique, _not_system] = doc(
        "Further namespaces Kyverno's webhooks and policies never see, e.g. controllers you run "
        "outside Substrate. Every namespace the platform's own add-ons create (Karpenter, Kueue, "
        "KEDA, SPIRE, monitoring, ...), kube-system, kube-node-lease, kube-public and Kyverno's "
        "are always excluded, so Kyverno cannot deadlock node bootstrap or teardown.",
        factory=list,
    )
    pod_security_exempt_namespaces: Annotated[list[Namespace], unique, _not_system] = doc(
        "Tenant-side namespaces exempt from the `restricted` Pod Security policy only (every "
        "other policy still applies). Platform add-on namespaces need no entry: they are "
        "excluded from admission and carry their own Pod Security Admission labels (R27).",
        factory=list,
    )
    allowed_registries: Annotated[list[Registry], non_empty("registry"), unique] = doc(
        "Registry hosts or repository prefixes tenant images must come from (R28); images must "
        "be fully qualified (`<registry>/<repository>:<tag>` or `@sha256:`). A public registry "
        "anyone can publish to (public.ecr.aws, docker.io, ghcr.io, quay.io, nvcr.io, ...) only "
        "with a repository namespace, e.g. `public.ecr.aws/docker/library` (Docker Official "
        "Images on ECR Public).",
        factory=lambda: ["public.ecr.aws/docker/library"],
    )
    pull_through_credentials: Annotated[dict[str, str], _credentialed_hosts] = doc(
        "Upstream registry (`ghcr.io`, `docker.io`) -> ARN of the AWS Secrets Manager secret "
        "(`username` and `accessToken`, named `ecr-pullthroughcache/...`, in the stack's account "
        "and Region) the ECR pull-through cache rule of that upstream authenticates with. The "
        "platform charts' GitHub Container Registry and Docker Hub images are pulled through the "
        "account's ECR only when their upstream is listed; create the secrets before the first "
        "`pulumi up` (docs/deploy.md).",
        factory=dict,
    )
    long_running_classes: Annotated[list[WorkloadClass], unique] = doc(
        "`substrate.io/workload-class` values whose pods must carry "
        '`karpenter.sh/do-not-disrupt: "true"` (R33).',
        factory=lambda: ["training", "agent"],
    )

    @property
    def validation_actions(self) -> list[str]:
        return ["Deny"] if self.mode == "Enforce" else ["Audit", "Warn"]

    def check(self, path: str) -> None:
        if self.namespace in SYSTEM_NAMESPACES:
            raise ConfigError(
                f"{path}.namespace",
                self.namespace,
                "is a system namespace",
                'a namespace of Kyverno\'s own, such as "kyverno"',
            )
        for i, name in enumerate(self.excluded_namespaces):
            if name == self.namespace:
                raise ConfigError(
                    f"{path}.excludedNamespaces[{i}]",
                    name,
                    "is Kyverno's own namespace, which is always excluded",
                    "other platform namespaces",
                )

    def check_production(self, path: str) -> None:
        """Production guardrail (called by PlatformConfig.check for production tiers)."""
        if self.admission_replicas < PRODUCTION_MIN_ADMISSION_REPLICAS:
            raise ConfigError(
                f"{path}.admissionReplicas",
                self.admission_replicas,
                "leaves admission control without zone redundancy in production",
                f"at least {PRODUCTION_MIN_ADMISSION_REPLICAS} when environment.tier is production",
            )
