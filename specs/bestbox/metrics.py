"""The BestBox metric catalog: every metric the agent service emits, and the series
Prometheus and the other servers add. Dashboards and alerts may query nothing else.

By design: no user or session label anywhere (per-user analytics come
from PostgreSQL), and time to first token has its own histogram.
"""

from __future__ import annotations

from specs.bestbox.alerting import ALERTING
from stackgen.spec import Label, Metric, MetricSource, MetricType

# The agents, as the agent_type label's values: the one definition. The service reads
# them from the catalog (agent_service.catalog.agent_types); a test holds its routing
# tables equal to them.
AGENT_TYPES = ("erp", "crm", "it_ops", "oa", "general")
# The scrape job that exposes the service's own metrics.
AGENT_API = "agent-api"

# SLA lines the buckets must hit exactly: TTFT < 2 s; end-to-end simple < 10 s and
# complex < 60 s; embedding < 100 ms; routing < 500 ms; RAG retrieval P95 < 200 ms.
TTFT_BUCKETS = (0.1, 0.25, 0.5, 1.0, 1.5, 2.0, 3.0, 5.0, 10.0, 30.0)
LATENCY_BUCKETS = (0.5, 1.0, 2.0, 5.0, 10.0, 20.0, 30.0, 60.0, 120.0)
ROUTER_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)
EMBEDDING_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0)
RAG_LATENCY_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.2, 0.5, 1.0, 2.5)
SCORE_BUCKETS = (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0)

agent_type = Label(
    name="agent_type",
    description="The domain agent that handled the turn, as chosen by the router.",
    values=AGENT_TYPES,
)
outcome = Label(
    name="status",
    description="success, or error when the turn or call failed.",
    values=("success", "error"),
)

agent_requests = Metric(
    name="agent_requests",
    type=MetricType.COUNTER,
    help="Chat turns handled, by agent and outcome.",
    labels=(agent_type, outcome),
    service=AGENT_API,
)
agent_latency_seconds = Metric(
    name="agent_latency_seconds",
    type=MetricType.HISTOGRAM,
    unit="seconds",
    help="End-to-end latency of a turn, from request to the last token, tools included.",
    labels=(
        agent_type,
        Label(
            name="complexity",
            description="simple: at most one tool call; complex: more (SLA 10 s vs 60 s).",
            values=("simple", "complex"),
        ),
    ),
    buckets=LATENCY_BUCKETS,
    service=AGENT_API,
)
agent_ttft_seconds = Metric(
    name="agent_ttft_seconds",
    type=MetricType.HISTOGRAM,
    unit="seconds",
    help="Time to first token: from request to the first streamed answer token.",
    labels=(agent_type,),
    buckets=TTFT_BUCKETS,
    service=AGENT_API,
)
llm_tokens = Metric(
    name="llm_tokens",
    type=MetricType.COUNTER,
    unit="tokens",
    help="Tokens processed by the LLM, by model and kind (prompt or completion).",
    labels=(
        Label(name="model", description="The served model name.", max_cardinality=8),
        Label(
            name="kind",
            description="prompt tokens read or completion tokens generated.",
            values=("prompt", "completion"),
        ),
    ),
    service=AGENT_API,
)
llm_requests = Metric(
    name="llm_requests",
    type=MetricType.COUNTER,
    help="Calls to the LLM server, by model and outcome.",
    labels=(
        Label(name="model", description="The served model name.", max_cardinality=8),
        outcome,
    ),
    service=AGENT_API,
)
tool_executions = Metric(
    name="tool_executions",
    type=MetricType.COUNTER,
    help="Tool calls made by the agents, by tool and outcome.",
    labels=(
        Label(name="tool_name", description="The tool's registered name.", max_cardinality=40),
        outcome,
    ),
    service=AGENT_API,
)
user_feedback = Metric(
    name="user_feedback",
    type=MetricType.COUNTER,
    help="Thumbs up / down given to answers.",
    labels=(
        Label(
            name="rating",
            description="positive (thumbs up) or negative (thumbs down).",
            values=("positive", "negative"),
        ),
    ),
    service=AGENT_API,
)
active_sessions = Metric(
    name="active_sessions",
    type=MetricType.GAUGE,
    help="Chat turns in flight right now (concurrent users being served).",
    service=AGENT_API,
)
rag_retrieval_seconds = Metric(
    name="rag_retrieval_seconds",
    type=MetricType.HISTOGRAM,
    unit="seconds",
    help="Time to retrieve knowledge-base documents for a query.",
    buckets=RAG_LATENCY_BUCKETS,
    service=AGENT_API,
)
rag_relevance_score = Metric(
    name="rag_relevance_score",
    type=MetricType.HISTOGRAM,
    unit="score",
    help="Relevance score (0..1) of each retrieved document.",
    buckets=SCORE_BUCKETS,
    service=AGENT_API,
)
router_latency_seconds = Metric(
    name="router_latency_seconds",
    type=MetricType.HISTOGRAM,
    unit="seconds",
    help="Time the router takes to classify a turn.",
    buckets=ROUTER_BUCKETS,
    service=AGENT_API,
)
router_confidence_score = Metric(
    name="router_confidence_score",
    type=MetricType.HISTOGRAM,
    unit="score",
    help="Confidence (0..1) of the router's classification, by chosen agent.",
    labels=(agent_type,),
    buckets=SCORE_BUCKETS,
    service=AGENT_API,
)
embedding_latency_seconds = Metric(
    name="embedding_latency_seconds",
    type=MetricType.HISTOGRAM,
    unit="seconds",
    help="Time to embed a query for retrieval.",
    buckets=EMBEDDING_BUCKETS,
    service=AGENT_API,
)
http_requests = Metric(
    name="http_requests",
    type=MetricType.COUNTER,
    help="HTTP requests served, by method, route template and status class.",
    labels=(
        Label(
            name="method",
            description="HTTP method.",
            values=("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "OTHER"),
        ),
        Label(
            name="route",
            description="The route template (never the raw path); 'unmatched' for 404s.",
            max_cardinality=40,
        ),
        Label(
            name="status_class",
            description="1xx .. 5xx.",
            values=("1xx", "2xx", "3xx", "4xx", "5xx"),
        ),
    ),
    service=AGENT_API,
)

# The audit writer (agent_service/store/writer.py): its backlog, its local spool and
# what it could not keep. Alerts in specs/bestbox/alerts.py read these.
AUDIT_WRITE_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0)

