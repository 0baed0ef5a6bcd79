"""BestBox alerts: the alerting rules, each with the fault that fires it.

Rules: quantiles over ``sum by (le)``; TTFT alerts read the TTFT histogram; error
rate is a ratio of turns; memory is compared with the service's configured limit;
satisfaction uses ``increase`` over a window; critical alerts fire within a minute.

Scenarios sample every ``interval``; the fault starts at sample ``FAULT`` (10 minutes
in at 15 s) and every alert must be silent just before it.
"""

from __future__ import annotations

from specs.bestbox.metrics import AUDIT_WRITE_BUCKETS, LATENCY_BUCKETS, TTFT_BUCKETS
from specs.bestbox.services import SERVICES, agent_api
from stackgen.spec import Alert, AlertTest, Severity
from stackgen.spec.scenarios import counter, gauge, histogram

# Critical alerts hold for 30 s: long enough that one slow scrape or a handful of
# unlucky turns does not page (each has a near-miss test), short enough that a page
# reaches the pager within the stack's critical_detection_budget. Their groups are
# evaluated every 5 s (PrometheusSettings.critical_evaluation_interval).
CRITICAL_FOR = "30s"
CRITICAL_FIRES_WITHIN = "1m"

SLA = "bestbox_sla"
INFRA = "bestbox_infrastructure"
CAPACITY = "bestbox_capacity"

SYSTEM_HEALTH = "bestbox-system-health"
AGENT_PERFORMANCE = "bestbox-agent-performance"
USER_ANALYTICS = "bestbox-user-analytics"
# No alert links it; the admin's Conversation Audit tab embeds it (specs/bestbox/admin.py).
CONVERSATION_AUDIT = "bestbox-conversation-audit"

TTFT_TARGET_SECONDS = 2.0
TTFT_CRITICAL_SECONDS = 5.0
SIMPLE_TURN_TARGET_SECONDS = 10.0
COMPLEX_TURN_TARGET_SECONDS = 60.0
ERROR_RATIO_LIMIT = 0.05
TOOL_ERROR_RATIO_LIMIT = 0.05
SATISFACTION_FLOOR = 0.7
MIN_RATINGS = 10
MEMORY_RATIO_LIMIT = 0.9
DESIGNED_SESSIONS = 8
SAFE_SESSION_LIMIT = 12

API = {"job": "agent-api", "instance": "agent-api:8000"}
LLM = {"job": "llm-server", "instance": "host.docker.internal:8080"}
NODE = {"job": "llm-host", "instance": "node-exporter:9100"}
GPU = {"job": "llm-gpu", "instance": "gpu-exporter:5000", "gpu_id": "0"}
GENERATION_FLOOR_TOKENS_PER_S = 20
HOST_MEMORY_RATIO_LIMIT = 0.9
FAULT = 40  # at 15 s a sample: the fault begins 10 minutes in


def _api(name: str, **labels: str) -> str:
    text = ",".join(f'{k}="{v}"' for k, v in {**API, **labels}.items())
    return f"{name}{{{text}}}"


def _series(name: str, labels: dict[str, str]) -> str:
    text = ",".join(f'{k}="{v}"' for k, v in labels.items())
    return f"{name}{{{text}}}"


def _gib(size: int) -> str:
    return f"{size / 1024**3:g} GiB"


high_ttft_p95 = Alert(
    name="HighTTFTP95",
    group=SLA,
    expr=(
        "histogram_quantile(0.95, sum by (le) (rate(agent_ttft_seconds_bucket[5m])))"
        f" > {TTFT_TARGET_SECONDS:g}"
    ),
    for_="5m",
    severity=Severity.WARNING,
    summary="Time to first token P95 is above the 2 s SLA",
    description=(
        "P95 time to first token over 5m is {{ $value | humanizeDuration }} "
        f"(SLA target: < {TTFT_TARGET_SECONDS:g}s)."
    ),
    runbook="high-ttft-p95",
    dashboard=SYSTEM_HEALTH,
    labels={"component": "llm", "sla": "ttft"},
    test=AlertTest(
        interval="15s",
        # Healthy: first tokens under 1 s. Fault: every first token takes 2-3 s.
        series=histogram(
            "agent_ttft_seconds",
            TTFT_BUCKETS,
            {**API, "agent_type": "erp"},
            before={1.0: 10},
            after={3.0: 10},
            fault_step=FAULT,
            steps=FAULT + 30,
        ),
        fault_at="10m",
        fires_within="6m",
        value=2.95,
        # Near miss: every first token in 1.5-2 s, P95 = 1.975 s, under the line.
        near_miss=histogram(
            "agent_ttft_seconds",
            TTFT_BUCKETS,
            {**API, "agent_type": "erp"},
            before={1.0: 10},
            after={2.0: 10},
            fault_step=FAULT,
            steps=FAULT + 30,
        ),
    ),
)

