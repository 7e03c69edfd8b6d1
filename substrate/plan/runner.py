"""Run a Pulumi program under the mock engine and return what it declared."""

from __future__ import annotations

import contextvars
import json
from collections.abc import Callable, Mapping
from typing import Any

import pulumi
from pulumi.runtime import settings as pulumi_settings
from pulumi.runtime.mocks import set_mocks
from pulumi.runtime.settings import SETTINGS
from pulumi.runtime.stack import run_pulumi_func
from pulumi.runtime.sync_await import _sync_await

from substrate.plan.mocks import SubstrateMocks
from substrate.plan.recorder import RecordingMonitor, ResourceRecord


def run_under_mocks(
    program: Callable[[], None],
    *,
    project: str,
    stack: str,
    config: Mapping[str, str],
    region: str,
    caller: str | None = None,
    preview: bool = False,
) -> list[ResourceRecord]:
    """Run ``program`` as `pulumi up` would (outputs are known), or as `pulumi preview` with
    ``preview``, with ``config`` as the stack's configuration and ``caller`` (an IAM role or
    user ARN) as the credentials it runs with. Each call runs in a fresh context, so runs don't
    leak state."""

    def run() -> list[ResourceRecord]:
        pulumi_settings.ROOT.set(None)
        pulumi.runtime.set_all_config(dict(config), [])
        mocks = SubstrateMocks(region, caller)
        disabled = json.loads(config.get("pulumi:disable-default-providers", "[]"))
        monitor = RecordingMonitor(mocks, tuple(disabled))
        set_mocks(mocks, project=project, stack=stack, preview=preview, monitor=monitor)
        # A program that failed earlier in this process (an engine refusal) leaves its RPC
        # error and pending outputs in the settings; start clean, as pulumi.runtime.test does.
        settings: Any = SETTINGS  # contextproperty attributes pyright cannot see
        settings.rpc_manager.clear()
        settings.outputs.clear()
        _sync_await(run_pulumi_func(program))
        return sorted(monitor.records, key=lambda r: r.urn)

    return contextvars.copy_context().run(run)