audit_queue_depth = Metric(
    name="audit_queue_depth",
    type=MetricType.GAUGE,
    help="Audit records accepted but not yet written to the audit database "
    "(held in memory or in the spool).",
    service=AGENT_API,
)
audit_spool_rows = Metric(
    name="audit_spool_rows",
    type=MetricType.GAUGE,
    help="Audit records in the local spool file that are not yet in the audit database.",
    service=AGENT_API,
)
audit_spool_bytes = Metric(
    name="audit_spool_bytes",
    type=MetricType.GAUGE,
    unit="bytes",
    help="Size of the local audit spool files.",
    service=AGENT_API,
)
audit_spool_limit_bytes = Metric(
    name="audit_spool_limit_bytes",
    type=MetricType.GAUGE,
    unit="bytes",
    help="The configured bound of the audit spool (0: no spool, records wait in memory).",
    service=AGENT_API,
)
audit_dropped_rows = Metric(
    name="audit_dropped_rows",
    type=MetricType.COUNTER,
    help="Audit records lost, by reason: the queue or the spool was full, a spool line "
    "was unreadable, or the service stopped without a spool.",
    labels=(
        Label(
            name="reason",
            description="Why the records were lost.",
            values=("queue_full", "spool_full", "unreadable", "shutdown"),
        ),
    ),
    service=AGENT_API,
)
audit_rows_written = Metric(
    name="audit_rows_written",
    type=MetricType.COUNTER,
    help="Audit records written to the audit database.",
    service=AGENT_API,
)
audit_write_errors = Metric(
    name="audit_write_errors",
    type=MetricType.COUNTER,
    help="Failed batch writes to the audit database (each batch is retried; its "
    "records wait in the spool).",
    service=AGENT_API,
)
audit_dead_letter_rows = Metric(
    name="audit_dead_letter_rows",
    type=MetricType.COUNTER,
    help="Audit records the audit database refused for good (a data error, not an "
    "outage), set aside as dead letters so the records after them are written.",
    labels=(
        Label(
            name="kind",
            description="The record: a turn (conversation_log) or a feedback.",
            values=("turn", "feedback"),
        ),
        Label(
            name="destination",
            description="Where it was kept: the audit_dead_letters table, the "
            "dead-letter file beside the spool when the database refused that too, or "
            "only the log (no spool directory).",
            values=("table", "file", "log"),
        ),
    ),
    service=AGENT_API,
)
audit_write_seconds = Metric(
    name="audit_write_seconds",
    type=MetricType.HISTOGRAM,
    unit="seconds",
    help="Time to write one batch of audit records to the audit database.",
    buckets=AUDIT_WRITE_BUCKETS,
    service=AGENT_API,
)

