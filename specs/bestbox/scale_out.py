"""BestBox past one machine: three agent-api replicas, Prometheus and Alertmanager in HA
pairs, both Prometheus replicas writing to a VictoriaMetrics cluster, and the Kubernetes
files (generated/kubernetes/) for the Prometheus Operator and Grafana's sidecar.

In the cluster the services keep their stack names (a Service named ``postgres``,
``otel-collector``, ...), except the two the Prometheus Operator creates itself:
``prometheus-operated`` and ``alertmanager-operated``.
"""

from __future__ import annotations

from specs.bestbox.alerting import WEBHOOK_TOKEN_SECRET
from specs.bestbox.compose import AUDIT_SPOOL_DIR, GRAFANA_URL
from specs.bestbox.services import agent_api, llm_server
from stackgen.spec.alerting import token_variable
from stackgen.spec.scale_out import (
    KubernetesTarget,
    PersistentVolume,
    RemoteWrite,
    ScaleOut,
    Workload,
)

AGENT_REPLICAS = 3
# vminsert of the VictoriaMetrics cluster (tenant 0); vmselect serves the de-duplicated
# query API Grafana reads.
VMINSERT_URL = "http://vminsert:8480/insert/0/prometheus/api/v1/write"
VMSELECT_URL = "http://vmselect:8481/select/0/prometheus"

agent_workload = Workload(
    service=agent_api.name,
    # The image `docker build` makes of this repository (Dockerfile), at its version.
    image="bestbox/agent-api:0.1.0",
    environment={
        "AGENT_HOST": "0.0.0.0",
        "AGENT_PORT": str(agent_api.port),
        "LLM_BASE_URL": f"http://{llm_server.address}/v1",
        "OTEL_EXPORTER_OTLP_ENDPOINT": "http://otel-collector:4318",
        # The reports' uptime and SLO figures: the de-duplicated store, as Grafana sees it.
        "PROMETHEUS_URL": VMSELECT_URL,
        "GRAFANA_URL": GRAFANA_URL,
        "DATABASE_URL": "postgresql://bestbox_agent@postgres:5432/bestbox",
        "AUDIT_SPOOL_DIR": AUDIT_SPOOL_DIR,
        "API_DOCS": "off",
    },
    secret_environment=(
        "PGPASSWORD",
        "ADMIN_PASSWORD_HASH",
        "ADMIN_SESSION_SECRET",
        token_variable(WEBHOOK_TOKEN_SECRET),
    ),
    memory_limit="1Gi",
    # The Dockerfile's `bestbox` user.
    runs_as_uid=10001,
    # Each replica replays its own spool after a restart: a shared volume would let two
    # pods replay (and delete) the same records.
    volume=PersistentVolume(name="agent-spool", mount_path=AUDIT_SPOOL_DIR, size="1Gi"),
)

SCALE_OUT = ScaleOut(
    replicas={agent_api.name: AGENT_REPLICAS},
    prometheus_replicas=2,
    replica_label="replica",
    alertmanager_replicas=2,
    remote_write=(RemoteWrite(name="victoriametrics", url=VMINSERT_URL),),
    # The fastest scrape interval (agent-api's 10s) and a margin below the global 15s.
    deduplication_window="15s",
    kubernetes=KubernetesTarget(
        namespace="bestbox",
        labels={"app.kubernetes.io/part-of": "bestbox"},
        workloads=(agent_workload,),
        prometheus_service="prometheus",
        datasource_urls={"prometheus": VMSELECT_URL},
    ),
)
