"""The four BestBox dashboards (system health, agent performance, user analytics,
conversation audit), from panel specs.

PromQL panels read the metric catalog; per-user and per-conversation panels read the
audit log in PostgreSQL (no user id is ever a metric label). Every threshold line comes
from an SLO or an alert object, so it moves when the SLA does.
"""

from __future__ import annotations

from pathlib import Path

from specs.bestbox.alerts import (
    AGENT_PERFORMANCE,
    CONVERSATION_AUDIT,
    GENERATION_FLOOR_TOKENS_PER_S,
    HOST_MEMORY_RATIO_LIMIT,
    SYSTEM_HEALTH,
    USER_ANALYTICS,
    critical_ttft,
    high_error_rate,
    high_memory,
    high_sessions,
    high_tool_error_rate,
    low_satisfaction,
    system_overload,
)
from specs.bestbox.metrics import AGENT_TYPES
from specs.bestbox.services import agent_api
from specs.bestbox.slos import satisfaction, tool_success, ttft
from stackgen.spec import (
    Dashboard,
    LatencySLI,
    Panel,
    PanelKind,
    PromQuery,
    SQLFormat,
    SQLQuery,
    Threshold,
    TraceLink,
    Variable,
    VariableKind,
    alert_threshold,
)

PROMETHEUS = "prometheus"
AUDIT = "audit-postgres"
JAEGER = "jaeger"
TAGS = ("bestbox",)

# The audit log's schema, as the service's migrations create it (in version order).
MIGRATIONS = Path(__file__).resolve().parents[2] / "agent_service/store/migrations/postgres"
AUDIT_SCHEMA = "\n".join(p.read_text(encoding="utf-8") for p in sorted(MIGRATIONS.glob("*.sql")))

# SLA and alert lines.
assert isinstance(ttft.sli, LatencySLI)
TTFT_SLA_SECONDS = ttft.sli.threshold
TTFT_CRITICAL_SECONDS = alert_threshold(critical_ttft)
ERROR_RATIO_LIMIT = alert_threshold(high_error_rate)
MEMORY_LIMIT_BYTES = (agent_api.memory_limit_bytes or 0) * alert_threshold(high_memory)
DESIGNED_SESSIONS = alert_threshold(high_sessions)
SAFE_SESSIONS = alert_threshold(system_overload)
SATISFACTION_FLOOR = alert_threshold(low_satisfaction)
SATISFACTION_OBJECTIVE = satisfaction.objective / 100
TOOL_SUCCESS_OBJECTIVE = tool_success.objective / 100
TOOL_ERROR_LIMIT = alert_threshold(high_tool_error_rate)

GOOD, WARN, BAD = "green", "orange", "red"


def _rising(warn: float, bad: float) -> tuple[Threshold, ...]:
    """Green, then orange from ``warn``, red from ``bad`` (higher is worse)."""
    return (
        Threshold(color=GOOD),
        Threshold(color=WARN, value=warn),
        Threshold(color=BAD, value=bad),
    )


def _falling(bad: float, good: float) -> tuple[Threshold, ...]:
    """Red below ``bad``, orange up to ``good``, green from it (higher is better)."""
    return (
        Threshold(color=BAD),
        Threshold(color=WARN, value=bad),
        Threshold(color=GOOD, value=good),
    )


# -- System Health ----------------------------------------------------------------------

