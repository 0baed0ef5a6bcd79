"""The audit store on both backends (a real PostgreSQL on 127.0.0.1 and a SQLite file)
and the background writer over them."""

from __future__ import annotations

import asyncio
import json
import sqlite3
import time
import uuid
from collections.abc import AsyncIterator, Iterator, Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from agent_service.domain import AlertRecord, FeedbackRecord, ToolCall, TurnRecord
from agent_service.store import (
    AuditItem,
    AuditStore,
    AuditWriter,
    PostgresStore,
    SqliteStore,
    StoreUnavailable,
    open_store,
)
from agent_service.store.base import turn_row, utc
from agent_service.store.postgres import EarlierWriteFailed
from tests.agent_service.databases import scratch_postgres

T0 = datetime(2026, 1, 2, 3, 4, 5, 678000, tzinfo=UTC)


@pytest.fixture(scope="module")
def pg_dsn() -> Iterator[str]:
    """One fresh database for this module (tests use unique ids, so they can share it)."""
    with scratch_postgres("store_test_") as url:
        yield url


@pytest.fixture(params=["sqlite", "postgres"])
async def store(
    request: pytest.FixtureRequest, tmp_path: Path
) -> AsyncIterator[PostgresStore | SqliteStore]:
    opened: PostgresStore | SqliteStore
    if request.param == "sqlite":
        opened = SqliteStore(tmp_path / "audit.sqlite3")
    else:
        opened = PostgresStore(request.getfixturevalue("pg_dsn"))
    await opened.migrate()
    try:
        yield opened
    finally:
        await opened.close()


async def rows(store: AuditStore, sql: str, *args: Any) -> list[dict[str, Any]]:
    """Plain SQL reads (``$1`` placeholders are rewritten to ``?`` for SQLite); JSON
    columns decoded, times as aware datetimes."""
    if isinstance(store, SqliteStore):
        for index in range(len(args), 0, -1):
            sql = sql.replace(f"${index}", "?")
        with sqlite3.connect(store.path) as connection:
            connection.row_factory = sqlite3.Row
            found = [dict(row) for row in connection.execute(sql, args)]
    else:
        assert isinstance(store, PostgresStore)
        connection = await asyncpg.connect(store.dsn, timeout=5)
        try:
            found = [dict(row) for row in await connection.fetch(sql, *args)]
        finally:
            await connection.close()
    return [{key: _decoded(key, value) for key, value in row.items()} for row in found]


def _decoded(key: str, value: Any) -> Any:
    if key in {"tool_calls", "agents_used", "metadata"} and isinstance(value, str):
        return json.loads(value)
    if key in {"timestamp", "last_active_at", "started_at", "feedback_at"} and isinstance(
        value, str
    ):
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    return value


def turn(
    session_id: str,
    n: int = 0,
    *,
    agent: str = "erp",
    message_id: str | None = None,
    tool_calls: tuple[ToolCall, ...] = (),
    error: str | None = None,
) -> TurnRecord:
    return TurnRecord(
        message_id=message_id or uuid.uuid4().hex,
        session_id=session_id,
        user_id="user-1",
        timestamp=T0 + timedelta(seconds=n),
        user_message=f"question {n}",
        agent_response=f"answer {n}",
        agent_type=agent,
        tool_calls=tool_calls,
        latency_ms=100 + n,
        ttft_ms=None if error else 20 + n,
        prompt_tokens=10 + n,
        completion_tokens=5 + n,
        confidence=0.75,
        error=error,
        trace_id="ab" * 16,
    )


def new_session() -> str:
    return "s-" + uuid.uuid4().hex[:16]


# -- migrations -----------------------------------------------------------------------


async def test_migrate_is_idempotent(store: AuditStore) -> None:
    await store.migrate()
    await store.migrate()
    applied = await rows(store, "SELECT version, name FROM schema_migrations ORDER BY version")
    assert applied == [
        {"version": 1, "name": "audit"},
        {"version": 2, "name": "admin_audit"},
        {"version": 3, "name": "alert_notifications"},
        {"version": 4, "name": "audit_dead_letters"},
        {"version": 5, "name": "admin_audit_append_only"},
        {"version": 6, "name": "admin_session_revocations"},
        *(
            [
                {"version": 7, "name": "conversation_log_monthly"},
                {"version": 8, "name": "conversation_log_session_check"},
                {"version": 9, "name": "user_sessions_fillfactor"},
            ]
            * isinstance(store, PostgresStore)
        ),
    ]


