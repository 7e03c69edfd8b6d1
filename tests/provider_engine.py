"""The Pulumi engine's side of a component provider, faked just enough to drive one offline.

The engine starts a provider plugin with its own address as the argument, reads the port the
plugin prints on stdout, and calls GetSchema and Construct on it over gRPC. During Construct the
provider's component registers its children with the ResourceMonitor named in the request
(`monitorEndpoint`); `FakeMonitor` is that monitor: it answers RegisterResource as the engine
does in a preview (a URN from stack, project, parent type chain and name; the inputs echoed as
outputs) and records every registration. It also serves the Engine service (logging), since the
provider's SDK reports through it.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from concurrent import futures
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import grpc
from google.protobuf import empty_pb2, struct_pb2
from google.protobuf.json_format import MessageToDict
from pulumi.runtime import proto

STACK, PROJECT = "test", "consumer"


@dataclass
class Registration:
    type: str
    name: str
    parent: str
    custom: bool
    inputs: dict[str, Any]
    urn: str


@dataclass
class FakeMonitor(proto.ResourceMonitorServicer, proto.EngineServicer):
    registrations: list[Registration] = field(default_factory=list)
    logs: list[str] = field(default_factory=list)
    _types: dict[str, str] = field(default_factory=dict)

    def SupportsFeature(self, request: Any, context: Any) -> Any:  # noqa: N802
        return proto.SupportsFeatureResponse(hasSupport=False)

    def RegisterResource(self, request: Any, context: Any) -> Any:  # noqa: N802
        chain = request.type
        if request.parent:
            chain = f"{self._types[request.parent]}${request.type}"
        urn = f"urn:pulumi:{STACK}::{PROJECT}::{chain}::{request.name}"
        self._types[urn] = chain
        inputs = MessageToDict(request.object)
        self.registrations.append(
            Registration(request.type, request.name, request.parent, request.custom, inputs, urn)
        )
        return proto.RegisterResourceResponse(
            urn=urn, id="fake-id" if request.custom else "", object=request.object
        )

    def RegisterResourceOutputs(self, request: Any, context: Any) -> Any:  # noqa: N802
        return empty_pb2.Empty()

    def Log(self, request: Any, context: Any) -> Any:  # noqa: N802
        self.logs.append(request.message)
        return empty_pb2.Empty()

    def GetRootResource(self, request: Any, context: Any) -> Any:  # noqa: N802
        return proto.GetRootResourceResponse(urn="")

    def SetRootResource(self, request: Any, context: Any) -> Any:  # noqa: N802
        return proto.SetRootResourceResponse()


@contextmanager
def fake_engine() -> Iterator[tuple[FakeMonitor, str]]:
    """A running FakeMonitor (ResourceMonitor + Engine) and its address."""
    monitor = FakeMonitor()
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
    proto.add_ResourceMonitorServicer_to_server(monitor, server)
    proto.add_EngineServicer_to_server(monitor, server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    try:
        yield monitor, f"127.0.0.1:{port}"
    finally:
        server.stop(grace=None)


@contextmanager
def provider_process(plugin: Path, engine: str, source: Path, cwd: Path) -> Iterator[Any]:
    """Start the plugin as the language host does (`python <plugin dir> <engine address>` in the
    program's directory; the port on stdout) and yield a ResourceProvider stub connected to it.
    ``source`` goes on PYTHONPATH: it stands for the package installed in the plugin's venv."""
    env = {**os.environ, "PYTHONPATH": str(source)}
    process = subprocess.Popen(
        [sys.executable, str(plugin), engine],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=cwd,
        env=env,
        text=True,
    )
    try:
        assert process.stdout is not None
        port = process.stdout.readline().strip()
        if not port.isdigit():
            _, err = process.communicate(timeout=30)
            raise AssertionError(f"the provider printed {port!r}, not a port:\n{err}")
        with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
            yield proto.ResourceProviderStub(channel)
    finally:
        process.terminate()
        process.communicate(timeout=30)  # reaps it and closes the pipes


def construct(
    stub: Any, monitor: str, type_: str, name: str, inputs: dict[str, Any]
) -> tuple[str, dict[str, Any]]:
    """Construct a component as the engine does in a preview; its URN and output state."""
    struct = struct_pb2.Struct()
    struct.update(inputs)
    response = stub.Construct(
        proto.ConstructRequest(
            project=PROJECT,
            stack=STACK,
            type=type_,
            name=name,
            inputs=struct,
            monitorEndpoint=monitor,
            dryRun=True,
            parallel=4,
        ),
        timeout=120,
    )
    return response.urn, MessageToDict(response.state)
