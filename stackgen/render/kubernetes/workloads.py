"""The services the Kubernetes files run: a StatefulSet per workload, its Services and
its PodDisruptionBudget.

A StatefulSet rather than a Deployment: each pod keeps a volume of its own
(``volumeClaimTemplates``) that its successor of the same name finds again, which a
Deployment cannot give its replicas: they would share one claim (the agent's spool is
locked by one process) or keep it in an emptyDir, which goes with the pod and with it
the audit records not yet in the database.
"""

from __future__ import annotations

from typing import Any

from stackgen.render.kubernetes.monitoring import WORKLOAD_PORT
from stackgen.render.kubernetes.objects import NAME_LABEL, KubeObject, kube_object, metadata
from stackgen.spec import Service, Stack
from stackgen.spec.scale_out import KubernetesTarget, ScaleOut, Workload

__all__ = ["secret_name", "workload_objects"]


def secret_name(workload: Workload) -> str:
    """The Secret (created by the operator) holding a workload's secret variables."""
    return f"{workload.service}-secrets"


def _headless_name(workload: Workload) -> str:
    return f"{workload.service}-pods"


def _environment(workload: Workload) -> list[dict[str, Any]]:
    env: list[dict[str, Any]] = [
        {"name": name, "value": value} for name, value in sorted(workload.environment.items())
    ]
    env += [
        {
            "name": name,
            "valueFrom": {"secretKeyRef": {"name": secret_name(workload), "key": name}},
        }
        for name in sorted(workload.secret_environment)
    ]
    return env


def _container(workload: Workload, service: Service) -> dict[str, Any]:
    probe = {"httpGet": {"path": workload.health_path, "port": WORKLOAD_PORT}}
    container: dict[str, Any] = {
        "name": workload.service,
        "image": workload.image,
        "ports": [{"name": WORKLOAD_PORT, "containerPort": service.port, "protocol": "TCP"}],
        "env": _environment(workload),
        "readinessProbe": {**probe, "periodSeconds": 10, "failureThreshold": 3},
        "livenessProbe": {**probe, "periodSeconds": 20, "failureThreshold": 3},
        "resources": {
            "requests": {"memory": workload.memory_limit},
            "limits": {"memory": workload.memory_limit},
        },
        "securityContext": {
            "allowPrivilegeEscalation": False,
            "capabilities": {"drop": ["ALL"]},
        },
    }
    if workload.volume is not None:
        container["volumeMounts"] = [
            {"name": workload.volume.name, "mountPath": workload.volume.mount_path}
        ]
    return container


def _pod_spec(workload: Workload, service: Service) -> dict[str, Any]:
    spec: dict[str, Any] = {"containers": [_container(workload, service)]}
    security: dict[str, Any] = {"runAsNonRoot": True}
    if workload.runs_as_uid is not None:
        uid = workload.runs_as_uid
        # fsGroup: a fresh claim is root's; the pod's group may then write to it.
        security.update({"runAsUser": uid, "fsGroup": uid})
    spec["securityContext"] = security
    return spec


def _volume_claims(workload: Workload) -> list[dict[str, Any]]:
    volume = workload.volume
    if volume is None:
        return []
    spec: dict[str, Any] = {
        "accessModes": ["ReadWriteOnce"],
        "resources": {"requests": {"storage": volume.size}},
    }
    if volume.storage_class:
        spec["storageClassName"] = volume.storage_class
    return [{"metadata": {"name": volume.name}, "spec": spec}]


def _stateful_set(
    stack: Stack, scale_out: ScaleOut, target: KubernetesTarget, workload: Workload
) -> KubeObject:
    service = stack.service(workload.service)
    assert service is not None  # the Stack validator guarantees it
    pod_labels = dict(sorted({**target.labels, NAME_LABEL: workload.service}.items()))
    spec: dict[str, Any] = {
        "replicas": scale_out.replicas_of(workload.service),
        "serviceName": _headless_name(workload),
        # Replicas are independent: start and stop them together, not one by one.
        "podManagementPolicy": "Parallel",
        "selector": {"matchLabels": {NAME_LABEL: workload.service}},
        "template": {
            "metadata": {"labels": pod_labels},
            "spec": _pod_spec(workload, service),
        },
    }
    claims = _volume_claims(workload)
    if claims:
        spec["volumeClaimTemplates"] = claims
        # A scaled-down replica's volume (records not yet in the database) is kept for
        # the pod that comes back with its name.
        spec["persistentVolumeClaimRetentionPolicy"] = {
            "whenScaled": "Retain",
            "whenDeleted": "Retain",
        }
    meta = metadata(target, workload.service, labels={NAME_LABEL: workload.service})
    return kube_object("apps/v1", "StatefulSet", meta, spec=spec)


def _service(
    target: KubernetesTarget, workload: Workload, service: Service, headless: bool
) -> KubeObject:
    spec: dict[str, Any] = {
        "selector": {NAME_LABEL: workload.service},
        "ports": [
            {
                "name": WORKLOAD_PORT,
                "port": service.port,
                "targetPort": WORKLOAD_PORT,
                "protocol": "TCP",
            }
        ],
    }
    if headless:
        # The StatefulSet's pods by name (agent-api-0.agent-api-pods), ready or not.
        spec["clusterIP"] = "None"
        spec["publishNotReadyAddresses"] = True
    name = _headless_name(workload) if headless else workload.service
    meta = metadata(target, name, labels={NAME_LABEL: workload.service})
    return kube_object("v1", "Service", meta, spec=spec)


def _disruption_budget(target: KubernetesTarget, workload: Workload) -> KubeObject:
    spec = {
        "maxUnavailable": workload.max_unavailable,
        "selector": {"matchLabels": {NAME_LABEL: workload.service}},
    }
    meta = metadata(target, workload.service, labels={NAME_LABEL: workload.service})
    return kube_object("policy/v1", "PodDisruptionBudget", meta, spec=spec)


def workload_objects(
    stack: Stack, scale_out: ScaleOut, target: KubernetesTarget
) -> list[KubeObject]:
    objects = []
    for workload in target.workloads:
        service = stack.service(workload.service)
        assert service is not None  # the Stack validator guarantees it
        objects += [
            _stateful_set(stack, scale_out, target, workload),
            _service(target, workload, service, headless=False),
            _service(target, workload, service, headless=True),
            _disruption_budget(target, workload),
        ]
    return objects
