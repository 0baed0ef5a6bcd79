"""How the audit log measures each spec SLO: which rows count (turns, or tool calls)
and which of them are good, as SQL conditions. Thresholds and objectives come from the
SLO objects; only the meaning of each catalog metric in audit columns is written here.
An SLO over a metric the audit log does not record gets no measure (Prometheus only)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from agent_service.reports.source import Dialect
from agent_service.telemetry.metrics import SIMPLE_TURN_MAX_TOOLS
from stackgen.spec import SLO, LatencySLI, QuerySLI

__all__ = ["AuditMeasure", "Unit", "audit_measure", "tool_count_sql"]

Unit = Literal["turns", "tool calls"]


@dataclass(frozen=True)
class AuditMeasure:
    unit: Unit
    total: str  # SQL condition: the row is an event of the SLI
    good: str  # SQL condition: the event is good


def tool_count_sql(dialect: Dialect) -> str:
    """The number of tool calls of a conversation_log row."""
    function = "jsonb_array_length" if dialect == "postgres" else "json_array_length"
    return f"{function}(tool_calls)"


def _literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _turn_filters(matchers: dict[str, str], dialect: Dialect) -> list[str] | None:
    """Conditions for the metric labels a turn row records; None when a label has no
    audit column (the SLO is then not measured from the audit log)."""
    conditions: list[str] = []
    for label, value in sorted(matchers.items()):
        if label == "agent_type":
            conditions.append(f"agent_type = {_literal(value)}")
        elif label == "complexity" and value in ("simple", "complex"):
            operator = "<=" if value == "simple" else ">"
            conditions.append(f"{tool_count_sql(dialect)} {operator} {SIMPLE_TURN_MAX_TOOLS}")
        else:
            return None
    return conditions


def _all(conditions: list[str]) -> str:
    return " AND ".join(f"({c})" for c in conditions) if conditions else "1 = 1"


def audit_measure(slo: SLO, dialect: Dialect) -> AuditMeasure | None:
    sli = slo.sli
    if isinstance(sli, QuerySLI):
        return None  # arbitrary PromQL: no audit-log measure to compare it with
    if isinstance(sli, LatencySLI):
        column = {"agent_ttft_seconds": "ttft_ms", "agent_latency_seconds": "latency_ms"}.get(
            sli.metric
        )
        filters = _turn_filters(sli.matchers, dialect)
        if column is None or filters is None:
            return None
        # A histogram bucket counts observations <= its bound, so <= here too.
        limit_ms = sli.threshold * 1000
        return AuditMeasure(
            "turns", _all([*filters, f"{column} IS NOT NULL"]), f"{column} <= {limit_ms!r}"
        )
    events = sli.events
    bad = sli.bad is not None
    if sli.metric == "agent_requests" and set(events) == {"status"}:
        filters = _turn_filters(sli.matchers, dialect)
        failed = (events["status"] == "error") == bad
        if filters is None or events["status"] not in ("error", "success"):
            return None
        # status="error" events are turns with an error; success ones have none.
        good = "error IS NULL" if failed else "error IS NOT NULL"
        return AuditMeasure("turns", _all(filters), good)
    if sli.metric == "tool_executions" and set(events) == {"status"} and not sli.matchers:
        if events["status"] not in ("error", "success"):
            return None
        failed = (events["status"] == "error") == bad
        return AuditMeasure(
            "tool calls", "1 = 1", "error IS NULL" if failed else "error IS NOT NULL"
        )
    if sli.metric == "user_feedback" and set(events) == {"rating"} and not sli.matchers:
        rating = events["rating"]
        if rating not in ("positive", "negative"):
            return None
        good_rating = rating if not bad else ("positive" if rating == "negative" else "negative")
        return AuditMeasure(
            "turns", "user_feedback IS NOT NULL", f"user_feedback = {_literal(good_rating)}"
        )
    return None
