"""The audit spool and the durable writer: a record is in the spool file (fsynced)
before ``enqueue`` resolves; whatever the database has not taken survives a stop and is
replayed, in order and without duplicates, by the next writer; the spool is bounded and
says so when full. Real PostgreSQL on 127.0.0.1 and SQLite (the ``store`` fixture)."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from agent_service.domain import FeedbackRecord, ToolCall
from agent_service.store import AuditItem, AuditStore, AuditWriter, SqliteStore, StoreUnavailable
from agent_service.store.base import TurnRow, stored_turn, turn_row, utc
from agent_service.store.codec import (
    SpoolFormatError,
    as_json,
    decode,
    encode,
    encode_with_row,
    encode_with_rows,
)
from agent_service.store.jsontext import dumps_bytes
from agent_service.store.postgres import PostgresStore
from agent_service.store.spool import Spool, SpoolFull, SpoolLocked
from agent_service.store.writer import DropReason
from tests.agent_service.test_store import T0, new_session, pg_dsn, rows, store, turn

__all__ = ["pg_dsn", "store"]  # the fixtures, shared with test_store


class Unreachable:
    """A database that is down: every write fails (the real store answers reads)."""

    def __init__(self, inner: AuditStore) -> None:
        self.inner = inner
        self.attempts = 0

    async def migrate(self) -> None:
        await self.inner.migrate()

    async def write(self, items: Sequence[AuditItem]) -> None:
        self.attempts += 1
        raise StoreUnavailable("connection refused")

    async def message_exists(self, message_id: str) -> bool:
        return await self.inner.message_exists(message_id)

    async def ping(self) -> None:
        raise StoreUnavailable("connection refused")

    async def close(self) -> None:
        pass


class Events:
    def __init__(self) -> None:
        self.written = 0
        self.failed = 0
        self.drops: dict[str, int] = {}

    def batch_written(self, rows: int, seconds: float) -> None:
        self.written += rows

    def write_failed(self) -> None:
        self.failed += 1

    def dropped(self, reason: DropReason, rows: int) -> None:
        self.drops[reason] = self.drops.get(reason, 0) + rows


def spooled_ids(directory: Path) -> list[str]:
    """Message ids in the spool's segment files, read straight from disk."""
    found = []
    for path in sorted(directory.glob("seg-*.jsonl")):
        found += [decode(line).message_id for line in path.read_bytes().splitlines()]
    return found


def test_codec_round_trip_and_bad_lines() -> None:
    sid = new_session()
    call = ToolCall("lookup_invoice", {"id": "INV-1"}, {"total": 3}, None, 1.25)
    record = turn(sid, 3, tool_calls=(call,), error="boom")
    assert decode(encode(record)) == record
    feedback = FeedbackRecord(record.message_id, "negative", "wrong ünïcode", T0)
    assert decode(encode(feedback)) == feedback
    for bad in (b"{not json", b'{"kind": "turn"}', b'{"kind": "other"}', b"[]"):
        with pytest.raises(SpoolFormatError):
            decode(bad)


@pytest.mark.parametrize(
    "at",
    [
        T0,
        datetime(2026, 5, 6, 7, 8, 9, tzinfo=UTC),  # no microseconds
        datetime(2026, 5, 6, 7, 8, 9, 10, tzinfo=timezone(timedelta(hours=5, minutes=30))),
        datetime(2026, 5, 6, 7, 8, 9, tzinfo=timezone(timedelta(seconds=30))),  # not minutes
        datetime(2026, 5, 6, 7, 8, 9),  # naive
    ],
    ids=["utc", "utc-whole-second", "+05:30", "+00:00:30", "naive"],
)
def test_a_line_keeps_the_time_and_the_row_is_the_stores(at: datetime) -> None:
    call = ToolCall("lookup_invoice", {"id": "INV-1", "when": T0}, {"total": 2**70}, None, 1.25)
    record = replace(turn(new_session(), 3, tool_calls=(call,)), timestamp=at)
    line, row = encode_with_row(record)
    back = decode(line)
    # Tool results are JSON: a datetime in them comes back as its str (default=str).
    as_json_call = replace(call, arguments={"id": "INV-1", "when": str(T0)})
    assert back == replace(record, tool_calls=(as_json_call,))
    assert back.timestamp.utcoffset() == at.utcoffset()
    assert row == turn_row(stored_turn(record), utc)
    feedback = FeedbackRecord(record.message_id, "positive", None, at)
    assert decode(encode(feedback)) == feedback
    assert encode_with_row(feedback) == (encode(feedback), None)
    data, both = encode_with_rows([record, feedback])
    assert data == line + encode(feedback) and both == [row, None]


def test_a_line_of_the_earlier_format_is_read() -> None:
    """Segments written before lines were arrays: one JSON object a record."""
    call = ToolCall("lookup_invoice", {"id": "INV-1"}, {"total": 3}, None, 1.25)
    record = turn(new_session(), 3, tool_calls=(call,), error="boom")
    feedback = FeedbackRecord(record.message_id, "negative", "wrong", T0)
    for item in (record, feedback):
        assert decode(dumps_bytes(as_json(item))) == item