system_health = Dashboard(
    uid=SYSTEM_HEALTH,
    name="system-health",
    title="BestBox: System Health",
    description="Service status, load, time to first token, request and error rates, memory.",
    tags=(*TAGS, "health"),
    time_from="6h",
    refresh="30s",
    panels=(
        Panel(
            title="Service status",
            kind=PanelKind.STAT,
            description="Each scraped service: Up when Prometheus scraped every instance.",
            datasource=PROMETHEUS,
            queries=(PromQuery(expr="min by (job) (up)", legend="{{job}}", instant=True),),
            mappings={"0": "Down", "1": "Up"},
            thresholds=(Threshold(color=BAD), Threshold(color=GOOD, value=1)),
            width=24,
            height=4,
        ),
        Panel(
            title="Active sessions",
            kind=PanelKind.GAUGE,
            description=(
                "Chat turns in flight now. Orange from the designed capacity "
                f"({DESIGNED_SESSIONS:g}), red from the safe limit ({SAFE_SESSIONS:g})."
            ),
            datasource=PROMETHEUS,
            queries=(PromQuery(expr="sum(active_sessions)", instant=True),),
            min=0,
            max=SAFE_SESSIONS * 1.5,
            thresholds=_rising(DESIGNED_SESSIONS, SAFE_SESSIONS),
            width=6,
        ),
        Panel(
            title="Time to first token",
            kind=PanelKind.TIMESERIES,
            description=(
                f"P50, P95 and P99 of the TTFT histogram. Lines: the SLA ({TTFT_SLA_SECONDS:g} s, "
                f"orange) and the critical alert ({TTFT_CRITICAL_SECONDS:g} s, red)."
            ),
            datasource=PROMETHEUS,
            queries=tuple(
                PromQuery(
                    expr=(
                        f"histogram_quantile({q}, sum by (le) "
                        "(rate(agent_ttft_seconds_bucket[$__rate_interval])))"
                    ),
                    legend=f"P{round(q * 100)}",
                )
                for q in (0.5, 0.95, 0.99)
            ),
            unit="s",
            thresholds=_rising(TTFT_SLA_SECONDS, TTFT_CRITICAL_SECONDS),
            threshold_line=True,
            width=18,
        ),
        Panel(
            title="Request rate by agent",
            kind=PanelKind.TIMESERIES,
            description="Chat turns per second, by the agent the router chose.",
            datasource=PROMETHEUS,
            queries=(
                PromQuery(
                    expr="sum by (agent_type) (rate(agent_requests_total[$__rate_interval]))",
                    legend="{{agent_type}}",
                ),
            ),
            unit="reqps",
            width=8,
        ),
        Panel(
            title="Error rate",
            kind=PanelKind.TIMESERIES,
            description=(
                "Share of chat turns that failed; the line is the HighErrorRate alert "
                f"({ERROR_RATIO_LIMIT:.0%})."
            ),
            datasource=PROMETHEUS,
            queries=(
                PromQuery(
                    expr=(
                        'sum(rate(agent_requests_total{status="error"}[$__rate_interval]))'
                        " / sum(rate(agent_requests_total[$__rate_interval]))"
                    ),
                    legend="failed turns",
                ),
            ),
            unit="percentunit",
            thresholds=(Threshold(color=GOOD), Threshold(color=BAD, value=ERROR_RATIO_LIMIT)),
            threshold_line=True,
            width=8,
        ),
        Panel(
            title="Memory",
            kind=PanelKind.TIMESERIES,
            description=(
                "Resident memory of the agent API; the line is the HighMemoryUsage alert "
                f"({alert_threshold(high_memory):.0%} of the service's memory limit)."
            ),
            datasource=PROMETHEUS,
            queries=(
                PromQuery(
                    expr='process_resident_memory_bytes{job="agent-api"}',
                    legend="{{instance}}",
                ),
            ),
            unit="bytes",
            thresholds=(Threshold(color=GOOD), Threshold(color=BAD, value=MEMORY_LIMIT_BYTES)),
            threshold_line=True,
            width=8,
        ),
        Panel(
            title="LLM server slots",
            kind=PanelKind.TIMESERIES,
            description=(
                "Requests llama-server is working on, and those waiting for a free slot "
                "(LLMRequestsDeferred when some always wait)."
            ),
            datasource=PROMETHEUS,
            queries=(
                PromQuery(
                    expr='sum(llamacpp:requests_processing{job="llm-server"})',
                    legend="processing",
                ),
                PromQuery(
                    expr='sum(llamacpp:requests_deferred{job="llm-server"})', legend="deferred"
                ),
            ),
            unit="short",
            width=12,
        ),
        Panel(
            title="LLM host memory",
            kind=PanelKind.TIMESERIES,
            description=(
                "Share of the host's RAM and of each GPU's VRAM in use; the line is "
                f"HostMemoryHigh's and GPUMemoryHigh's {HOST_MEMORY_RATIO_LIMIT:.0%}."
            ),
            datasource=PROMETHEUS,
            queries=(
                PromQuery(
                    expr=(
                        '1 - sum(node_memory_MemAvailable_bytes{job="llm-host"})'
                        ' / sum(node_memory_MemTotal_bytes{job="llm-host"})'
                    ),
                    legend="system RAM",
                ),
                PromQuery(
                    expr=('gpu_used_vram{job="llm-gpu"} / gpu_total_vram{job="llm-gpu"}'),
                    legend="GPU {{gpu_id}} VRAM",
                ),
            ),
            unit="percentunit",
            min=0,
            max=1,
            thresholds=(
                Threshold(color=GOOD),
                Threshold(color=BAD, value=HOST_MEMORY_RATIO_LIMIT),
            ),
            threshold_line=True,
            width=12,
        ),
    ),
)

