"""The conversation audit's filters and streamed exports on both backends (a real
PostgreSQL on 127.0.0.1 and SQLite), against the seeded records filtered in Python;
100,000-row exports read in bounded batches."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import sqlite3
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
import pytest

from agent_service.domain import TurnRecord
from agent_service.store import PostgresStore, SqliteStore
from agent_service.store.partitions import Month, create_partitions
from agent_service.web.conversations import (
    EXPORT_COLUMNS,
    Filters,
    count_turns,
    export_batches,
    search_turns,
    session_turns,
)
from agent_service.web.database import Database, database_for
from agent_service.web.exports import csv_stream, json_stream
from tests.agent_service.audit_seed import NOW, Seeded, make_turns, write_seed
from tests.agent_service.databases import AuditDatabase, audit_database

SEEDED = make_turns()


@pytest.fixture(params=["sqlite", "postgres"])
def target(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[AuditDatabase]:
    with audit_database(request.param, tmp_path) as created:
        yield created


async def _write_seed(target: AuditDatabase) -> None:
    store = _store(target)
    try:
        await write_seed(store, SEEDED)
    finally:
        await store.close()


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def seeded_target(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[AuditDatabase]:
    """Seeded once per backend for the read-only tests of this module."""
    with audit_database(request.param, tmp_path_factory.mktemp("seeded")) as created:
        asyncio.run(_write_seed(created))
        yield created


def _store(target: AuditDatabase) -> PostgresStore | SqliteStore:
    if target.database_url is None:
        return SqliteStore(target.sqlite_path)
    return PostgresStore(target.database_url)


@pytest.fixture
async def seeded_db(seeded_target: AuditDatabase) -> AsyncIterator[Database]:
    store = _store(seeded_target)
    try:
        yield database_for(store)
    finally:
        await store.close()


def _feedback(seeded: Seeded, turn: TurnRecord) -> str | None:
    rated = seeded.ratings.get(turn.message_id)
    return rated.rating if rated else None


CASES: dict[str, tuple[Filters, Callable[[TurnRecord], bool]]] = {
    "all": (Filters(), lambda t: True),
    "user": (Filters(user="user-3"), lambda t: t.user_id == "user-3"),
    "agent": (Filters(agent="crm"), lambda t: t.agent_type == "crm"),
    "negative": (
        Filters(feedback="negative"),
        lambda t: _feedback(SEEDED, t) == "negative",
    ),
    "not-rated": (Filters(feedback="none"), lambda t: _feedback(SEEDED, t) is None),
    "time-range": (
        Filters(since=NOW - timedelta(hours=10), until=NOW - timedelta(hours=2)),
        lambda t: NOW - timedelta(hours=10) <= t.timestamp <= NOW - timedelta(hours=2),
    ),
    "text-any-case": (Filters(text="vpn"), lambda t: "vpn" in t.user_message.lower()),
    # % is a literal here, not a LIKE wildcard.
    "text-percent": (Filters(text="100%"), lambda t: "100%" in t.agent_response),
    "combined": (
        Filters(agent="erp", feedback="positive", text="orders"),
        lambda t: (
            t.agent_type == "erp"
            and _feedback(SEEDED, t) == "positive"
            and "orders" in t.user_message
        ),
    ),
}


@pytest.mark.parametrize("case", list(CASES))
async def test_filters_select_what_python_selects(seeded_db: Database, case: str) -> None:
    filters, keep = CASES[case]
    expected = [t for t in SEEDED.turns if keep(t)]
    assert expected, f"case {case} must match something"
    assert await count_turns(seeded_db, filters) == len(expected)
    shown = await search_turns(seeded_db, filters, limit=1000)
    newest_first = sorted(expected, key=lambda t: (t.timestamp, t.message_id), reverse=True)
    assert [t["message_id"] for t in shown] == [t.message_id for t in newest_first] or (
        # equal timestamps may come in either id order
        sorted(t["message_id"] for t in shown) == sorted(t.message_id for t in expected)
    )
    exported = [row async for batch in export_batches(seeded_db, filters, 7) for row in batch]
    assert sorted(r["message_id"] for r in exported) == sorted(t.message_id for t in expected)


async def test_a_session_page_has_its_turns_in_order(seeded_db: Database) -> None:
    session = SEEDED.turns[0].session_id
    expected = sorted(
        (t for t in SEEDED.turns if t.session_id == session), key=lambda t: t.timestamp
    )
    turns = await session_turns(seeded_db, session)
    assert [t["message_id"] for t in turns] == [t.message_id for t in expected]
    first = next(t for t in turns if SEEDED.turns[0].message_id == t["message_id"])
    assert [c["name"] for c in first.tool_calls] == [c.name for c in SEEDED.turns[0].tool_calls]
    assert first["trace_id"] == SEEDED.turns[0].trace_id


async def test_exports_carry_every_column_and_defuse_formulas(seeded_db: Database) -> None:
    filters = Filters(feedback="negative")
    expected = {t.message_id: t for t in SEEDED.turns if _feedback(SEEDED, t) == "negative"}
    text = "".join([c async for c in csv_stream(export_batches(seeded_db, filters, 5))])
    rows = list(csv.DictReader(io.StringIO(text)))
    assert tuple(rows[0]) == EXPORT_COLUMNS
    assert {r["message_id"] for r in rows} == set(expected)
    for row in rows:
        turn = expected[row["message_id"]]
        assert row["user_message"] == turn.user_message
        assert int(row["latency_ms"]) == turn.latency_ms
        assert json.loads(row["tool_calls"])[0]["name"] if turn.tool_calls else True
        comment = SEEDED.ratings[turn.message_id].comment
        # A comment starting with "=" would run as a formula in a spreadsheet.
        assert row["feedback_comment"] == ("'" + comment if comment else "")

    document = json.loads(
        "".join([c async for c in json_stream(export_batches(seeded_db, filters, 5))])
    )
    assert {d["message_id"] for d in document} == set(expected)
    for item in document:
        turn = expected[item["message_id"]]
        assert [c["name"] for c in item["tool_calls"]] == [c.name for c in turn.tool_calls]
        assert item["user_feedback"] == "negative"
        assert datetime.fromisoformat(item["timestamp"].replace("Z", "+00:00")) == turn.timestamp


# -- 100,000 rows ----------------------------------------------------------------------

# 100,000 rows in SQLite; fewer through PostgreSQL's COPY (the same cursor code, and the
# suite stays fast on a shared 2-core machine).
BIG = {"sqlite": 100_000, "postgres": 30_000}
BATCH = 1000


def _big_rows(count: int) -> Iterator[tuple[object, ...]]:
    start = datetime(2026, 11, 1, tzinfo=UTC)
    for n in range(count):
        yield (
            f"big-{n:06d}",
            "s-big",
            f"user-{n % 50}",
            start + timedelta(seconds=n),
            f"question {n}",
            f"answer {n} " + "x" * 100,
            "erp" if n % 2 else "crm",
            "[]",
            100 + n % 1000,
        )


async def _seed_big(target: AuditDatabase) -> None:
    store = _store(target)
    try:
        await store.migrate()
    finally:
        await store.close()
    columns = [
        "message_id", "session_id", "user_id", "timestamp", "user_message",
        "agent_response", "agent_type", "tool_calls", "latency_ms",
    ]  # fmt: skip
    if target.database_url is None:
        with sqlite3.connect(target.sqlite_path) as connection:
            connection.execute(
                "INSERT INTO user_sessions (session_id, user_id) VALUES ('s-big', 'user-0')"
            )
            connection.executemany(
                f"INSERT INTO conversation_log ({', '.join(columns)}) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    (*row[:3], row[3].strftime("%Y-%m-%dT%H:%M:%S.000Z"), *row[4:])  # type: ignore[attr-defined]
                    for row in _big_rows(BIG[target.backend])
                ),
            )
        return
    connection = await asyncpg.connect(target.database_url, timeout=5)
    try:
        await connection.execute(
            "INSERT INTO user_sessions (session_id, user_id) VALUES ('s-big', 'user-0')"
        )
        # Plain COPY, not the store: the rows' month's partition first, as the store
        # would create it.
        await create_partitions(connection, [Month(2026, 11)])
        await connection.copy_records_to_table(
            "conversation_log", records=list(_big_rows(BIG[target.backend])), columns=columns
        )
    finally:
        await connection.close()


async def test_a_100k_row_export_streams_in_bounded_batches(target: AuditDatabase) -> None:
    """Rows per database read are counted (not timed): every read is at most one batch,
    and each CSV chunk leaves after exactly one more read (the export never reads
    ahead, so memory holds one batch whatever the total)."""
    await _seed_big(target)
    erp_rows = BIG[target.backend] // 2
    store = _store(target)
    batches: list[int] = []
    largest_chunk = 0
    lines = 0
    reads_per_chunk: list[int] = []
    try:
        stream = csv_stream(
            export_batches(database_for(store), Filters(agent="erp"), BATCH, batches.append)
        )
        async for chunk in stream:
            largest_chunk = max(largest_chunk, len(chunk))
            lines += chunk.count("\n")
            reads_per_chunk.append(len(batches))
    finally:
        await store.close()
    assert lines == 1 + erp_rows  # header + every erp row
    assert sum(batches) == erp_rows
    assert max(batches) == BATCH
    assert len(batches) == erp_rows // BATCH
    # One chunk is one batch of CSV (~150 bytes a row), never the whole export.
    assert largest_chunk < BATCH * 300
    assert reads_per_chunk == list(range(len(batches) + 1))  # header, then one per read