def earlier_format_segment(directory: Path, items: Sequence[AuditItem]) -> None:
    """A segment as the earlier version wrote it (one JSON object a line)."""
    directory.mkdir(parents=True, exist_ok=True)
    lines = b"".join(dumps_bytes(as_json(item)) + b"\n" for item in items)
    (directory / "seg-000000000007.jsonl").write_bytes(lines)


async def test_a_segment_of_the_earlier_format_is_replayed(
    store: AuditStore, tmp_path: Path
) -> None:
    sid = new_session()
    turns = [turn(sid, n) for n in range(12)]
    earlier_format_segment(
        tmp_path / "spool", [*turns, FeedbackRecord(turns[4].message_id, "positive", None, T0)]
    )
    writer = AuditWriter(store, spool=Spool(tmp_path / "spool"), flush_interval_s=0.01)
    await writer.start()
    later = turn(sid, 12)
    assert await writer.record(later)  # new records go after the replayed ones
    await writer.flush(timeout_s=10)
    await writer.stop()
    logged = await rows(
        store,
        "SELECT message_id, user_feedback FROM conversation_log WHERE session_id = $1 ORDER BY id",
        sid,
    )
    assert [r["message_id"] for r in logged] == [t.message_id for t in [*turns, later]]
    assert [r["user_feedback"] for r in logged].count("positive") == 1
    (session,) = await rows(store, "SELECT * FROM user_sessions WHERE session_id = $1", sid)
    assert session["total_messages"] == 13
    assert spooled_ids(tmp_path / "spool") == []


class CountingRows(PostgresStore):
    """The PostgreSQL store, counting the rows it was handed ready-made."""

    handed: int = 0

    async def write_rows(
        self,
        items: Sequence[AuditItem],
        rows: Sequence[TurnRow | None] | None,
        *,
        overlapping: bool = False,
    ) -> None:
        self.handed += sum(row is not None for row in rows or ())
        await super().write_rows(items, rows, overlapping=overlapping)


async def test_through_the_spool_postgres_is_handed_the_rows_encoded_with_the_lines(
    pg_dsn: str, tmp_path: Path
) -> None:
    store = CountingRows(pg_dsn)
    try:
        sid = new_session()
        turns = [turn(sid, n) for n in range(300)]
        writer = AuditWriter(store, spool=Spool(tmp_path / "spool"), flush_interval_s=0.01)
        await writer.start()
        for item in turns:
            assert writer.submit(item)
        await writer.flush(timeout_s=20)
        await writer.stop()
        assert store.handed == 300
        logged = await rows(
            store, "SELECT message_id FROM conversation_log WHERE session_id = $1 ORDER BY id", sid
        )
        assert [r["message_id"] for r in logged] == [t.message_id for t in turns]
    finally:
        await store.close()


class Hangs(PostgresStore):
    """The PostgreSQL store whose writes never finish (a database that stopped
    answering), noting the writes that were cancelled."""

    started = 0
    cancelled = 0

    async def write_rows(
        self,
        items: Sequence[AuditItem],
        rows: Sequence[TurnRow | None] | None,
        *,
        overlapping: bool = False,
    ) -> None:
        self.started += 1
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            self.cancelled += 1
            raise


async def test_stopping_cancels_every_batch_being_written_and_keeps_them_in_the_spool(
    pg_dsn: str, tmp_path: Path
) -> None:
    store = Hangs(pg_dsn)
    sid = new_session()
    turns = [turn(sid, n) for n in range(30)]
    spooling = AuditWriter(Unreachable(store), spool=Spool(tmp_path / "spool"))
    await spooling.start()
    assert await asyncio.gather(*(spooling.enqueue(item) for item in turns)) == [True] * 30
    await spooling.stop(timeout_s=0.1)
    writer = AuditWriter(store, batch_size=10, spool=Spool(tmp_path / "spool"))
    await writer.start()  # replays the 30 records in batches of 10
    async with asyncio.timeout(5):
        while store.started < 2:  # a batch and the one started ahead of it
            await asyncio.sleep(0.01)
    await writer.stop(timeout_s=0.2)
    assert store.cancelled == store.started == 2
    assert spooled_ids(tmp_path / "spool") == [t.message_id for t in turns]
    await store.close()


