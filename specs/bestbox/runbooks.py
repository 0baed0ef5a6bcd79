"""BestBox runbooks: the incident playbooks (HighLatencyP95, ServiceDown,
LowUserSatisfaction, troubleshooting guide), one per alert and SLO anchor.

Commands assume the generated compose project (`docker compose -f generated/docker-compose.yml`)
and llama-server on the GPU host; queries are checked against the catalog like every
other expression.
"""

from __future__ import annotations

from stackgen.spec import Runbook, RunbookQuery

COMPOSE = "docker compose -f generated/docker-compose.yml"

TTFT_P95_BY_AGENT = RunbookQuery(
    title="TTFT P95 by agent (is one agent slow, or all?)",
    promql=(
        "histogram_quantile(0.95, sum by (le, agent_type) (rate(agent_ttft_seconds_bucket[5m])))"
    ),
)
LLM_ERRORS = RunbookQuery(
    title="Failed LLM calls per second",
    promql='sum by (model) (rate(llm_requests_total{status="error"}[5m]))',
)
TOKENS_PER_SECOND = RunbookQuery(
    title="Completion tokens per second (LLM throughput)",
    promql='sum(rate(llm_tokens_total{kind="completion"}[5m]))',
)
IN_FLIGHT = RunbookQuery(title="Turns in flight", promql="sum(active_sessions)")
TOOL_ERROR_RATIO = RunbookQuery(
    title="Error ratio by tool",
    promql=(
        'sum by (tool_name) (rate(tool_executions_total{status="error"}[5m]))'
        " / sum by (tool_name) (rate(tool_executions_total[5m]))"
    ),
)
ERRORS_BY_AGENT = RunbookQuery(
    title="Failed turns per second by agent",
    promql='sum by (agent_type) (rate(agent_requests_total{status="error"}[5m]))',
)
LATENCY_P95_BY_AGENT = RunbookQuery(
    title="End-to-end P95 by agent and complexity",
    promql=(
        "histogram_quantile(0.95, sum by (le, agent_type, complexity) "
        "(rate(agent_latency_seconds_bucket[5m])))"
    ),
)
RAG_P95 = RunbookQuery(
    title="Knowledge-base retrieval P95",
    promql="histogram_quantile(0.95, sum by (le) (rate(rag_retrieval_seconds_bucket[5m])))",
)
SATISFACTION_24H = RunbookQuery(
    title="Share of thumbs up over 24 h",
    promql=(
        'sum(increase(user_feedback_total{rating="positive"}[1d]))'
        " / sum(increase(user_feedback_total[1d]))"
    ),
)

CHECK_LLM = (
    "Check llama-server on the GPU host: `curl -s http://localhost:8080/health` and "
    "`curl -s http://localhost:8080/metrics | grep -E 'requests_(processing|deferred)'`."
)
CHECK_GPU = "Check the GPU: `rocm-smi` (or `nvidia-smi`): memory full or another process on it?"
GENERATION_SPEED = RunbookQuery(
    title="llama-server tokens generated per second of generation time",
    promql=(
        'sum(rate(llamacpp:tokens_predicted_total{job="llm-server"}[5m]))'
        ' / sum(rate(llamacpp:tokens_predicted_seconds_total{job="llm-server"}[5m]))'
    ),
)
LLM_QUEUE = RunbookQuery(
    title="llama-server requests in progress and waiting for a slot",
    promql=(
        'llamacpp:requests_processing{job="llm-server"}'
        ' + llamacpp:requests_deferred{job="llm-server"}'
    ),
)
HOST_MEMORY = RunbookQuery(
    title="Share of the LLM host's memory in use",
    promql=(
        '1 - node_memory_MemAvailable_bytes{job="llm-host"}'
        ' / node_memory_MemTotal_bytes{job="llm-host"}'
    ),
)
GPU_MEMORY = RunbookQuery(
    title="Share of each GPU's VRAM in use",
    promql='gpu_used_vram{job="llm-gpu"} / gpu_total_vram{job="llm-gpu"}',
)
RESTART_LLM = (
    "If the GPU memory is full or the server is wedged, restart llama-server "
    "(`pkill llama-server`, then start it again with `--metrics`)."
)
OPEN_TRACE = (
    "Open a slow or failed turn's trace: the Conversation Audit dashboard links each turn's "
    "trace id to Jaeger, whose waterfall shows where the time went (router, tools, LLM)."
)
INCIDENT_LOG = "Write what happened and what fixed it in `docs/incidents/YYYY-MM-DD-<alert>.md`."