critical_ttft = Alert(
    name="CriticalLatency",
    group=SLA,
    expr=(
        "histogram_quantile(0.95, sum by (le) (rate(agent_ttft_seconds_bucket[2m])))"
        f" > {TTFT_CRITICAL_SECONDS:g}"
    ),
    for_=CRITICAL_FOR,
    severity=Severity.CRITICAL,
    summary="Time to first token P95 is above 5 s",
    description=(
        "P95 time to first token over 2m is {{ $value | humanizeDuration }}: "
        "users are waiting; investigate the LLM server now."
    ),
    runbook="critical-latency",
    dashboard=SYSTEM_HEALTH,
    labels={"component": "llm", "sla": "ttft"},
    test=AlertTest(
        interval="15s",
        series=histogram(
            "agent_ttft_seconds",
            TTFT_BUCKETS,
            {**API, "agent_type": "crm"},
            before={1.0: 10},
            after={10.0: 10},
            fault_step=FAULT,
            steps=FAULT + 12,
        ),
        fault_at="10m",
        fires_within=CRITICAL_FIRES_WITHIN,
        # A minute in, half the 2m window is slow turns: P95 9.65 s.
        value=9.65,
        near_miss=histogram(
            "agent_ttft_seconds",
            TTFT_BUCKETS,
            {**API, "agent_type": "crm"},
            before={1.0: 10},
            after={5.0: 10},
            fault_step=FAULT,
            steps=FAULT + 12,
        ),
    ),
)

slow_simple_turns = Alert(
    name="SlowSimpleTurns",
    group=SLA,
    expr=(
        "histogram_quantile(0.95, sum by (le) "
        '(rate(agent_latency_seconds_bucket{complexity="simple"}[5m])))'
        f" > {SIMPLE_TURN_TARGET_SECONDS:g}"
    ),
    for_="5m",
    severity=Severity.WARNING,
    summary="Simple turns take longer than 10 s end to end (P95)",
    description=(
        "P95 end-to-end latency of simple turns is {{ $value | humanizeDuration }} "
        f"(SLA target: < {SIMPLE_TURN_TARGET_SECONDS:g}s)."
    ),
    runbook="slow-simple-turns",
    dashboard=AGENT_PERFORMANCE,
    labels={"component": "agents", "sla": "latency"},
    test=AlertTest(
        interval="15s",
        series=histogram(
            "agent_latency_seconds",
            LATENCY_BUCKETS,
            {**API, "agent_type": "general", "complexity": "simple"},
            before={5.0: 4},
            after={20.0: 4},
            fault_step=FAULT,
            steps=FAULT + 30,
        ),
        fault_at="10m",
        fires_within="6m",
        value=19.5,
        near_miss=histogram(
            "agent_latency_seconds",
            LATENCY_BUCKETS,
            {**API, "agent_type": "general", "complexity": "simple"},
            before={5.0: 4},
            after={10.0: 4},
            fault_step=FAULT,
            steps=FAULT + 30,
        ),
    ),
)

slow_complex_turns = Alert(
    name="SlowComplexTurns",
    group=SLA,
    expr=(
        "histogram_quantile(0.95, sum by (le) "
        '(rate(agent_latency_seconds_bucket{complexity="complex"}[5m])))'
        f" > {COMPLEX_TURN_TARGET_SECONDS:g}"
    ),
    for_="5m",
    severity=Severity.WARNING,
    summary="Complex turns take longer than 60 s end to end (P95)",
    description=(
        "P95 end-to-end latency of complex turns is {{ $value | humanizeDuration }} "
        f"(SLA target: < {COMPLEX_TURN_TARGET_SECONDS:g}s)."
    ),
    runbook="slow-complex-turns",
    dashboard=AGENT_PERFORMANCE,
    labels={"component": "agents", "sla": "latency"},
    test=AlertTest(
        interval="15s",
        series=histogram(
            "agent_latency_seconds",
            LATENCY_BUCKETS,
            {**API, "agent_type": "erp", "complexity": "complex"},
            before={30.0: 2},
            after={120.0: 2},
            fault_step=FAULT,
            steps=FAULT + 30,
        ),
        fault_at="10m",
        fires_within="6m",
        value=117.0,
        near_miss=histogram(
            "agent_latency_seconds",
            LATENCY_BUCKETS,
            {**API, "agent_type": "erp", "complexity": "complex"},
            before={30.0: 2},
            after={60.0: 2},
            fault_step=FAULT,
            steps=FAULT + 30,
        ),
    ),
)

