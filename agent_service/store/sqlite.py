"""The audit store on SQLite (the embedded default): the stdlib driver on one connection,
used from a worker thread, in WAL mode."""

from __future__ import annotations

import asyncio
import json
import sqlite3
import time
from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

from agent_service.domain import AlertRecord, FeedbackRecord, TurnRecord
from agent_service.store.base import (
    ALERT_COLUMNS,
    AuditItem,
    SessionDelta,
    StoreUnavailable,
    alert_row,
    merge_counts,
    split_items,
    turn_row,
    utc,
)
from agent_service.store.deadletter import DEAD_LETTER_COLUMNS, DeadLetter, dead_letter_row
from agent_service.store.escaping import escape
from agent_service.store.migrate import migrate_sqlite

__all__ = ["SqliteStore", "iso"]

T = TypeVar("T")

_INSERT_TURN = """
INSERT INTO conversation_log (
    message_id, session_id, user_id, timestamp, user_message, agent_response, agent_type,
    tool_calls, latency_ms, ttft_ms, prompt_tokens, completion_tokens, confidence, error,
    trace_id)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (message_id) DO NOTHING
"""

_INSERT_SESSION = """
INSERT INTO user_sessions (session_id, user_id, started_at, last_active_at, total_messages,
                           agents_used)
VALUES (?, ?, ?, ?, ?, ?)
"""

_COUNT_SESSION = """
UPDATE user_sessions
SET total_messages = total_messages + ?, last_active_at = max(last_active_at, ?),
    started_at = min(started_at, ?), agents_used = ?
WHERE session_id = ?
"""

_FEEDBACK = """
UPDATE conversation_log SET user_feedback = ?, feedback_comment = ?, feedback_at = ?
WHERE message_id = ?
"""


