"""Rewrite pre-0.2 Substrate imports and paths to the `substrate.components.<domain>` layout.

Usage: python tools/migrate_imports.py FILE...

Substrate 0.2 moved the top-level `components` package to `substrate.components.<domain>` and
the policy pack's `policy_packs.substrate.policies` to `substrate.policies` (CHANGELOG.md). This
rewrites, in each file given, `components.<module>` and `from components import <modules>`
imports, `components/<module>.py` paths and the policy package's dotted and slashed names. A
file is left alone when it names nothing old; running it twice changes nothing. It exits 1,
naming the file and module, when a file imports a `components.<module>` it does not know (other
unknown `components.<word>` text, such as `components.md`, is left as it is).
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

DOMAINS: dict[str, tuple[str, ...]] = {
    "core": (
        "_args",
        "addon",
        "aws_context",
        "iam",
        "kms_key",
        "kms_policies",
        "labels",
        "validators",
        "versions",
    ),
    "cluster": (
        "cluster_addons",
        "ebs",
        "eks_cluster",
        "endpoint_policies",
        "image_cache",
        "network",
        "network_rules",
        "node_role",
        "pull_through_cache",
        "storage",
        "system_node_group",
        "vpc_endpoints",
    ),
    "capacity": (
        "instance_families",
        "instance_sizes",
        "interruption_queue",
        "karpenter",
        "karpenter_iam",
        "karpenter_rules",
        "node_classes",
        "node_overlays",
        "node_pools",
        "nvidia_device_plugin",
        "pools",
    ),
    "workloads": (
        "elastic_workload",
        "keda",
        "kueue",
        "kueue_integrations",
        "kueue_platform",
        "spark_operator",
        "tenancy",
        "tenant",
        "tenant_access",
        "tenant_manifests",
        "workload_operators",
    ),
    "identity": (
        "pod_identity",
        "spire",
        "spire_crds",
        "spire_database",
        "spire_policies",
        "workload_identity",
    ),
    "admission": ("admission_policies", "admission_policy_set", "kyverno"),
    "observability": (
        "alert_rules",
        "chargeback_rules",
        "dcgm_exporter",
        "node_alerts",
        "platform_monitoring",
        "prometheus_crds",
        "prometheus_stack",
        "rules_common",
        "scrape_targets",
        "storage_alerts",
    ),
    "bedrock": ("bedrock_capabilities", "bedrock_logging", "bedrock_models", "bedrock_policies"),
    "agents": (
        "agent_manifests",
        "agent_memory_quota",
        "agent_runtime",
        "agent_validation",
        "bedrock_agent_role",
    ),
}
"""The domain each module of the old `components` package moved to."""

DATA_FILES: dict[str, str] = {
    "bedrock_guardrail_profiles.json": "bedrock",
    "bedrock_inference_profiles.json": "bedrock",
    "bedrock_models.json": "bedrock",
    "dcgm-counters.csv": "observability",
    "gpus-and-queues.dashboard.json": "observability",
}
"""The domain whose `data/` folder each file of the old `components/data/` moved to."""

DOMAIN_OF = {module: domain for domain, modules in DOMAINS.items() for module in modules}

_OLD = r"(?<![\w./-])"
_FROM_IMPORT = re.compile(_OLD + r"from components import (\([^)]*\)|[^\n]*)", re.MULTILINE)
_DOTTED = re.compile(_OLD + r"components\.(\w+)")
_DATA_PATH = re.compile(_OLD + r"components/data/([\w-]+(?:\.[\w-]+)*)")
_PATH = re.compile(_OLD + r"components/(\w+)")
_POLICIES = re.compile(_OLD + r"policy_packs([./])substrate\1policies")


class UnknownModuleError(Exception):
    """A `components.<module>` this script has no domain for."""


def _domain(module: str) -> str:
    if module not in DOMAIN_OF:
        raise UnknownModuleError(module)
    return DOMAIN_OF[module]


def _from_import(match: re.Match[str]) -> str:
    names = [n.strip() for n in match.group(1).strip("()").replace("\n", " ").split(",")]
    by_domain: dict[str, list[str]] = {}
    for name in filter(None, names):
        by_domain.setdefault(_domain(name.split()[0]), []).append(name)
    return "\n".join(
        f"from substrate.components.{d} import {', '.join(n)}" for d, n in by_domain.items()
    )


def _path(match: re.Match[str]) -> str:
    module = match.group(1)
    if module not in DOMAIN_OF:
        return match.group(0)
    return f"substrate/components/{DOMAIN_OF[module]}/{module}"


def rewrite(text: str) -> str:
    """The text with every old import and path rewritten (raises UnknownModuleError)."""
    text = _POLICIES.sub(lambda m: f"substrate{m.group(1)}policies", text)
    text = _FROM_IMPORT.sub(_from_import, text)
    text = _DATA_PATH.sub(
        lambda m: (
            f"substrate/components/{DATA_FILES[m.group(1)]}/data/{m.group(1)}"
            if m.group(1) in DATA_FILES
            else m.group(0)
        ),
        text,
    )
    text = _DOTTED.sub(_dotted, text)
    return _PATH.sub(_path, text)


def _dotted(match: re.Match[str]) -> str:
    module = match.group(1)
    if module not in DOMAIN_OF:
        line_start = match.string.rfind("\n", 0, match.start()) + 1
        if re.match(r"\s*(from|import)\s", match.string[line_start : match.start()]):
            raise UnknownModuleError(module)
        return match.group(0)
    return f"substrate.components.{DOMAIN_OF[module]}.{module}"


def main(argv: list[str]) -> int:
    failed = 0
    for name in argv:
        path = Path(name)
        try:
            text = path.read_text()
        except (UnicodeDecodeError, IsADirectoryError, FileNotFoundError):
            continue
        try:
            new = rewrite(text)
        except UnknownModuleError as e:
            print(f"{name}: components.{e} has no domain in tools/migrate_imports.py")
            failed = 1
            continue
        if new != text:
            path.write_text(new)
    return failed


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
