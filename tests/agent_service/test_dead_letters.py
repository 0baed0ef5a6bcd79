"""A record the database refuses for good never stops the audit log: it is set aside in
the dead-letter store with the reason and the records after it are written, in order,
exactly once. Real PostgreSQL on 127.0.0.1 and SQLite (the ``store`` fixture); the
refusals are genuine (a CHECK constraint, a value too long for its column, a dropped
table), not mocked."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

import asyncpg
import pytest

from agent_service.domain import FeedbackRecord, ToolCall, TurnRecord
from agent_service.store import AuditItem, AuditStore, AuditWriter, PostgresStore
from agent_service.store.deadletter import (
    DEAD_LETTER_FILE,
    DeadLetter,
    Destination,
    RecordKind,
    dead_letter,
)
from agent_service.store.errors import Refusal, is_outage, is_permanent
from agent_service.store.spool import Spool
from tests.agent_service.test_store import (
    T0,
    FailingThenDelegating,
    new_session,
    pg_dsn,
    rows,
    store,
    turn,
)

__all__ = ["pg_dsn", "store"]  # the fixtures, shared with test_store


class Events:
    def __init__(self) -> None:
        self.written = 0
        self.failed = 0
        self.dead: list[tuple[RecordKind, Destination]] = []

    def batch_written(self, rows: int, seconds: float) -> None:
        self.written += rows

    def write_failed(self) -> None:
        self.failed += 1

    def dropped(self, reason: str, rows: int) -> None:
        raise AssertionError(f"{rows} records dropped ({reason})")

    def dead_lettered(self, kind: RecordKind, destination: Destination) -> None:
        self.dead.append((kind, destination))


def bad_feedback(message_id: str) -> FeedbackRecord:
    """Refused by the CHECK on user_feedback on both backends (the API validates the
    rating; a record built in code is how such a row reaches the writer)."""
    return FeedbackRecord(message_id, "meh", None, T0)  # type: ignore[arg-type]


def test_a_dead_letters_fingerprint_is_the_one_earlier_versions_gave_it() -> None:
    """The hash of the record's spool line as versions before array lines wrote it (a
    JSON object): a record refused again after an upgrade (a replay) is kept once."""
    call = ToolCall("kb", {"q": "x"}, {"n": 1}, None, 1.25)
    turn_ = TurnRecord(
        "m-1", "s-1", "u-1", T0, "hi ü", "answer", "erp", (call,), 10, 5, 3, 4, 0.5, None, "trace"
    )
    feedback = FeedbackRecord("m-1", "negative", "bad", T0)
    why = Refusal("CheckViolationError", "23514", "refused")
    assert dead_letter(turn_, why, T0).fingerprint == (
        "822c961125f1637efedb477d6c12f2f6a3824949d1b20d517e6dfd5802982c44"
    )
    assert dead_letter(feedback, why, T0).fingerprint == (
        "2be522b87d24a733df7f77890c66a8e6bb9f3ca38562e2f70cd9075e6d879394"
    )


async def logged(store: AuditStore, sid: str) -> list[str]:
    found = await rows(
        store, "SELECT message_id FROM conversation_log WHERE session_id = $1 ORDER BY id", sid
    )
    return [r["message_id"] for r in found]


async def written_through(writer: AuditWriter, items: Sequence[AuditItem]) -> None:
    await writer.start()
    for item in items:
        assert writer.submit(item)
    await writer.flush(timeout_s=20)
    await writer.stop()


async def test_a_refused_record_is_set_aside_and_the_rest_is_written(store: AuditStore) -> None:
    sid = new_session()
    before = [turn(sid, n) for n in range(5)]
    after = [turn(sid, n) for n in range(5, 10)]
    refused = bad_feedback(before[2].message_id)
    good = FeedbackRecord(before[3].message_id, "positive", "fine", T0)
    events = Events()
    writer = AuditWriter(store, batch_size=100, flush_interval_s=0.01, events=events)

    await written_through(writer, [*before, refused, good, *after])

    assert await logged(store, sid) == [t.message_id for t in [*before, *after]]
    assert writer.depth == 0 and writer.dead_lettered == 1 and writer.written == 11
    assert events.dead == [("feedback", "table")]
    (session,) = await rows(store, "SELECT * FROM user_sessions WHERE session_id = $1", sid)
    assert session["total_messages"] == 10  # parts written again counted nothing twice
    rated = await rows(
        store, "SELECT user_feedback FROM conversation_log WHERE message_id = $1", good.message_id
    )
    assert rated == [{"user_feedback": "positive"}]
    (letter,) = await rows(
        store, "SELECT * FROM audit_dead_letters WHERE message_id = $1", refused.message_id
    )
    assert letter["kind"] == "feedback"
    record = letter["record"]
    record = json.loads(record) if isinstance(record, str) else record
    assert record["rating"] == "meh" and record["kind"] == "feedback"
    if isinstance(store, PostgresStore):
        assert (letter["error_class"], letter["sqlstate"]) == ("CheckViolationError", "23514")
    else:
        assert (letter["error_class"], letter["sqlstate"]) == ("IntegrityError", None)
    assert "user_feedback" in letter["error"] or "CHECK" in letter["error"]


async def test_a_refused_record_in_the_spool_does_not_block_the_replay(
    store: AuditStore, tmp_path: Path
) -> None:
    """The attack as it was: the database is down, a refused record is spooled between
    good ones; after the restart the replay sets it aside, writes the others and
    empties the spool. Replayed again (a crash before the segment was deleted), the
    dead letter is kept once."""
    sid = new_session()
    first, second = turn(sid, 0), turn(sid, 1)
    refused = bad_feedback(first.message_id)
    down = FailingThenDelegating(store, failures=10**6)
    spooling = AuditWriter(down, spool=Spool(tmp_path / "spool"), retry_initial_s=0.01)
    await spooling.start()
    for item in (first, refused, second):
        assert await spooling.record(item)
    await spooling.stop(timeout_s=0.2)
    assert spooling.depth == 3  # all in the spool, none in the database

    for _ in range(2):
        replaying = AuditWriter(store, spool=Spool(tmp_path / "spool"), flush_interval_s=0.01)
        await replaying.start()
        await replaying.flush(timeout_s=20)
        await replaying.stop()
        assert replaying.depth == 0
        assert list((tmp_path / "spool").glob("seg-*.jsonl")) == []
        await written_through(AuditWriter(store, flush_interval_s=0.01), [first, refused])
    assert await logged(store, sid) == [first.message_id, second.message_id]
    letters = await rows(
        store, "SELECT id FROM audit_dead_letters WHERE message_id = $1", refused.message_id
    )
    assert len(letters) == 1


@pytest.mark.parametrize("spooled", [False, True], ids=["memory", "spool"])
async def test_a_too_long_value_is_refused_on_postgres_in_a_large_batch(
    pg_dsn: str, tmp_path: Path, spooled: bool
) -> None:
    """A batch of 600 turns goes in two COPY lanes; one turn's session id is too long
    for VARCHAR(64) (SQLSTATE 22001). Only it is set aside; the 599 others are in,
    each session's turns in order, counted once. Through the spool the halves are
    written from the rows encoded with the spool lines."""
    store = PostgresStore(pg_dsn)
    await store.migrate()
    try:
        sessions = [new_session() for _ in range(6)]
        turns = [turn(sessions[n % 6], n) for n in range(600)]
        turns[321] = replace(turns[321], session_id="s" * 100)
        events = Events()
        spool = Spool(tmp_path / "spool") if spooled else None
        writer = AuditWriter(
            store, batch_size=1000, flush_interval_s=0.01, events=events, spool=spool
        )
        await written_through(writer, turns)

        assert events.dead == [("turn", "table")]
        for sid in sessions:
            expected = [t.message_id for t in turns if t.session_id == sid]
            assert await logged(store, sid) == expected
            (session,) = await rows(store, "SELECT * FROM user_sessions WHERE session_id = $1", sid)
            assert session["total_messages"] == len(expected)
        (letter,) = await rows(
            store,
            "SELECT kind, sqlstate, error_class, record FROM audit_dead_letters "
            "WHERE message_id = $1",
            turns[321].message_id,
        )
        assert (letter["kind"], letter["sqlstate"]) == ("turn", "22001")
        assert letter["error_class"] == "StringDataRightTruncationError"
        assert json.loads(letter["record"])["session_id"] == "s" * 100
    finally:
        await store.close()


async def test_a_refused_row_in_overlapping_batches_is_found_and_the_rest_kept_in_order(
    pg_dsn: str, tmp_path: Path
) -> None:
    """Through the spool, batches of 600 (two lanes each) are written one ahead of the
    other; a row of the third is refused while the fourth is under way. The third is
    halved down to the refused row, the fourth written again after it: only that row
    is aside, every session's rows in order, counted once."""
    store = PostgresStore(pg_dsn)
    await store.migrate()
    try:
        sessions = [new_session() for _ in range(12)]
        turns = [turn(sessions[n % 12], n) for n in range(3000)]
        turns[1500] = replace(turns[1500], session_id="s" * 100)
        events = Events()
        writer = AuditWriter(
            store,
            batch_size=600,
            flush_interval_s=0.01,
            events=events,
            spool=Spool(tmp_path / "spool"),
        )
        await written_through(writer, turns)

        assert events.dead == [("turn", "table")]
        for sid in sessions:
            expected = [t.message_id for t in turns if t.session_id == sid]
            assert await logged(store, sid) == expected
            (session,) = await rows(store, "SELECT * FROM user_sessions WHERE session_id = $1", sid)
            assert session["total_messages"] == len(expected)
        assert list((tmp_path / "spool").glob("seg-*.jsonl")) == []
    finally:
        await store.close()