high_error_rate = Alert(
    name="HighErrorRate",
    group=SLA,
    expr=(
        'sum(rate(agent_requests_total{status="error"}[1m]))'
        f" / sum(rate(agent_requests_total[1m])) > {ERROR_RATIO_LIMIT:g}"
    ),
    for_=CRITICAL_FOR,
    severity=Severity.CRITICAL,
    summary="More than 5% of chat turns fail",
    description="{{ $value | humanizePercentage }} of chat turns failed over the last minute.",
    runbook="high-error-rate",
    dashboard=SYSTEM_HEALTH,
    labels={"component": "agents"},
    test=AlertTest(
        interval="15s",
        series={
            _api("agent_requests_total", agent_type="erp", status="success"): counter(
                10, 10, FAULT, FAULT + 12
            ),
            _api("agent_requests_total", agent_type="erp", status="error"): counter(
                0, 3, FAULT, FAULT + 12
            ),
        },
        fault_at="10m",
        fires_within=CRITICAL_FIRES_WITHIN,
        value=3 / 13,
        # 1 failure in 25 turns: 4%, under the 5% line.
        near_miss={
            _api("agent_requests_total", agent_type="erp", status="success"): counter(
                24, 24, FAULT, FAULT + 12
            ),
            _api("agent_requests_total", agent_type="erp", status="error"): counter(
                0, 1, FAULT, FAULT + 12
            ),
        },
    ),
)

high_tool_error_rate = Alert(
    name="HighToolErrorRate",
    group=SLA,
    expr=(
        'sum by (tool_name) (rate(tool_executions_total{status="error"}[2m]))'
        " / sum by (tool_name) (rate(tool_executions_total[2m]))"
        f" > {TOOL_ERROR_RATIO_LIMIT:g}"
    ),
    for_="1m",
    severity=Severity.WARNING,
    summary="Tool {{ $labels.tool_name }} fails more than 5% of its calls",
    description=(
        "{{ $value | humanizePercentage }} of {{ $labels.tool_name }} calls failed over "
        "2m (target: > 95% success)."
    ),
    runbook="high-tool-error-rate",
    dashboard=AGENT_PERFORMANCE,
    labels={"component": "tools"},
    test=AlertTest(
        interval="15s",
        series={
            _api("tool_executions_total", tool_name="search_invoices", status="success"): (
                counter(10, 10, FAULT, FAULT + 16)
            ),
            _api("tool_executions_total", tool_name="search_invoices", status="error"): (
                counter(0, 5, FAULT, FAULT + 16)
            ),
        },
        fault_at="10m",
        fires_within="3m",
        labels={"tool_name": "search_invoices"},
        value=5 / 15,
        near_miss={
            _api("tool_executions_total", tool_name="search_invoices", status="success"): (
                counter(20, 20, FAULT, FAULT + 16)
            ),
            _api("tool_executions_total", tool_name="search_invoices", status="error"): (
                counter(0, 1, FAULT, FAULT + 16)
            ),
        },
    ),
)

low_satisfaction = Alert(
    name="LowUserSatisfaction",
    group=SLA,
    expr=(
        'sum(increase(user_feedback_total{rating="positive"}[1h]))'
        " / sum(increase(user_feedback_total[1h]))"
        f" < {SATISFACTION_FLOOR:g}"
        f" and sum(increase(user_feedback_total[1h])) >= {MIN_RATINGS}"
    ),
    for_="5m",
    severity=Severity.WARNING,
    summary="User satisfaction below 70%",
    description=(
        "{{ $value | humanizePercentage }} of the answers rated in the last hour got a "
        "thumbs up (target: > 80%)."
    ),
    runbook="low-user-satisfaction",
    dashboard=USER_ANALYTICS,
    labels={"component": "ux"},
    test=AlertTest(
        # One sample a minute; the fault starts 60 minutes in.
        interval="1m",
        series={
            _api("user_feedback_total", rating="positive"): counter(2, 0, 60, 91),
            _api("user_feedback_total", rating="negative"): counter(0, 2, 60, 91),
        },
        fault_at="60m",
        fires_within="30m",
        # At 90m the 1h window is left-open (samples of minutes 31..90): 28 healthy steps
        # (56 up, extrapolated to the whole hour: 56 * 60/59) and 31 faulty ones (62
        # down, not extrapolated: that counter was at zero when the window began).
        value=(56 * 60 / 59) / (56 * 60 / 59 + 62),
        # 3 up for 1 down: 75%, above the 70% floor.
        near_miss={
            _api("user_feedback_total", rating="positive"): counter(3, 3, 60, 91),
            _api("user_feedback_total", rating="negative"): counter(0, 1, 60, 91),
        },
    ),
)

