"""The Prometheus Operator's resources: the rules (one PrometheusRule per rule file, the
rules model's groups as they are), a monitor per scraped service, and the Prometheus and
Alertmanager resources that run them in HA pairs."""

from __future__ import annotations

import posixpath
from typing import Any

from stackgen.render.kubernetes.objects import (
    INSTANCE_LABEL,
    NAME_LABEL,
    KubeObject,
    kube_object,
    metadata,
)
from stackgen.rules_model import build_rules
from stackgen.spec import Service, Stack
from stackgen.spec.scale_out import KubernetesTarget, ScaleOut

__all__ = [
    "ALERTMANAGER_SERVICE",
    "METRICS_PORT",
    "WORKLOAD_PORT",
    "alertmanager",
    "monitors",
    "prometheus",
    "prometheus_access",
    "prometheus_rules",
    "prometheus_service_account_name",
]

MONITORING = "monitoring.coreos.com/v1"
# The Service the Operator creates for the pods of an Alertmanager resource, and the
# name of the web port on its Prometheus and Alertmanager pods.
ALERTMANAGER_SERVICE = "alertmanager-operated"
OPERATED_WEB_PORT = "web"
# The port name a generated workload serves HTTP (and /metrics) on, and the one expected
# on the Service of every other scraped service.
WORKLOAD_PORT = "http"
METRICS_PORT = "metrics"
RBAC_GROUP = "rbac.authorization.k8s.io"
READ = ["get", "list", "watch"]


def prometheus_rules(stack: Stack, target: KubernetesTarget) -> list[KubeObject]:
    """One PrometheusRule per directory of rule files, named after it (bestbox-alerts,
    bestbox-recording, bestbox-slo), with the groups of its files exactly as the rules
    model documents them (a file per group is for promtool; the Operator reads groups)."""
    groups: dict[str, list[dict[str, Any]]] = {}
    for file in build_rules(stack).rule_files:
        name = posixpath.basename(posixpath.dirname(file.path))
        groups.setdefault(name, []).extend(group.document() for group in file.groups)
    return [
        kube_object(
            MONITORING,
            "PrometheusRule",
            metadata(target, f"{stack.name}-{name}"),
            spec={"groups": documents},
        )
        for name, documents in groups.items()
    ]


def _endpoint(service: Service, port: str) -> dict[str, Any]:
    assert service.scrape is not None
    endpoint: dict[str, Any] = {
        "port": port,
        "path": service.scrape.path,
        "scheme": service.scrape.scheme,
    }
    if service.scrape.interval:
        endpoint["interval"] = service.scrape.interval
    # `job` is the stack's service name, as every rule and dashboard expects (the
    # Operator's default would be the Service's or `<namespace>/<monitor>`).
    endpoint["relabelings"] = [
        {"action": "replace", "targetLabel": "job", "replacement": service.name}
    ]
    return endpoint


def _operated_pods(stack: Stack, target: KubernetesTarget) -> dict[str, dict[str, str]]:
    """The pod labels of the services the Operator runs, by stack service name: the
    Prometheus and Alertmanager resources (both named after the stack)."""
    pods = {}
    if target.prometheus_service:
        pods[target.prometheus_service] = {NAME_LABEL: "prometheus", INSTANCE_LABEL: stack.name}
    if stack.prometheus.alertmanager and stack.alerting is not None:
        pods[stack.prometheus.alertmanager] = {
            NAME_LABEL: "alertmanager",
            INSTANCE_LABEL: stack.name,
        }
    return pods