# -- User Analytics ---------------------------------------------------------------------

user_analytics = Dashboard(
    uid=USER_ANALYTICS,
    name="user-analytics",
    title="BestBox: User Analytics",
    description=(
        "Sessions, users and satisfaction. Per-user figures come from the audit log in "
        "PostgreSQL, never from metric labels."
    ),
    tags=(*TAGS, "users"),
    time_from="24h",
    refresh="5m",
    panels=(
        Panel(
            title="Sessions (24h)",
            kind=PanelKind.STAT,
            description="Sessions started in the last 24 hours (audit log).",
            datasource=AUDIT,
            queries=(
                SQLQuery(
                    sql=(
                        "SELECT count(*) AS sessions FROM user_sessions "
                        "WHERE started_at > now() - interval '24 hours'"
                    )
                ),
            ),
            width=6,
            height=6,
        ),
        Panel(
            title="Unique users (24h)",
            kind=PanelKind.STAT,
            description="Distinct user ids that sent a message in the last 24 hours.",
            datasource=AUDIT,
            queries=(
                SQLQuery(
                    sql=(
                        "SELECT count(DISTINCT user_id) AS users FROM conversation_log "
                        "WHERE timestamp > now() - interval '24 hours'"
                    )
                ),
            ),
            width=6,
            height=6,
        ),
        Panel(
            title="User satisfaction",
            kind=PanelKind.GAUGE,
            description=(
                "Thumbs up among rated answers over the time range. Red under the "
                f"LowUserSatisfaction alert ({SATISFACTION_FLOOR:.0%}), green from the "
                f"SLO objective ({SATISFACTION_OBJECTIVE:.0%})."
            ),
            datasource=PROMETHEUS,
            queries=(
                PromQuery(
                    expr=(
                        'sum(increase(user_feedback_total{rating="positive"}[$__range]))'
                        " / sum(increase(user_feedback_total[$__range]))"
                    ),
                    instant=True,
                ),
            ),
            unit="percentunit",
            min=0,
            max=1,
            thresholds=_falling(SATISFACTION_FLOOR, SATISFACTION_OBJECTIVE),
            width=6,
            height=6,
        ),
        Panel(
            title="Agent usage distribution",
            kind=PanelKind.PIECHART,
            description="Chat turns per agent over the time range.",
            datasource=PROMETHEUS,
            queries=(
                PromQuery(
                    expr="sum by (agent_type) (increase(agent_requests_total[$__range]))",
                    legend="{{agent_type}}",
                    instant=True,
                ),
            ),
            width=6,
            height=6,
        ),
        Panel(
            title="Most active users",
            kind=PanelKind.TABLE,
            description="The ten users with the most messages in the time range.",
            datasource=AUDIT,
            queries=(
                SQLQuery(
                    sql=(
                        "SELECT user_id, count(*) AS messages, "
                        "count(DISTINCT session_id) AS sessions, max(timestamp) AS last_seen\n"
                        "FROM conversation_log\n"
                        "WHERE $__timeFilter(timestamp)\n"
                        "GROUP BY user_id\n"
                        "ORDER BY messages DESC\n"
                        "LIMIT 10"
                    )
                ),
            ),
            width=12,
        ),
        Panel(
            title="Session length trend",
            kind=PanelKind.TIMESERIES,
            description="Average messages per session, by the time sessions started.",
            datasource=AUDIT,
            queries=(
                SQLQuery(
                    sql=(
                        "SELECT $__timeGroupAlias(started_at, $__interval), "
                        'avg(total_messages) AS "messages per session"\n'
                        "FROM user_sessions\n"
                        "WHERE $__timeFilter(started_at)\n"
                        "GROUP BY 1\n"
                        "ORDER BY 1"
                    ),
                    format=SQLFormat.TIME_SERIES,
                ),
            ),
            width=12,
        ),
    ),
)