critical_jobs = sorted(s.name for s in SERVICES if s.critical)
service_down = Alert(
    name="ServiceDown",
    group=INFRA,
    # One page per job, when none of its instances answers: with several agent-api
    # replicas a per-instance `up == 0` would page once per pod, and one pod down of
    # three is not an outage.
    expr=f'max by (job) (up{{job=~"{"|".join(critical_jobs)}"}}) == 0',
    for_=CRITICAL_FOR,
    severity=Severity.CRITICAL,
    summary="{{ $labels.job }} is down",
    description=(
        "Prometheus cannot scrape any instance of {{ $labels.job }}: "
        "it has been unreachable for more than a minute."
    ),
    runbook="service-down",
    dashboard=SYSTEM_HEALTH,
    labels={"component": "infrastructure"},
    test=AlertTest(
        interval="15s",
        series={'up{job="agent-api",instance="agent-api:8000"}': gauge(1, 0, FAULT, FAULT + 8)},
        fault_at="10m",
        fires_within=CRITICAL_FIRES_WITHIN,
        labels={"job": "agent-api"},
        value=0,
        # Two missed scrapes (under 30 s down) are shorter than `for` and must not page.
        near_miss={'up{job="agent-api",instance="agent-api:8000"}': "1x39 0x1 1x5"},
    ),
)

# The collector is scraped (its own telemetry and its exporter) but not critical: while
# it is down chat answers as usual, only traces (and OTLP metrics) are lost. ServiceDown
# pages for critical jobs only, so it has its own warning.
collector_jobs = sorted(s.name for s in SERVICES if s.host == "otel-collector" and s.scrape)
COLLECTOR_UP = 'up{job="otel-collector",instance="otel-collector:8888"}'
collector_down = Alert(
    name="CollectorDown",
    group=INFRA,
    expr=f'up{{job=~"{"|".join(collector_jobs)}"}} == 0',
    for_="1m",
    severity=Severity.WARNING,
    summary="The OpenTelemetry collector is down ({{ $labels.job }})",
    description=(
        "Prometheus cannot scrape {{ $labels.job }} at {{ $labels.instance }}: traces "
        "are not collected (the agent service drops its spans; chat is not affected)."
    ),
    runbook="collector-down",
    dashboard=SYSTEM_HEALTH,
    labels={"component": "telemetry"},
    test=AlertTest(
        interval="15s",
        series={COLLECTOR_UP: gauge(1, 0, FAULT, FAULT + 12)},
        fault_at="10m",
        # `for: 1m`, then a scrape, an evaluation and the 30 s warning group wait.
        fires_within="2m30s",
        labels={"job": "otel-collector", "instance": "otel-collector:8888"},
        value=0,
        near_miss={COLLECTOR_UP: "1x39 0x1 1x9"},
    ),
)

JAEGER_EXPORT = (
    'job="otel-collector",instance="otel-collector:8888",exporter="otlp_grpc/jaeger",'
    'server_address="jaeger",server_port="4317"'
)
trace_export_failing = Alert(
    name="TraceExportFailing",
    group=INFRA,
    # The failure counter exists only from the collector's first dropped batch (an
    # OpenTelemetry counter appears at its first increment): `or` the sent counter
    # times 0, so the expression has a value, 0, while nothing fails.
    expr=(
        "sum by (exporter) ("
        "increase(otelcol_exporter_send_failed_spans_total[5m])"
        " or increase(otelcol_exporter_sent_spans_total[5m]) * 0"
        ") > 0"
    ),
    severity=Severity.WARNING,
    summary="The collector is dropping spans ({{ $labels.exporter }})",
    description=(
        "The collector's {{ $labels.exporter }} exporter dropped spans in the last 5 "
        "minutes after a minute of retries: Jaeger is unreachable or refuses them. "
        "Those traces are lost; chat is not affected."
    ),
    runbook="trace-export-failing",
    dashboard=SYSTEM_HEALTH,
    labels={"component": "telemetry"},
    test=AlertTest(
        interval="15s",
        series={
            # Jaeger gone at the fault: nothing is delivered any more, and the first
            # batches are dropped when their minute of retries runs out.
            f"otelcol_exporter_sent_spans_total{{{JAEGER_EXPORT}}}": counter(
                20, 0, FAULT, FAULT + 20
            ),
            f"otelcol_exporter_send_failed_spans_total{{{JAEGER_EXPORT}}}": "_x44 20+20x15",
        },
        fault_at="10m",
        # The minute of retries, two scrapes, an evaluation and the warning group wait.
        fires_within="3m",
        labels={"exporter": "otlp_grpc/jaeger"},
        value=1,
        # A batch dropped long ago: the counter exists but does not grow.
        near_miss={
            f"otelcol_exporter_sent_spans_total{{{JAEGER_EXPORT}}}": "0+20x59",
            f"otelcol_exporter_send_failed_spans_total{{{JAEGER_EXPORT}}}": "5x59",
        },
    ),
)