async def test_concurrent_migrations_on_a_fresh_postgres_database() -> None:
    with scratch_postgres("store_test_") as url:
        stores = [PostgresStore(url) for _ in range(3)]
        try:
            await asyncio.gather(*(s.migrate() for s in stores))
            applied = await rows(
                stores[0], "SELECT version FROM schema_migrations ORDER BY version"
            )
            assert applied == [{"version": v} for v in range(1, 10)]
        finally:
            for s in stores:
                await s.close()


async def test_concurrent_migrations_on_a_fresh_sqlite_file(tmp_path: Path) -> None:
    stores = [SqliteStore(tmp_path / "audit.sqlite3") for _ in range(3)]
    try:
        await asyncio.gather(*(s.migrate() for s in stores))
        applied = await rows(stores[0], "SELECT version FROM schema_migrations ORDER BY version")
        assert applied == [{"version": v} for v in range(1, 7)]
    finally:
        for s in stores:
            await s.close()


# -- turns and sessions ---------------------------------------------------------------


async def test_turns_are_written_with_every_column(store: AuditStore) -> None:
    sid = new_session()
    call = ToolCall("erp.lookup", {"po": "PO-1"}, {"status": "open"}, None, 12.3456)
    failed = ToolCall("crm.find", {"q": "x"}, None, "timeout", 3000.0)
    ok = turn(sid, 0, tool_calls=(call, failed))
    bad = turn(sid, 1, agent="crm", error="model unavailable")
    await store.write([ok, bad])

    found = await rows(
        store, "SELECT * FROM conversation_log WHERE session_id = $1 ORDER BY id", sid
    )
    assert [r["message_id"] for r in found] == [ok.message_id, bad.message_id]
    first, second = found
    assert first["tool_calls"] == [call.to_json(), failed.to_json()]
    assert first["timestamp"] == ok.timestamp
    assert (first["user_id"], first["user_message"], first["agent_response"]) == (
        "user-1",
        "question 0",
        "answer 0",
    )
    assert first["agent_type"] == "erp"
    assert (first["latency_ms"], first["ttft_ms"]) == (100, 20)
    assert (first["prompt_tokens"], first["completion_tokens"]) == (10, 5)
    assert first["confidence"] == pytest.approx(0.75)
    assert first["error"] is None
    assert first["trace_id"] == "ab" * 16
    assert first["user_feedback"] is None and first["feedback_at"] is None
    assert second["tool_calls"] == []
    assert second["ttft_ms"] is None
    assert second["error"] == "model unavailable"
    assert second["agent_type"] == "crm"


async def test_sessions_are_aggregated_across_batches(store: AuditStore) -> None:
    sid, other = new_session(), new_session()
    await store.write([turn(sid, 0), turn(sid, 5, agent="crm"), turn(other, 1, agent="oa")])
    await store.write([turn(sid, 2), turn(sid, 9, agent="it_ops")])

    (session,) = await rows(store, "SELECT * FROM user_sessions WHERE session_id = $1", sid)
    assert session["total_messages"] == 4
    assert session["agents_used"] == {"erp": 2, "crm": 1, "it_ops": 1}
    assert session["user_id"] == "user-1"
    assert session["started_at"] == T0
    assert session["last_active_at"] == T0 + timedelta(seconds=9)
    (second,) = await rows(store, "SELECT * FROM user_sessions WHERE session_id = $1", other)
    assert (second["total_messages"], second["agents_used"]) == (1, {"oa": 1})


async def test_replaying_a_batch_inserts_nothing_and_counts_nothing(store: AuditStore) -> None:
    sid = new_session()
    batch = [turn(sid, 0), turn(sid, 1, agent="crm")]
    await store.write(batch)
    await store.write(batch)  # a retried batch that had in fact been committed
    await store.write([batch[1], turn(sid, 2), batch[1]])  # overlap and in-batch duplicate

    logged = await rows(store, "SELECT message_id FROM conversation_log WHERE session_id = $1", sid)
    assert len(logged) == 3
    (session,) = await rows(store, "SELECT * FROM user_sessions WHERE session_id = $1", sid)
    assert session["total_messages"] == 3
    assert session["agents_used"] == {"erp": 2, "crm": 1}