# Alertmanager's notifications received by the agent's webhook (agent_service/api/
# alerts.py) and recorded in the audit database. A receiver name the spec does not
# define is counted as "other" (the label stays bounded whatever a caller sends).
ALERT_RECEIVERS = (*(r.name for r in ALERTING.receivers), "other")

agent_alert_notifications = Metric(
    name="agent_alert_notifications",
    type=MetricType.COUNTER,
    help="Alertmanager notifications recorded in the audit database, by receiver and "
    "status (firing, resolved).",
    labels=(
        Label(
            name="receiver",
            description="The Alertmanager receiver that sent it; other: not in the spec.",
            values=ALERT_RECEIVERS,
        ),
        Label(
            name="status",
            description="The notification's status: firing, or resolved when every alert "
            "of its group is.",
            values=("firing", "resolved"),
        ),
    ),
    service=AGENT_API,
)

# prometheus_client's process collector, registered by the service.
process_metrics = (
    Metric(
        name="process_resident_memory_bytes",
        type=MetricType.GAUGE,
        unit="bytes",
        help="Resident memory size in bytes.",
        source=MetricSource.PROCESS,
        service=AGENT_API,
    ),
    Metric(
        name="process_virtual_memory_bytes",
        type=MetricType.GAUGE,
        unit="bytes",
        help="Virtual memory size in bytes.",
        source=MetricSource.PROCESS,
        service=AGENT_API,
    ),
    Metric(
        name="process_cpu_seconds",
        type=MetricType.COUNTER,
        unit="seconds",
        help="Total user and system CPU time spent in seconds.",
        source=MetricSource.PROCESS,
        service=AGENT_API,
    ),
    Metric(
        name="process_start_time_seconds",
        type=MetricType.GAUGE,
        unit="seconds",
        help="Start time of the process since unix epoch in seconds.",
        source=MetricSource.PROCESS,
        service=AGENT_API,
    ),
    Metric(
        name="process_open_fds",
        type=MetricType.GAUGE,
        help="Number of open file descriptors.",
        source=MetricSource.PROCESS,
        service=AGENT_API,
    ),
    Metric(
        name="process_max_fds",
        type=MetricType.GAUGE,
        help="Maximum number of open file descriptors.",
        source=MetricSource.PROCESS,
        service=AGENT_API,
    ),
)

# The collector's own telemetry (its `otel-collector` job), with the type and unit
# suffixes its telemetry reader is configured to add.
COLLECTOR = "otel-collector"
exporter_label = Label(
    name="exporter",
    description="The collector exporter (otlp_grpc/jaeger, debug...).",
    max_cardinality=10,
)
server_labels = (
    Label(name="server_address", description="Where the exporter sends.", max_cardinality=10),
    Label(name="server_port", description="The port it sends to.", max_cardinality=10),
)
collector_metrics = (
    Metric(
        name="otelcol_receiver_accepted_spans",
        type=MetricType.COUNTER,
        help="Spans the collector's receivers accepted.",
        labels=(
            Label(name="receiver", description="The receiver (otlp).", max_cardinality=10),
            Label(name="transport", description="grpc or http.", max_cardinality=5),
        ),
        source=MetricSource.EXTERNAL,
        service=COLLECTOR,
    ),
    Metric(
        name="otelcol_exporter_sent_spans",
        type=MetricType.COUNTER,
        help="Spans an exporter delivered (to Jaeger: stored).",
        labels=(exporter_label, *server_labels),
        source=MetricSource.EXTERNAL,
        service=COLLECTOR,
    ),
    Metric(
        name="otelcol_exporter_send_failed_spans",
        type=MetricType.COUNTER,
        help="Spans an exporter dropped after its retries ran out (Jaeger unreachable).",
        labels=(exporter_label, *server_labels),
        source=MetricSource.EXTERNAL,
        service=COLLECTOR,
        first_event_only=True,
    ),
)