memory_limit = agent_api.memory_limit_bytes or 0
high_memory = Alert(
    name="HighMemoryUsage",
    group=INFRA,
    expr=(
        'process_resident_memory_bytes{job="agent-api"}'
        f" / {memory_limit} > {MEMORY_RATIO_LIMIT:g}"
    ),
    for_="10m",
    severity=Severity.WARNING,
    summary="agent-api memory above 90% of its limit",
    description=(
        "{{ $labels.instance }} uses {{ $value | humanizePercentage }} of its "
        f"{_gib(memory_limit)} memory limit."
    ),
    runbook="high-memory-usage",
    dashboard=SYSTEM_HEALTH,
    labels={"component": "infrastructure"},
    test=AlertTest(
        interval="1m",
        series={
            _api("process_resident_memory_bytes"): gauge(
                memory_limit // 2, memory_limit * 15 // 16, 10, 23
            )
        },
        fault_at="10m",
        fires_within="11m",
        labels=API,
        value=15 / 16,
        near_miss={
            _api("process_resident_memory_bytes"): gauge(
                memory_limit // 2, memory_limit * 7 // 8, 10, 23
            )
        },
    ),
)

high_sessions = Alert(
    name="HighConcurrentSessions",
    group=CAPACITY,
    expr=f"sum(active_sessions) > {DESIGNED_SESSIONS}",
    for_="5m",
    severity=Severity.WARNING,
    summary="Approaching the concurrent session capacity",
    description=(
        "{{ $value | humanize }} turns in flight (designed capacity: "
        f"{DESIGNED_SESSIONS} concurrent users)."
    ),
    runbook="high-concurrent-sessions",
    dashboard=SYSTEM_HEALTH,
    labels={"component": "capacity"},
    test=AlertTest(
        interval="1m",
        series={_api("active_sessions"): gauge(3, 10, 10, 18)},
        fault_at="10m",
        fires_within="6m",
        value=10,
        near_miss={_api("active_sessions"): gauge(3, DESIGNED_SESSIONS, 10, 18)},
    ),
)

system_overload = Alert(
    name="SystemOverload",
    group=CAPACITY,
    expr=f"sum(active_sessions) > {SAFE_SESSION_LIMIT}",
    for_=CRITICAL_FOR,
    severity=Severity.CRITICAL,
    summary="The system is overloaded: user experience degraded",
    description=(
        "{{ $value | humanize }} turns in flight exceed the safe limit of "
        f"{SAFE_SESSION_LIMIT}."
    ),
    runbook="system-overload",
    dashboard=SYSTEM_HEALTH,
    labels={"component": "capacity"},
    test=AlertTest(
        interval="15s",
        series={_api("active_sessions"): gauge(3, 14, FAULT, FAULT + 8)},
        fault_at="10m",
        fires_within=CRITICAL_FIRES_WITHIN,
        value=14,
        near_miss={_api("active_sessions"): gauge(3, SAFE_SESSION_LIMIT, FAULT, FAULT + 8)},
    ),
)

# -- the audit writer: database outage, spool filling, records lost, slow writes --------

AUDIT = "bestbox_audit"
SPOOL_LIMIT_BYTES = 256 * 1024 * 1024
SPOOL_FILL_LIMIT = 0.8
AUDIT_WRITE_P95_LIMIT_SECONDS = 1.0