async def test_feedback_updates_only_its_row_and_rerating_is_idempotent(
    store: AuditStore,
) -> None:
    sid = new_session()
    rated, untouched = turn(sid, 0), turn(sid, 1)
    at = T0 + timedelta(minutes=1)
    # Feedback in the same batch as its turn is applied after the turn.
    await store.write([rated, untouched, FeedbackRecord(rated.message_id, "positive", None, at)])
    later = at + timedelta(minutes=1)
    again = FeedbackRecord(rated.message_id, "negative", "wrong PO", later)
    await store.write([again])
    await store.write([again])
    await store.write([FeedbackRecord("no-such-message", "positive", None, later)])

    found = await rows(
        store,
        "SELECT message_id, user_feedback, feedback_comment, feedback_at FROM conversation_log"
        " WHERE session_id = $1 ORDER BY id",
        sid,
    )
    assert found == [
        {
            "message_id": rated.message_id,
            "user_feedback": "negative",
            "feedback_comment": "wrong PO",
            "feedback_at": later,
        },
        {
            "message_id": untouched.message_id,
            "user_feedback": None,
            "feedback_comment": None,
            "feedback_at": None,
        },
    ]
    (session,) = await rows(store, "SELECT * FROM user_sessions WHERE session_id = $1", sid)
    assert session["total_messages"] == 2


async def test_message_exists(store: AuditStore) -> None:
    known = turn(new_session())
    assert not await store.message_exists(known.message_id)
    await store.write([known])
    assert await store.message_exists(known.message_id)
    assert not await store.message_exists("never-written")


async def test_write_migrates_a_store_that_was_not_migrated(tmp_path: Path) -> None:
    lazy = SqliteStore(tmp_path / "lazy.sqlite3")
    try:
        await lazy.write([turn(new_session())])
        assert len(await rows(lazy, "SELECT * FROM conversation_log")) == 1
    finally:
        await lazy.close()


async def test_ping(store: AuditStore) -> None:
    await store.ping()


async def test_postgres_down_raises_store_unavailable_quickly() -> None:
    down = PostgresStore("postgresql://postgres@127.0.0.1:1/nope")
    started = time.monotonic()
    try:
        with pytest.raises(StoreUnavailable):
            await down.ping()
        with pytest.raises(StoreUnavailable):
            await down.message_exists("x")
    finally:
        await down.close()
    assert time.monotonic() - started < 8


def test_open_store_picks_the_backend(tmp_path: Path) -> None:
    assert isinstance(open_store(None, tmp_path / "a.db"), SqliteStore)
    assert isinstance(open_store("", tmp_path / "a.db"), SqliteStore)
    for url in ("postgres://u@127.0.0.1/db", "postgresql://u@127.0.0.1/db"):
        assert isinstance(open_store(url, tmp_path / "a.db"), PostgresStore)
    with pytest.raises(ValueError):
        open_store("mysql://u@127.0.0.1/db", tmp_path / "a.db")


# -- the writer -----------------------------------------------------------------------


async def test_submit_never_blocks_and_a_full_queue_drops(store: AuditStore) -> None:
    writer = AuditWriter(store, max_queue=100)  # not started: nothing drains the queue
    sid = new_session()
    started = time.perf_counter()
    accepted = [writer.submit(turn(sid, n)) for n in range(150)]
    assert time.perf_counter() - started < 0.5
    assert accepted == [True] * 100 + [False] * 50
    assert (writer.depth, writer.dropped, writer.written) == (100, 50, 0)

    await writer.start()
    await writer.flush(timeout_s=10)
    assert (writer.depth, writer.written, writer.last_error) == (0, 100, None)
    await writer.stop()
    (session,) = await rows(store, "SELECT * FROM user_sessions WHERE session_id = $1", sid)
    assert session["total_messages"] == 100


async def test_flush_writes_everything_in_order(store: AuditStore) -> None:
    batches: list[int] = []
    writer = AuditWriter(
        store,
        batch_size=7,
        flush_interval_s=5.0,  # flush must not wait for the interval
        on_batch_written=lambda n, seconds: batches.append(n),
    )
    await writer.start()
    sid = new_session()
    turns = [turn(sid, n) for n in range(50)]
    items: list[AuditItem] = [*turns, FeedbackRecord(turns[3].message_id, "positive", None, T0)]
    started = time.monotonic()
    assert all(writer.submit(item) for item in items)
    await writer.flush(timeout_s=10)
    assert time.monotonic() - started < 4
    await writer.stop()

    logged = await rows(
        store,
        "SELECT message_id, user_feedback FROM conversation_log WHERE session_id = $1 ORDER BY id",
        sid,
    )
    assert [r["message_id"] for r in logged] == [t.message_id for t in turns]
    assert [r["user_feedback"] for r in logged].count("positive") == 1
    assert sum(batches) == 51 and max(batches) <= 7
    assert writer.written == 51