_INSERT_ALERT = (
    f"INSERT INTO alert_notifications ({ALERT_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)

_INSERT_DEAD_LETTER = (
    f"INSERT INTO audit_dead_letters ({DEAD_LETTER_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?) "
    "ON CONFLICT (fingerprint) DO NOTHING"
)


def iso(moment: datetime) -> str:
    """ISO-8601 UTC with milliseconds, as the schema's defaults write it (sorts as text)."""
    return utc(moment).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


class SqliteStore:
    def __init__(self, path: str | Path, *, busy_timeout_s: float = 5.0) -> None:
        self.path = Path(path)
        self.busy_timeout_s = busy_timeout_s
        self._connection: sqlite3.Connection | None = None
        self._lock = asyncio.Lock()  # one connection: one thread uses it at a time
        self._migrated = False

    def _connect(self) -> sqlite3.Connection:
        if self._connection is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            connection = sqlite3.connect(
                self.path,
                timeout=self.busy_timeout_s,
                isolation_level=None,  # autocommit; transactions are explicit
                check_same_thread=False,
            )
            self._set_wal(connection)
            connection.execute("PRAGMA synchronous=NORMAL")
            connection.execute("PRAGMA foreign_keys=ON")
            self._connection = connection
        return self._connection

    def _set_wal(self, connection: sqlite3.Connection) -> None:
        # Switching a fresh file to WAL ignores the busy timeout: retry while another
        # connection holds the lock.
        deadline = time.monotonic() + self.busy_timeout_s
        while True:
            try:
                connection.execute("PRAGMA journal_mode=WAL")
                return
            except sqlite3.OperationalError as error:
                if "locked" not in str(error) or time.monotonic() > deadline:
                    raise
                time.sleep(0.01)

    async def _run(self, work: Callable[[sqlite3.Connection], T]) -> T:
        async with self._lock:
            return await asyncio.to_thread(lambda: work(self._connect()))

    async def open(self) -> None:
        await self._run(lambda connection: None)

    async def migrate(self) -> None:
        await self._run(migrate_sqlite)
        self._migrated = True

    async def write(self, items: Sequence[AuditItem]) -> None:
        turns, feedback = split_items(items)
        if not turns and not feedback:
            return
        if not self._migrated:
            await self.migrate()
        await self._run(lambda connection: _write(connection, turns, feedback))

    async def message_exists(self, message_id: str) -> bool:
        def exists(connection: sqlite3.Connection) -> bool:
            row = connection.execute(
                "SELECT 1 FROM conversation_log WHERE message_id = ?", (escape(message_id),)
            ).fetchone()
            return row is not None

        try:
            return await self._run(exists)
        except sqlite3.OperationalError as error:
            raise StoreUnavailable(f"SQLite unavailable: {error}") from error

    async def dead_letter(self, letters: Sequence[DeadLetter]) -> None:
        if not letters:
            return
        rows = [dead_letter_row(letter, iso) for letter in letters]
        if not self._migrated:
            await self.migrate()
        await self._run(lambda connection: _insert_all(connection, _INSERT_DEAD_LETTER, rows))

    async def record_alerts(self, alerts: Sequence[AlertRecord]) -> None:
        if not alerts:
            return
        rows = [alert_row(a, iso) for a in alerts]
        try:
            if not self._migrated:
                await self.migrate()
            await self._run(lambda connection: _insert_all(connection, _INSERT_ALERT, rows))
        except (sqlite3.Error, OSError) as error:
            raise StoreUnavailable(f"SQLite unavailable: {error}") from error

    async def ping(self) -> None:
        try:
            await self._run(lambda connection: connection.execute("SELECT 1").fetchone())
        except (sqlite3.Error, OSError) as error:
            raise StoreUnavailable(f"SQLite unavailable: {error}") from error

    async def close(self) -> None:
        async with self._lock:
            connection, self._connection = self._connection, None
            if connection is not None:
                await asyncio.to_thread(connection.close)


def _insert_all(connection: sqlite3.Connection, sql: str, rows: Sequence[Any]) -> None:
    """Every row in one transaction, or none."""
    connection.execute("BEGIN IMMEDIATE")
    try:
        connection.executemany(sql, rows)
        connection.execute("COMMIT")
    except BaseException:
        if connection.in_transaction:
            connection.execute("ROLLBACK")
        raise


def _write(
    connection: sqlite3.Connection, turns: list[TurnRecord], feedback: list[FeedbackRecord]
) -> None:
    # IMMEDIATE takes the write lock up front, so "which rows are new" cannot race.
    connection.execute("BEGIN IMMEDIATE")
    try:
        if turns:
            _write_turns(connection, turns)
        if feedback:
            connection.executemany(
                _FEEDBACK, [(f.rating, f.comment, iso(f.at), f.message_id) for f in feedback]
            )
        connection.execute("COMMIT")
    except BaseException:
        if connection.in_transaction:
            connection.execute("ROLLBACK")
        raise


def _in_chunks(values: list[str], size: int = 500) -> list[list[str]]:
    return [values[i : i + size] for i in range(0, len(values), size)]


def _write_turns(connection: sqlite3.Connection, turns: list[TurnRecord]) -> None:
    existing: set[str] = set()
    for chunk in _in_chunks([t.message_id for t in turns]):
        marks = ",".join("?" * len(chunk))
        sql = f"SELECT message_id FROM conversation_log WHERE message_id IN ({marks})"
        existing.update(row[0] for row in connection.execute(sql, chunk))
    new = [t for t in turns if t.message_id not in existing]
    if not new:
        return
    deltas = SessionDelta.aggregate(new)
    known: dict[str, dict[str, int]] = {}
    for chunk in _in_chunks(list(deltas)):
        marks = ",".join("?" * len(chunk))
        sql = f"SELECT session_id, agents_used FROM user_sessions WHERE session_id IN ({marks})"
        known.update((row[0], json.loads(row[1])) for row in connection.execute(sql, chunk))
    connection.executemany(
        _INSERT_SESSION,
        [
            (sid, d.user_id, iso(d.first_at), iso(d.last_at), d.messages, json.dumps(d.agents))
            for sid, d in deltas.items()
            if sid not in known
        ],
    )
    connection.executemany(
        _COUNT_SESSION,
        [
            (
                d.messages,
                iso(d.last_at),
                iso(d.first_at),
                json.dumps(merge_counts(known[sid], d.agents)),
                sid,
            )
            for sid, d in deltas.items()
            if sid in known
        ],
    )
    connection.executemany(
        _INSERT_TURN,
        [turn_row(t, iso) for t in new],
    )
