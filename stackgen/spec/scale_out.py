"""Past one machine: replicas of the stack's services, Prometheus and Alertmanager in HA
pairs, remote_write into a clustered store, and (opt in) the Kubernetes target.

Every setting here is deployment-neutral except ``kubernetes``: a local scale-out run
reads the same replica counts, the same replica label and the same remote_write
endpoints as the Kubernetes files do. Secrets are never part of it: a workload names the
environment variables it reads from a Secret, never their values.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Self

from pydantic import Field, model_validator

from stackgen.spec.base import Duration, SpecModel
from stackgen.spec.collector import PINNED_IMAGE
from stackgen.spec.grafana import ENV_VAR
from stackgen.spec.services import SERVICE_NAME

__all__ = [
    "KubernetesTarget",
    "PersistentVolume",
    "RemoteWrite",
    "ScaleOut",
    "Workload",
    "scale_out_problems",
]

# Kubernetes object names and label values (RFC 1123 labels).
DNS_LABEL = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"
# A Kubernetes quantity of bytes in binary units: 512Mi, 2Gi.
BYTE_QUANTITY = r"^[1-9][0-9]*(Ki|Mi|Gi|Ti)$"
LABEL_NAME = r"^[a-zA-Z_][a-zA-Z0-9_]*$"


class RemoteWrite(SpecModel):
    """A store every Prometheus replica writes its samples to (a VictoriaMetrics vminsert,
    a Thanos receive): the store de-duplicates the replicas by ``ScaleOut.replica_label``."""

    name: str = Field(pattern=DNS_LABEL)
    url: str = Field(pattern=r"^https?://[^@\s]+$")


class PersistentVolume(SpecModel):
    """A volume of each pod's own (a StatefulSet volume claim): what a pod wrote there
    outlives the pod and is found again by its successor of the same name."""

    spec_key = "mount_path"

    name: str = Field(pattern=DNS_LABEL)
    mount_path: str = Field(pattern=r"^/")
    size: str = Field(pattern=BYTE_QUANTITY)
    # None: the cluster's default storage class.
    storage_class: str | None = Field(default=None, pattern=DNS_LABEL)


class Workload(SpecModel):
    """A service of the stack that the Kubernetes files run (pods, Service, disruption
    budget); its replica count is ``ScaleOut.replicas[service]``."""

    spec_key = "service"

    service: str = Field(pattern=SERVICE_NAME)
    image: str = Field(pattern=PINNED_IMAGE)
    environment: dict[str, str] = Field(default_factory=dict)
    # Variables read from the Secret ``<service>-secrets`` (created by the operator, key =
    # variable name): the files name them, never hold them.
    secret_environment: tuple[str, ...] = ()
    health_path: str = Field(default="/health", pattern=r"^/")
    memory_limit: str = Field(pattern=BYTE_QUANTITY)
    # Kept per pod (the agent's audit spool: turns not yet in the database).
    volume: PersistentVolume | None = None
    # The uid the image runs as: the pod runs as it, and its volume is made writable to
    # it (fsGroup); a fresh claim is owned by root otherwise. None: the image's own user.
    runs_as_uid: int | None = Field(default=None, ge=1)
    # Pods that may be down at once during voluntary disruptions (node drains).
    max_unavailable: int = Field(default=1, ge=1)

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        problems = []
        for name in (*self.environment, *self.secret_environment):
            if not _is_env_var(name):
                problems.append(f"{name!r} is not an environment variable name")
        both = sorted(set(self.environment) & set(self.secret_environment))
        if both:
            problems.append(f"{both}: both in environment and secret_environment")
        if problems:
            raise ValueError("; ".join(problems))
        return self


def _is_env_var(name: str) -> bool:
    return re.match(ENV_VAR, name) is not None


class KubernetesTarget(SpecModel):
    """generated/kubernetes/: objects for the Prometheus Operator (rules, monitors,
    Alertmanager configuration, the Prometheus and Alertmanager resources), Grafana's
    sidecar (dashboards, datasources) and the workloads."""

    spec_key = "namespace"

    namespace: str = Field(pattern=DNS_LABEL)
    # Labels put on every generated object; the Prometheus resource selects its rules and
    # monitors by them.
    labels: dict[str, str] = Field(default_factory=dict)
    workloads: tuple[Workload, ...] = ()
    # The stack Service that is Prometheus itself: in the cluster its pods are the
    # Prometheus resource's (Alertmanager's are found from ``Stack.prometheus.alertmanager``).
    prometheus_service: str | None = Field(default=None, pattern=SERVICE_NAME)
    # Grafana's datasource URLs inside the cluster, by datasource UID (the Prometheus
    # datasource should be the store's de-duplicating query API, not one replica).
    # Datasources not listed keep their service's address.
    datasource_urls: dict[str, str] = Field(default_factory=dict)


class ScaleOut(SpecModel):
    """How many of everything run, and where the replicas' samples go."""

    spec_key = "replica_label"

    # Instances per service (a scrape job with several targets); services not listed run
    # one instance.
    replicas: dict[str, int] = Field(default_factory=dict)
    # Prometheus replicas with the same configuration, told apart by the external label
    # ``replica_label`` (each replica's own value), which the store de-duplicates on.
    prometheus_replicas: int = Field(default=2, ge=1)
    replica_label: str = Field(default="replica", pattern=LABEL_NAME)
    # Alertmanagers clustered over gossip: each alert is notified once by the cluster.
    alertmanager_replicas: int = Field(default=2, ge=1)
    remote_write: tuple[RemoteWrite, ...] = ()
    # How far apart the replicas' samples of one series may be and still be one sample
    # to the store's de-duplication (a scrape interval is the usual choice).
    deduplication_window: Duration = "15s"
    kubernetes: KubernetesTarget | None = None

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        problems = [
            f"replicas[{service}]: {count} is not a positive count"
            for service, count in self.replicas.items()
            if count < 1
        ]
        names = [r.name for r in self.remote_write]
        problems += [
            f"remote_write: {name!r} is defined {names.count(name)} times"
            for name in sorted(set(names))
            if names.count(name) > 1
        ]
        if problems:
            raise ValueError("; ".join(problems))
        return self

    def replicas_of(self, service: str) -> int:
        return self.replicas.get(service, 1)


def scale_out_problems(
    scale_out: ScaleOut, services: Iterable[str], datasources: Iterable[str]
) -> list[str]:
    """What a ScaleOut names that the stack does not define."""
    known, uids = set(services), set(datasources)
    problems = [
        f"scale_out.replicas[{name}]: {name!r} is not a service"
        for name in scale_out.replicas
        if name not in known
    ]
    kubernetes = scale_out.kubernetes
    if kubernetes is not None:
        problems += [
            f"scale_out.kubernetes.workloads[{w.service}]: {w.service!r} is not a service"
            for w in kubernetes.workloads
            if w.service not in known
        ]
        if kubernetes.prometheus_service and kubernetes.prometheus_service not in known:
            problems.append(
                f"scale_out.kubernetes.prometheus_service: {kubernetes.prometheus_service!r} "
                "is not a service"
            )
        problems += [
            f"scale_out.kubernetes.datasource_urls[{uid}]: no Grafana datasource has that uid"
            for uid in kubernetes.datasource_urls
            if uid not in uids
        ]
    return problems
