"""The figures of one period, computed in SQL on either backend.

Percentiles use the nearest-rank method, as PostgreSQL's ``percentile_disc``: the P-th
percentile of n values is the k-th smallest with k = ceil(P/100 * n). Turns belong to the
period of their timestamp (feedback counts for the turn it rates); sessions and users are
those with at least one turn in the period."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from agent_service.reports.measures import AuditMeasure, audit_measure, tool_count_sql
from agent_service.reports.period import Period
from agent_service.reports.source import AuditReader, Dialect
from agent_service.telemetry.metrics import SIMPLE_TURN_MAX_TOOLS
from stackgen.spec import SLO

__all__ = [
    "AgentUsage",
    "DayCount",
    "Latency",
    "PeriodFigures",
    "RatedTurn",
    "SloCount",
    "ToolUsage",
    "Totals",
    "collect",
]

IN_PERIOD = "timestamp >= :start AND timestamp < :end"
WORST_LIMIT = 10
USER_TEXT_LIMIT = 280
COMMENT_LIMIT = 500


def ratio(part: int, whole: int) -> float | None:
    return part / whole if whole else None


@dataclass(frozen=True)
class Totals:
    turns: int
    sessions: int
    users: int
    errors: int
    rated: int
    positive: int
    negative: int
    tool_calls: int
    tool_errors: int
    prompt_tokens: int
    completion_tokens: int

    @property
    def error_ratio(self) -> float | None:
        return ratio(self.errors, self.turns)

    @property
    def satisfaction(self) -> float | None:
        return ratio(self.positive, self.rated)

    @property
    def tool_error_ratio(self) -> float | None:
        return ratio(self.tool_errors, self.tool_calls)

    @property
    def messages_per_session(self) -> float | None:
        return ratio(self.turns, self.sessions)


@dataclass(frozen=True)
class Latency:
    """Nearest-rank percentiles in milliseconds (None without turns)."""

    p50_ms: int | None
    p95_ms: int | None
    ttft_p50_ms: int | None
    ttft_p95_ms: int | None
    simple_p95_ms: int | None
    complex_p95_ms: int | None


@dataclass(frozen=True)
class AgentUsage:
    agent: str
    turns: int
    errors: int
    positive: int
    negative: int


@dataclass(frozen=True)
class ToolUsage:
    name: str
    calls: int
    errors: int

    @property
    def error_ratio(self) -> float | None:
        return ratio(self.errors, self.calls)


@dataclass(frozen=True)
class DayCount:
    day: date
    turns: int
    errors: int


@dataclass(frozen=True)
class RatedTurn:
    """A negatively rated turn; texts truncated (and escaped when rendered)."""

    message_id: str
    session_id: str
    user_id: str
    at: datetime
    agent: str
    user_message: str
    agent_response: str
    comment: str | None
    latency_ms: int
    error: str | None
    trace_id: str | None


@dataclass(frozen=True)
class SloCount:
    """Events of an SLO in the audit log (None: the audit log does not record them)."""

    unit: str | None
    good: int
    total: int

    @property
    def ratio(self) -> float | None:
        return ratio(self.good, self.total)


@dataclass(frozen=True)
class PeriodFigures:
    period: Period
    totals: Totals
    latency: Latency
    agents: tuple[AgentUsage, ...]
    tools: tuple[ToolUsage, ...]
    days: tuple[DayCount, ...]
    worst: tuple[RatedTurn, ...]
    slos: dict[str, SloCount]


def _tool_rows(dialect: Dialect) -> str:
    """A derived table of the period's tool calls: (name, error)."""
    if dialect == "postgres":
        return (
            "(SELECT e.call->>'name' AS name, e.call->>'error' AS error "
            "FROM conversation_log CROSS JOIN LATERAL jsonb_array_elements(tool_calls) "
            f"AS e(call) WHERE {IN_PERIOD}) AS tool_call"
        )
    return (
        "(SELECT json_extract(e.value, '$.name') AS name, json_extract(e.value, '$.error') "
        f"AS error FROM conversation_log, json_each(tool_calls) AS e WHERE {IN_PERIOD}) "
        "AS tool_call"
    )


def _day(dialect: Dialect) -> str:
    if dialect == "postgres":
        return "to_char(timestamp AT TIME ZONE 'UTC', 'YYYY-MM-DD')"
    return "substr(timestamp, 1, 10)"


def _int(value: Any) -> int:
    return int(value or 0)