# llama-server's own metrics (`--metrics`), as the built server exposes them (the live
# check compares them with a real llama-server's /metrics). The embeddings server is a
# llama-server too, with the same families under its own job; dashboards and alerts
# read the chat model's. This llama.cpp exposes no KV-cache use.
LLM = "llm-server"
llm_server_metrics = (
    Metric(
        name="llamacpp:prompt_tokens",
        type=MetricType.COUNTER,
        help="Prompt tokens processed (read, not taken from the prompt cache).",
        source=MetricSource.EXTERNAL,
        service=LLM,
    ),
    Metric(
        name="llamacpp:tokens_predicted",
        type=MetricType.COUNTER,
        help="Tokens generated.",
        source=MetricSource.EXTERNAL,
        service=LLM,
    ),
    Metric(
        name="llamacpp:prompt_seconds",
        type=MetricType.COUNTER,
        help="Time spent processing prompts.",
        unit="seconds",
        source=MetricSource.EXTERNAL,
        service=LLM,
    ),
    Metric(
        name="llamacpp:tokens_predicted_seconds",
        type=MetricType.COUNTER,
        help="Time spent generating tokens.",
        unit="seconds",
        source=MetricSource.EXTERNAL,
        service=LLM,
    ),
    Metric(
        name="llamacpp:requests_processing",
        type=MetricType.GAUGE,
        help="Requests a slot is working on.",
        source=MetricSource.EXTERNAL,
        service=LLM,
    ),
    Metric(
        name="llamacpp:requests_deferred",
        type=MetricType.GAUGE,
        help="Requests waiting for a free slot.",
        source=MetricSource.EXTERNAL,
        service=LLM,
    ),
)

# The LLM host's memory. node_exporter: system RAM in bytes. AMD device-metrics-exporter
# (its documented metric names): VRAM per GPU in megabytes.
NODE = "llm-host"
GPU = "llm-gpu"
gpu_label = Label(name="gpu_id", description="The GPU's index on the host.", max_cardinality=16)
host_memory_metrics = (
    Metric(
        name="node_memory_MemTotal_bytes",
        type=MetricType.GAUGE,
        help="The host's physical memory.",
        unit="bytes",
        source=MetricSource.EXTERNAL,
        service=NODE,
    ),
    Metric(
        name="node_memory_MemAvailable_bytes",
        type=MetricType.GAUGE,
        help="Memory available to new processes without swapping.",
        unit="bytes",
        source=MetricSource.EXTERNAL,
        service=NODE,
    ),
    Metric(
        name="gpu_used_vram",
        type=MetricType.GAUGE,
        help="VRAM in use on a GPU, in megabytes.",
        labels=(gpu_label,),
        source=MetricSource.EXTERNAL,
        service=GPU,
    ),
    Metric(
        name="gpu_total_vram",
        type=MetricType.GAUGE,
        help="A GPU's VRAM, in megabytes.",
        labels=(gpu_label,),
        source=MetricSource.EXTERNAL,
        service=GPU,
    ),
)

APP_METRICS = (
    agent_requests,
    agent_latency_seconds,
    agent_ttft_seconds,
    llm_tokens,
    llm_requests,
    tool_executions,
    user_feedback,
    active_sessions,
    rag_retrieval_seconds,
    rag_relevance_score,
    router_latency_seconds,
    router_confidence_score,
    embedding_latency_seconds,
    http_requests,
    audit_queue_depth,
    audit_spool_rows,
    audit_spool_bytes,
    audit_spool_limit_bytes,
    audit_dropped_rows,
    audit_rows_written,
    audit_write_errors,
    audit_dead_letter_rows,
    audit_write_seconds,
    agent_alert_notifications,
)

# `up` and the other scrape series come from the scrape jobs (the stack adds them).
CATALOG = (
    APP_METRICS + process_metrics + collector_metrics + llm_server_metrics + host_memory_metrics
)
