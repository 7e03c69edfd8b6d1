"""R28 for the images the charts run: pinned by tag or digest (never `latest`) and pulled from a
registry the stack allows (`substrate:admission.allowedRegistries`)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import pytest

from substrate.components.capacity import efa_device_plugin as efa
from substrate.components.core.validators import image_reference
from tests.helm.rendered import by_chart, chart_releases, containers, label, pod_spec
from tests.helpers import stack_yaml, typed_config

OPERATED = frozenset({"Prometheus", "Alertmanager"})
"""Prometheus Operator resources whose `spec.image` is what the operator runs."""

PINNING: dict[str, str] = {}
REGISTRIES: dict[str, str] = {}


def namespaced(stack: str) -> dict[str, str]:
    """Namespace -> the one image repository allowed there beyond the stack's registries: the
    EFA device plugin's, published only in the EKS add-on registry of the stack's Region."""
    return {efa.NAMESPACE: efa.image_repository(typed_config(stack_yaml(stack)).region)}


def images(obj: Mapping[str, Any]) -> Iterator[str]:
    if obj.get("kind") in OPERATED and str(obj.get("apiVersion", "")).startswith("monitoring."):
        image = (obj.get("spec") or {}).get("image")
        if image:
            yield str(image)
    for container in containers(pod_spec(obj) or {}):
        yield str(container.get("image", ""))


def _images(chart: str) -> Iterator[tuple[str, str, str, str]]:
    """(stack, object, image, namespace) for every image of every release of ``chart``."""
    for render, release in chart_releases(chart):
        for obj in render.installed(release):
            for image in images(obj):
                yield render.stack, label(obj), image, str(obj["metadata"].get("namespace"))


@pytest.mark.parametrize("chart", by_chart(PINNING))
def test_every_image_is_pinned(chart: str) -> None:
    problems = sorted(
        {
            f"{stack}: {image} {problem}"
            for stack, _, image, _ in _images(chart)
            if (problem := image_reference(image)) is not None
        }
    )
    assert problems == []


@pytest.mark.parametrize("chart", by_chart(REGISTRIES))
def test_every_image_comes_from_an_allowed_registry(chart: str) -> None:
    allowed = {
        stack: typed_config(stack_yaml(stack)).admission.allowed_registries
        for stack in ("dev", "staging", "prod")
    }
    extra = {stack: namespaced(stack) for stack in allowed}

    def exception(stack: str, namespace: str, image: str) -> bool:
        repository = extra[stack].get(namespace)
        return repository is not None and image.startswith((f"{repository}:", f"{repository}@"))

    foreign = sorted(
        {
            f"{stack}: {image}"
            for stack, _, image, namespace in _images(chart)
            if not any(image.startswith(f"{prefix}/") for prefix in allowed[stack])
            and not exception(stack, namespace, image)
        }
    )
    assert foreign == []


def test_operated_and_init_images_are_seen() -> None:
    found = {image for _, _, image, _ in _images("kube-prometheus-stack")}
    assert any("/quay.io/" not in i and "/prometheus/prometheus:v" in i for i in found)
    found = {image for _, _, image, _ in _images("spire")}
    assert any(i.endswith("/docker/library/bash:5.3.15-alpine3.24") for i in found)  # init
