"""Traces end to end: turns taken from the run's audit log (``conversation_log``, with
their trace ids), each fetched from the live Jaeger's query API and checked against its
row (stackgen.verify.traces). Spans reach Jaeger seconds after a turn (the service's
batch span processor, then the collector's batch processor), so the fetch is retried
until every trace is complete, bounded in time.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import asyncpg
import httpx

from stackgen.verify.traces import AuditTurn, TraceCheck, check_trace

__all__ = ["TRACE_TURNS", "TraceReport", "audit_turns", "check_traces", "spread"]

TRACE_TURNS = 40
# The service exports every 5 s, the collector batches for 5 s: a turn's spans are in
# Jaeger well within this after the traffic stopped.
FLUSH_TIMEOUT_S = 45.0

_TURNS_SQL = """
SELECT message_id, trace_id, user_id, user_message, agent_response, agent_type,
       tool_calls, prompt_tokens, completion_tokens
FROM conversation_log
WHERE trace_id IS NOT NULL
ORDER BY id
"""


@dataclass
class TraceReport:
    results: list[TraceCheck] = field(default_factory=list)
    error: str | None = None

    @property
    def checked(self) -> int:
        return len(self.results)

    @property
    def found(self) -> int:
        return sum(1 for r in self.results if r.found)

    @property
    def complete(self) -> int:
        return sum(1 for r in self.results if r.found and not r.problems)

    @property
    def leaking(self) -> int:
        return sum(1 for r in self.results if r.leaks)

    @property
    def passed(self) -> bool:
        return self.error is None and bool(self.results) and all(r.ok for r in self.results)

    def summary(self) -> str:
        return (
            f"traces: {self.checked} turns checked, {self.found} found in Jaeger, "
            f"{self.complete} with the expected span tree, {self.leaking} with message text"
        )


def _turn(row: Any) -> AuditTurn:
    calls = row["tool_calls"]
    calls = json.loads(calls) if isinstance(calls, str) else list(calls or [])
    return AuditTurn(
        message_id=row["message_id"],
        trace_id=row["trace_id"],
        user_id=row["user_id"],
        user_message=row["user_message"],
        agent_response=row["agent_response"],
        agent_type=row["agent_type"],
        tools=tuple(str(c["name"]) for c in calls),
        failed_tools=tuple(str(c["name"]) for c in calls if c.get("error")),
        prompt_tokens=int(row["prompt_tokens"]),
        completion_tokens=int(row["completion_tokens"]),
    )


async def audit_turns(dsn: str) -> list[AuditTurn]:
    """Every audited turn with a trace id, oldest first."""
    connection = await asyncpg.connect(dsn, timeout=5)
    try:
        rows = await connection.fetch(_TURNS_SQL)
    finally:
        await connection.close()
    return [_turn(row) for row in rows]


def spread(turns: Sequence[AuditTurn], count: int) -> list[AuditTurn]:
    """``count`` turns evenly spread over the run (all of them if fewer)."""
    if len(turns) <= count:
        return list(turns)
    step = len(turns) / count
    return [turns[int(i * step)] for i in range(count)]


def _fetch(client: httpx.Client, trace_id: str) -> dict[str, Any] | None:
    reply = client.get(f"/api/traces/{trace_id}")
    if reply.status_code == 404:
        return None
    reply.raise_for_status()
    document: dict[str, Any] = reply.json()
    return document


def check_traces(
    dsn: str,
    jaeger_url: str,
    sleep: Callable[[float], None],
    *,
    prefix: str,
    count: int = TRACE_TURNS,
    timeout_s: float = FLUSH_TIMEOUT_S,
    clock: Callable[[], float] | None = None,
) -> TraceReport:
    """Check ``count`` turns of the audit log at ``dsn`` against Jaeger at
    ``jaeger_url``; ``sleep`` waits between rounds (the stack's, so a closed stack
    ends the wait); ``prefix`` is the service's own span attribute prefix."""
    now = clock or time.monotonic
    report = TraceReport()
    try:
        turns = spread(asyncio.run(audit_turns(dsn)), count)
    except (OSError, asyncpg.PostgresError) as error:
        report.error = f"could not read the audit log: {error}"
        return report
    if not turns:
        report.error = "the audit log holds no turn with a trace id"
        return report
    results = {t.message_id: TraceCheck(t) for t in turns}
    pending = list(turns)
    deadline = now() + timeout_s
    with httpx.Client(base_url=jaeger_url, timeout=5) as client:
        while pending:
            still = []
            for turn in pending:
                try:
                    result = check_trace(turn, _fetch(client, turn.trace_id), prefix=prefix)
                except (httpx.HTTPError, ValueError) as error:
                    result = TraceCheck(turn, problems=[f"Jaeger query failed: {error}"])
                results[turn.message_id] = result
                # A complete tree is final (its leaks too); a partial one may still grow.
                if not (result.found and not result.problems):
                    still.append(turn)
            pending = still
            if not pending or now() >= deadline:
                break
            sleep(1.0)
    report.results = [results[t.message_id] for t in turns]
    return report
