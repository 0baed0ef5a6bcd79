"""How docker compose runs the BestBox stack (generated/docker-compose.yml).

Only what the rest of the spec cannot say lives here: images, published ports, data
volumes, health checks and start-up order. Prometheus' command and retention, the
collector's, Jaeger's and Grafana's images, the mounts of the generated files, Grafana's login
settings and the audit database's connection are derived by stackgen.
"""

from __future__ import annotations

from specs.bestbox.alerting import WEBHOOK_TOKEN_SECRET
from specs.bestbox.services import agent_api, llm_server
from stackgen.spec import (
    AuditDatabase,
    Build,
    Compose,
    ComposeService,
    Healthcheck,
    Mount,
    PublishedPort,
)
from stackgen.spec import Condition as C
from stackgen.spec.alerting import token_variable

# Grafana as operators' browsers reach it: its port published on the host. Alerts link
# dashboards under it (Stack.grafana_url) and /admin embeds them from it.
GRAFANA_HOST_PORT = 3001
GRAFANA_URL = f"http://localhost:{GRAFANA_HOST_PORT}"
# Created in the image (Dockerfile), owned by the service's user.
AUDIT_SPOOL_DIR = "/var/lib/bestbox/spool"
AUDIT_RETENTION_DAYS = 365

HEALTHY, STARTED = C.HEALTHY, C.STARTED


def http_check(url: str) -> Healthcheck:
    """Busybox wget (the Prometheus, Alertmanager and Grafana images have it)."""
    return Healthcheck(test=("wget", "--quiet", "--spider", url))


postgres = ComposeService(
    name="postgres",
    # The major version the audit schema and its init script are tested with.
    image="postgres:15.6",
    mounts=(Mount(source="postgres-data", target="/var/lib/postgresql/data"),),
    # Over TCP: while the image runs the init scripts its temporary server listens on
    # the Unix socket only, so a socket probe would report ready before the roles exist.
    healthcheck=Healthcheck(
        test=("pg_isready", "--host", "127.0.0.1", "--username", "postgres", "--dbname", "bestbox")
    ),
    memory_limit="1g",
)
jaeger = ComposeService(
    name="jaeger",
    # Image and configuration from Stack.jaeger (generated/jaeger/config.yaml: OTLP in,
    # traces in memory, the UI is for recent requests).
    ports=(PublishedPort(container=16686),),
    # No healthcheck: the image is built FROM scratch (no shell, no HTTP client to probe
    # with), so dependants wait for it to start.
    # Its in-memory trace store is bounded (max_traces) well below this.
    memory_limit="1g",
)
otel_collector = ComposeService(
    name="otel-collector",
    # Image from Stack.collector. It is built FROM scratch: no shell or wget for a
    # healthcheck, so services that need it wait for it to start, not to be healthy.
    ports=(PublishedPort(container=4317), PublishedPort(container=4318)),
    depends_on={"jaeger": STARTED},
    # Above the memory_limiter's 512 MiB, with room for the Go runtime.
    memory_limit="768m",
)
alertmanager = ComposeService(
    name="alertmanager",
    # The version of the alertmanager and amtool the tests run (tools/versions.env).
    image="prom/alertmanager:v0.35.0",
    mounts=(
        Mount(source="alertmanager-data", target="/alertmanager"),
        # The agent webhook's bearer token (`stackgen secrets` writes it), Slack webhook
        # URL / SMTP password files (see docs/operating.md, Alert routing).
        Mount(source="../secrets/alertmanager", target="/etc/alertmanager/secrets", read_only=True),
    ),
    ports=(PublishedPort(container=9093),),
    healthcheck=http_check("http://localhost:9093/-/healthy"),
    # The image runs as nobody: its webhook token file must be nobody's to read.
    runs_as_uid=65534,
    memory_limit="256m",
)
prometheus = ComposeService(
    name="prometheus",
    # The version of the prometheus and promtool the tests run (tools/versions.env).
    image="prom/prometheus:v3.16.0",
    mounts=(Mount(source="prometheus-data", target="/prometheus"),),
    ports=(PublishedPort(container=9090),),
    healthcheck=http_check("http://localhost:9090/-/healthy"),
    depends_on={"alertmanager": HEALTHY},
    # llama-server and the embeddings server run on the host.
    host_gateway=True,
    # 30 days of the stack's series, and the rule evaluations over them.
    memory_limit="2g",
)
grafana = ComposeService(
    name="grafana",
    # Image from Stack.grafana. Host port 3001: the BestBox web UI uses 3000.
    mounts=(Mount(source="grafana-data", target="/var/lib/grafana"),),
    ports=(PublishedPort(container=3000, host=GRAFANA_HOST_PORT),),
    healthcheck=http_check("http://localhost:3000/api/health"),
    depends_on={"prometheus": HEALTHY, "postgres": HEALTHY, "jaeger": STARTED},
    memory_limit="512m",
)
agent = ComposeService(
    name=agent_api.name,
    build=Build(context="..", dockerfile="Dockerfile"),
    environment={
        "AGENT_HOST": "0.0.0.0",
        "AGENT_PORT": str(agent_api.port),
        "LLM_BASE_URL": f"http://{llm_server.address}/v1",
        "OTEL_EXPORTER_OTLP_ENDPOINT": "http://otel-collector:4318",
        # The reports' uptime and SLO figures; Grafana as the admin's browser reaches it.
        "PROMETHEUS_URL": "http://prometheus:9090",
        "GRAFANA_URL": GRAFANA_URL,
        # The audit spool outlives the container: a turn answered before a crash or a
        # recreate (`stackgen apply` after an update) is replayed from it.
        "AUDIT_SPOOL_DIR": AUDIT_SPOOL_DIR,
        # Turns are kept this many days, then dropped a whole month at a time.
        "AUDIT_RETENTION_DAYS": str(AUDIT_RETENTION_DAYS),
        # No API schema or docs UIs in the deployment (they describe every endpoint and
        # load scripts from a CDN); no proxy is trusted for X-Forwarded-For: the port is
        # published directly. Set TRUSTED_PROXIES to the proxy's address when one fronts it.
        "API_DOCS": "off",
    },
    mounts=(Mount(source="agent-spool", target=AUDIT_SPOOL_DIR),),
    # /admin sign-in: the hash of the password `stackgen secrets` writes as
    # ADMIN_PASSWORD, and the key of the session cookies (sessions survive restarts).
    # The token Alertmanager's webhook calls carry (the same value as its secret file).
    secrets={
        "ADMIN_PASSWORD_HASH": "ADMIN_PASSWORD_HASH",
        "ADMIN_SESSION_SECRET": "ADMIN_SESSION_SECRET",
        token_variable(WEBHOOK_TOKEN_SECRET): token_variable(WEBHOOK_TOKEN_SECRET),
    },
    ports=(PublishedPort(container=agent_api.port),),
    healthcheck=Healthcheck(
        # python:3.11-slim has no curl or wget.
        test=(
            "python",
            "-c",
            f"import urllib.request; urllib.request.urlopen("
            f"'http://127.0.0.1:{agent_api.port}/health', timeout=3)",
        ),
    ),
    depends_on={"postgres": HEALTHY, "otel-collector": STARTED},
    # The LLM server runs on the GPU host.
    host_gateway=True,
    memory_limit="1g",
)