async def test_when_the_dead_letter_table_refuses_too_the_spool_directory_keeps_it(
    pg_dsn: str, tmp_path: Path
) -> None:
    """The table is gone (a genuine 42P01 for the dead letter): the record goes to the
    file beside the spool, and the writer goes on."""
    name = f"dl_{tmp_path.name[-12:].replace('-', '_')}".lower()
    admin = await asyncpg.connect(pg_dsn.rsplit("/", 1)[0] + "/postgres", timeout=5)
    await admin.execute(f'CREATE DATABASE "{name}"')
    store = PostgresStore(pg_dsn.rsplit("/", 1)[0] + f"/{name}")
    try:
        await store.migrate()
        connection = await asyncpg.connect(store.dsn, timeout=5)
        await connection.execute("DROP TABLE audit_dead_letters")
        await connection.close()
        sid = new_session()
        first, second = turn(sid, 0), turn(sid, 1)
        refused = bad_feedback(first.message_id)
        events = Events()
        writer = AuditWriter(
            store, spool=Spool(tmp_path / "spool"), flush_interval_s=0.01, events=events
        )
        await written_through(writer, [first, refused, second])

        assert await logged(store, sid) == [first.message_id, second.message_id]
        assert events.dead == [("feedback", "file")]
        (line,) = (tmp_path / "spool" / DEAD_LETTER_FILE).read_bytes().splitlines()
        kept = json.loads(line)
        assert kept["record"]["rating"] == "meh" and kept["sqlstate"] == "23514"
        assert list((tmp_path / "spool").glob("seg-*.jsonl")) == []  # nothing to replay
    finally:
        await store.close()
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