async def test_enqueue_resolves_after_the_record_is_in_the_spool_file(
    store: AuditStore, tmp_path: Path
) -> None:
    spool_dir = tmp_path / "spool"
    down = Unreachable(store)
    writer = AuditWriter(down, spool=Spool(spool_dir), retry_initial_s=0.01, retry_max_s=0.05)
    await writer.start()
    sid = new_session()
    turns = [turn(sid, n) for n in range(20)]
    results = await asyncio.gather(*(writer.record(t) for t in turns))
    assert results == [True] * 20
    # On disk before anything reached the database (which is down).
    assert spooled_ids(spool_dir) == [t.message_id for t in turns]
    assert (writer.depth, writer.spooled, writer.written) == (20, 20, 0)
    await writer.stop(timeout_s=0.3)
    assert down.attempts >= 1
    assert spooled_ids(spool_dir) == [t.message_id for t in turns]  # kept for next start
    assert await rows(store, "SELECT * FROM conversation_log WHERE session_id = $1", sid) == []


async def test_a_new_writer_replays_the_spool_in_order_without_duplicates(
    store: AuditStore, tmp_path: Path
) -> None:
    spool_dir = tmp_path / "spool"
    sid = new_session()
    turns = [turn(sid, n) for n in range(30)]
    first = AuditWriter(Unreachable(store), spool=Spool(spool_dir), retry_initial_s=0.01)
    await first.start()
    for item in turns:
        assert await first.record(item)
    feedback = FeedbackRecord(turns[12].message_id, "positive", "good", T0)
    assert await first.record(feedback)
    await first.stop(timeout_s=0.2)
    assert spooled_ids(spool_dir) == [t.message_id for t in turns] + [turns[12].message_id]
    # The first 10 did reach the database, but the crash came before the writer knew
    # (a commit whose acknowledgment was lost): replay must not count them twice.
    await store.write(turns[:10])

    events = Events()
    second = AuditWriter(store, spool=Spool(spool_dir), events=events)
    await second.start()
    await second.flush(timeout_s=10)
    await second.stop()
    logged = await rows(
        store,
        "SELECT message_id, user_feedback FROM conversation_log WHERE session_id = $1 ORDER BY id",
        sid,
    )
    assert [r["message_id"] for r in logged] == [t.message_id for t in turns]
    assert [r["user_feedback"] for r in logged].count("positive") == 1
    (session,) = await rows(store, "SELECT * FROM user_sessions WHERE session_id = $1", sid)
    assert session["total_messages"] == 30
    assert spooled_ids(spool_dir) == []  # written segments are deleted
    assert events.written >= 21


async def test_a_backlog_larger_than_memory_is_read_back_from_disk(
    store: AuditStore, tmp_path: Path
) -> None:
    """A long outage: only ``max_queue`` records are kept in memory; the rest are read
    back from the spool when the database returns, still in order."""
    down = Unreachable(store)
    writer = AuditWriter(
        down, max_queue=7, batch_size=4, spool=Spool(tmp_path / "s"), retry_initial_s=0.01
    )
    await writer.start()
    sid = new_session()
    turns = [turn(sid, n) for n in range(40)]
    for item in turns:
        assert await writer.record(item)  # one at a time: 40 appends
    assert writer.depth == 40 and writer.dropped == 0
    writer.store = store  # the database is back
    await writer.flush(timeout_s=10)
    await writer.stop()
    logged = await rows(
        store, "SELECT message_id FROM conversation_log WHERE session_id = $1 ORDER BY id", sid
    )
    assert [r["message_id"] for r in logged] == [t.message_id for t in turns]


async def test_a_full_spool_says_so_and_drops_with_a_reason(tmp_path: Path) -> None:
    events = Events()
    store = SqliteStore(tmp_path / "a.sqlite3")
    await store.migrate()
    one = len(encode(turn("s", 0)))
    spool = Spool(tmp_path / "s", max_bytes=one * 3)
    writer = AuditWriter(
        Unreachable(store), max_queue=2, spool=spool, events=events, retry_initial_s=0.01
    )
    await writer.start()
    results = [await writer.record(turn("s", n)) for n in range(7)]
    # 3 fit the spool, 2 more are held in memory (not durable), the rest are lost.
    assert results == [True] * 3 + [False] * 4
    assert events.drops == {"spool_full": 2}
    assert writer.dropped == 2 and writer.depth == 5 and writer.spooled == 3
    assert spool.size_bytes <= spool.max_bytes
    await writer.stop(timeout_s=0.2)
    with pytest.raises(SpoolFull):
        reopened = Spool(tmp_path / "s", max_bytes=one * 3)
        reopened.open()
        try:
            reopened.append([turn("s", 9)])
        finally:
            reopened.close()
    await store.close()


def test_a_torn_last_line_is_cut_and_a_second_process_is_refused(tmp_path: Path) -> None:
    spool = Spool(tmp_path)
    spool.open()
    records = [turn("s", n) for n in range(3)]
    segment = spool.append(records)
    spool.close()
    with segment.path.open("ab") as file:  # a crash in the middle of an append
        file.write(encode(turn("s", 99))[:25])
    again = Spool(tmp_path)
    (found,) = again.open()
    assert found.rows == 3
    items, unreadable = again.read(found)
    assert items == records and unreadable == 0
    with pytest.raises(SpoolLocked, match="in use by another process"):
        Spool(tmp_path).open()
    again.close()