class FailingThenDelegating:
    """Fails its first ``failures`` writes, then hands every call to the real store.

    A wrapper rather than a mock: the batches that finally succeed go through the real
    SQL, so the test proves that nothing was lost, duplicated or reordered in the
    database itself, not merely that ``write`` was called."""

    def __init__(self, inner: AuditStore, failures: int) -> None:
        self.inner = inner
        self.failures = failures
        self.attempts: list[int] = []

    async def migrate(self) -> None:
        await self.inner.migrate()

    async def write(self, items: Sequence[AuditItem]) -> None:
        self.attempts.append(len(items))
        if self.failures > 0:
            self.failures -= 1
            raise StoreUnavailable("database restarting")
        await self.inner.write(items)

    async def message_exists(self, message_id: str) -> bool:
        return await self.inner.message_exists(message_id)

    async def ping(self) -> None:
        await self.inner.ping()

    async def close(self) -> None:
        await self.inner.close()


async def test_a_store_failing_twice_then_recovering_loses_nothing(store: AuditStore) -> None:
    flaky = FailingThenDelegating(store, failures=2)
    writer = AuditWriter(flaky, batch_size=10, flush_interval_s=0.01, retry_initial_s=0.05)
    sid = new_session()
    turns = [turn(sid, n) for n in range(25)]
    for item in turns[:10]:
        writer.submit(item)
    await writer.start()
    await asyncio.sleep(0.02)  # the first batch is now failing
    for item in turns[10:]:
        writer.submit(item)
    await writer.flush(timeout_s=10)
    await writer.stop()

    assert flaky.attempts[:3] == [10, 10, 10]  # the same batch, kept and retried
    assert writer.written == 25 and writer.dropped == 0
    assert writer.last_error is None
    logged = await rows(
        store, "SELECT message_id FROM conversation_log WHERE session_id = $1 ORDER BY id", sid
    )
    assert [r["message_id"] for r in logged] == [t.message_id for t in turns]
    (session,) = await rows(store, "SELECT * FROM user_sessions WHERE session_id = $1", sid)
    assert session["total_messages"] == 25


async def test_last_error_is_reported_while_failing() -> None:
    class Down(FailingThenDelegating):
        async def write(self, items: Sequence[AuditItem]) -> None:
            raise StoreUnavailable("down")

    writer = AuditWriter(Down(SqliteStore(":memory:"), 0), flush_interval_s=0.01)
    await writer.start()
    writer.submit(turn(new_session()))
    for _ in range(100):
        if writer.last_error is not None:
            break
        await asyncio.sleep(0.01)
    assert writer.last_error == "StoreUnavailable: down"
    assert writer.depth == 1
    started = time.monotonic()
    await writer.stop(timeout_s=0.2)  # bounded even though the batch can never be written
    assert time.monotonic() - started < 2
    assert not writer.running


async def test_stop_drains_the_queue(store: AuditStore) -> None:
    writer = AuditWriter(store, batch_size=5, flush_interval_s=1.0)
    await writer.start()
    sid = new_session()
    turns = [turn(sid, n) for n in range(23)]
    for item in turns:
        writer.submit(item)
    await writer.stop(timeout_s=10)
    assert not writer.running
    assert writer.written == 23
    assert await store.message_exists(turns[-1].message_id)
    logged = await rows(store, "SELECT message_id FROM conversation_log WHERE session_id = $1", sid)
    assert len(logged) == 23


# -- the bulk path: COPY of the new rows, lanes split by session ------------------------


def conversations(sessions: list[str], per_session: int) -> list[TurnRecord]:
    """Interleaved turns of several sessions, as concurrent users produce them."""
    agents = ("erp", "crm", "it_ops")
    return [
        turn(sid, n, agent=agents[(n + index) % len(agents)])
        for n in range(per_session)
        for index, sid in enumerate(sessions)
    ]


