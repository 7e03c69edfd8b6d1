"""Built-in Kubernetes kinds checked against Kubernetes' own OpenAPI schema of the cluster's minor
version, strictly (unknown fields are errors), with the JSON schemas kubernetes-validate bundles
(1.25 to 1.37, generated from each release's OpenAPI spec).

kubernetes_validate.validate() reloads the 1.5 MB definitions file for every object; this keeps
one validator per (version, apiVersion, kind), built exactly as that function builds it (the
same schema files, Draft 2020-12, the definitions registered as a referencing resource).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from typing import Any

import jsonschema
from kubernetes_validate import utils
from packaging.version import Version
from referencing import Registry, Resource


def schema_version(kube_version: str) -> str:
    """The newest bundled schema version not newer than ``kube_version``'s minor."""
    minor = Version(".".join(kube_version.lstrip("v").split(".")[:2]))
    bundled = [v for v in utils.all_versions() if Version(v) <= Version(f"{minor}.0")]
    if not bundled or Version(".".join(bundled[-1].split(".")[:2])) != minor:
        raise LookupError(f"kubernetes-validate bundles no schemas for Kubernetes {minor}")
    return bundled[-1]


def _file_name(api_version: str, kind: str) -> str:
    # rbac.authorization.k8s.io/v1 -> rbac-v1, apps/v1 -> apps-v1, v1 -> v1
    group_version = re.sub(r"^([^./]*)(?:\.[^/]*)?/", r"\1-", api_version)
    return f"{kind.lower()}-{group_version}.json"


@functools.cache
def _definitions(directory: str, version: str) -> Resource:
    return Resource.from_contents(
        utils.schema_contents(f"kubernetes-json-schema/{directory}/_definitions.json", version)
    )


@functools.cache
def validator(kube_version: str, api_version: str, kind: str) -> jsonschema.Validator | None:
    """The strict validator of a built-in kind; None when Kubernetes has no such kind (a custom
    resource, checked against its CRD instead)."""
    version = schema_version(kube_version)
    directory = f"v{version}-local-strict"
    try:
        schema = utils.schema_contents(
            f"kubernetes-json-schema/{directory}/{_file_name(api_version, kind)}", version
        )
    except FileNotFoundError:
        return None
    registry = Resource.from_contents(schema) @ (_definitions(directory, version) @ Registry())
    return jsonschema.Draft202012Validator(schema, registry=registry)


def is_builtin(kube_version: str, obj: Mapping[str, Any]) -> bool:
    return validator(kube_version, str(obj["apiVersion"]), str(obj["kind"])) is not None


def errors(kube_version: str, obj: Mapping[str, Any]) -> list[str]:
    check = validator(kube_version, str(obj["apiVersion"]), str(obj["kind"]))
    if check is None:
        raise LookupError(f"{obj['apiVersion']} {obj['kind']} is not a built-in kind")
    return sorted(
        f"{'.'.join(str(p) for p in err.absolute_path) or '<root>'}: {err.message}"
        for err in check.iter_errors(dict(obj))
    )