# node_exporter reads the host's /proc and /sys, mounted read-only; the host's memory is
# what it reports, not the container's.
node_exporter = ComposeService(
    name="node-exporter",
    image="prom/node-exporter:v1.12.1",
    command=("--path.procfs=/host/proc", "--path.sysfs=/host/sys"),
    mounts=(
        Mount(source="/proc", target="/host/proc", read_only=True),
        Mount(source="/sys", target="/host/sys", read_only=True),
    ),
    memory_limit="256m",
)
# AMD's exporter reads the GPUs through the ROCm devices (the BestBox host is AMD; on an
# NVIDIA host dcgm-exporter takes its place, with its own metric names in the catalog).
gpu_exporter = ComposeService(
    name="gpu-exporter",
    image="rocm/device-metrics-exporter:v1.2.1",
    devices=("/dev/kfd", "/dev/dri"),
    memory_limit="256m",
)

COMPOSE = Compose(
    project="bestbox",
    services=(
        postgres,
        jaeger,
        otel_collector,
        alertmanager,
        prometheus,
        grafana,
        agent,
        node_exporter,
        gpu_exporter,
    ),
    prometheus="prometheus",
    database=AuditDatabase(
        service="postgres",
        database="bestbox",
        owner="bestbox_agent",
        owner_password_env="AGENT_DB_PASSWORD",
        reader="grafana_reader",
        reader_password_env="GRAFANA_DB_PASSWORD",
        reader_tables=("user_sessions", "conversation_log"),
        # Message text and feedback comments are read in /admin, by its admin role only;
        # Grafana's users see the turns without them.
        reader_hidden_columns={
            "conversation_log": ("user_message", "agent_response", "feedback_comment")
        },
        # Even the agent may only append to the administrators' audit trail.
        append_only_tables=("admin_audit",),
        client=agent_api.name,
        init_script="10-bestbox-roles.sh",
        # The agent service's migrations, mounted read-only into the postgres container.
        migrations_source="../agent_service/store/migrations/postgres",
        migrations_dir="/opt/bestbox/migrations",
    ),
    env_file=".env",
)
