"""Evaluate the policy pack's own policy objects against a plan, as the engine would.

Per resource and policy this does what pulumi-policy's analyzer does on `Analyze`:
`deserialize_properties` of the engine-shaped inputs wrapped in the unknown-checking proxy,
`ResourceValidationArgs` with the resource options and provider, the policy's config. Stack
policies get every resource with parents and dependencies linked (`AnalyzeStack`). Unlike the
analyzer, which rebuilds them per policy, props, options and the stack view are built once per
plan and shared read-only by every policy. Enforcement comes from the stack tier's
`policy_packs/substrate/config.<tier>.json` (substrate.plan.pack_config), the file
`pulumi preview --policy-pack-config` takes.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pulumi_policy import (
    EnforcementLevel,
    Policy,
    PolicyCustomTimeouts,
    PolicyProviderResource,
    PolicyResource,
    PolicyResourceOptions,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)
from pulumi_policy.deserialize import deserialize_properties
from pulumi_policy.proxy import UnknownValueError, unknown_checking_proxy

from substrate.plan.recorder import ResourceRecord

PACK_NAME = "substrate"


class PolicyConfigError(Exception):
    """The policy-pack config file is invalid (treated like a stack config error)."""


@dataclass(frozen=True)
class Violation:
    policy: str
    pack: str
    enforcement: str
    urn: str
    message: str

    def as_dict(self) -> dict[str, str]:
        return {
            "policy": self.policy,
            "pack": self.pack,
            "enforcement": self.enforcement,
            "urn": self.urn,
            "message": self.message,
        }


@dataclass(frozen=True)
class EffectivePolicy:
    policy: Policy
    level: EnforcementLevel
    config: dict[str, Any]


def load_pack_config(path: Path) -> dict[str, Any]:
    if not path.exists():
        return {}
    try:
        data = json.loads(path.read_text())
    except json.JSONDecodeError as err:
        raise PolicyConfigError(f"{path}: not valid JSON ({err})") from None
    if not isinstance(data, dict):
        raise PolicyConfigError(f"{path}: expected a JSON object of policy names")
    return data


def _level(raw: Any, where: str) -> EnforcementLevel:
    try:
        return EnforcementLevel(raw)
    except ValueError:
        allowed = ", ".join(e.value for e in EnforcementLevel)
        raise PolicyConfigError(
            f"{where} = {raw!r}: not an enforcement level (allowed: {allowed})"
        ) from None


def effective_policies(
    policies: Sequence[Policy],
    file_config: Mapping[str, Any],
    pack_level: EnforcementLevel = EnforcementLevel.MANDATORY,
    source: str = "policy config",
) -> list[EffectivePolicy]:
    """Resolve each policy's enforcement level and config as the CLI does: per-policy entry,
    then `all`, then the policy's own level, then the pack's; schema defaults filled in."""
    names = {p.name for p in policies}
    for key in file_config:
        if key != "all" and key not in names:
            raise PolicyConfigError(
                f"{source}: {key!r} is not a policy of pack {PACK_NAME} "
                f"(allowed: all, {', '.join(sorted(names))})"
            )
    all_level = _level(file_config["all"], f"{source}: all") if "all" in file_config else None
    out = []
    for policy in policies:
        entry = file_config.get(policy.name)
        level, props = None, {}
        if isinstance(entry, str):
            level = _level(entry, f"{source}: {policy.name}")
        elif isinstance(entry, dict):
            props = {k: v for k, v in entry.items() if k != "enforcementLevel"}
            if "enforcementLevel" in entry:
                level = _level(entry["enforcementLevel"], f"{source}: {policy.name}")
        schema = policy.config_schema.properties if policy.config_schema else {}
        unknown = sorted(set(props) - set(schema))
        if unknown:
            raise PolicyConfigError(
                f"{source}: {policy.name}.{unknown[0]} is not a config "
                f"property (allowed: {', '.join(sorted(schema)) or 'none'})"
            )
        for prop, spec in schema.items():
            if prop not in props and "default" in spec:
                props[prop] = spec["default"]
        level = level or all_level or policy.enforcement_level or pack_level
        out.append(EffectivePolicy(policy, level, props))
    return out


def _options(record: ResourceRecord) -> PolicyResourceOptions:
    opts, timeouts = record.options, record.options.get("customTimeouts", {})
    return PolicyResourceOptions(
        bool(opts.get("protect")),
        list(opts.get("ignoreChanges", [])),
        opts.get("deleteBeforeReplace"),
        [],
        PolicyCustomTimeouts(
            float(timeouts.get("create") or 0),
            float(timeouts.get("update") or 0),
            float(timeouts.get("delete") or 0),
        ),
        list(opts.get("additionalSecretOutputs", [])),
        record.parent,
    )


def _props(record: ResourceRecord) -> Any:
    return unknown_checking_proxy(deserialize_properties(record.raw_inputs))


class _Props:
    """Each record's props, deserialized and proxied once per evaluation and shared by every
    policy (the proxies are read-only views, so sharing cannot leak between policies)."""

    def __init__(self) -> None:
        self._cache: dict[str, Any] = {}

    def __call__(self, record: ResourceRecord) -> Any:
        if record.urn not in self._cache:
            self._cache[record.urn] = _props(record)
        return self._cache[record.urn]


def _provider(
    record: ResourceRecord, by_urn: Mapping[str, ResourceRecord], props: _Props
) -> PolicyProviderResource | None:
    urn = record.provider_urn
    if urn is None or urn not in by_urn:
        return None
    prov = by_urn[urn]
    return PolicyProviderResource(prov.type, props(prov), prov.urn, prov.name)


def _stack_view(
    records: Sequence[ResourceRecord],
    props: _Props,
    options: Mapping[str, PolicyResourceOptions],
    providers: Mapping[str, PolicyProviderResource | None],
) -> list[PolicyResource]:
    """Every record as a stack policy sees it, linked to its parent and dependencies."""
    resources = {
        r.urn: PolicyResource(
            r.type, props(r), r.urn, r.name, options[r.urn], providers[r.urn], None, [], {}
        )
        for r in records
    }
    for r in records:
        res = resources[r.urn]
        res.parent = resources.get(r.parent or "")
        res.dependencies = [resources[d] for d in r.dependencies if d in resources]
        res.property_dependencies = {
            k: [resources[d] for d in v if d in resources]
            for k, v in r.property_dependencies.items()
        }
    return list(resources.values())


def evaluate(
    records: Sequence[ResourceRecord],
    policies: Sequence[EffectivePolicy],
) -> list[Violation]:
    by_urn = {r.urn: r for r in records}
    violations: list[Violation] = []
    props = _Props()

    def reporter(eff: EffectivePolicy, default_urn: str):
        level = EnforcementLevel.MANDATORY if eff.level == EnforcementLevel.REMEDIATE else eff.level

        def report(message: str, urn: str | None = None) -> None:
            violations.append(
                Violation(eff.policy.name, PACK_NAME, level.value, urn or default_urn, message)
            )

        return report

    # The analyzer rebuilds these for every policy; the pack's policies only read them, so
    # they are built once and shared (tests/policies/test_analyzer_agreement.py compares the
    # verdicts with the real analyzer's).
    options = {r.urn: _options(r) for r in records}
    providers = {r.urn: _provider(r, by_urn, props) for r in records}
    stack_view: list[PolicyResource] | None = None
    active = [e for e in policies if e.level != EnforcementLevel.DISABLED]
    for eff in active:
        if isinstance(eff.policy, ResourceValidationPolicy):
            for record in records:
                args = ResourceValidationArgs(
                    record.type,
                    props(record),
                    record.urn,
                    record.name,
                    options[record.urn],
                    providers[record.urn],
                    dict(eff.config),
                    {},  # stack tags: the plan has none
                )
                _run(eff, args, reporter(eff, record.urn), violations)
        elif isinstance(eff.policy, StackValidationPolicy):
            if stack_view is None:
                stack_view = _stack_view(records, props, options, providers)
            args = StackValidationArgs(list(stack_view), dict(eff.config), {})
            _run(eff, args, reporter(eff, ""), violations)
    return sorted(violations, key=lambda v: (v.enforcement, v.policy, v.urn, v.message))


def _run(eff: EffectivePolicy, args: Any, report: Any, violations: list[Violation]) -> None:
    try:
        eff.policy.validate(args, report)  # type: ignore[attr-defined]
    except UnknownValueError as err:
        # The analyzer turns this into an advisory "can't run during preview" diagnostic.
        violations.append(
            Violation(
                eff.policy.name,
                PACK_NAME,
                "advisory",
                getattr(args, "urn", ""),
                f"can't run policy during preview: {err.message}",
            )
        )
    except Exception as err:
        if type(err).__name__ != "_NotApplicableError":
            raise