audit_database_unreachable = Alert(
    name="AuditDatabaseUnreachable",
    group=AUDIT,
    expr=(
        "rate(audit_write_errors_total[2m]) > 0"
        " and on (job, instance) rate(audit_rows_written_total[2m]) == 0"
    ),
    for_="1m",
    severity=Severity.WARNING,
    summary="The audit database takes no writes: records are being spooled",
    description=(
        "Every audit write from {{ $labels.instance }} fails and none succeeds. Nothing "
        "is lost yet: records wait in the local spool and are replayed in order when "
        "PostgreSQL is back. Watch AuditSpoolFilling."
    ),
    runbook="audit-database-unreachable",
    dashboard=SYSTEM_HEALTH,
    labels={"component": "audit"},
    test=AlertTest(
        interval="15s",
        # Fault: PostgreSQL is unreachable; the writer retries (up to every 2 s) and
        # writes nothing.
        series={
            _api("audit_write_errors_total"): counter(0, 7, FAULT, FAULT + 16),
            _api("audit_rows_written_total"): counter(40, 0, FAULT, FAULT + 16),
        },
        fault_at="10m",
        fires_within="3m",
        labels=API,
        value=7 / 15,
        # Near miss: writes fail now and then, but retries get through.
        near_miss={
            _api("audit_write_errors_total"): counter(0, 1, FAULT, FAULT + 16),
            _api("audit_rows_written_total"): counter(40, 40, FAULT, FAULT + 16),
        },
    ),
)

