"""The BestBox stack: everything stackgen generates files from."""

from __future__ import annotations

from specs.bestbox.alerting import ALERTING
from specs.bestbox.alerts import ALERTS
from specs.bestbox.compose import COMPOSE, GRAFANA_URL
from specs.bestbox.dashboards import AUDIT_SCHEMA, DASHBOARDS
from specs.bestbox.metrics import CATALOG
from specs.bestbox.recording import RECORDING_RULES
from specs.bestbox.runbooks import RUNBOOKS
from specs.bestbox.scale_out import SCALE_OUT
from specs.bestbox.services import SERVICES
from specs.bestbox.slos import SLOS
from specs.bestbox.verify import LOCAL_PORTS, VERIFY
from stackgen.spec import (
    Batch,
    Collector,
    Datasource,
    DatasourceType,
    DebugExporter,
    Grafana,
    Jaeger,
    MemoryLimiter,
    PrometheusExporter,
    PrometheusSettings,
    Stack,
)

stack = Stack(
    name="bestbox",
    metrics=CATALOG,
    recording_rules=RECORDING_RULES,
    alerts=ALERTS,
    slos=SLOS,
    services=SERVICES,
    prometheus=PrometheusSettings(
        scrape_interval="15s",
        evaluation_interval="15s",
        # The groups of critical alerts: fault to page under a minute (docs/operating.md).
        critical_evaluation_interval="5s",
        retention="30d",
        external_labels={"cluster": "bestbox-local"},
        alertmanager="alertmanager",
    ),
    collector=Collector(
        # The release of the otelcol the tests build (tools/otelcol/builder-config.yaml).
        image="otel/opentelemetry-collector-contrib:0.165.1",
        host="otel-collector",
        otlp_grpc_port=4317,
        otlp_http_port=4318,
        memory_limiter=MemoryLimiter(check_interval="1s", limit_mib=512, spike_limit_mib=128),
        batch=Batch(timeout="5s", send_batch_size=1024, send_batch_max_size=2048),
        resource_attributes={
            "service.namespace": "bestbox",
            "deployment.environment": "production",
        },
        traces_endpoint="jaeger:4317",
        traces_tls_insecure=True,
        traces_retry_max_elapsed="1m",
        # Sampled, basic: the debug exporter only shows that data flows.
        debug=DebugExporter(sampling_initial=5, sampling_thereafter=200),
        prometheus=PrometheusExporter(port=8889, namespace="bestbox"),
        telemetry_metrics_port=8888,
    ),
    jaeger=Jaeger(
        # The version of the jaeger the tests run (tools/versions.env).
        image="jaegertracing/jaeger:2.13.0",
        host="jaeger",
        otlp_grpc_port=4317,
        query_http_port=16686,
        query_grpc_port=16685,
        # A turn is about 5-10 spans, ~10 KB in the memory store: 20,000 turns (days of
        # traffic) stay near 200 MB, well inside the container's 1 GiB limit.
        max_traces=20_000,
    ),
    alerting=ALERTING,
    grafana=Grafana(
        # schemaVersion 42 in every dashboard is what this image writes.
        image="grafana/grafana:12.4.0",
        service="grafana",
        folder="BestBox",
        datasources=(
            Datasource(
                uid="prometheus",
                name="Prometheus",
                type=DatasourceType.PROMETHEUS,
                service="prometheus",
                default=True,
                time_interval="15s",
            ),
            Datasource(uid="jaeger", name="Jaeger", type=DatasourceType.JAEGER, service="jaeger"),
            Datasource(
                uid="audit-postgres",
                name="BestBox audit (PostgreSQL)",
                type=DatasourceType.POSTGRES,
                service="postgres",
                database="bestbox",
                # SELECT on the audit tables only; created by the compose database's init.
                user="grafana_reader",
                password_env="GRAFANA_DB_PASSWORD",
            ),
        ),
    ),
    # Onset to the pager's webhook, measured by `stackgen verify` for every critical
    # alert; each critical alert's promtool test must fire within it too.
    critical_detection_budget="1m",
    compose=COMPOSE,
    grafana_url=GRAFANA_URL,
    runbook_url="http://localhost:8000/admin/runbooks",
    runbooks=RUNBOOKS,
    dashboards=DASHBOARDS,
    audit_schema=AUDIT_SCHEMA,
    # The repository's Makefile sets up the virtual environment first.
    regenerate_command="make generate",
    local_ports=LOCAL_PORTS,
    verify=VERIFY,
    scale_out=SCALE_OUT,
)