def _truncate(text: str | None, limit: int) -> str | None:
    if text is None or len(text) <= limit:
        return text
    return text[: limit - 1] + "…"


class _Query:
    def __init__(self, reader: AuditReader, period: Period) -> None:
        self.reader = reader
        self.params = {"start": reader.bound(period.start), "end": reader.bound(period.end)}

    async def rows(self, sql: str, **extra: object) -> list[dict[str, Any]]:
        return await self.reader.rows(sql, {**self.params, **extra})

    async def one(self, sql: str) -> dict[str, Any]:
        return (await self.rows(sql))[0]

    async def totals(self) -> Totals:
        row = await self.one(
            "SELECT count(*) AS turns, count(DISTINCT session_id) AS sessions, "
            "count(DISTINCT user_id) AS users, count(error) AS errors, "
            "count(user_feedback) AS rated, "
            "sum(CASE WHEN user_feedback = 'positive' THEN 1 ELSE 0 END) AS positive, "
            "sum(CASE WHEN user_feedback = 'negative' THEN 1 ELSE 0 END) AS negative, "
            "sum(prompt_tokens) AS prompt_tokens, sum(completion_tokens) AS completion_tokens "
            f"FROM conversation_log WHERE {IN_PERIOD}"
        )
        tools = await self.one(
            "SELECT count(*) AS calls, count(error) AS errors "
            f"FROM {_tool_rows(self.reader.dialect)}"
        )
        return Totals(
            turns=_int(row["turns"]),
            sessions=_int(row["sessions"]),
            users=_int(row["users"]),
            errors=_int(row["errors"]),
            rated=_int(row["rated"]),
            positive=_int(row["positive"]),
            negative=_int(row["negative"]),
            tool_calls=_int(tools["calls"]),
            tool_errors=_int(tools["errors"]),
            prompt_tokens=_int(row["prompt_tokens"]),
            completion_tokens=_int(row["completion_tokens"]),
        )

    async def percentile(
        self, column: str, fraction: float, condition: str = "1 = 1"
    ) -> int | None:
        where = f"{IN_PERIOD} AND {column} IS NOT NULL AND ({condition})"
        count = _int(
            (await self.one(f"SELECT count(*) AS n FROM conversation_log WHERE {where}"))["n"]
        )
        if count == 0:
            return None
        # ceil in binary floating point, exactly as percentile_disc computes its row.
        rank = math.ceil(fraction * count)
        rows = await self.rows(
            f"SELECT {column} AS value FROM conversation_log WHERE {where} "
            "ORDER BY value LIMIT 1 OFFSET :skip",
            skip=max(rank, 1) - 1,
        )
        return _int(rows[0]["value"])

    async def latency(self) -> Latency:
        tools = tool_count_sql(self.reader.dialect)
        return Latency(
            p50_ms=await self.percentile("latency_ms", 0.5),
            p95_ms=await self.percentile("latency_ms", 0.95),
            ttft_p50_ms=await self.percentile("ttft_ms", 0.5),
            ttft_p95_ms=await self.percentile("ttft_ms", 0.95),
            simple_p95_ms=await self.percentile(
                "latency_ms", 0.95, f"{tools} <= {SIMPLE_TURN_MAX_TOOLS}"
            ),
            complex_p95_ms=await self.percentile(
                "latency_ms", 0.95, f"{tools} > {SIMPLE_TURN_MAX_TOOLS}"
            ),
        )

    async def agents(self) -> tuple[AgentUsage, ...]:
        rows = await self.rows(
            "SELECT agent_type, count(*) AS turns, count(error) AS errors, "
            "sum(CASE WHEN user_feedback = 'positive' THEN 1 ELSE 0 END) AS positive, "
            "sum(CASE WHEN user_feedback = 'negative' THEN 1 ELSE 0 END) AS negative "
            f"FROM conversation_log WHERE {IN_PERIOD} "
            "GROUP BY agent_type ORDER BY turns DESC, agent_type"
        )
        return tuple(
            AgentUsage(
                str(r["agent_type"]),
                _int(r["turns"]),
                _int(r["errors"]),
                _int(r["positive"]),
                _int(r["negative"]),
            )
            for r in rows
        )

    async def tools(self) -> tuple[ToolUsage, ...]:
        rows = await self.rows(
            "SELECT coalesce(name, '(unnamed)') AS name, count(*) AS calls, "
            f"count(error) AS errors FROM {_tool_rows(self.reader.dialect)} "
            "GROUP BY coalesce(name, '(unnamed)')"
        )
        usage = [ToolUsage(str(r["name"]), _int(r["calls"]), _int(r["errors"])) for r in rows]
        # Worst first: error ratio, then volume.
        usage.sort(key=lambda t: (-(t.error_ratio or 0), -t.calls, t.name))
        return tuple(usage)

    async def days(self, period: Period) -> tuple[DayCount, ...]:
        day = _day(self.reader.dialect)
        rows = await self.rows(
            f"SELECT {day} AS day, count(*) AS turns, count(error) AS errors "
            f"FROM conversation_log WHERE {IN_PERIOD} GROUP BY {day}"
        )
        found = {str(r["day"]): r for r in rows}
        return tuple(
            DayCount(
                d,
                _int(found.get(d.isoformat(), {}).get("turns")),
                _int(found.get(d.isoformat(), {}).get("errors")),
            )
            for d in period.days()
        )

    async def worst(self) -> tuple[RatedTurn, ...]:
        rows = await self.rows(
            "SELECT message_id, session_id, user_id, timestamp, agent_type, user_message, "
            "agent_response, feedback_comment, latency_ms, error, trace_id "
            f"FROM conversation_log WHERE {IN_PERIOD} AND user_feedback = 'negative' "
            # Commented ratings first: they say what went wrong.
            "ORDER BY CASE WHEN coalesce(feedback_comment, '') = '' THEN 1 ELSE 0 END, "
            "timestamp DESC, message_id LIMIT :limit",
            limit=WORST_LIMIT,
        )
        return tuple(
            RatedTurn(
                message_id=str(r["message_id"]),
                session_id=str(r["session_id"]),
                user_id=str(r["user_id"]),
                at=_as_datetime(r["timestamp"]),
                agent=str(r["agent_type"]),
                user_message=_truncate(str(r["user_message"]), USER_TEXT_LIMIT) or "",
                agent_response=_truncate(str(r["agent_response"]), USER_TEXT_LIMIT) or "",
                comment=_truncate(r["feedback_comment"] or None, COMMENT_LIMIT),
                latency_ms=_int(r["latency_ms"]),
                error=_truncate(r["error"], USER_TEXT_LIMIT),
                trace_id=r["trace_id"],
            )
            for r in rows
        )

    async def slos(self, slos: Sequence[SLO]) -> dict[str, SloCount]:
        measures = {slo.name: audit_measure(slo, self.reader.dialect) for slo in slos}
        counts: dict[str, SloCount] = {
            name: SloCount(None, 0, 0) for name, m in measures.items() if m is None
        }
        for unit, table in (
            ("turns", f"conversation_log WHERE {IN_PERIOD}"),
            ("tool calls", _tool_rows(self.reader.dialect)),
        ):
            chosen = [(n, m) for n, m in measures.items() if m is not None and m.unit == unit]
            if chosen:
                counts.update(await self._slo_counts(unit, table, chosen))
        return {slo.name: counts[slo.name] for slo in slos}

    async def _slo_counts(
        self, unit: str, table: str, chosen: list[tuple[str, AuditMeasure]]
    ) -> dict[str, SloCount]:
        columns = ", ".join(
            f"sum(CASE WHEN {m.total} THEN 1 ELSE 0 END) AS total_{i}, "
            f"sum(CASE WHEN ({m.total}) AND ({m.good}) THEN 1 ELSE 0 END) AS good_{i}"
            for i, (_, m) in enumerate(chosen)
        )
        row = await self.one(f"SELECT {columns} FROM {table}")
        return {
            name: SloCount(unit, _int(row[f"good_{i}"]), _int(row[f"total_{i}"]))
            for i, (name, _) in enumerate(chosen)
        }


def _as_datetime(value: Any) -> datetime:
    if isinstance(value, datetime):
        return value
    return datetime.fromisoformat(str(value).replace("Z", "+00:00"))


async def collect(
    reader: AuditReader, period: Period, slos: Sequence[SLO], *, detail: bool = True
) -> PeriodFigures:
    """Every figure of ``period``; without ``detail`` (the comparison period) the
    breakdowns (agents, tools, days, worst turns) are left empty."""
    query = _Query(reader, period)
    totals = await query.totals()
    latency = await query.latency()
    slo_counts = await query.slos(slos)
    if not detail:
        return PeriodFigures(period, totals, latency, (), (), (), (), slo_counts)
    return PeriodFigures(
        period,
        totals,
        latency,
        await query.agents(),
        await query.tools(),
        await query.days(period),
        await query.worst(),
        slo_counts,
    )