def monitors(stack: Stack, target: KubernetesTarget) -> list[KubeObject]:
    """A PodMonitor for each workload the files run and for Prometheus and Alertmanager
    (every pod a target, so each replica has its own ``up``), and a ServiceMonitor for
    every other scraped service: a Service labelled ``app.kubernetes.io/name: <service>``
    with a port named ``metrics``, which the operator provides (external hosts: a
    selector-less Service and its EndpointSlice)."""
    workloads = {w.service for w in target.workloads}
    operated = _operated_pods(stack, target)
    objects = []
    for service in stack.scraped_services():
        meta = metadata(target, service.name)
        if service.name in workloads or service.name in operated:
            labels = operated.get(service.name, {NAME_LABEL: service.name})
            port = OPERATED_WEB_PORT if service.name in operated else WORKLOAD_PORT
            spec = {
                "selector": {"matchLabels": labels},
                "podMetricsEndpoints": [_endpoint(service, port)],
            }
            objects.append(kube_object(MONITORING, "PodMonitor", meta, spec=spec))
        else:
            spec = {
                "selector": {"matchLabels": {NAME_LABEL: service.name}},
                "endpoints": [_endpoint(service, METRICS_PORT)],
            }
            objects.append(kube_object(MONITORING, "ServiceMonitor", meta, spec=spec))
    return objects


def prometheus_service_account_name(stack: Stack) -> str:
    return f"{stack.name}-prometheus"


def prometheus_access(stack: Stack, target: KubernetesTarget) -> list[KubeObject]:
    """What Prometheus needs to find its targets in the namespace (the monitors select
    pods and Services there): its ServiceAccount, a Role to read the objects service
    discovery lists, and the binding of the two."""
    name = prometheus_service_account_name(stack)
    rules = [
        {"apiGroups": [""], "resources": ["pods", "services", "endpoints"], "verbs": READ},
        {"apiGroups": ["discovery.k8s.io"], "resources": ["endpointslices"], "verbs": READ},
        {"apiGroups": [""], "resources": ["configmaps"], "verbs": ["get"]},
    ]
    binding = {
        "roleRef": {"apiGroup": RBAC_GROUP, "kind": "Role", "name": name},
        "subjects": [{"kind": "ServiceAccount", "name": name, "namespace": target.namespace}],
    }
    return [
        kube_object("v1", "ServiceAccount", metadata(target, name)),
        kube_object(f"{RBAC_GROUP}/v1", "Role", metadata(target, name), rules=rules),
        kube_object(f"{RBAC_GROUP}/v1", "RoleBinding", metadata(target, name), **binding),
    ]


def prometheus(stack: Stack, scale_out: ScaleOut, target: KubernetesTarget) -> KubeObject:
    """The HA pair: ``prometheus_replicas`` replicas with the same configuration and an
    external label ``replica_label`` of their own, writing to every remote_write store."""
    settings = stack.prometheus
    selector = {"matchLabels": dict(sorted(target.labels.items()))}
    spec: dict[str, Any] = {
        "serviceAccountName": prometheus_service_account_name(stack),
        "replicas": scale_out.prometheus_replicas,
        "replicaExternalLabelName": scale_out.replica_label,
        "externalLabels": dict(sorted(settings.external_labels.items())),
        "scrapeInterval": settings.scrape_interval,
        "evaluationInterval": settings.evaluation_interval,
        "retention": settings.retention,
        "ruleSelector": selector,
        "serviceMonitorSelector": selector,
        "podMonitorSelector": selector,
    }
    if settings.alertmanager:
        spec["alerting"] = {
            "alertmanagers": [
                {
                    "name": ALERTMANAGER_SERVICE,
                    "namespace": target.namespace,
                    "port": OPERATED_WEB_PORT,
                }
            ]
        }
    if scale_out.remote_write:
        spec["remoteWrite"] = [{"name": r.name, "url": r.url} for r in scale_out.remote_write]
    return kube_object(MONITORING, "Prometheus", metadata(target, stack.name), spec=spec)


def alertmanager(
    stack: Stack, scale_out: ScaleOut, target: KubernetesTarget, global_settings: dict[str, Any]
) -> KubeObject:
    """The gossip cluster of ``alertmanager_replicas``; its whole configuration is the
    stack's AlertmanagerConfig (same name), so the Operator adds no namespace matchers to
    its routes and inhibitions (alerts aggregated across pods carry no namespace)."""
    spec = {
        "replicas": scale_out.alertmanager_replicas,
        "alertmanagerConfiguration": {"name": stack.name, "global": global_settings},
    }
    return kube_object(MONITORING, "Alertmanager", metadata(target, stack.name), spec=spec)