async def _logged_by_session(store: AuditStore, sessions: list[str]) -> dict[str, list[str]]:
    found = await rows(
        store,
        "SELECT session_id, message_id FROM conversation_log WHERE session_id LIKE $1 ORDER BY id",
        sessions[0][:-3] + "%",
    )
    logged: dict[str, list[str]] = {sid: [] for sid in sessions}
    for row in found:
        logged[row["session_id"]].append(row["message_id"])
    return logged


async def _sessions(store: AuditStore, sessions: list[str]) -> dict[str, dict[str, Any]]:
    found = await rows(
        store, "SELECT * FROM user_sessions WHERE session_id LIKE $1", sessions[0][:-3] + "%"
    )
    return {row["session_id"]: row for row in found}


def _expected_session(turns: list[TurnRecord]) -> dict[str, Any]:
    agents: dict[str, int] = {}
    for t in turns:
        agents[t.agent_type] = agents.get(t.agent_type, 0) + 1
    return {
        "total_messages": len(turns),
        "agents_used": agents,
        "started_at": min(t.timestamp for t in turns),
        "last_active_at": max(t.timestamp for t in turns),
    }


def _session_view(row: dict[str, Any]) -> dict[str, Any]:
    return {
        key: row[key] for key in ("total_messages", "agents_used", "started_at", "last_active_at")
    }


async def test_a_large_batch_keeps_each_sessions_order_and_counts_exactly(
    store: AuditStore,
) -> None:
    """600 turns of 30 sessions: large enough to be split into lanes on PostgreSQL."""
    prefix = "bulk-" + uuid.uuid4().hex[:8]
    sessions = [f"{prefix}-{n:02d}" for n in range(30)]
    batch = conversations(sessions, 20)
    await store.write(batch)

    logged = await _logged_by_session(store, sessions)
    for sid in sessions:
        assert logged[sid] == [t.message_id for t in batch if t.session_id == sid]
    counted = await _sessions(store, sessions)
    for sid in sessions:
        mine = [t for t in batch if t.session_id == sid]
        assert _session_view(counted[sid]) == _expected_session(mine)


async def test_a_replayed_large_batch_inserts_nothing_and_counts_nothing(
    store: AuditStore,
) -> None:
    prefix = "replay-" + uuid.uuid4().hex[:8]
    sessions = [f"{prefix}-{n:02d}" for n in range(30)]
    first = conversations(sessions, 20)
    await store.write(first)
    before = await _sessions(store, sessions)

    await store.write(first)  # the whole batch again (a retry whose commit did happen)

    assert await _sessions(store, sessions) == before
    logged = await _logged_by_session(store, sessions)
    assert sum(len(ids) for ids in logged.values()) == len(first)


async def test_a_batch_of_old_and_new_rows_inserts_and_counts_only_the_new(
    store: AuditStore,
) -> None:
    """Half the batch is already logged (a replay overlapping new turns), in a mix of
    sessions: old only, new only, and both."""
    prefix = "mixed-" + uuid.uuid4().hex[:8]
    sessions = [f"{prefix}-{n:02d}" for n in range(30)]
    turns = conversations(sessions, 20)
    old_sessions, new_sessions = set(sessions[:10]), set(sessions[20:])
    old = [
        t
        for t in turns
        if t.session_id in old_sessions
        or (t.session_id not in new_sessions and int(t.user_message.split()[1]) < 10)
    ]
    await store.write(old)

    await store.write(turns)  # old and new rows together, in submission order

    logged = await _logged_by_session(store, sessions)
    counted = await _sessions(store, sessions)
    for sid in sessions:
        mine = [t for t in turns if t.session_id == sid]
        assert logged[sid] == [t.message_id for t in mine]  # each once, in order
        assert _session_view(counted[sid]) == _expected_session(mine)


