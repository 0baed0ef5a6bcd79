"""The audit store on PostgreSQL, over an asyncpg pool opened on first use."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Sequence
from typing import Any

import asyncpg

from agent_service.store.base import (
    AuditItem,
    SessionDelta,
    StoreUnavailable,
    split_items,
    tool_calls_json,
    utc,
)
from agent_service.store.migrate import migrate_postgres

__all__ = ["PostgresStore"]

# Sessions first (the log references them), with nothing counted yet.
_ENSURE_SESSIONS = """
INSERT INTO user_sessions (session_id, user_id, started_at, last_active_at)
SELECT s.session_id, s.user_id, s.started_at, s.started_at
FROM unnest($1::text[], $2::text[], $3::timestamptz[]) AS s(session_id, user_id, started_at)
ON CONFLICT (session_id) DO NOTHING
"""

# One statement for the whole batch; RETURNING tells which rows are new.
_INSERT_TURNS = """
INSERT INTO conversation_log (
    message_id, session_id, user_id, timestamp, user_message, agent_response, agent_type,
    tool_calls, latency_ms, ttft_ms, prompt_tokens, completion_tokens, confidence, error,
    trace_id)
SELECT t.message_id, t.session_id, t.user_id, t.ts, t.user_message, t.agent_response,
       t.agent_type, t.tool_calls::jsonb, t.latency_ms, t.ttft_ms, t.prompt_tokens,
       t.completion_tokens, t.confidence, t.error, t.trace_id
FROM unnest($1::text[], $2::text[], $3::text[], $4::timestamptz[], $5::text[], $6::text[],
            $7::text[], $8::text[], $9::int[], $10::int[], $11::int[], $12::int[],
            $13::float8[], $14::text[], $15::text[])
     AS t(message_id, session_id, user_id, ts, user_message, agent_response, agent_type,
          tool_calls, latency_ms, ttft_ms, prompt_tokens, completion_tokens, confidence,
          error, trace_id)
ON CONFLICT (message_id) DO NOTHING
RETURNING message_id
"""

# Pre-aggregated per session: counts added, last activity kept at its maximum, agent
# counts merged key by key.
_COUNT_SESSIONS = """
UPDATE user_sessions AS s
SET total_messages = s.total_messages + d.n,
    last_active_at = GREATEST(s.last_active_at, d.last_at),
    started_at = LEAST(s.started_at, d.first_at),
    agents_used = (
        SELECT coalesce(jsonb_object_agg(k.key, k.total), '{}'::jsonb)
        FROM (
            SELECT e.key, sum(e.value::text::int) AS total
            FROM (SELECT * FROM jsonb_each(s.agents_used)
                  UNION ALL SELECT * FROM jsonb_each(d.agents::jsonb)) AS e
            GROUP BY e.key
        ) AS k
    )
FROM unnest($1::text[], $2::int[], $3::timestamptz[], $4::timestamptz[], $5::text[])
     AS d(session_id, n, first_at, last_at, agents)