audit_spool_filling = Alert(
    name="AuditSpoolFilling",
    group=AUDIT,
    expr=f"audit_spool_bytes / audit_spool_limit_bytes > {SPOOL_FILL_LIMIT:g}",
    for_=CRITICAL_FOR,
    severity=Severity.CRITICAL,
    summary="The audit spool is nearly full: audit records will soon be dropped",
    description=(
        "The audit spool of {{ $labels.instance }} is at {{ $value | humanizePercentage }} "
        "of its bound; once full, new audit records are dropped. Bring PostgreSQL back "
        "or raise AUDIT_SPOOL_MAX_BYTES."
    ),
    runbook="audit-spool-filling",
    dashboard=SYSTEM_HEALTH,
    labels={"component": "audit"},
    test=AlertTest(
        interval="15s",
        series={
            _api("audit_spool_bytes"): gauge(0, SPOOL_LIMIT_BYTES * 7 // 8, FAULT, FAULT + 8),
            _api("audit_spool_limit_bytes"): gauge(
                SPOOL_LIMIT_BYTES, SPOOL_LIMIT_BYTES, FAULT, FAULT + 8
            ),
        },
        fault_at="10m",
        fires_within=CRITICAL_FIRES_WITHIN,
        labels=API,
        value=7 / 8,
        near_miss={
            _api("audit_spool_bytes"): gauge(0, SPOOL_LIMIT_BYTES * 3 // 4, FAULT, FAULT + 8),
            _api("audit_spool_limit_bytes"): gauge(
                SPOOL_LIMIT_BYTES, SPOOL_LIMIT_BYTES, FAULT, FAULT + 8
            ),
        },
    ),
)

audit_records_dropped = Alert(
    name="AuditRecordsDropped",
    group=AUDIT,
    expr="sum by (reason) (increase(audit_dropped_rows_total[5m])) > 0",
    severity=Severity.CRITICAL,
    summary="Audit records are being lost ({{ $labels.reason }})",
    description=(
        "{{ $value | humanize }} audit records were dropped in the last 5 minutes "
        "(reason: {{ $labels.reason }}). The conversation log is incomplete."
    ),
    runbook="audit-records-dropped",
    dashboard=SYSTEM_HEALTH,
    labels={"component": "audit"},
    test=AlertTest(
        interval="15s",
        series={
            _api("audit_dropped_rows_total", reason="spool_full"): counter(0, 5, FAULT, FAULT + 8),
            _api("audit_dropped_rows_total", reason="queue_full"): counter(0, 0, FAULT, FAULT + 8),
        },
        fault_at="10m",
        fires_within=CRITICAL_FIRES_WITHIN,
        labels={"reason": "spool_full"},
        value=25,
        # Near miss: the counters exist but nothing is lost.
        near_miss={
            _api("audit_dropped_rows_total", reason="spool_full"): counter(0, 0, FAULT, FAULT + 8),
            _api("audit_dropped_rows_total", reason="queue_full"): counter(0, 0, FAULT, FAULT + 8),
        },
    ),
)

audit_rows_dead_lettered = Alert(
    name="AuditRowsDeadLettered",
    group=AUDIT,
    expr="sum by (kind, destination) (increase(audit_dead_letter_rows_total[15m])) > 0",
    severity=Severity.WARNING,
    summary="The audit database refused records for good: they were set aside ({{ $labels.kind }})",
    description=(
        "{{ $value | humanize }} audit records ({{ $labels.kind }}) were refused by the "
        "database in the last 15 minutes for a reason retrying cannot fix, and kept in "
        "the dead-letter {{ $labels.destination }}. The records after them were written; "
        "these are missing from the conversation log until repaired."
    ),
    runbook="audit-rows-dead-lettered",
    dashboard=SYSTEM_HEALTH,
    labels={"component": "audit"},
    test=AlertTest(
        interval="15s",
        # Fault: one turn refused (the counter steps from 0 to 1 and stays there).
        series={
            _api("audit_dead_letter_rows_total", kind="turn", destination="table"): gauge(
                0, 1, FAULT, FAULT + 8
            ),
            _api("audit_dead_letter_rows_total", kind="feedback", destination="table"): gauge(
                0, 0, FAULT, FAULT + 8
            ),
        },
        fault_at="10m",
        fires_within="1m",
        labels={"kind": "turn", "destination": "table"},
        value=1,
        # Near miss: the counters exist but nothing was refused.
        near_miss={
            _api("audit_dead_letter_rows_total", kind="turn", destination="table"): gauge(
                0, 0, FAULT, FAULT + 8
            ),
            _api("audit_dead_letter_rows_total", kind="feedback", destination="table"): gauge(
                0, 0, FAULT, FAULT + 8
            ),
        },
    ),
)

audit_write_slow = Alert(
    name="AuditWriteSlow",
    group=AUDIT,
    expr=(
        "histogram_quantile(0.95, sum by (le) (rate(audit_write_seconds_bucket[5m])))"
        f" > {AUDIT_WRITE_P95_LIMIT_SECONDS:g}"
    ),
    for_="5m",
    severity=Severity.WARNING,
    summary="Audit batch writes are slow (P95 above 1 s)",
    description=(
        "P95 of audit batch writes to PostgreSQL over 5m is {{ $value | humanizeDuration }}"
        ": the database is struggling and the audit backlog may grow."
    ),
    runbook="audit-write-slow",
    dashboard=SYSTEM_HEALTH,
    labels={"component": "audit"},
    test=AlertTest(
        interval="15s",
        # Healthy: batches in 5-10 ms. Fault: every batch takes 2.5-10 s.
        series=histogram(
            "audit_write_seconds",
            AUDIT_WRITE_BUCKETS,
            API,
            before={0.01: 10},
            after={10.0: 10},
            fault_step=FAULT,
            steps=FAULT + 30,
        ),
        fault_at="10m",
        fires_within="6m",
        labels={},
        value=9.625,
        # Near miss: batches in 0.5-1 s, P95 = 0.975 s, under the line.
        near_miss=histogram(
            "audit_write_seconds",
            AUDIT_WRITE_BUCKETS,
            API,
            before={0.01: 10},
            after={1.0: 10},
            fault_step=FAULT,
            steps=FAULT + 30,
        ),
    ),
)

# Generation speed over generation time only: an idle server has no rate on either side,
# and NaN compares false, so the alert speaks only while the server is busy.
generated = 'sum(rate(llamacpp:tokens_predicted_total{job="llm-server"}[5m]))'
generating = 'sum(rate(llamacpp:tokens_predicted_seconds_total{job="llm-server"}[5m]))'
llm_generation_slow = Alert(
    name="LLMGenerationSlow",
    group=CAPACITY,
    expr=f"{generated} / {generating} < {GENERATION_FLOOR_TOKENS_PER_S}",
    for_="10m",
    severity=Severity.WARNING,
    summary=f"llama-server generates under {GENERATION_FLOOR_TOKENS_PER_S} tokens/s",
    description=(
        "While busy, llama-server has generated {{ $value | humanize }} tokens per second "
        "of generation time for 10 minutes: answers stream slowly."
    ),
    runbook="llm-generation-slow",
    dashboard=AGENT_PERFORMANCE,
    labels={"component": "llm"},
    test=AlertTest(
        interval="1m",
        series={
            # 3000 tokens in 30 s of every minute (100 tokens/s), then 600 in 60 s (10/s).
            _series("llamacpp:tokens_predicted_total", LLM): counter(3000, 600, 10, 30),
            _series("llamacpp:tokens_predicted_seconds_total", LLM): counter(30, 60, 10, 30),
        },
        fault_at="10m",
        fires_within="16m",
        labels={},
        value=10,
        # 25 tokens/s: slow, but above the floor.
        near_miss={
            _series("llamacpp:tokens_predicted_total", LLM): counter(3000, 750, 10, 30),
            _series("llamacpp:tokens_predicted_seconds_total", LLM): counter(30, 30, 10, 30),
        },
    ),
)
llm_requests_deferred = Alert(
    name="LLMRequestsDeferred",
    group=CAPACITY,
    expr='min_over_time(llamacpp:requests_deferred{job="llm-server"}[5m]) > 0',
    for_="5m",
    severity=Severity.WARNING,
    summary="Requests wait for a free llama-server slot",
    description=(
        "For 10 minutes at least {{ $value | humanize }} request(s) have always waited at "
        "{{ $labels.instance }}: every slot is busy."
    ),
    runbook="llm-requests-deferred",
    dashboard=SYSTEM_HEALTH,
    labels={"component": "llm"},
    test=AlertTest(
        interval="1m",
        series={_series("llamacpp:requests_deferred", LLM): gauge(0, 2, 10, 30)},
        fault_at="10m",
        fires_within="11m",
        labels=LLM,
        value=2,
        # A three-minute queue during a burst is what the slots are for.
        near_miss={_series("llamacpp:requests_deferred", LLM): "0x9 2x2 0x17"},
    ),
)
_available = 'node_memory_MemAvailable_bytes{job="llm-host"}'
_total = 'node_memory_MemTotal_bytes{job="llm-host"}'
host_memory_high = Alert(
    name="HostMemoryHigh",
    group=INFRA,
    expr=f"1 - {_available} / {_total} > {HOST_MEMORY_RATIO_LIMIT:g}",
    for_="10m",
    severity=Severity.WARNING,
    summary="The LLM host's memory is more than 90% used",
    description=(
        "{{ $labels.instance }} has used {{ $value | humanizePercentage }} of its memory "
        "for 10 minutes: the model, the agent or PostgreSQL may soon be killed."
    ),
    runbook="host-memory-high",
    dashboard=SYSTEM_HEALTH,
    labels={"component": "infrastructure"},
    test=AlertTest(
        interval="1m",
        series={
            _series("node_memory_MemTotal_bytes", NODE): gauge(64 * 1024**3, 64 * 1024**3, 10, 30),
            _series("node_memory_MemAvailable_bytes", NODE): gauge(
                32 * 1024**3, 4 * 1024**3, 10, 30
            ),
        },
        fault_at="10m",
        fires_within="11m",
        labels=NODE,
        value=0.9375,
        near_miss={
            _series("node_memory_MemTotal_bytes", NODE): gauge(64 * 1024**3, 64 * 1024**3, 10, 30),
            _series("node_memory_MemAvailable_bytes", NODE): gauge(
                32 * 1024**3, 8 * 1024**3, 10, 30
            ),
        },
    ),
)
gpu_memory_high = Alert(
    name="GPUMemoryHigh",
    group=INFRA,
    expr=(
        'gpu_used_vram{job="llm-gpu"} / gpu_total_vram{job="llm-gpu"}'
        f" > {HOST_MEMORY_RATIO_LIMIT:g}"
    ),
    for_="10m",
    severity=Severity.WARNING,
    summary="GPU {{ $labels.gpu_id }} VRAM more than 90% used",
    description=(
        "GPU {{ $labels.gpu_id }} on {{ $labels.instance }} has used "
        "{{ $value | humanizePercentage }} of its VRAM for 10 minutes: a larger context "
        "or a second model will not fit."
    ),
    runbook="gpu-memory-high",
    dashboard=SYSTEM_HEALTH,
    labels={"component": "llm"},
    test=AlertTest(
        interval="1m",
        series={
            _series("gpu_total_vram", GPU): gauge(24576, 24576, 10, 30),
            _series("gpu_used_vram", GPU): gauge(12288, 23040, 10, 30),
        },
        fault_at="10m",
        fires_within="11m",
        labels=GPU,
        value=0.9375,
        near_miss={
            _series("gpu_total_vram", GPU): gauge(24576, 24576, 10, 30),
            _series("gpu_used_vram", GPU): gauge(12288, 21504, 10, 30),
        },
    ),
)

ALERTS = (
    high_ttft_p95,
    critical_ttft,
    slow_simple_turns,
    slow_complex_turns,
    high_error_rate,
    high_tool_error_rate,
    low_satisfaction,
    service_down,
    collector_down,
    trace_export_failing,
    high_memory,
    high_sessions,
    system_overload,
    audit_database_unreachable,
    audit_spool_filling,
    audit_records_dropped,
    audit_rows_dead_lettered,
    audit_write_slow,
    llm_generation_slow,
    llm_requests_deferred,
    host_memory_high,
    gpu_memory_high,
)
