"""generated/kubernetes/: the stack for a Kubernetes cluster with the Prometheus Operator
and Grafana's sidecar, one file per object (``<kind>/<name>.yaml``), when the stack opts
in (``Stack.scale_out.kubernetes``).

The rules are the rules model's groups, the dashboards the rendered dashboard files,
and the routing the spec's: what runs in the cluster is what runs in compose.
"""

from __future__ import annotations

from stackgen.output import dump_yaml
from stackgen.render import dashboards, slo_dashboard
from stackgen.render.kubernetes.alertmanager_config import alertmanager_config, global_settings
from stackgen.render.kubernetes.grafana import dashboard_config_maps, datasources_secret
from stackgen.render.kubernetes.monitoring import (
    alertmanager,
    monitors,
    prometheus,
    prometheus_access,
    prometheus_rules,
)
from stackgen.render.kubernetes.objects import KubeObject, object_path
from stackgen.render.kubernetes.workloads import workload_objects
from stackgen.spec import Stack

__all__ = ["kubernetes_objects", "render"]


def kubernetes_objects(stack: Stack) -> list[KubeObject]:
    """Every object of the Kubernetes target ([] when the stack does not opt in)."""
    scale_out = stack.scale_out
    target = scale_out.kubernetes if scale_out is not None else None
    if scale_out is None or target is None:
        return []
    objects = [*prometheus_rules(stack, target), *monitors(stack, target)]
    objects += [*prometheus_access(stack, target), prometheus(stack, scale_out, target)]
    config = alertmanager_config(stack, target)
    if config is not None:
        objects += [config, alertmanager(stack, scale_out, target, global_settings())]
    dashboard_files = {**dashboards.render(stack), **slo_dashboard.render(stack)}
    objects += dashboard_config_maps(stack, target, dashboard_files)
    secret = datasources_secret(stack, target)
    if secret is not None:
        objects.append(secret)
    objects += workload_objects(stack, scale_out, target)
    return objects


def render(stack: Stack) -> dict[str, str]:
    files = {}
    for obj in kubernetes_objects(stack):
        path = object_path(obj)
        if path in files:
            raise ValueError(f"two Kubernetes objects are written to {path}")
        comment = f"{obj['kind']} {obj['metadata']['name']} of the {stack.name} stack."
        files[path] = dump_yaml(obj, comment=comment)
    return files
