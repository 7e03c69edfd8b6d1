"""Drive the policy pack's analyzer server over gRPC, as the Pulumi engine does."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import grpc
from google.protobuf import empty_pb2, struct_pb2
from pulumi.runtime.proto import analyzer_pb2, analyzer_pb2_grpc
from pulumi_policy import EnforcementLevel

from substrate.plan.policy import EffectivePolicy
from substrate.plan.recorder import ResourceRecord

LEVELS = {
    EnforcementLevel.ADVISORY: analyzer_pb2.ADVISORY,
    EnforcementLevel.MANDATORY: analyzer_pb2.MANDATORY,
    EnforcementLevel.DISABLED: analyzer_pb2.DISABLED,
    EnforcementLevel.REMEDIATE: analyzer_pb2.REMEDIATE,
}


@dataclass(frozen=True)
class Diagnostic:
    policy: str
    urn: str
    enforcement: str
    message: str
    description: str


@contextmanager
def analyzer(pack_dir: Path) -> Iterator[analyzer_pb2_grpc.AnalyzerStub]:
    """Start the pack the way the CLI does (its __main__.py; it prints its port) and connect."""
    proc = subprocess.Popen(
        [sys.executable, "-u", str(pack_dir / "__main__.py")],
        cwd=pack_dir,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
    try:
        assert proc.stdout is not None
        port = int(proc.stdout.readline().decode().strip())
        with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
            grpc.channel_ready_future(channel).result(timeout=30)
            yield analyzer_pb2_grpc.AnalyzerStub(channel)
    finally:
        proc.kill()
        proc.wait()
        if proc.stdout is not None:
            proc.stdout.close()


def _struct(data: dict) -> struct_pb2.Struct:
    out = struct_pb2.Struct()
    out.update(data)
    return out


def configure(stub: analyzer_pb2_grpc.AnalyzerStub, policies: Sequence[EffectivePolicy]) -> None:
    stub.Configure(
        analyzer_pb2.ConfigureAnalyzerRequest(
            policyConfig={
                e.policy.name: analyzer_pb2.PolicyConfig(
                    enforcementLevel=LEVELS[e.level], properties=_struct(e.config)
                )
                for e in policies
            }
        )
    )


def _options(record: ResourceRecord) -> analyzer_pb2.AnalyzerResourceOptions:
    return analyzer_pb2.AnalyzerResourceOptions(
        protect=bool(record.options.get("protect")),
        ignoreChanges=list(record.options.get("ignoreChanges", [])),
        additionalSecretOutputs=list(record.options.get("additionalSecretOutputs", [])),
        parent=record.parent or "",
    )


def _provider(
    record: ResourceRecord, by_urn: dict[str, ResourceRecord]
) -> analyzer_pb2.AnalyzerProviderResource | None:
    prov = by_urn.get(record.provider_urn or "")
    if prov is None:
        return None
    return analyzer_pb2.AnalyzerProviderResource(
        type=prov.type, properties=_struct(prov.raw_inputs), urn=prov.urn, name=prov.name
    )


def _diagnostics(response: analyzer_pb2.AnalyzeResponse, urn: str = "") -> list[Diagnostic]:
    """Diagnostics as the engine records them: a resource policy's diagnostic without a URN
    belongs to the resource that was analyzed."""
    out = []
    for d in response.diagnostics:
        message = d.message
        if message.startswith(d.description):
            message = message[len(d.description) :].removeprefix("\n")
        level = analyzer_pb2.EnforcementLevel.Name(d.enforcementLevel).lower()
        out.append(Diagnostic(d.policyName, d.urn or urn, level, message, d.description))
    return out


def analyze(
    stub: analyzer_pb2_grpc.AnalyzerStub, records: Sequence[ResourceRecord]
) -> list[Diagnostic]:
    """Analyze every resource, then AnalyzeStack, exactly as the engine calls the pack."""
    by_urn = {r.urn: r for r in records}
    found: list[Diagnostic] = []
    for record in records:
        found += _diagnostics(
            stub.Analyze(
                analyzer_pb2.AnalyzeRequest(
                    type=record.type,
                    properties=_struct(record.raw_inputs),
                    urn=record.urn,
                    name=record.name,
                    options=_options(record),
                    provider=_provider(record, by_urn),
                )
            ),
            record.urn,
        )
    stack = stub.AnalyzeStack(
        analyzer_pb2.AnalyzeStackRequest(
            resources=[
                analyzer_pb2.AnalyzerResource(
                    type=r.type,
                    properties=_struct(r.raw_inputs),
                    urn=r.urn,
                    name=r.name,
                    options=_options(r),
                    provider=_provider(r, by_urn),
                    parent=r.parent or "",
                    dependencies=list(r.dependencies),
                    propertyDependencies={
                        k: analyzer_pb2.AnalyzerPropertyDependencies(urns=v)
                        for k, v in r.property_dependencies.items()
                    },
                )
                for r in records
            ]
        )
    )
    return found + _diagnostics(stack)


def info(stub: analyzer_pb2_grpc.AnalyzerStub) -> analyzer_pb2.AnalyzerInfo:
    return stub.GetAnalyzerInfo(empty_pb2.Empty())