async def test_a_batch_whose_one_lane_failed_is_retried_without_duplicates(
    pg_dsn: str,
) -> None:
    """A real transient failure in one lane: another connection holds a session row
    locked, so that lane's upsert times out while the other lane commits. The retried
    batch then logs each row once and counts each once."""
    prefix = "lane-" + uuid.uuid4().hex[:8]
    sessions = [f"{prefix}-{n:02d}" for n in range(30)]
    batch = conversations(sessions, 20)
    store = PostgresStore(pg_dsn, command_timeout_s=1.0)
    await store.migrate()
    locked_session = sessions[0]
    earlier = turn(locked_session, 99)
    await store.write([earlier])
    holder = await asyncpg.connect(pg_dsn, timeout=5)
    try:
        locked = holder.transaction()
        await locked.start()
        await holder.execute(
            "SELECT 1 FROM user_sessions WHERE session_id = $1 FOR UPDATE", locked_session
        )
        with pytest.raises(TimeoutError):
            await store.write(batch)
        await locked.rollback()
        committed = await _logged_by_session(store, sessions)
        partly = sum(len(ids) for ids in committed.values()) - 1  # less the earlier turn
        assert 0 < partly < len(batch)  # one lane committed, the other did not

        await store.write(batch)  # the writer's retry
    finally:
        await holder.close()
    try:
        logged = await _logged_by_session(store, sessions)
        counted = await _sessions(store, sessions)
        for sid in sessions:
            mine = [t for t in batch if t.session_id == sid]
            previous = [earlier] if sid == locked_session else []
            assert logged[sid] == [t.message_id for t in previous + mine]
            assert _session_view(counted[sid]) == _expected_session(previous + mine)
    finally:
        await store.close()


async def test_the_writer_keeps_order_and_feedback_through_large_batches(
    store: AuditStore,
) -> None:
    prefix = "writer-" + uuid.uuid4().hex[:8]
    sessions = [f"{prefix}-{n:02d}" for n in range(40)]
    turns = conversations(sessions, 30)
    rated = turns[700]
    items: list[AuditItem] = [*turns[:1000], FeedbackRecord(rated.message_id, "positive", None, T0)]
    items += turns[1000:]
    writer = AuditWriter(store, batch_size=1000, flush_interval_s=0.01)
    await writer.start()
    assert all(writer.submit(item) for item in items)
    await writer.flush(timeout_s=60)
    await writer.stop()

    logged = await _logged_by_session(store, sessions)
    counted = await _sessions(store, sessions)
    for sid in sessions:
        mine = [t for t in turns if t.session_id == sid]
        assert logged[sid] == [t.message_id for t in mine]
        assert _session_view(counted[sid]) == _expected_session(mine)
    (feedback,) = await rows(
        store,
        "SELECT user_feedback FROM conversation_log WHERE message_id = $1",
        rated.message_id,
    )
    assert feedback["user_feedback"] == "positive"


class LosesALane(PostgresStore):
    """The PostgreSQL store whose connection drops (a transient failure) while it
    writes the ``fail_at``-th lane share (counting from 1), once."""

    def __init__(self, dsn: str, fail_at: int, delay_s: float = 0.05) -> None:
        super().__init__(dsn)
        self.fail_at = fail_at
        self.delay_s = delay_s
        self.lanes_started = 0
        self.failed_sessions: set[str] = set()

    async def _write_lane(self, pool: Any, turns: list[tuple[Any, ...]]) -> None:
        self.lanes_started += 1
        if self.lanes_started == self.fail_at:
            self.failed_sessions = {row[1] for row in turns}
            await asyncio.sleep(self.delay_s)  # the next write is under way by then
            raise ConnectionResetError("connection lost")
        await super()._write_lane(pool, turns)


async def test_overlapping_writes_keep_each_sessions_order_and_a_failed_lane_holds_back_the_next(
    pg_dsn: str,
) -> None:
    """Two batches written at once: the second's share of a lane waits for the first's.
    The first loses a lane: the second writes nothing of that lane's sessions
    (EarlierWriteFailed) but the rest of both goes in; both written again, every row is
    in once, each session's rows in order, counted once."""
    store = LosesALane(pg_dsn, fail_at=1)
    await store.migrate()
    try:
        prefix = "overlap-" + uuid.uuid4().hex[:8]
        sessions = [f"{prefix}-{n:02d}" for n in range(30)]
        both = conversations(sessions, 40)
        first, second = both[:600], both[600:]
        results = await asyncio.gather(
            store.write_rows(first, None, overlapping=True),
            store.write_rows(second, None, overlapping=True),
            return_exceptions=True,
        )
        assert isinstance(results[0], ConnectionResetError)
        assert isinstance(results[1], EarlierWriteFailed)
        held_back = store.failed_sessions
        assert held_back and set(sessions) - held_back  # one lane of two
        logged = await _logged_by_session(store, sessions)
        for sid in sessions:
            expected = (
                [] if sid in held_back else [t.message_id for t in both if t.session_id == sid]
            )
            assert logged[sid] == expected

        await store.write(first)
        await store.write(second)
        logged = await _logged_by_session(store, sessions)
        counted = await _sessions(store, sessions)
        for sid in sessions:
            mine = [t for t in both if t.session_id == sid]
            assert logged[sid] == [t.message_id for t in mine]
            assert _session_view(counted[sid]) == _expected_session(mine)
    finally:
        await store.close()


