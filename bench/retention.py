"""Audit retention: the purge of a month past the retention, as the service does it
(``drop_expired_partitions``): the month's partition detached (the only step that
locks the log), then its table dropped; for months holding 10,000, 100,000 and
1,000,000 rows, each step timed, beside a row-by-row DELETE of a month of 1,000,000
rows and the VACUUM that reclaims its space, for comparison. The rows are filled in by
the server itself (short text: the purge reads no row), in a scratch database dropped
afterwards.
"""

from __future__ import annotations

import asyncio
import time
from datetime import timedelta
from typing import Any

import asyncpg

from agent_service.store.migrate import migrate_postgres
from agent_service.store.partitions import (
    Month,
    create_partitions,
    detach_expired_partitions,
    drop_detached_partitions,
)
from bench.common import load_average, scratch_database

RETENTION_DAYS = 365
_SESSIONS = 1_000

_FILL = """
INSERT INTO conversation_log (message_id, session_id, user_id, timestamp, user_message,
    agent_response, agent_type, tool_calls, latency_ms)
SELECT $1 || '-' || g, 'session-' || g % $4, 'user-' || g % 500,
       $2::timestamptz + (g * $3::float8) * interval '1 second',
       'What is the status of invoice INV-1001?', 'Paid in full.', 'erp', '[]', 800 + g % 300
FROM generate_series(0, $5 - 1) AS g
"""


async def _fill(connection: Any, month: Month, rows: int) -> None:
    seconds = (month.end - month.start).total_seconds() / rows
    await connection.execute(_FILL, month.name, month.start, seconds, _SESSIONS, rows)


async def _measure(database_url: str, sizes: tuple[int, ...]) -> dict[str, float]:
    connection = await asyncpg.connect(database_url, timeout=10, command_timeout=3600)
    try:
        await migrate_postgres(connection)
        await connection.execute(
            "INSERT INTO user_sessions (session_id, user_id) "
            "SELECT 'session-' || g, 'user-' || g FROM generate_series(0, $1 - 1) AS g",
            _SESSIONS,
        )
        months = Month(2024, 1).ahead(len(sizes))
        purged, deleted = months[: len(sizes)], months[len(sizes)]
        await create_partitions(connection, months)
        for month, rows in zip(purged, sizes, strict=True):
            await _fill(connection, month, rows)
        await _fill(connection, deleted, sizes[-1])
        await connection.execute("VACUUM ANALYZE conversation_log")
        await connection.execute("CHECKPOINT")
        figures: dict[str, float] = {}
        for month, rows in zip(purged, sizes, strict=True):
            # The day the month passes the retention: it, and only it, is dropped.
            now = month.end + timedelta(days=RETENTION_DAYS)
            figures[f"bytes {rows}"] = await connection.fetchval(
                "SELECT pg_total_relation_size($1::regclass)", month.name
            )
            started = time.perf_counter()
            detached = await detach_expired_partitions(connection, now, RETENTION_DAYS)
            figures[f"detach {rows}"] = time.perf_counter() - started
            assert detached == [month], detached
            started = time.perf_counter()
            assert await drop_detached_partitions(connection) == 1
            figures[f"drop {rows}"] = time.perf_counter() - started
        started = time.perf_counter()
        await connection.execute(
            "DELETE FROM conversation_log WHERE timestamp >= $1 AND timestamp < $2",
            deleted.start,
            deleted.end,
        )
        figures["delete"] = time.perf_counter() - started
        started = time.perf_counter()
        await connection.execute("VACUUM conversation_log")
        figures["vacuum"] = time.perf_counter() - started
        left = await connection.fetchval("SELECT count(*) FROM conversation_log")
        assert left == 0, left
    finally:
        await connection.close()
    return figures


def measure(sizes: tuple[int, ...] = (10_000, 100_000, 1_000_000)) -> dict[str, float]:
    load = load_average()
    with scratch_database() as url:
        figures = asyncio.run(_measure(url, sizes))
    print(f"\n## Audit retention: purging a month past the retention (load average {load})")
    print(
        "   the service's purge: the month detached (the only step that locks the log), "
        "then its table dropped (its files freed, nothing else locked)"
    )
    for rows in sizes:
        print(
            f"   a month of {rows:>9,} rows ({figures[f'bytes {rows}'] / 2**20:5.0f} MiB): "
            f"detach {figures[f'detach {rows}'] * 1000:7.1f} ms, "
            f"drop {figures[f'drop {rows}'] * 1000:7.1f} ms"
        )
    for step in ("detach", "drop"):
        ratio = figures[f"{step} {sizes[-1]}"] / figures[f"{step} {sizes[0]}"]
        print(f"   {step}, {sizes[-1]:,} rows / {sizes[0]:,} rows: {ratio:.2f}")
    print(
        f"   for comparison, a month of {sizes[-1]:,} rows deleted row by row: DELETE "
        f"{figures['delete'] * 1000:,.0f} ms, then the VACUUM that reclaims it "
        f"{figures['vacuum'] * 1000:,.0f} ms"
    )
    return figures