WHERE s.session_id = d.session_id
"""

_FEEDBACK = """
UPDATE conversation_log
SET user_feedback = $2, feedback_comment = $3, feedback_at = $4
WHERE message_id = $1
"""

# What "the database is down or unreachable" looks like through asyncpg.
_DOWN = (
    OSError,
    TimeoutError,
    asyncpg.PostgresConnectionError,
    asyncpg.CannotConnectNowError,
    asyncpg.TooManyConnectionsError,
    asyncpg.InterfaceError,
)


class PostgresStore:
    def __init__(
        self,
        dsn: str,
        *,
        connect_timeout_s: float = 3.0,
        command_timeout_s: float = 10.0,
        max_connections: int = 4,
    ) -> None:
        self.dsn = dsn
        self.connect_timeout_s = connect_timeout_s
        self.command_timeout_s = command_timeout_s
        self.max_connections = max_connections
        self._pool: Any = None
        self._lock = asyncio.Lock()
        self._migrated = False

    async def open(self) -> Any:
        """The pool, created on first use; StoreUnavailable when it cannot connect."""
        if self._pool is not None:
            return self._pool
        async with self._lock:
            if self._pool is None:
                try:
                    self._pool = await asyncio.wait_for(
                        asyncpg.create_pool(
                            self.dsn,
                            min_size=1,
                            max_size=self.max_connections,
                            timeout=self.connect_timeout_s,
                            command_timeout=self.command_timeout_s,
                        ),
                        timeout=self.connect_timeout_s + 1,
                    )
                except (*_DOWN, asyncpg.PostgresError) as error:
                    raise StoreUnavailable(f"cannot connect to PostgreSQL: {error!r}") from error
        return self._pool

    def _acquire(self, pool: Any) -> Any:
        return pool.acquire(timeout=self.connect_timeout_s)

    async def migrate(self) -> None:
        pool = await self.open()
        async with self._acquire(pool) as connection:
            await migrate_postgres(connection)
        self._migrated = True

    async def write(self, items: Sequence[AuditItem]) -> None:
        turns, feedback = split_items(items)
        if not turns and not feedback:
            return
        if not self._migrated:
            await self.migrate()
        pool = await self.open()
        async with self._acquire(pool) as connection, connection.transaction():
            if turns:
                firsts = SessionDelta.aggregate(turns)
                await connection.execute(
                    _ENSURE_SESSIONS,
                    list(firsts),
                    [d.user_id for d in firsts.values()],
                    [d.first_at for d in firsts.values()],
                )
                # One pass over the rows, transposed into the 15 column arrays.
                columns = zip(
                    *(
                        (
                            t.message_id,
                            t.session_id,
                            t.user_id,
                            utc(t.timestamp),
                            t.user_message,
                            t.agent_response,
                            t.agent_type,
                            tool_calls_json(t),
                            t.latency_ms,
                            t.ttft_ms,
                            t.prompt_tokens,
                            t.completion_tokens,
                            t.confidence,
                            t.error,
                            t.trace_id,
                        )
                        for t in turns
                    ),
                    strict=True,
                )
                rows = await connection.fetch(_INSERT_TURNS, *(list(c) for c in columns))
                inserted = {row["message_id"] for row in rows}
                deltas = SessionDelta.aggregate([t for t in turns if t.message_id in inserted])
                if deltas:
                    await connection.execute(
                        _COUNT_SESSIONS,
                        list(deltas),
                        [d.messages for d in deltas.values()],
                        [d.first_at for d in deltas.values()],
                        [d.last_at for d in deltas.values()],
                        [json.dumps(d.agents) for d in deltas.values()],
                    )
            if feedback:
                await connection.executemany(
                    _FEEDBACK,
                    [(f.message_id, f.rating, f.comment, utc(f.at)) for f in feedback],
                )

    async def message_exists(self, message_id: str) -> bool:
        try:
            pool = await self.open()
            async with self._acquire(pool) as connection:
                found = await connection.fetchval(
                    "SELECT 1 FROM conversation_log WHERE message_id = $1", message_id
                )
        except _DOWN as error:
            raise StoreUnavailable(f"PostgreSQL unavailable: {error!r}") from error
        return found is not None

    async def ping(self) -> None:
        try:
            pool = await self.open()
            async with self._acquire(pool) as connection:
                await connection.fetchval("SELECT 1", timeout=self.connect_timeout_s)
        except StoreUnavailable:
            raise
        except (*_DOWN, asyncpg.PostgresError) as error:
            raise StoreUnavailable(f"PostgreSQL unavailable: {error!r}") from error

    async def close(self) -> None:
        pool, self._pool = self._pool, None
        if pool is not None:
            try:
                await asyncio.wait_for(pool.close(), timeout=self.connect_timeout_s)
            except (TimeoutError, OSError):
                pool.terminate()
