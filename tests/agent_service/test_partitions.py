"""conversation_log by month on PostgreSQL: the migration that partitions an existing
log (every row kept), the partitions the store creates ahead and on demand, and the
retention that drops whole months only (a real PostgreSQL on 127.0.0.1; every
database is dropped at the end)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from agent_service.domain import FeedbackRecord, TurnRecord
from agent_service.settings import Settings
from agent_service.store import AuditWriter, PostgresStore
from agent_service.store.migrate import Migration, load_migrations, migrate_postgres
from agent_service.store.partitions import (
    Month,
    create_partitions,
    detach_expired_partitions,
    drop_expired_partitions,
    existing_partitions,
    expired,
)
from agent_service.store.retention import Retention
from tests.agent_service.databases import scratch_postgres
from tests.agent_service.web_helpers import served

NOW = datetime(2026, 12, 1, 11, 30, tzinfo=UTC)


@pytest.fixture
def dsn() -> Iterator[str]:
    """A fresh, empty database, dropped afterwards."""
    with scratch_postgres("partition_test_") as url:
        yield url


@pytest.fixture
async def connection(dsn: str) -> AsyncIterator[Any]:
    opened = await asyncpg.connect(dsn, timeout=5)
    try:
        yield opened
    finally:
        await opened.close()


def turn(n: int, at: datetime, session_id: str = "s-1") -> TurnRecord:
    return TurnRecord(
        message_id=f"m-{n}",
        session_id=session_id,
        user_id="alice",
        timestamp=at,
        user_message=f"question {n}",
        agent_response=f"answer {n}",
        agent_type="erp",
        tool_calls=(),
        latency_ms=100,
        ttft_ms=20,
        prompt_tokens=1,
        completion_tokens=1,
        confidence=0.9,
        error=None,
        trace_id=None,
    )


async def _partition_of(connection: Any) -> dict[str, str]:
    rows = await connection.fetch(
        "SELECT message_id, tableoid::regclass::text AS part FROM conversation_log"
    )
    return {row["message_id"]: row["part"] for row in rows}


# -- months -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("at", "month"),
    [
        (datetime(2026, 3, 31, 23, 30, tzinfo=UTC), Month(2026, 3)),
        # 00:30 in Berlin on April 1st is still March in UTC.
        (datetime.fromisoformat("2026-04-01T00:30:00+02:00"), Month(2026, 3)),
        (datetime(2026, 12, 31, 23, 59, tzinfo=UTC), Month(2026, 12)),
    ],
    ids=["utc", "local-time", "december"],
)
def test_a_time_falls_in_its_utc_month(at: datetime, month: Month) -> None:
    assert Month.of(at) == month


def test_months_run_over_the_year_and_name_their_partition() -> None:
    assert Month(2026, 11).ahead(2) == [Month(2026, 11), Month(2026, 12), Month(2027, 1)]
    assert Month(2026, 12).end == datetime(2027, 1, 1, tzinfo=UTC)
    assert Month(2026, 1).name == "conversation_log_y2026m01"
    assert Month.parse("conversation_log_y2026m01") == Month(2026, 1)
    assert Month.parse("conversation_log_y2026m13") is None
    assert Month.parse("conversation_log_archive") is None


@pytest.mark.parametrize(
    ("now", "kept_from"),
    [
        # 365 days before 2026-12-01 is 2025-12-01: November 2025 ends exactly there.
        (datetime(2026, 12, 1, tzinfo=UTC), Month(2025, 12)),
        # A second earlier, November 2025 may still hold a row to keep.
        (datetime(2026, 11, 30, 23, 59, 59, tzinfo=UTC), Month(2025, 11)),
    ],
    ids=["month-end-at-the-cutoff", "month-end-just-after-the-cutoff"],
)
def test_a_month_expires_only_when_its_every_row_is_older(now: datetime, kept_from: Month) -> None:
    months = Month(2025, 6).ahead(18)
    assert expired(months, now, 365) == [m for m in months if m < kept_from]


# -- the migration ----------------------------------------------------------------------


async def test_the_migration_keeps_every_row_and_partitions_them_by_month(
    connection: Any,
) -> None:
    before = [m for m in load_migrations("postgres") if m.version < 7]
    await migrate_postgres(connection, before)
    await connection.execute(
        "INSERT INTO user_sessions (session_id, user_id, total_messages) VALUES ('s-1', 'a', 3)"
    )
    # The session's time zone must not move a month boundary.
    await connection.execute("SET TimeZone = 'Europe/Berlin'")
    await connection.execute(
        """INSERT INTO conversation_log (message_id, session_id, user_id, timestamp,
            user_message, agent_response, agent_type, latency_ms, user_feedback)
        VALUES ('old', 's-1', 'a', '2025-03-31T23:30:00Z', 'q', 'a', 'erp', 1, 'positive'),
               ('mid', 's-1', 'a', '2025-06-15T12:00:00Z', 'q', 'a', 'crm', 2, NULL),
               ('new', 's-1', 'a', now(), 'q', 'a', 'oa', 3, NULL)"""
    )
    old_rows = await connection.fetch("SELECT * FROM conversation_log ORDER BY id")

    assert await migrate_postgres(connection) == [7, 8, 9]

    assert (
        await connection.fetchval(
            "SELECT relkind::text FROM pg_class WHERE oid = 'conversation_log'::regclass"
        )
        == "p"
    )
    assert await connection.fetch("SELECT * FROM conversation_log ORDER BY id") == old_rows
    parts = await _partition_of(connection)
    this_month = Month.of(datetime.now(UTC))
    assert parts["old"] == "conversation_log_y2025m03"
    assert parts["mid"] == "conversation_log_y2025m06"
    assert parts["new"] == this_month.name
    months = await existing_partitions(connection)
    # Every month from the oldest row's, and the next month ahead.
    assert months[0] == Month(2025, 3)
    assert months[-1] == this_month.next()
    assert months == Month(2025, 3).ahead(len(months) - 1)
    # The sequence carries on after the rows kept.
    assert await connection.fetchval("SELECT nextval('conversation_log_id_seq')") > max(
        row["id"] for row in old_rows
    )
    assert (
        await connection.fetchval("SELECT count(*) FROM pg_class WHERE relname LIKE '%unpart%'")
        == 0
    )


async def test_the_migration_applied_again_as_the_init_script_does_changes_nothing(
    connection: Any,
) -> None:
    await migrate_postgres(connection)
    months = await existing_partitions(connection)
    for migration in load_migrations("postgres"):  # the init script: every file again
        await connection.execute(migration.sql)
    assert await existing_partitions(connection) == months
    assert await connection.fetchval("SELECT count(*) FROM conversation_log") == 0


async def test_keys_and_references_still_hold(connection: Any) -> None:
    await migrate_postgres(connection)
    await create_partitions(connection, [Month(2026, 1)])
    await connection.execute(
        "INSERT INTO user_sessions (session_id, user_id) VALUES ('s-1', 'a'), ('s-2', 'a')"
    )
    insert = """INSERT INTO conversation_log (message_id, session_id, user_id, timestamp,
        user_message, agent_response, agent_type, latency_ms)
        VALUES ($1, $2, 'a', '2026-01-05T10:00:00Z', 'q', 'a', 'erp', 1)"""
    await connection.execute(insert, "m-1", "s-1")
    # The same record again (a replay carries its timestamp): refused.
    with pytest.raises(asyncpg.UniqueViolationError):
        await connection.execute(insert, "m-1", "s-1")
    with pytest.raises(asyncpg.CheckViolationError):
        await connection.execute(
            "UPDATE conversation_log SET user_feedback = 'meh' WHERE message_id = 'm-1'"
        )


async def test_every_row_names_an_existing_session_and_a_named_session_stays(
    connection: Any,
) -> None:
    """The rule of a foreign key from conversation_log.session_id to user_sessions, on
    every path that could break it (checked once a statement on insert)."""
    await migrate_postgres(connection)
    await create_partitions(connection, [Month(2026, 1)])
    await connection.execute(
        "INSERT INTO user_sessions (session_id, user_id) VALUES ('s-1', 'a'), ('s-2', 'a')"
    )
    columns = ("message_id", "session_id", "user_id", "timestamp", "user_message",
               "agent_response", "agent_type", "latency_ms")  # fmt: skip
    at = datetime(2026, 1, 5, tzinfo=UTC)

    def row(message_id: str, session_id: str) -> tuple[Any, ...]:
        return (message_id, session_id, "a", at, "q", "a", "erp", 1)

    await connection.copy_records_to_table(
        "conversation_log", columns=columns, records=[row("m-1", "s-1"), row("m-2", "s-1")]
    )
    # A COPY naming one missing session among existing ones: refused whole.
    with pytest.raises(asyncpg.ForeignKeyViolationError, match="no-such-session"):
        await connection.copy_records_to_table(
            "conversation_log",
            columns=columns,
            records=[row("m-3", "s-1"), row("m-4", "no-such-session")],
        )
    with pytest.raises(asyncpg.ForeignKeyViolationError):
        await connection.execute(
            "UPDATE conversation_log SET session_id = 'gone' WHERE message_id = 'm-1'"
        )
    with pytest.raises(asyncpg.ForeignKeyViolationError):
        await connection.execute("DELETE FROM user_sessions WHERE session_id = 's-1'")
    with pytest.raises(asyncpg.ForeignKeyViolationError):
        await connection.execute(
            "UPDATE user_sessions SET session_id = 's-9' WHERE session_id = 's-1'"
        )
    # What the rule allows: moving a row to another existing session, counting into a
    # named session, deleting a session nothing names.
    await connection.execute(
        "UPDATE conversation_log SET session_id = 's-2' WHERE message_id = 'm-2'"
    )
    await connection.execute("UPDATE user_sessions SET total_messages = 2 WHERE session_id = 's-1'")
    await connection.execute("INSERT INTO user_sessions (session_id, user_id) VALUES ('s-3', 'a')")
    await connection.execute("DELETE FROM user_sessions WHERE session_id = 's-3'")
    assert await connection.fetchval("SELECT count(*) FROM conversation_log") == 2


async def test_a_session_deleted_while_its_rows_go_in_waits_and_is_refused(dsn: str) -> None:
    """The insert locks the sessions it names (FOR KEY SHARE, as a foreign key does):
    a concurrent DELETE waits for it to commit, then finds the session named."""
    first = await asyncpg.connect(dsn, timeout=5)
    second = await asyncpg.connect(dsn, timeout=5)
    try:
        await migrate_postgres(first)
        await create_partitions(first, [Month(2026, 1)])
        await first.execute("INSERT INTO user_sessions (session_id, user_id) VALUES ('s-1', 'a')")
        inserting = first.transaction()
        await inserting.start()
        await first.execute(
            """INSERT INTO conversation_log (message_id, session_id, user_id, timestamp,
            user_message, agent_response, agent_type, latency_ms)
            VALUES ('m-1', 's-1', 'a', '2026-01-05T10:00:00Z', 'q', 'a', 'erp', 1)"""
        )
        deleting = asyncio.create_task(
            second.execute("DELETE FROM user_sessions WHERE session_id = 's-1'")
        )
        await asyncio.sleep(0.3)
        assert not deleting.done()  # waiting for the inserting transaction
        await inserting.commit()
        with pytest.raises(asyncpg.ForeignKeyViolationError):
            await deleting
    finally:
        await first.close()
        await second.close()


# -- the store --------------------------------------------------------------------------


async def test_the_store_creates_a_missing_months_partition_and_finds_feedback_there(
    dsn: str, connection: Any
) -> None:
    store = PostgresStore(dsn)
    writer = AuditWriter(store, retry_initial_s=0.01)
    old = datetime(2020, 5, 17, 8, 0, tzinfo=UTC)
    try:
        await writer.start()
        for item in (
            turn(1, old),
            turn(2, old + timedelta(days=40)),
            turn(3, NOW),
            FeedbackRecord("m-1", "negative", "wrong invoice", NOW),
        ):
            writer.submit(item)
        await writer.flush()
        # A replay of the same records logs and counts nothing again.
        writer.submit(turn(1, old))
        writer.submit(turn(3, NOW))
        await writer.flush()
    finally:
        await writer.stop()
        await store.close()
    assert writer.dead_lettered == 0
    assert await _partition_of(connection) == {
        "m-1": "conversation_log_y2020m05",
        "m-2": "conversation_log_y2020m06",
        "m-3": "conversation_log_y2026m12",
    }
    assert await connection.fetchval("SELECT total_messages FROM user_sessions") == 3
    feedback = await connection.fetchrow(
        "SELECT user_feedback, feedback_comment FROM conversation_log WHERE message_id = 'm-1'"
    )
    assert tuple(feedback) == ("negative", "wrong invoice")


async def test_retention_drops_only_whole_months_older_than_the_retention(
    dsn: str, connection: Any
) -> None:
    store = PostgresStore(dsn)
    await store.migrate()
    await create_partitions(connection, Month(2025, 9).ahead(15))
    # A partition the service did not create: never touched.
    await connection.execute(
        "CREATE TABLE conversation_log_archive PARTITION OF conversation_log "
        "FOR VALUES FROM ('2001-01-01T00:00:00Z') TO ('2002-01-01T00:00:00Z')"
    )
    kept_late = datetime(2025, 12, 1, 0, 0, 1, tzinfo=UTC)
    records = [
        turn(1, datetime(2001, 6, 1, tzinfo=UTC)),
        turn(2, datetime(2025, 10, 15, tzinfo=UTC)),
        turn(3, datetime(2025, 11, 30, 23, 59, tzinfo=UTC)),
        turn(4, kept_late),
        turn(5, datetime(2026, 11, 30, tzinfo=UTC)),
    ]
    try:
        await store.write(records)
        before = await existing_partitions(connection)
        retention = Retention(store, 365, months_ahead=3, clock=lambda: NOW)
        created, dropped = await retention.run_once()
        again = await retention.run_once()
    finally:
        await store.close()
    # This month and three ahead (the migration made this month and the next).
    assert created == [m for m in Month(2026, 12).ahead(3) if m not in before]
    assert Month(2027, 3) in created
    assert dropped == [Month(2025, 9), Month(2025, 10), Month(2025, 11)]
    assert again == ([], [])
    assert await _partition_of(connection) == {
        "m-1": "conversation_log_archive",
        "m-4": "conversation_log_y2025m12",
        "m-5": "conversation_log_y2026m11",
    }
    # Dropped, not emptied: no row was deleted anywhere.
    deleted = await connection.fetchval(
        "SELECT coalesce(sum(n_tup_del), 0) FROM pg_stat_user_tables "
        "WHERE relname LIKE 'conversation_log%'"
    )
    assert deleted == 0
    assert await existing_partitions(connection) == Month(2025, 12).ahead(15)
    assert await _purged_tables(connection) == []


async def _purged_tables(connection: Any) -> list[str]:
    rows = await connection.fetch(
        "SELECT relname FROM pg_class WHERE relname LIKE '%purged' ORDER BY 1"
    )
    return [row["relname"] for row in rows]


async def test_a_purge_interrupted_after_the_detach_is_finished_by_the_next(
    connection: Any,
) -> None:
    await migrate_postgres(connection)
    await create_partitions(connection, [Month(2024, 1), Month(2024, 2)])
    # The process died between the two steps: the month is out of the log, its table
    # still there.
    assert await detach_expired_partitions(connection, NOW, 365) == [
        Month(2024, 1),
        Month(2024, 2),
    ]
    assert await _purged_tables(connection) == [
        "conversation_log_y2024m01_purged",
        "conversation_log_y2024m02_purged",
    ]
    # The detached table no longer holds user_sessions by a foreign key.
    assert (
        await connection.fetchval(
            "SELECT count(*) FROM pg_constraint WHERE confrelid = 'user_sessions'::regclass "
            "AND conrelid::regclass::text LIKE '%purged'"
        )
        == 0
    )
    assert await drop_expired_partitions(connection, NOW, 365) == []
    assert await _purged_tables(connection) == []


class _FakeStore:
    def __init__(self) -> None:
        self.calls: list[tuple[datetime, int | None, int]] = []

    async def maintain_partitions(
        self, now: datetime, retention_days: int | None, months_ahead: int
    ) -> tuple[list[Month], list[Month]]:
        self.calls.append((now, retention_days, months_ahead))
        if len(self.calls) == 1:
            raise OSError("database down")
        return [], []


async def test_the_retention_job_runs_at_start_and_again_after_a_failed_round() -> None:
    store = _FakeStore()
    retention = Retention(store, 30, interval_s=0.01, clock=lambda: NOW)
    retention.start()
    try:
        async with asyncio.timeout(5):
            while len(store.calls) < 2:
                await asyncio.sleep(0.005)
    finally:
        await retention.stop()
    assert store.calls[:2] == [(NOW, 30, 2), (NOW, 30, 2)]


def test_retention_needs_a_positive_number_of_days() -> None:
    with pytest.raises(ValueError, match="positive"):
        Retention(_FakeStore(), 0)


@pytest.mark.parametrize(
    ("value", "days"),
    [("", 365), ("90", 90), ("0", None), ("off", None), ("none", None)],
)
def test_the_retention_setting(value: str, days: int | None) -> None:
    assert Settings.from_env({"AUDIT_RETENTION_DAYS": value}).audit_retention_days == days
    assert Settings.from_env({}).audit_retention_days == 365


def test_a_negative_retention_is_refused() -> None:
    with pytest.raises(ValueError, match="AUDIT_RETENTION_DAYS"):
        Settings.from_env({"AUDIT_RETENTION_DAYS": "-5"})


async def test_session_counters_are_updated_beside_their_row(dsn: str, connection: Any) -> None:
    """user_sessions leaves room on its pages: a batch's counter updates of sessions
    written full pages ago are HOT updates (no index touched)."""
    store = PostgresStore(dsn)
    sessions = [f"session-{n:04d}" for n in range(1000)]
    try:
        await store.write([turn(n, NOW, s) for n, s in enumerate(sessions)])
        await store.write([turn(1000 + n, NOW, s) for n, s in enumerate(sessions)])
    finally:
        await store.close()
    await connection.execute("SELECT pg_stat_force_next_flush()")
    updates, hot = await connection.fetchrow(
        "SELECT n_tup_upd, n_tup_hot_upd FROM pg_stat_user_tables WHERE relname = 'user_sessions'"
    )
    assert updates == len(sessions)
    assert hot == updates


async def test_a_migration_runs_longer_than_the_connections_query_timeout(dsn: str) -> None:
    """Partitioning an existing log moves every row: the store's 10 s limit for a query
    does not apply to a migration."""
    store = PostgresStore(dsn, command_timeout_s=0.2)
    try:
        pool = await store.open()
        async with pool.acquire() as connection:
            with pytest.raises(TimeoutError):
                await connection.execute("SELECT pg_sleep(0.5)")
            slow = [Migration(1, "slow", "SELECT pg_sleep(0.5)")]
            assert await migrate_postgres(connection, slow) == [1]
    finally:
        await store.close()


def test_the_service_keeps_partitions_ahead_from_its_start(tmp_path: Path) -> None:
    with served("postgres", tmp_path) as up:
        assert up.db.database_url is not None
        wanted = Month.of(datetime.now(UTC)).ahead(2)  # the migration makes one ahead
        deadline = time.monotonic() + 10
        while True:
            months = asyncio.run(_months(up.db.database_url))
            if set(wanted) <= set(months) or time.monotonic() > deadline:
                break
            time.sleep(0.05)
        assert set(wanted) <= set(months)


async def _months(dsn: str) -> list[Month]:
    connection = await asyncpg.connect(dsn, timeout=5)
    try:
        return await existing_partitions(connection)
    finally:
        await connection.close()
