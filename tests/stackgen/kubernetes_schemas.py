"""Validation of Kubernetes objects against their official schemas: the Prometheus
Operator's CRDs (../shared/schemas/kubernetes/prometheus-operator, their
``openAPIV3Schema``) and the core kinds' (kubernetes-validate, which ships Kubernetes'
own OpenAPI schemas for offline use).

Unknown fields are errors, as with ``kubectl apply`` (strict field validation, the
default since Kubernetes 1.27): a misspelt field must fail here, not be dropped silently.
"""

from __future__ import annotations

import functools
import os
from typing import Any

import jsonschema
import kubernetes_validate
import pytest
import yaml

from tests.conftest import SHARED_SCHEMAS

__all__ = ["CORE_VERSION", "crd_schema", "schema_errors", "strict"]

# The Kubernetes release whose schemas the core kinds are checked against (the newest
# kubernetes-validate ships; the package is pinned in pyproject.toml).
CORE_VERSION = "1.37.0"
OPERATOR_SCHEMAS = SHARED_SCHEMAS / "kubernetes" / "prometheus-operator"
OPERATOR_GROUP = "monitoring.coreos.com"


class _CRDLoader(yaml.SafeLoader):
    """The CRDs write the matcher type ``=`` unquoted, which YAML 1.1 tags as a "value"."""


_CRDLoader.add_constructor(
    "tag:yaml.org,2002:value", lambda loader, node: loader.construct_scalar(node)
)


def strict(schema: Any) -> Any:
    """The schema with unknown fields refused wherever the API server would refuse them:
    every object with ``properties`` that neither preserves unknown fields nor sets
    ``additionalProperties`` itself."""
    if isinstance(schema, list):
        return [strict(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    result = {key: strict(value) for key, value in schema.items()}
    if (
        "properties" in schema
        and "additionalProperties" not in schema
        and not schema.get("x-kubernetes-preserve-unknown-fields")
    ):
        result["additionalProperties"] = False
    return result


@functools.cache
def _crds() -> dict[tuple[str, str], dict[str, Any]]:
    """(kind, version) -> strict openAPIV3Schema of every CRD file."""
    schemas = {}
    for path in sorted(OPERATOR_SCHEMAS.glob("*.yaml")):
        crd = yaml.load(path.read_text(), Loader=_CRDLoader)
        kind = crd["spec"]["names"]["kind"]
        for version in crd["spec"]["versions"]:
            schemas[(kind, version["name"])] = strict(version["schema"]["openAPIV3Schema"])
    return schemas


def crd_schema(kind: str, version: str) -> dict[str, Any]:
    """A CRD's schema; missing, a skip on a developer's machine and a failure under CI."""
    if not OPERATOR_SCHEMAS.is_dir():
        message = f"{OPERATOR_SCHEMAS} is not available (../shared/schemas beside the repo)"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    schemas = _crds()
    assert (kind, version) in schemas, f"no CRD schema for {kind} {version}"
    return schemas[(kind, version)]


def schema_errors(obj: dict[str, Any]) -> list[str]:
    """Every schema error of one object (``path: message``), [] when it is valid."""
    group, _, version = obj["apiVersion"].rpartition("/")
    if group == OPERATOR_GROUP:
        validator = jsonschema.Draft7Validator(crd_schema(obj["kind"], version))
        return [
            f"{'.'.join(map(str, e.absolute_path))}: {e.message[:200]}"
            for e in validator.iter_errors(obj)
        ]
    try:
        kubernetes_validate.validate(obj, CORE_VERSION, strict=True)
    except kubernetes_validate.ValidationError as error:
        return [f"{'.'.join(map(str, error.path))}: {error.message[:200]}"]
    return []