# -- Agent Performance ------------------------------------------------------------------

agent = Variable(
    name="agent",
    label="Agent",
    kind=VariableKind.CUSTOM,
    description="The agents the router chooses from (the catalog's agent_type values).",
    options=AGENT_TYPES,
    multi=True,
    include_all=True,
)

agent_performance = Dashboard(
    uid=AGENT_PERFORMANCE,
    name="agent-performance",
    title="BestBox: Agent Performance",
    description="Routing quality, tools, LLM throughput and latency by agent.",
    tags=(*TAGS, "agents"),
    time_from="6h",
    refresh="1m",
    variables=(agent,),
    panels=(
        Panel(
            title="Router accuracy (estimated)",
            kind=PanelKind.STAT,
            description=(
                "An estimate: nothing records whether a turn went to the right agent. "
                "Among turns with evidence (rated, or followed by another turn in the same "
                "session), the share that succeeded and was not rated thumbs down. A "
                "misrouted turn the user tolerated is not seen."
            ),
            datasource=AUDIT,
            queries=(
                SQLQuery(
                    sql=(
                        "SELECT avg(CASE WHEN error IS NULL AND user_feedback IS DISTINCT FROM "
                        "'negative' THEN 1.0 ELSE 0.0 END) AS accuracy\n"
                        "FROM (\n"
                        "  SELECT error, user_feedback,\n"
                        "    lead(timestamp) OVER (PARTITION BY session_id ORDER BY timestamp)"
                        " AS next_turn\n"
                        "  FROM conversation_log\n"
                        "  WHERE $__timeFilter(timestamp) AND agent_type IN ($agent)\n"
                        ") AS turns\n"
                        "WHERE user_feedback IS NOT NULL OR next_turn IS NOT NULL"
                    )
                ),
            ),
            unit="percentunit",
            decimals=1,
            # No SLA states a routing target: one colour, no judgement.
            thresholds=(Threshold(color="blue"),),
            width=6,
            height=6,
        ),
        Panel(
            title="Tool success rate",
            kind=PanelKind.STAT,
            description=(
                "Tool calls that succeeded over the time range; green from the tool-success "
                f"SLO objective ({TOOL_SUCCESS_OBJECTIVE:.0%}, also where HighToolErrorRate "
                f"fires for a single tool: {TOOL_ERROR_LIMIT:.0%} failures)."
            ),
            datasource=PROMETHEUS,
            queries=(
                PromQuery(
                    expr=(
                        'sum(increase(tool_executions_total{status="success"}[$__range]))'
                        " / sum(increase(tool_executions_total[$__range]))"
                    ),
                    instant=True,
                ),
            ),
            unit="percentunit",
            decimals=1,
            thresholds=(Threshold(color=BAD), Threshold(color=GOOD, value=TOOL_SUCCESS_OBJECTIVE)),
            width=6,
            height=6,
        ),
        Panel(
            title="Tokens generated per minute",
            kind=PanelKind.TIMESERIES,
            description="Completion tokens the LLM produced per minute, by model.",
            datasource=PROMETHEUS,
            queries=(
                PromQuery(
                    expr=(
                        'sum by (model) (rate(llm_tokens_total{kind="completion"}'
                        "[$__rate_interval])) * 60"
                    ),
                    legend="{{model}}",
                ),
            ),
            unit="short",
            width=12,
            height=6,
        ),
        Panel(
            title="LLM server throughput",
            kind=PanelKind.TIMESERIES,
            description="Tokens per second llama-server generated and read from prompts.",
            datasource=PROMETHEUS,
            queries=(
                PromQuery(
                    expr=(
                        'sum(rate(llamacpp:tokens_predicted_total{job="llm-server"}'
                        "[$__rate_interval]))"
                    ),
                    legend="generated",
                ),
                PromQuery(
                    expr=(
                        'sum(rate(llamacpp:prompt_tokens_total{job="llm-server"}'
                        "[$__rate_interval]))"
                    ),
                    legend="prompt",
                ),
            ),
            unit="short",
            width=12,
            height=6,
        ),
        Panel(
            title="Generation speed",
            kind=PanelKind.TIMESERIES,
            description=(
                "Tokens generated per second of generation time (empty while idle); the "
                f"line is LLMGenerationSlow's {GENERATION_FLOOR_TOKENS_PER_S} tokens/s."
            ),
            datasource=PROMETHEUS,
            queries=(
                PromQuery(
                    expr=(
                        'sum(rate(llamacpp:tokens_predicted_total{job="llm-server"}'
                        "[$__rate_interval]))"
                        ' / sum(rate(llamacpp:tokens_predicted_seconds_total{job="llm-server"}'
                        "[$__rate_interval]))"
                    ),
                    legend="tokens/s",
                ),
            ),
            unit="short",
            thresholds=(
                Threshold(color=BAD),
                Threshold(color=GOOD, value=GENERATION_FLOOR_TOKENS_PER_S),
            ),
            threshold_line=True,
            width=12,
            height=6,
        ),
        Panel(
            title="Tool execution frequency",
            kind=PanelKind.BARGAUGE,
            description="Tool calls over the time range, most used first.",
            datasource=PROMETHEUS,
            queries=(
                PromQuery(
                    expr=(
                        "sort_desc(sum by (tool_name) (increase(tool_executions_total[$__range])))"
                    ),
                    legend="{{tool_name}}",
                    instant=True,
                ),
            ),
            unit="short",
            width=8,
            height=10,
        ),
        Panel(
            title="Failed tool calls",
            kind=PanelKind.TABLE,
            description="The latest failed tool calls with their error, for debugging.",
            datasource=AUDIT,
            queries=(
                SQLQuery(
                    sql=(
                        "SELECT c.timestamp AS time, c.agent_type, call->>'name' AS tool,\n"
                        "  call->>'error' AS error, (call->>'latency_ms')::int AS latency_ms,"
                        " c.trace_id\n"
                        "FROM conversation_log AS c\n"
                        "  CROSS JOIN LATERAL jsonb_array_elements(c.tool_calls) AS call\n"
                        "WHERE $__timeFilter(c.timestamp) AND c.agent_type IN ($agent)\n"
                        "  AND call->>'error' IS NOT NULL\n"
                        "ORDER BY c.timestamp DESC\n"
                        "LIMIT 50"
                    )
                ),
            ),
            trace_link=TraceLink(column="trace_id", datasource=JAEGER),
            width=16,
            height=10,
        ),
        Panel(
            title="Agent response time",
            kind=PanelKind.HEATMAP,
            description=(
                "End-to-end latency distribution of turns, one heatmap per selected agent."
            ),
            datasource=PROMETHEUS,
            queries=(
                PromQuery(
                    expr=(
                        "sum by (le) (increase(agent_latency_seconds_bucket"
                        '{agent_type=~"$agent"}[$__rate_interval]))'
                    ),
                    legend="{{le}}",
                ),
            ),
            unit="s",
            repeat="agent",
            width=8,
        ),
    ),
)