async def test_an_overlapping_write_after_an_unhandled_failure_is_held_back_too(
    pg_dsn: str,
) -> None:
    """The first write's lane fails before the second (overlapping) write starts: the
    second still writes nothing of that lane, since its caller has not dealt with the
    failure yet; a write that is not overlapping (the caller's retry) goes ahead."""
    store = LosesALane(pg_dsn, fail_at=1, delay_s=0)
    await store.migrate()
    try:
        prefix = "unhandled-" + uuid.uuid4().hex[:8]
        sessions = [f"{prefix}-{n:02d}" for n in range(30)]
        both = conversations(sessions, 40)
        first, second = both[:600], both[600:]
        with pytest.raises(ConnectionResetError):
            await store.write_rows(first, None, overlapping=True)
        with pytest.raises(EarlierWriteFailed):
            await store.write_rows(second, None, overlapping=True)
        held_back = store.failed_sessions
        logged = await _logged_by_session(store, sessions)
        for sid in sessions:
            expected = (
                [] if sid in held_back else [t.message_id for t in both if t.session_id == sid]
            )
            assert logged[sid] == expected
        await store.write(first)
        await store.write(second)
        logged = await _logged_by_session(store, sessions)
        for sid in sessions:
            assert logged[sid] == [t.message_id for t in both if t.session_id == sid]
    finally:
        await store.close()


@pytest.mark.parametrize("delay_s", [0, 0.05], ids=["fails-at-once", "fails-later"])
@pytest.mark.parametrize("fail_at", [1, 4, 5])
async def test_the_writer_retries_an_outage_in_its_overlapping_batches_in_order(
    pg_dsn: str, fail_at: int, delay_s: float
) -> None:
    """Batches of 600 (two lanes each) written one ahead of the other; a lane share
    lost at the start, in the middle, at a batch's second lane, before or after the
    next batch started: nothing lost, nothing twice, each session in order, counted
    once."""
    store = LosesALane(pg_dsn, fail_at=fail_at, delay_s=delay_s)
    await store.migrate()
    try:
        prefix = "ahead-" + uuid.uuid4().hex[:8]
        sessions = [f"{prefix}-{n:02d}" for n in range(30)]
        turns = conversations(sessions, 100)
        writer = AuditWriter(store, batch_size=600, flush_interval_s=0.01, retry_initial_s=0.01)
        await writer.start()
        for item in turns:
            assert writer.submit(item)
        await writer.flush(timeout_s=30)
        await writer.stop()
        assert writer.failures >= 1 and writer.written == len(turns)
        logged = await _logged_by_session(store, sessions)
        counted = await _sessions(store, sessions)
        for sid in sessions:
            mine = [t for t in turns if t.session_id == sid]
            assert logged[sid] == [t.message_id for t in mine]
            assert _session_view(counted[sid]) == _expected_session(mine)
    finally:
        await store.close()


def test_a_large_batch_is_split_by_session_into_lanes_in_order() -> None:
    """The PostgreSQL tests above write batches large enough to take two lanes."""
    from agent_service.store.postgres import _lanes

    sessions = [f"s-{n:02d}" for n in range(30)]
    batch = [turn_row(t, utc) for t in conversations(sessions, 20)]
    lanes = _lanes(batch, 2)
    assert len(lanes) == 2
    assert sorted((t for lane in lanes for t in lane), key=batch.index) == batch
    for lane in lanes:
        assert lane == sorted(lane, key=batch.index)  # submission order kept
    first, second = ({row[1] for row in lane} for lane in lanes)  # their session ids
    assert not first & second  # a session in one lane only
    assert _lanes(batch[:300], 2) == [batch[:300]]  # small: one transaction


# -- Alertmanager notifications -------------------------------------------------------


def alert(fingerprint: str, status: str = "firing", **labels: str) -> AlertRecord:
    labels = {"alertname": "HighErrorRate", "severity": "critical", **labels}
    return AlertRecord(
        received_at=T0 + timedelta(seconds=90),
        receiver="pager",
        status="resolved" if status == "resolved" else "firing",
        alertname=labels["alertname"],
        severity=labels.get("severity"),
        labels=labels,
        summary="Error rate above 5%",
        starts_at=T0,
        ends_at=T0 + timedelta(seconds=60) if status == "resolved" else None,
        fingerprint=fingerprint,
    )


