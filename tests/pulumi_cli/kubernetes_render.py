"""The Kubernetes provider plugin (the pulumi-kubernetes engine) driven as the engine drives it
for each Kubernetes object a component registers: Configure once, then Check and Create. With
`renderYamlToDirectory` configured the provider writes each object as YAML there instead of
applying it (no cluster). For programs no language host here can run under the real engine
(TypeScript): their components' children, recorded by tests.provider_engine's fake monitor."""

from __future__ import annotations

import subprocess
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import grpc
from google.protobuf import struct_pb2
from pulumi.runtime import proto

from tests.helpers import require_engine
from tests.provider_engine import Registration
from tests.pulumi_cli.cli import rendered


def _struct(values: dict[str, Any]) -> struct_pb2.Struct:
    struct = struct_pb2.Struct()
    struct.update(values)
    return struct


@contextmanager
def kubernetes_provider(engine: str, directory: Path) -> Iterator[Any]:
    """The plugin started as the engine starts it (its address as the argument, the port on
    stdout) and configured to render into ``directory``: a ResourceProvider stub."""
    process = subprocess.Popen(
        [str(require_engine("pulumi-kubernetes")), engine],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        port = process.stdout.readline().strip()
        if not port.isdigit():
            _, err = process.communicate(timeout=30)
            raise AssertionError(f"pulumi-resource-kubernetes printed {port!r}, not a port:\n{err}")
        with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
            stub = proto.ResourceProviderStub(channel)
            setting = {"renderYamlToDirectory": str(directory)}
            stub.Configure(
                proto.ConfigureRequest(
                    variables={"kubernetes:config:renderYamlToDirectory": str(directory)},
                    args=_struct(setting),
                    acceptSecrets=True,
                    acceptResources=True,
                ),
                timeout=60,
            )
            yield stub
    finally:
        process.terminate()
        process.communicate(timeout=30)


def render(engine: str, children: Iterable[Registration], directory: Path) -> dict[str, Any]:
    """Check and create every Kubernetes object among ``children`` with the provider in render
    mode; what it wrote (see cli.rendered). A Check failure is an AssertionError."""
    with kubernetes_provider(engine, directory) as stub:
        for child in children:
            if not (child.custom and child.type.startswith("kubernetes:")):
                continue
            checked = stub.Check(
                proto.CheckRequest(
                    urn=child.urn,
                    olds=_struct({}),
                    news=_struct(child.inputs),
                    randomSeed=bytes(32),
                    name=child.name,
                    type=child.type,
                ),
                timeout=60,
            )
            if checked.failures:
                raise AssertionError(f"{child.urn}: {list(checked.failures)}")
            stub.Create(
                proto.CreateRequest(
                    urn=child.urn,
                    properties=checked.inputs,
                    preview=False,
                    timeout=60,
                    name=child.name,
                    type=child.type,
                ),
                timeout=60,
            )
    return rendered(directory)
