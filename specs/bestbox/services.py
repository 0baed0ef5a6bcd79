"""The services of the BestBox stack and how Prometheus reaches them."""

from __future__ import annotations

from stackgen.spec import Scrape, Service

GIB = 1024**3
# The scrape interval of the jobs a page depends on; the others keep the global 15 s.
CRITICAL_SCRAPE_INTERVAL = "5s"

agent_api = Service(
    name="agent-api",
    description="The BestBox agent API (router and domain agents), built from this repo.",
    host="agent-api",
    port=8000,
    # Critical (ServiceDown pages on it, and the critical latency and error alerts read
    # it): every 5 s, so a fault is seen within seconds of its onset.
    scrape=Scrape(path="/metrics", interval=CRITICAL_SCRAPE_INTERVAL),
    critical=True,
    memory_limit_bytes=4 * GIB,
)
llm_server = Service(
    name="llm-server",
    description="llama-server on the GPU host, started with --metrics.",
    host="host.docker.internal",
    port=8080,
    # llama-server's real Prometheus endpoint; its JSON /health is not scrapeable.
    # Critical: ServiceDown pages on it.
    scrape=Scrape(path="/metrics", interval=CRITICAL_SCRAPE_INTERVAL),
    external=True,
    critical=True,
)
embeddings = Service(
    name="embeddings",
    description="The embeddings server (llama-server --embeddings --metrics) on the host.",
    host="host.docker.internal",
    port=8081,
    scrape=Scrape(path="/metrics", interval=CRITICAL_SCRAPE_INTERVAL),
    external=True,
    critical=True,
)
# The LLM host's memory: node_exporter (system RAM) and AMD's device-metrics-exporter
# (GPU VRAM), both run by compose on the host that runs llama-server.
node_exporter = Service(
    # The job is named for what it watches: a job named after the exporter would claim
    # every other deployment's node-exporter rules and dashboards as this stack's.
    name="llm-host",
    description="node_exporter: the host's memory, CPU and filesystems.",
    host="node-exporter",
    port=9100,
    scrape=Scrape(path="/metrics"),
)
gpu_exporter = Service(
    name="llm-gpu",
    description="AMD device-metrics-exporter: GPU memory and load (ROCm).",
    host="gpu-exporter",
    port=5000,
    scrape=Scrape(path="/metrics"),
)
prometheus = Service(
    name="prometheus",
    description="Prometheus: metrics storage, rule evaluation, alerting.",
    # Its compose service name: every scrape target is a compose service or an external
    # host (`unknown-scrape-host`), and the container resolves its own name.
    host="prometheus",
    port=9090,
    scrape=Scrape(path="/metrics"),
)
alertmanager = Service(
    name="alertmanager",
    description="Alertmanager: routes alerts by severity to the receivers.",
    host="alertmanager",
    port=9093,
    scrape=Scrape(path="/metrics"),
)
otel_collector = Service(
    name="otel-collector",
    description="OpenTelemetry collector: its own telemetry (otelcol_*) on 8888.",
    host="otel-collector",
    port=8888,
    scrape=Scrape(path="/metrics"),
)

# The collector's Prometheus exporter: the OTLP metrics it receives, in Prometheus format.
# It must be scraped as well as the collector's own telemetry port (`stackgen check`
# reports an unscraped collector metrics port as `unscraped-exporter`).
otel_collector_exporter = Service(
    name="otel-collector-exporter",
    description="OpenTelemetry collector: OTLP metrics re-exposed by its prometheus exporter.",
    host="otel-collector",
    port=8889,
    scrape=Scrape(path="/metrics"),
)

postgres = Service(
    name="postgres",
    description="PostgreSQL: the conversation audit log (user_sessions, conversation_log).",
    host="postgres",
    port=5432,
)
jaeger = Service(
    name="jaeger",
    description="Jaeger v2: trace storage and UI (OTLP in from the collector).",
    host="jaeger",
    port=16686,
)
grafana = Service(
    name="grafana",
    description="Grafana: the dashboards, behind a login.",
    host="grafana",
    port=3000,
)

SERVICES = (
    agent_api,
    llm_server,
    embeddings,
    node_exporter,
    gpu_exporter,
    prometheus,
    alertmanager,
    otel_collector,
    otel_collector_exporter,
    postgres,
    jaeger,
    grafana,
)