class RefusingDeadLetters(FailingThenDelegating):
    """A store whose dead-letter table refuses every record (a permanent error)."""

    async def dead_letter(self, letters: Sequence[DeadLetter]) -> None:
        raise sqlite3.IntegrityError("refused")


async def test_without_a_spool_a_doubly_refused_record_is_logged(
    store: AuditStore, caplog: pytest.LogCaptureFixture
) -> None:
    sid = new_session()
    first = turn(sid, 0)
    refused = bad_feedback(first.message_id)
    events = Events()
    writer = AuditWriter(
        RefusingDeadLetters(store, failures=0), flush_interval_s=0.01, events=events
    )
    await written_through(writer, [first, refused])
    assert events.dead == [("feedback", "log")]
    assert any('"rating":"meh"' in r.getMessage() for r in caplog.records)


async def test_an_outage_is_still_retried_in_order(store: AuditStore) -> None:
    flaky = FailingThenDelegating(store, failures=3)
    events = Events()
    writer = AuditWriter(flaky, batch_size=10, flush_interval_s=0.01, retry_initial_s=0.02)
    writer.events = events
    sid = new_session()
    turns = [turn(sid, n) for n in range(10)]
    await written_through(writer, turns)
    assert flaky.attempts[:4] == [10, 10, 10, 10]  # the whole batch, retried as it was
    assert events.dead == [] and writer.dead_lettered == 0
    assert await logged(store, sid) == [t.message_id for t in turns]


@pytest.mark.parametrize(
    ("error", "permanent", "outage"),
    [
        (asyncpg.CharacterNotInRepertoireError("nul"), True, False),
        (asyncpg.StringDataRightTruncationError("long"), True, False),
        (asyncpg.CheckViolationError("check"), True, False),
        (asyncpg.ForeignKeyViolationError("fk"), True, False),
        (asyncpg.UndefinedColumnError("column"), True, False),
        (asyncpg.UniqueViolationError("duplicate"), False, False),
        (asyncpg.ConnectionDoesNotExistError("gone"), False, True),
        (asyncpg.TooManyConnectionsError("full"), False, True),
        (asyncpg.DiskFullError("disk"), False, True),
        (asyncpg.AdminShutdownError("shutdown"), False, True),
        (asyncpg.QueryCanceledError("cancelled"), False, True),
        (asyncpg.SerializationError("serialization"), False, True),
        (asyncpg.DeadlockDetectedError("deadlock"), False, True),
        (asyncpg.InterfaceError("connection closed"), False, True),
        (asyncpg.exceptions._base.DataError("invalid input for query argument"), True, False),
        (UnicodeEncodeError("utf-8", "\ud800", 0, 1, "surrogates not allowed"), True, False),
        (OverflowError("int too big"), True, False),
        (ConnectionRefusedError(), False, True),
        (TimeoutError(), False, True),
        (sqlite3.IntegrityError("CHECK"), True, False),
        (sqlite3.OperationalError("database is locked"), False, True),
        (RuntimeError("unknown"), False, False),
    ],
    ids=lambda value: type(value).__name__ if isinstance(value, BaseException) else str(value),
)
def test_errors_are_classified_explicitly(
    error: BaseException, permanent: bool, outage: bool
) -> None:
    assert (is_permanent(error), is_outage(error)) == (permanent, outage)
