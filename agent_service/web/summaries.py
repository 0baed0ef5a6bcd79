"""Native summaries of the audit log for the admin tabs, in SQL on either backend:
sessions and unique users, satisfaction, latency and TTFT percentiles, agent mix, tool
error rate and the latest conversations, over a window ending at ``now``.

Percentiles are nearest-rank: the value at rank ceil(p * n) of the sorted values
(PostgreSQL's percentile_disc), computed the same way on both backends."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from agent_service.web.database import Database

__all__ = ["AgentCount", "RecentTurn", "Summary", "ToolStats", "summarize"]

WINDOW = timedelta(hours=24)
RECENT = 10


@dataclass(frozen=True)
class AgentCount:
    agent: str
    turns: int


@dataclass(frozen=True)
class ToolStats:
    tool: str
    calls: int
    errors: int


@dataclass(frozen=True)
class RecentTurn:
    message_id: str
    session_id: str
    at: datetime | None
    user_id: str
    agent: str
    latency_ms: int
    ttft_ms: int | None
    feedback: str | None
    error: str | None


@dataclass(frozen=True)
class Summary:
    since: datetime
    until: datetime
    turns: int
    sessions: int
    users: int
    errors: int
    positive: int
    negative: int
    latency_p50_ms: int | None
    latency_p95_ms: int | None
    ttft_p50_ms: int | None
    ttft_p95_ms: int | None
    agents: tuple[AgentCount, ...]
    tools: tuple[ToolStats, ...]
    recent: tuple[RecentTurn, ...]

    @property
    def satisfaction(self) -> float | None:
        """Positive share of rated turns; None when nothing was rated."""
        rated = self.positive + self.negative
        return self.positive / rated if rated else None

    @property
    def error_rate(self) -> float | None:
        return self.errors / self.turns if self.turns else None

    @property
    def tool_calls(self) -> int:
        return sum(t.calls for t in self.tools)

    @property
    def tool_errors(self) -> int:
        return sum(t.errors for t in self.tools)

    @property
    def tool_error_rate(self) -> float | None:
        return self.tool_errors / self.tool_calls if self.tool_calls else None


_IN_WINDOW = "timestamp >= ? AND timestamp <= ?"

_COUNTS = f"""
SELECT count(*) AS turns,
       count(DISTINCT session_id) AS sessions,
       count(DISTINCT user_id) AS users,
       coalesce(sum(CASE WHEN error IS NOT NULL THEN 1 ELSE 0 END), 0) AS errors,
       coalesce(sum(CASE WHEN user_feedback = 'positive' THEN 1 ELSE 0 END), 0) AS positive,
       coalesce(sum(CASE WHEN user_feedback = 'negative' THEN 1 ELSE 0 END), 0) AS negative
FROM conversation_log WHERE {_IN_WINDOW}
"""

_AGENTS = f"""
SELECT agent_type AS agent, count(*) AS turns FROM conversation_log WHERE {_IN_WINDOW}
GROUP BY agent_type ORDER BY turns DESC, agent_type
"""

# One row per tool call; a call failed when its "error" is not JSON null.
_TOOLS = {
    "postgres": f"""
SELECT c.value->>'name' AS tool, count(*) AS calls,
       count(*) FILTER (WHERE c.value->>'error' IS NOT NULL) AS errors
FROM conversation_log, jsonb_array_elements(tool_calls) AS c(value)
WHERE {_IN_WINDOW}
GROUP BY 1 ORDER BY calls DESC, tool
""",
    "sqlite": f"""
SELECT json_extract(c.value, '$.name') AS tool, count(*) AS calls,
       sum(CASE WHEN json_extract(c.value, '$.error') IS NOT NULL THEN 1 ELSE 0 END) AS errors
FROM conversation_log, json_each(conversation_log.tool_calls) AS c
WHERE {_IN_WINDOW}
GROUP BY 1 ORDER BY calls DESC, tool
""",
}

_RECENT = """
SELECT message_id, session_id, timestamp, user_id, agent_type, latency_ms, ttft_ms,
       user_feedback, error
FROM conversation_log ORDER BY timestamp DESC, id DESC LIMIT ?
"""


async def _percentile(
    db: Database, column: str, p: float, count: int, window: tuple[object, object]
) -> int | None:
    if count == 0:
        return None
    # ceil(p * count) in integers: 0.95 * 60 must be rank 57, not 57.000000001 -> 58.
    rank = max(1, -(-round(p * 10_000) * count // 10_000))
    rows = await db.fetch(
        f"SELECT {column} AS v FROM conversation_log "
        f"WHERE {_IN_WINDOW} AND {column} IS NOT NULL ORDER BY {column} LIMIT 1 OFFSET ?",
        (*window, rank - 1),
    )
    return int(rows[0]["v"]) if rows else None


async def _non_null(db: Database, column: str, window: tuple[object, object]) -> int:
    rows = await db.fetch(
        f"SELECT count({column}) AS n FROM conversation_log WHERE {_IN_WINDOW}", window
    )
    return int(rows[0]["n"])


async def summarize(db: Database, now: datetime, window: timedelta = WINDOW) -> Summary:
    since = now - window
    bounds = (db.param_time(since), db.param_time(now))
    counts = (await db.fetch(_COUNTS, bounds))[0]
    turns = int(counts["turns"])
    ttft_n = await _non_null(db, "ttft_ms", bounds)
    agents = await db.fetch(_AGENTS, bounds)
    tools = await db.fetch(_TOOLS[db.dialect], bounds)
    recent = await db.fetch(_RECENT, (RECENT,))
    return Summary(
        since=since,
        until=now,
        turns=turns,
        sessions=int(counts["sessions"]),
        users=int(counts["users"]),
        errors=int(counts["errors"]),
        positive=int(counts["positive"]),
        negative=int(counts["negative"]),
        latency_p50_ms=await _percentile(db, "latency_ms", 0.50, turns, bounds),
        latency_p95_ms=await _percentile(db, "latency_ms", 0.95, turns, bounds),
        ttft_p50_ms=await _percentile(db, "ttft_ms", 0.50, ttft_n, bounds),
        ttft_p95_ms=await _percentile(db, "ttft_ms", 0.95, ttft_n, bounds),
        agents=tuple(AgentCount(r["agent"], int(r["turns"])) for r in agents),
        tools=tuple(
            ToolStats(str(r["tool"]), int(r["calls"]), int(r["errors"] or 0)) for r in tools
        ),
        recent=tuple(
            RecentTurn(
                r["message_id"],
                r["session_id"],
                db.read_time(r["timestamp"]),
                r["user_id"],
                r["agent_type"],
                int(r["latency_ms"]),
                r["ttft_ms"],
                r["user_feedback"],
                r["error"],
            )
            for r in recent
        ),
    )
