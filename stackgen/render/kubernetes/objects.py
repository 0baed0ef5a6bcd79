"""What every generated Kubernetes object shares: its metadata and its file."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from stackgen.conventions import KUBERNETES_DIR
from stackgen.spec import Stack
from stackgen.spec.scale_out import KubernetesTarget

__all__ = [
    "INSTANCE_LABEL",
    "NAME_LABEL",
    "KubeObject",
    "kube_object",
    "metadata",
    "object_path",
    "target_of",
]

# The well-known label naming the application a pod or Service belongs to: monitors
# select by it and take the scrape job's name from it.
NAME_LABEL = "app.kubernetes.io/name"
# The well-known label naming the instance of an application: the Operator sets it to the
# Prometheus or Alertmanager resource's name on their pods.
INSTANCE_LABEL = "app.kubernetes.io/instance"

KubeObject = dict[str, Any]


def target_of(stack: Stack) -> KubernetesTarget | None:
    return stack.scale_out.kubernetes if stack.scale_out is not None else None


def metadata(
    target: KubernetesTarget,
    name: str,
    labels: Mapping[str, str] | None = None,
    annotations: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """Name, namespace and the target's labels (plus ``labels``) of an object."""
    meta: dict[str, Any] = {
        "name": name,
        "namespace": target.namespace,
        "labels": dict(sorted({**target.labels, **(labels or {})}.items())),
    }
    if annotations:
        meta["annotations"] = dict(sorted(annotations.items()))
    return meta


def kube_object(api_version: str, kind: str, meta: dict[str, Any], **body: Any) -> KubeObject:
    return {"apiVersion": api_version, "kind": kind, "metadata": meta, **body}


def object_path(obj: KubeObject) -> str:
    return f"{KUBERNETES_DIR}/{obj['kind'].lower()}/{obj['metadata']['name']}.yaml"