async def test_alerts_are_recorded_one_row_each_with_every_column(store: AuditStore) -> None:
    mark = uuid.uuid4().hex[:12]
    await store.record_alerts(
        [alert(f"{mark}a", component="llm"), alert(f"{mark}b", "resolved", component="api")]
    )
    found = await rows(
        store,
        "SELECT received_at, receiver, status, alertname, severity, labels, summary, "
        "starts_at, ends_at, fingerprint FROM alert_notifications "
        "WHERE fingerprint LIKE $1 ORDER BY fingerprint",
        f"{mark}%",
    )
    for row in found:
        row["labels"] = json.loads(row["labels"])
        for key in ("received_at", "starts_at", "ends_at"):
            if isinstance(row[key], str):
                row[key] = datetime.fromisoformat(row[key].replace("Z", "+00:00"))
    labels = {"alertname": "HighErrorRate", "severity": "critical"}
    common = {
        "received_at": T0 + timedelta(seconds=90),
        "receiver": "pager",
        "alertname": "HighErrorRate",
        "severity": "critical",
        "summary": "Error rate above 5%",
        "starts_at": T0,
    }
    assert found == [
        {
            **common,
            "status": "firing",
            "labels": {**labels, "component": "llm"},
            "ends_at": None,
            "fingerprint": f"{mark}a",
        },
        {
            **common,
            "status": "resolved",
            "labels": {**labels, "component": "api"},
            "ends_at": T0 + timedelta(seconds=60),
            "fingerprint": f"{mark}b",
        },
    ]


async def test_a_notification_is_written_whole_or_not_at_all(store: AuditStore) -> None:
    """A row the schema refuses fails the whole notification (Alertmanager then retries
    it whole), as StoreUnavailable, never half of it."""
    mark = uuid.uuid4().hex[:12]
    bad = replace(alert(f"{mark}b"), status="pending")  # type: ignore[arg-type]
    with pytest.raises(StoreUnavailable):
        await store.record_alerts([alert(f"{mark}a"), bad])
    found = await rows(
        store, "SELECT id FROM alert_notifications WHERE fingerprint LIKE $1", f"{mark}%"
    )
    assert found == []


async def test_recording_alerts_migrates_a_store_that_was_not_migrated(tmp_path: Path) -> None:
    lazy = SqliteStore(tmp_path / "lazy.sqlite3")
    try:
        await lazy.record_alerts([alert("f1")])
        assert len(await rows(lazy, "SELECT * FROM alert_notifications")) == 1
    finally:
        await lazy.close()


async def test_alerts_with_postgres_down_raise_store_unavailable() -> None:
    down = PostgresStore("postgresql://postgres@127.0.0.1:1/nope")
    try:
        with pytest.raises(StoreUnavailable):
            await down.record_alerts([alert("f1")])
    finally:
        await down.close()


# -- admin_audit ----------------------------------------------------------------------


async def test_admin_audit_is_append_only(store: AuditStore) -> None:
    """Both backends refuse to rewrite it, whoever asks (PostgreSQL: even the superuser
    these tests connect as, which bypasses privileges; a trigger does not care)."""
    insert = "INSERT INTO admin_audit (username, role, action) VALUES ('admin', 'admin', 'login')"
    if isinstance(store, SqliteStore):
        with sqlite3.connect(store.path) as connection:
            connection.execute(insert)
    else:
        await _as_postgres(store, insert)
    for statement in ("UPDATE admin_audit SET target = 'rewritten'", "DELETE FROM admin_audit"):
        with pytest.raises(
            (asyncpg.InsufficientPrivilegeError, sqlite3.IntegrityError), match="append-only"
        ):
            if isinstance(store, SqliteStore):
                with sqlite3.connect(store.path) as connection:
                    connection.execute(statement)
            else:
                await _as_postgres(store, statement)
    assert len(await rows(store, "SELECT id FROM admin_audit WHERE target IS NULL")) >= 1


async def _as_postgres(store: AuditStore, statement: str) -> None:
    assert isinstance(store, PostgresStore)
    connection = await asyncpg.connect(store.dsn, timeout=5)
    try:
        await connection.execute(statement)
    finally:
        await connection.close()