# -- Conversation Audit -----------------------------------------------------------------

# Filters over the audit log: free text for the user, the agents found in the log, the
# rating; the time picker is the date range.
user_filter = Variable(
    name="user",
    label="User ID",
    kind=VariableKind.TEXTBOX,
    description="Exact user id; empty shows every user.",
)
agent_filter = Variable(
    name="agent",
    label="Agent",
    kind=VariableKind.QUERY,
    query="SELECT DISTINCT agent_type FROM conversation_log ORDER BY agent_type",
    datasource=AUDIT,
    multi=True,
    include_all=True,
)
feedback_filter = Variable(
    name="feedback",
    label="Feedback",
    kind=VariableKind.CUSTOM,
    options=("all", "positive", "negative", "unrated"),
    default="all",
)
USER_MATCHES = "('$user' = '' OR user_id = '$user')"
FEEDBACK_MATCHES = (
    "('$feedback' = 'all' OR user_feedback = '$feedback'"
    " OR ('$feedback' = 'unrated' AND user_feedback IS NULL))"
)

conversation_audit = Dashboard(
    uid=CONVERSATION_AUDIT,
    name="conversation-audit",
    title="BestBox: Conversation Audit",
    description=(
        "Searchable conversation history from the audit log (PostgreSQL only: the text is "
        "sensitive). A trace id opens the turn's trace in Jaeger."
    ),
    tags=(*TAGS, "audit"),
    time_from="24h",
    refresh=None,
    variables=(user_filter, agent_filter, feedback_filter),
    panels=(
        Panel(
            title="Recent conversations",
            kind=PanelKind.TABLE,
            description=(
                "The last 50 turns matching the filters. Message text is not here: it is "
                "read in /admin (admin role), under the turn's session. Click a row to open "
                "its trace in Jaeger."
            ),
            datasource=AUDIT,
            queries=(
                SQLQuery(
                    sql=(
                        "SELECT timestamp AS time, user_id, session_id, agent_type,\n"
                        "  latency_ms, confidence, user_feedback AS feedback, trace_id\n"
                        "FROM conversation_log\n"
                        f"WHERE $__timeFilter(timestamp) AND {USER_MATCHES}\n"
                        f"  AND agent_type IN ($agent) AND {FEEDBACK_MATCHES}\n"
                        "ORDER BY timestamp DESC\n"
                        "LIMIT 50"
                    )
                ),
            ),
            trace_link=TraceLink(column="trace_id", datasource=JAEGER),
            width=24,
            height=14,
        ),
        Panel(
            title="User session details",
            kind=PanelKind.TABLE,
            description="Per user: sessions, messages, messages per session, last seen.",
            datasource=AUDIT,
            queries=(
                SQLQuery(
                    sql=(
                        "SELECT user_id, count(*) AS sessions, sum(total_messages) AS messages,\n"
                        "  round(avg(total_messages), 1) AS messages_per_session,\n"
                        "  max(last_active_at) AS last_seen\n"
                        "FROM user_sessions\n"
                        f"WHERE $__timeFilter(last_active_at) AND {USER_MATCHES}\n"
                        "GROUP BY user_id\n"
                        "ORDER BY last_seen DESC"
                    )
                ),
            ),
            width=24,
            height=10,
        ),
    ),
)

DASHBOARDS = (system_health, user_analytics, agent_performance, conversation_audit)