SPOOL_BACKLOG = RunbookQuery(
    title="Audit records waiting in the spool and in memory",
    promql="sum(audit_spool_rows) + sum(audit_queue_depth)",
)
SPOOL_FILL = RunbookQuery(
    title="Share of the spool's size limit in use",
    promql="audit_spool_bytes / audit_spool_limit_bytes",
)
AUDIT_WRITE_ERRORS = RunbookQuery(
    title="Failed audit batch writes per second",
    promql="sum(rate(audit_write_errors_total[5m]))",
)
AUDIT_WRITE_P95 = RunbookQuery(
    title="Audit batch write time P95",
    promql="histogram_quantile(0.95, sum by (le) (rate(audit_write_seconds_bucket[5m])))",
)
CHECK_POSTGRES = (
    f"Check PostgreSQL: `{COMPOSE} ps postgres` and "
    f"`{COMPOSE} logs --tail=200 postgres` (disk full? out of connections? restarting?)."
)

RUNBOOKS = (
    Runbook(
        anchor="high-ttft-p95",
        title="Time to first token above the 2 s SLA",
        meaning=(
            "One turn in twenty waits more than 2 s before the first word of the answer "
            "appears. Users notice; the TTFT SLA (P95 < 2 s) is being missed."
        ),
        causes=(
            "llama-server saturated: more concurrent turns than its parallel slots.",
            "GPU memory pressure or another process on the GPU.",
            "Long prompts: a knowledge-base retrieval returning too much context.",
            "The router or a tool call before the first token is slow.",
        ),
        steps=(
            CHECK_LLM,
            CHECK_GPU,
            RESTART_LLM,
            "If the LLM is fine, check the knowledge-base retrieval time (query below) and "
            "the tools the slow agent calls before answering.",
            OPEN_TRACE,
            INCIDENT_LOG,
        ),
        queries=(TTFT_P95_BY_AGENT, IN_FLIGHT, TOKENS_PER_SECOND, RAG_P95),
        escalation="If P95 TTFT stays above 5 s, CriticalLatency pages the on-call engineer.",
    ),
    Runbook(
        anchor="critical-latency",
        title="Time to first token above 5 s",
        meaning=(
            "Users wait more than 5 s for the first word of one answer in twenty: the "
            "assistant feels broken. This pages."
        ),
        causes=(
            "llama-server overloaded, swapping the model, or stuck.",
            "GPU failure or thermal throttling.",
            "A burst of traffic beyond the designed 8 concurrent users.",
        ),
        steps=(
            CHECK_LLM,
            CHECK_GPU,
            RESTART_LLM,
            "If the load is the cause (turns in flight above the designed capacity), shed "
            "load: ask users to retry later, or add a second llama-server.",
            OPEN_TRACE,
            INCIDENT_LOG,
        ),
        queries=(TTFT_P95_BY_AGENT, IN_FLIGHT, LLM_ERRORS),
        escalation="Page the on-call engineer at once; escalate if not resolved in 15 minutes.",
    ),
    Runbook(
        anchor="slow-simple-turns",
        title="Simple turns slower than 10 s",
        meaning=(
            "Turns with at most one tool call take more than 10 s end to end at P95: the "
            "simple-query SLA is missed."
        ),
        causes=(
            "Slow token generation (LLM throughput dropped).",
            "One slow tool (ERP, CRM, IT Ops or OA backend) or the knowledge base.",
            "Answers much longer than usual (prompt change).",
        ),
        steps=(
            "Find the agent: end-to-end P95 by agent and complexity (query below).",
            "Compare LLM throughput with last week: fewer tokens per second means the LLM.",
            "Otherwise look for a slow tool in a trace of a slow turn. " + OPEN_TRACE,
            INCIDENT_LOG,
        ),
        queries=(LATENCY_P95_BY_AGENT, TOKENS_PER_SECOND, RAG_P95),
        escalation="Ticket for the agent's owner; none at night.",
    ),
    Runbook(
        anchor="slow-complex-turns",
        title="Complex turns slower than 60 s",
        meaning=(
            "Turns with several tool calls take more than 60 s end to end at P95: the "
            "complex-query SLA is missed."
        ),
        causes=(
            "A backend system answering slowly to several calls in a row.",
            "The planner calling more tools than the question needs.",
            "Slow token generation across the several LLM calls of a turn.",
        ),
        steps=(
            "Find the agent: end-to-end P95 by agent and complexity (query below).",
            OPEN_TRACE,
            "Check the tool error ratio: retries after failures lengthen turns.",
            INCIDENT_LOG,
        ),
        queries=(LATENCY_P95_BY_AGENT, TOOL_ERROR_RATIO, TOKENS_PER_SECOND),
        escalation="Ticket for the agent's owner; none at night.",
    ),
    Runbook(
        anchor="high-error-rate",
        title="More than 5 % of chat turns fail",
        meaning="Users get an error instead of an answer for more than one turn in twenty.",
        causes=(
            "llama-server down or returning errors.",
            "The agent service cannot reach a dependency (LLM, embeddings).",
            "A deployment of the agent service with a bug.",
        ),
        steps=(
            "Which agents fail (query below)? All of them points at the LLM or the service.",
            CHECK_LLM,
            f"Read the agent service's log: `{COMPOSE} logs --tail=200 agent-api`.",
            "If a deployment just happened, roll it back.",
            "The audit log keeps each failed turn's error: in the Conversation Audit "
            "dashboard, filter the last hour.",
            INCIDENT_LOG,
        ),
        queries=(ERRORS_BY_AGENT, LLM_ERRORS),
        escalation="Page the on-call engineer; escalate if not resolved in 15 minutes.",
    ),
    Runbook(
        anchor="high-tool-error-rate",
        title="A tool fails more than 5 % of its calls",
        meaning=(
            "One tool (named in the alert's tool_name label) fails often: answers that need "
            "it are wrong or missing."
        ),
        causes=(
            "The backend behind the tool (ERP, CRM, IT Ops, OA) is down or slow.",
            "Credentials of the backend expired.",
            "The model calls the tool with arguments it rejects.",
        ),
        steps=(
            "Error ratio by tool (query below): one tool, or every tool of one backend?",
            "Check the backend the tool calls, and its credentials.",
            "Read failed calls in the audit log: `tool_calls` holds each call's error.",
            INCIDENT_LOG,
        ),
        queries=(TOOL_ERROR_RATIO,),
        escalation="Ticket for the backend's owner.",
    ),
    Runbook(
        anchor="low-user-satisfaction",
        title="User satisfaction below 70 %",
        meaning=(
            "Fewer than 70 % of rated answers got a thumbs up. Not an outage: a quality "
            "problem to review."
        ),
        causes=(
            "An agent answering wrongly after a prompt, model or knowledge-base change.",
            "The router sending questions to the wrong agent.",
            "Slow answers (users rate latency too).",
        ),
        steps=(
            "Not an immediate incident: schedule a review.",
            "Sample recent negative feedback: Conversation Audit dashboard, last 24 h, "
            "feedback negative; read the comments.",
            "Look for a pattern (one agent, one kind of question), not one-off bad answers.",
            "If there is a pattern, open an improvement ticket and plan the fix.",
        ),
        queries=(SATISFACTION_24H,),
        escalation="None: quality improvement, not an outage.",
    ),
    Runbook(
        anchor="service-down",
        title="A critical service is down",
        meaning=(
            "Prometheus cannot scrape a critical service (the job label names it): users "
            "may get no answer at all."
        ),
        causes=(
            "The container stopped or is restarting (crash, out of memory).",
            "llama-server or the embeddings server on the host stopped.",
            "A network or port change: Prometheus looks at the wrong address.",
        ),
        steps=(
            "Which service: the alert's job label (every instance of it is down).",
            f"Inside compose: `{COMPOSE} ps` and `{COMPOSE} logs --tail=200 <service>`.",
            f"Restart it if needed: `{COMPOSE} restart <service>`.",
            "For llm-server or embeddings: check the process on the GPU host and that it "
            "runs with `--metrics`.",
            "Prometheus' targets page (http://localhost:9090/targets) shows the scrape error.",
            "Tell users if the outage lasts (status page).",
        ),
        queries=(RunbookQuery(title="Targets down", promql="up == 0"),),
        escalation="Immediate; escalate if the outage lasts more than 5 minutes.",
    ),
    Runbook(
        anchor="collector-down",
        title="The OpenTelemetry collector is down",
        meaning=(
            "Prometheus cannot scrape the collector: traces (and OTLP metrics) are not "
            "collected. Chat is not affected: the agent service drops spans it cannot "
            "export and never waits for them."
        ),
        causes=(
            "The collector container stopped or is restarting (crash, out of memory: its "
            "memory_limiter refuses data first, so a crash is rare).",
            "A configuration it refuses after a change (it exits at start-up).",
        ),
        steps=(
            f"`{COMPOSE} ps otel-collector` and `{COMPOSE} logs --tail=200 otel-collector`.",
            "A configuration error names the key: fix the spec, `make generate`, redeploy "
            "(never edit generated/ by hand).",
            f"Restart it: `{COMPOSE} restart otel-collector`.",
            "Traces of the outage are lost; conversations are still in the audit log "
            "(/admin) with their trace ids.",
        ),
        queries=(
            RunbookQuery(
                title="Collector targets",
                promql='up{job=~"otel-collector|otel-collector-exporter"}',
            ),
        ),
        escalation="Business hours; it pages nobody, users are not affected.",
    ),
    Runbook(
        anchor="trace-export-failing",
        title="The collector drops spans (Jaeger unreachable)",
        meaning=(
            "The collector could not deliver batches of spans within a minute of retries "
            "and dropped them: those traces are missing from Jaeger. Chat is not affected."
        ),
        causes=(
            "Jaeger stopped or is restarting (its memory store starts empty).",
            "Jaeger refuses the spans (out of memory, a configuration change).",
        ),
        steps=(
            f"`{COMPOSE} ps jaeger` and `{COMPOSE} logs --tail=200 jaeger`.",
            f"Restart it: `{COMPOSE} restart jaeger` (in-memory traces are lost anyway).",
            f"The collector's log says why it drops: `{COMPOSE} logs --tail=200 otel-collector`.",
            "The alert clears 5 minutes after the last dropped batch.",
        ),
        queries=(
            RunbookQuery(
                title="Spans dropped per second, by exporter",
                promql="sum by (exporter) (rate(otelcol_exporter_send_failed_spans_total[5m]))",
            ),
            RunbookQuery(
                title="Spans delivered per second, by exporter",
                promql="sum by (exporter) (rate(otelcol_exporter_sent_spans_total[5m]))",
            ),
        ),
        escalation="Business hours; it pages nobody, users are not affected.",
    ),
    Runbook(
        anchor="high-memory-usage",
        title="Agent service memory above 90 % of its limit",
        meaning=(
            "The agent service uses more than 90 % of its memory limit: it will be killed "
            "when it reaches it."
        ),
        causes=(
            "A leak: memory that grows steadily with traffic and never returns.",
            "The audit queue growing because PostgreSQL is slow or down.",
            "Unusually large conversations or tool results.",
        ),
        steps=(
            "Is memory growing steadily (leak) or with load (query below)?",
            "Check PostgreSQL: a slow audit log makes the writer queue grow.",
            f"Restart the service in a quiet moment: `{COMPOSE} restart agent-api`.",
            INCIDENT_LOG,
        ),
        queries=(
            RunbookQuery(
                title="Resident memory of the agent service",
                promql='process_resident_memory_bytes{job="agent-api"}',
            ),
            IN_FLIGHT,
        ),
        escalation="Ticket; page if the service restarts from out-of-memory kills.",
    ),
    Runbook(
        anchor="high-concurrent-sessions",
        title="Approaching the concurrent session capacity",
        meaning=(
            "More turns are in flight than the 8 concurrent users the system is designed "
            "for: latency will rise."
        ),
        causes=("More users than planned.", "Turns taking longer, so more overlap."),
        steps=(
            "Check whether latency is already rising (TTFT P95).",
            "Plan capacity: a second llama-server or fewer parallel slots per user.",
        ),
        queries=(IN_FLIGHT, TTFT_P95_BY_AGENT),
        escalation="Ticket for capacity planning.",
    ),
    Runbook(
        anchor="system-overload",
        title="The system is overloaded",
        meaning=("More than 12 turns are in flight: beyond the safe limit, every user waits."),
        causes=(
            "A traffic burst (a team using the assistant at once, a script).",
            "The LLM slowed down, so turns pile up.",
        ),
        steps=(
            "Check the LLM first: if it is slow, the load is a symptom. " + CHECK_LLM,
            "If one client sends a burst, rate-limit it.",
            "Shed load until turns in flight fall below 8.",
            INCIDENT_LOG,
        ),
        queries=(IN_FLIGHT, TTFT_P95_BY_AGENT),
        escalation="Page the on-call engineer.",
    ),
    Runbook(
        anchor="slo-ttft",
        title="SLO: time to first token within 2 s",
        meaning=(
            "The TTFT error budget (5 % of turns may wait more than 2 s over 30 days) is "
            "being spent faster than it lasts. Pages mean it is gone within days."
        ),
        causes=("The causes of HighTTFTP95, sustained.",),
        steps=(
            "Open the SLO dashboard: how much budget is left, which window burns.",
            "Follow the HighTTFTP95 runbook (above) to find the cause.",
            "With less than 25 % of the budget left, freeze risky changes until it recovers.",
        ),
        queries=(TTFT_P95_BY_AGENT,),
        escalation="Pages: on-call engineer. Tickets: the team, next working day.",
    ),
    Runbook(
        anchor="slo-turn-latency",
        title="SLO: turns answered within their latency target",
        meaning=(
            "Simple turns (10 s) or complex turns (60 s) miss their latency target more "
            "often than the 5 % budget allows; the alert's slo label says which."
        ),
        causes=("The causes of SlowSimpleTurns or SlowComplexTurns, sustained.",),
        steps=(
            "Open the SLO dashboard: how much budget is left, which window burns.",
            "Follow the SlowSimpleTurns or SlowComplexTurns runbook to find the cause.",
            "With less than 25 % of the budget left, freeze risky changes until it recovers.",
        ),
        queries=(LATENCY_P95_BY_AGENT,),
        escalation="Pages: on-call engineer. Tickets: the team, next working day.",
    ),
    Runbook(
        anchor="slo-availability",
        title="SLO: chat turns without errors",
        meaning="More than 1 % of turns fail over the burn windows: the budget runs out.",
        causes=("The causes of HighErrorRate, at a lower but sustained rate.",),
        steps=(
            "Open the SLO dashboard: how much budget is left, which window burns.",
            "Follow the HighErrorRate runbook (above) to find the cause.",
        ),
        queries=(ERRORS_BY_AGENT, LLM_ERRORS),
        escalation="Pages: on-call engineer. Tickets: the team, next working day.",
    ),
    Runbook(
        anchor="slo-tool-success",
        title="SLO: tool calls that succeed",
        meaning="More than 5 % of tool calls fail over the burn windows.",
        causes=("The causes of HighToolErrorRate, sustained.",),
        steps=(
            "Open the SLO dashboard: how much budget is left, which window burns.",
            "Follow the HighToolErrorRate runbook (above) to find the failing tool.",
        ),
        queries=(TOOL_ERROR_RATIO,),
        escalation="Tickets: the backend's owner.",
    ),
    Runbook(
        anchor="slo-user-satisfaction",
        title="SLO: answers rated positively",
        meaning="Negative ratings use up the satisfaction budget faster than it lasts.",
        causes=("The causes of LowUserSatisfaction, sustained.",),
        steps=("Follow the LowUserSatisfaction runbook (above): review negative feedback.",),
        queries=(SATISFACTION_24H,),
        escalation="None: quality improvement, reviewed weekly.",
    ),
    Runbook(
        anchor="audit-database-unreachable",
        title="The audit database takes no writes",
        meaning=(
            "The agent service cannot write audit records to PostgreSQL. Nothing is lost "
            "yet: every answered turn is in the local spool and is replayed, in order and "
            "without duplicates, when the database returns. The admin pages and Grafana's "
            "audit panels show stale data meanwhile."
        ),
        causes=(
            "PostgreSQL is down, restarting or out of disk.",
            "The network path or credentials between the agent service and PostgreSQL.",
            "PostgreSQL refuses connections (max_connections reached).",
        ),
        steps=(
            CHECK_POSTGRES,
            "Check the agent service's log for the write error: "
            f"`{COMPOSE} logs --tail=200 agent-api | grep -i audit`.",
            "Watch the backlog (query below): it must fall to zero once the database is "
            "back; `/health/db` answers 200 again.",
            "If the outage will last, watch the spool's fill ratio (AuditSpoolFilling).",
        ),
        queries=(SPOOL_BACKLOG, AUDIT_WRITE_ERRORS, SPOOL_FILL),
        escalation="Page if the spool passes half its limit; the audit log is a legal record.",
    ),
    Runbook(
        anchor="audit-spool-filling",
        title="The audit spool is nearly full",
        meaning=(
            "The local spool holding audit records the database has not taken yet is close "
            "to `AUDIT_SPOOL_MAX_BYTES`. When it is full, new records are dropped."
        ),
        causes=(
            "A long database outage (AuditDatabaseUnreachable fired first).",
            "Writes slower than traffic (AuditWriteSlow).",
            "A spool limit too small for the traffic.",
        ),
        steps=(
            "Bring the database back first (the audit-database-unreachable runbook).",
            "If it cannot come back soon, give the spool more room: raise "
            "`AUDIT_SPOOL_MAX_BYTES` and free disk on the spool's volume, then restart the "
            "agent service (the spool is replayed at start).",
            "Never delete spool segments by hand: they are the only copy of those turns.",
        ),
        queries=(SPOOL_FILL, SPOOL_BACKLOG),
        escalation="Page the on-call engineer: records are about to be lost.",
    ),
    Runbook(
        anchor="audit-records-dropped",
        title="Audit records are being lost",
        meaning=(
            "Audit records were dropped (the alert's reason label says why): those turns "
            "are missing from the conversation audit for good."
        ),
        causes=(
            "The spool is full (reason spool_full) after a long database outage.",
            "The spool's disk failed or is read-only.",
        ),
        steps=(
            "Stop the loss first: bring the database back or give the spool room (the "
            "audit-spool-filling runbook).",
            "Read the agent service's log: every drop is logged with its reason.",
            "Record the period of the loss in the incident log: the audit is incomplete for it.",
            INCIDENT_LOG,
        ),
        queries=(
            RunbookQuery(
                title="Dropped records by reason over 1 h",
                promql="sum by (reason) (increase(audit_dropped_rows_total[1h]))",
            ),
            SPOOL_FILL,
        ),
        escalation="Page the on-call engineer at once.",
    ),
    Runbook(
        anchor="audit-rows-dead-lettered",
        title="The audit database refused records for good",
        meaning=(
            "The audit database refused some records for a reason no retry can fix (a "
            "data error or a constraint, not an outage: see the error class and SQLSTATE). "
            "The writer set them aside as dead letters, with the reason, and wrote the "
            "records after them: the log is not blocked, but these turns or ratings are "
            "missing from conversation_log until someone repairs them."
        ),
        causes=(
            "A value the schema does not take: too long for its column (SQLSTATE 22001), "
            "out of range (22003), refused by a CHECK or NOT NULL constraint (23514, 23502).",
            "A schema that no longer matches the service (42703 undefined column, 42P01 "
            "undefined table): a migration missing or rolled back.",
            "With destination file or log: the database refused the dead letter too.",
        ),
        steps=(
            "Read the dead letters: the Admin audit tab of /admin (admin role) lists the "
            "count and the latest, or `SELECT at, kind, message_id, error_class, sqlstate, "
            "error FROM audit_dead_letters ORDER BY at DESC LIMIT 20`.",
            "With destination file: read `dead-letters.jsonl` in the spool directory "
            f"(`{COMPOSE} exec agent-api tail /var/lib/bestbox/spool/dead-letters.jsonl`); "
            "the agent service's log names every refused record and its reason.",
            "Fix the cause (a migration, a column width, a validation in the API), then "
            "write the repaired records from their `record` JSON; leave the dead letters "
            "in place as the trace of what happened.",
            INCIDENT_LOG,
        ),
        queries=(
            RunbookQuery(
                title="Refused records by kind and destination over 1 h",
                promql=("sum by (kind, destination) (increase(audit_dead_letter_rows_total[1h]))"),
            ),
            AUDIT_WRITE_ERRORS,
        ),
        escalation="Ticket; page if records keep being refused (every turn may be affected).",
    ),
    Runbook(
        anchor="audit-write-slow",
        title="Audit batch writes are slow",
        meaning=(
            "Writing a batch of audit records takes more than a second at P95. Answers are "
            "not slowed (they wait for the local spool only), but the backlog grows."
        ),
        causes=(
            "PostgreSQL under load (a heavy report or Grafana query, vacuum, checkpoints).",
            "Slow disk on the database host.",
            "Lock contention on user_sessions (many turns of one session at once).",
        ),
        steps=(
            CHECK_POSTGRES,
            "Look for long queries: `SELECT pid, now() - query_start, query FROM "
            "pg_stat_activity WHERE state <> 'idle' ORDER BY 2 DESC`.",
            "Watch the backlog: if it keeps growing, treat it as an outage.",
        ),
        queries=(AUDIT_WRITE_P95, SPOOL_BACKLOG),
        escalation="Ticket; page if the spool starts filling.",
    ),
    Runbook(
        anchor="llm-generation-slow",
        title="llama-server generates under 20 tokens per second",
        meaning=(
            "While it is busy, llama-server generates fewer than 20 tokens per second of "
            "generation time: answers stream visibly slowly."
        ),
        causes=(
            "The model fell back to the CPU (GPU memory full, a driver problem).",
            "Another process on the GPU.",
            "More parallel slots than the GPU can serve at speed.",
        ),
        steps=(CHECK_LLM, CHECK_GPU, RESTART_LLM, INCIDENT_LOG),
        queries=(GENERATION_SPEED, LLM_QUEUE, GPU_MEMORY),
        escalation="Ticket; CriticalLatency pages if first tokens slow down too.",
    ),
    Runbook(
        anchor="llm-requests-deferred",
        title="Requests wait for a free llama-server slot",
        meaning=(
            "For 10 minutes requests have always been waiting: every parallel slot of "
            "llama-server is busy, so new turns queue before their first token."
        ),
        causes=(
            "More concurrent turns than llama-server's `--parallel` slots.",
            "Slow generation keeping each slot busy longer (see LLMGenerationSlow).",
        ),
        steps=(
            CHECK_LLM,
            "If the GPU has memory to spare, raise `--parallel` (each slot needs its own "
            "context); otherwise the load needs a second GPU host.",
            INCIDENT_LOG,
        ),
        queries=(LLM_QUEUE, IN_FLIGHT, GENERATION_SPEED),
        escalation="Ticket; HighConcurrentSessions and CriticalLatency follow if it grows.",
    ),
    Runbook(
        anchor="host-memory-high",
        title="The LLM host's memory is more than 90 % used",
        meaning=(
            "The host that runs llama-server and the stack has used more than 90 % of its "
            "memory for 10 minutes: the kernel will soon kill a process."
        ),
        causes=(
            "The model's weights or context partly in system memory (GPU offload too low).",
            "A leak in one of the containers (memory limits cap each of them).",
            "Another program on the host.",
        ),
        steps=(
            "Find the largest processes: `ps aux --sort=-rss | head`.",
            f"Check the containers: `docker stats --no-stream` (limits in {COMPOSE} config).",
            INCIDENT_LOG,
        ),
        queries=(HOST_MEMORY,),
        escalation="Ticket; page if a process was killed for memory.",
    ),
    Runbook(
        anchor="gpu-memory-high",
        title="GPU VRAM more than 90 % used",
        meaning=(
            "A GPU has used more than 90 % of its VRAM for 10 minutes: a longer context or "
            "more slots will not fit, and llama-server may fall back to slower paths."
        ),
        causes=(
            "A larger model or context size than the GPU was sized for.",
            "Another process holding VRAM.",
        ),
        steps=(CHECK_GPU, RESTART_LLM, INCIDENT_LOG),
        queries=(GPU_MEMORY, GENERATION_SPEED),
        escalation="Ticket.",
    ),
)
