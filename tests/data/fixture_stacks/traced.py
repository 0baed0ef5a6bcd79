"""A stack with the deployment-side parts: the OpenTelemetry collector, Jaeger and a
compose deployment with its audit database. No alerts, SLOs, dashboards or Grafana.
"""

from __future__ import annotations

from stackgen.spec import (
    AuditDatabase,
    Batch,
    Build,
    Collector,
    Compose,
    ComposeService,
    Condition,
    DebugExporter,
    DebugVerbosity,
    Healthcheck,
    Jaeger,
    MemoryLimiter,
    Metric,
    MetricType,
    Mount,
    PrometheusExporter,
    PrometheusSettings,
    PublishedPort,
    ResourceAction,
    Scrape,
    Service,
    Stack,
)

app = Service(
    name="app",
    description="The traced application.",
    host="app",
    port=8080,
    scrape=Scrape(path="/metrics"),
)
prometheus = Service(
    name="prometheus",
    description="Prometheus.",
    host="prometheus",
    port=9090,
    scrape=Scrape(path="/metrics"),
)
collector_telemetry = Service(
    name="otel-collector",
    description="The collector's own metrics.",
    host="otel-collector",
    port=8888,
    scrape=Scrape(path="/metrics"),
)
collector_exporter = Service(
    name="otel-collector-exporter",
    description="What the collector's Prometheus exporter serves.",
    host="otel-collector",
    port=9464,
    scrape=Scrape(path="/metrics"),
)

requests = Metric(
    name="app_requests",
    type=MetricType.COUNTER,
    help="Requests the application answered.",
    service=app.name,
)

collector = Collector(
    image="otel/opentelemetry-collector-contrib:0.165.1",
    host="otel-collector",
    listen_host="0.0.0.0",
    otlp_grpc_port=4317,
    otlp_http_port=4318,
    health_check_port=13133,
    telemetry_metrics_port=8888,
    memory_limiter=MemoryLimiter(check_interval="1s", limit_mib=256, spike_limit_mib=64),
    batch=Batch(timeout="2s", send_batch_size=512, send_batch_max_size=1024),
    resource_attributes={"service.namespace": "traced", "deployment.environment": "test"},
    resource_action=ResourceAction.INSERT,
    traces_endpoint="jaeger:4317",
    traces_tls_insecure=True,
    traces_retry_max_elapsed="30s",
    debug=DebugExporter(
        verbosity=DebugVerbosity.BASIC, sampling_initial=1, sampling_thereafter=100
    ),
    prometheus=PrometheusExporter(port=9464, namespace="traced", resource_labels=("service.name",)),
)
jaeger = Jaeger(
    image="jaegertracing/jaeger:2.13.0",
    host="jaeger",
    listen_host="0.0.0.0",
    otlp_grpc_port=4317,
    query_http_port=16686,
    query_grpc_port=16685,
    health_check_port=13133,
    max_traces=1000,
)

compose = Compose(
    project="traced",
    services=(
        ComposeService(
            name="postgres",
            image="postgres:15.6",
            mounts=(Mount(source="postgres-data", target="/var/lib/postgresql/data"),),
            healthcheck=Healthcheck(test=("pg_isready", "--host", "127.0.0.1")),
            memory_limit="512m",
        ),
        ComposeService(name="jaeger", ports=(PublishedPort(container=16686),), memory_limit="512m"),
        ComposeService(
            name="otel-collector",
            depends_on={"jaeger": Condition.STARTED},
            memory_limit="384m",
        ),
        ComposeService(
            name="prometheus",
            image="prom/prometheus:v3.16.0",
            mounts=(Mount(source="prometheus-data", target="/prometheus"),),
            ports=(PublishedPort(container=9090),),
            memory_limit="1g",
        ),
        ComposeService(
            name="app",
            build=Build(context="..", dockerfile="Dockerfile"),
            environment={"OTEL_EXPORTER_OTLP_ENDPOINT": "http://otel-collector:4318"},
            ports=(PublishedPort(container=8080, host=18080),),
            depends_on={"postgres": Condition.HEALTHY, "otel-collector": Condition.STARTED},
            memory_limit="512m",
        ),
    ),
    prometheus="prometheus",
    database=AuditDatabase(
        service="postgres",
        database="traced",
        superuser="postgres",
        superuser_password_env="POSTGRES_PASSWORD",
        owner="traced_app",
        owner_password_env="APP_DB_PASSWORD",
        reader="traced_reader",
        reader_password_env="READER_DB_PASSWORD",
        reader_tables=("conversation_log",),
        reader_hidden_columns={"conversation_log": ("user_message",)},
        reader_statement_timeout_s=10,
        append_only_tables=("admin_audit",),
        client="app",
        migrations_source="../migrations",
    ),
    env_file=".env",
)

stack = Stack(
    name="traced",
    metrics=(requests,),
    services=(app, prometheus, collector_telemetry, collector_exporter),
    prometheus=PrometheusSettings(
        scrape_interval="15s",
        evaluation_interval="15s",
        retention="7d",
        external_labels={},
        alertmanager=None,
    ),
    collector=collector,
    jaeger=jaeger,
    compose=compose,
    grafana_url="http://localhost:3000",
    runbook_url="http://localhost:8080/runbooks",
    jaeger_url="http://localhost:16686",
)
