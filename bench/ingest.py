"""Audit ingest: rows per second into PostgreSQL through the AuditWriter (with the
spool, every row appended and fsynced locally first, the service's default; and
memory only), beside the floor: a bare asyncpg COPY of the same rows, pre-encoded,
into the same schema on as many connections as the machine has cores, no writer and
no spool. Writer and floor take turns (writer, floor, floor, writer, ...) in one run,
each round in a fresh database, so load from the rest of the machine falls on both;
the ratio is the writer's median over the floor's.

Turn rows of realistic size (a tool call with arguments and result, a few hundred
characters of text) from 50 users talking at once, 10 turns a conversation (so a
batch touches a few hundred sessions), and, as the worst case, every row from a
different session of 2,000. After every writer round the log is counted: every row
once (none lost, none duplicated) and every session's count right.

What bounds the ratio is measured in the same run: each side's CPU a row on the whole
machine (the benchmark process, PostgreSQL and the kernel), and the writer's own CPU a
row without a database (a store that takes every batch at once): the spool's encoding,
write and fsync and the batching, which the writer spends on the cores the server
needs. A writer whose database-facing work cost exactly the floor's client CPU would
still need its own on top of the floor's machine CPU a row, so on a machine the floor
keeps busy it reaches at most floor / (floor + own) of the floor's rows a second.
"""

from __future__ import annotations

import asyncio
import gc
import json
import os
import statistics
import tempfile
import time
import uuid
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg

from agent_service.domain import AlertRecord, ToolCall, TurnRecord
from agent_service.store import AuditWriter, PostgresStore
from agent_service.store.base import (
    AuditItem,
    AuditStore,
    SessionDelta,
    TurnRow,
    turn_row,
    utc,
)
from agent_service.store.deadletter import DeadLetter
from agent_service.store.migrate import migrate_postgres
from agent_service.store.partitions import Month, create_partitions
from agent_service.store.postgres import TURN_COLUMNS
from agent_service.store.spool import Spool
from bench.common import load_average, machine_cpu_seconds, scratch_database

T0 = datetime(2026, 1, 1, tzinfo=UTC)
# The floor's transactions: large enough that a commit's fsync does not count.
FLOOR_ROWS_A_TRANSACTION = 5_000


def turns(count: int, *, conversations: bool = True) -> list[TurnRecord]:
    call = ToolCall(
        "get_invoice_status",
        {"invoice_id": "INV-1001"},
        {"status": "paid", "total": 1234.5},
        None,
        2.5,
    )
    answer = "Invoice INV-1001 was paid in full on 2026-01-03; the amount was 1,234.50 EUR. " * 3
    return [
        TurnRecord(
            message_id=f"msg-{uuid.uuid4().hex}",
            session_id=(
                f"session-{n % 50 + 50 * (n // 500)}" if conversations else f"session-{n % 2000}"
            ),
            user_id=f"user-{n % 500}",
            timestamp=T0 + timedelta(milliseconds=n),
            user_message="What is the status of invoice INV-1001?",
            agent_response=answer,
            agent_type=("erp", "crm", "it_ops", "oa", "general")[n % 5],
            tool_calls=(call,),
            latency_ms=800 + n % 300,
            ttft_ms=120 + n % 50,
            prompt_tokens=250,
            completion_tokens=60,
            confidence=0.92,
            error=None,
            trace_id=uuid.uuid4().hex,
        )
        for n in range(count)
    ]


@dataclass(frozen=True)
class Timing:
    """One side of one round: rows a second, this process's CPU time a row (the
    client's share: the spool's thread included) and the whole machine's (None
    without /proc/stat): the server's share is the difference."""

    rows_per_s: float
    client_cpu_us: float
    machine_cpu_us: float | None


class _Stopwatch:
    """Wall time, this process's CPU time and the machine's, from its creation."""

    def __init__(self) -> None:
        self.started = time.perf_counter()
        self.cpu = time.process_time()
        self.machine = machine_cpu_seconds()

    def timing(self, rows: int) -> Timing:
        seconds = time.perf_counter() - self.started
        cpu = time.process_time() - self.cpu
        machine_now = machine_cpu_seconds()
        machine = (
            None
            if machine_now is None or self.machine is None
            else (machine_now - self.machine) / rows * 1e6
        )
        return Timing(rows / seconds, cpu / rows * 1e6, machine)


async def _writer(database_url: str, records: list[TurnRecord], spool_dir: Path | None) -> Timing:
    """The writer as the running service has it (not timed, as the floor's set-up is
    not): the schema migrated, the rows' month's partition created ahead (the
    service's retention task does it at start), the pool's connections open."""
    store = PostgresStore(database_url)
    await store.migrate()
    for at in {records[0].timestamp, records[-1].timestamp}:  # the rows span minutes
        await store.maintain_partitions(at, None, 0)
    timing, writer = await _timed_writer(store, records, spool_dir)
    await store.close()
    assert writer.written == len(records) and writer.dropped == 0
    await _verify(database_url, records)
    return timing


class _AcceptingStore:
    """A store that takes every batch at once and keeps nothing: the writer's own work
    (the spool's encoding, write and fsync, the batching), without a database."""

    def __init__(self) -> None:
        self.rows = 0

    async def migrate(self) -> None:
        pass

    async def write(self, items: Sequence[AuditItem]) -> None:
        await self.write_rows(items, None)

    async def write_rows(
        self,
        items: Sequence[AuditItem],
        rows: Sequence[TurnRow | None] | None,
        *,
        overlapping: bool = False,
    ) -> None:
        self.rows += len(items)
        await asyncio.sleep(0)  # a write yields to the loop once, as a real one does

    async def message_exists(self, message_id: str) -> bool:
        return False

    async def dead_letter(self, letters: Sequence[DeadLetter]) -> None:
        raise AssertionError("the accepting store refuses nothing")

    async def record_alerts(self, alerts: Sequence[AlertRecord]) -> None:
        pass

    async def ping(self) -> None:
        pass

    async def close(self) -> None:
        pass


async def _writer_alone(records: list[TurnRecord], spool_dir: Path) -> Timing:
    """The writer through the spool into a store that takes every batch at once."""
    store = _AcceptingStore()
    timing, writer = await _timed_writer(store, records, spool_dir)
    assert store.rows == writer.written == len(records)
    return timing


async def _timed_writer(
    store: AuditStore, records: list[TurnRecord], spool_dir: Path | None
) -> tuple[Timing, AuditWriter]:
    """Every record submitted at once to a writer over ``store`` (through a spool in
    ``spool_dir``, or memory only), timed until the last is written; then stopped."""
    spool = Spool(spool_dir, max_bytes=4 * 1024**3) if spool_dir else None
    writer = AuditWriter(store, max_queue=len(records), spool=spool)
    await writer.start()
    gc.collect()  # no collection owed for the set-up's garbage (the floor does the same)
    stopwatch = _Stopwatch()
    for record in records:
        writer.submit(record)
    await writer.flush(timeout_s=600)
    timing = stopwatch.timing(len(records))
    await writer.stop()
    return timing, writer


async def _verify(database_url: str, records: list[TurnRecord]) -> None:
    """Every row logged once and counted once into its session."""
    connection = await asyncpg.connect(database_url, timeout=10)
    try:
        rows, distinct = await connection.fetchrow(
            "SELECT count(*), count(DISTINCT message_id) FROM conversation_log"
        )
        counted = await connection.fetchval("SELECT sum(total_messages) FROM user_sessions")
    finally:
        await connection.close()
    if not rows == distinct == counted == len(records):
        raise AssertionError(
            f"{len(records)} submitted, {rows} rows, {distinct} distinct, {counted} counted"
        )


@dataclass(frozen=True)
class FloorInput:
    """The rows as COPY takes them (tuples of column values, encoded beforehand), split
    by session into one lane a core, and the sessions they reference."""

    lanes: list[list[tuple[Any, ...]]]
    sessions: list[tuple[Any, ...]]
    months: set[Month]

    @classmethod
    def of(cls, records: list[TurnRecord], lanes: int) -> FloorInput:
        split: list[list[tuple[Any, ...]]] = [[] for _ in range(lanes)]
        for record in records:
            split[zlib.crc32(record.session_id.encode()) % lanes].append(turn_row(record, utc))
        sessions = [
            (session_id, d.user_id, d.first_at, d.last_at, d.messages, json.dumps(d.agents))
            for session_id, d in sorted(SessionDelta.aggregate(records).items())
        ]
        months = {Month.of(record.timestamp) for record in records}
        return cls([lane for lane in split if lane], sessions, months)


async def _floor(database_url: str, floor: FloorInput) -> Timing:
    """The rows' partitions and sessions created first (not timed); then every lane on
    its own connection at once, each in transactions of FLOOR_ROWS_A_TRANSACTION rows."""
    connections = [await asyncpg.connect(database_url, timeout=10) for _ in floor.lanes]
    try:
        await migrate_postgres(connections[0])
        await create_partitions(connections[0], floor.months)
        await connections[0].copy_records_to_table(
            "user_sessions",
            columns=(
                "session_id",
                "user_id",
                "started_at",
                "last_active_at",
                "total_messages",
                "agents_used",
            ),
            records=floor.sessions,
        )

        async def lane(connection: Any, rows: list[tuple[Any, ...]]) -> None:
            for start in range(0, len(rows), FLOOR_ROWS_A_TRANSACTION):
                async with connection.transaction():
                    await connection.copy_records_to_table(
                        "conversation_log",
                        columns=TURN_COLUMNS,
                        records=rows[start : start + FLOOR_ROWS_A_TRANSACTION],
                    )

        gc.collect()
        stopwatch = _Stopwatch()
        lanes = zip(connections, floor.lanes, strict=True)
        await asyncio.gather(*(lane(connection, rows) for connection, rows in lanes))
        timing = stopwatch.timing(sum(len(rows) for rows in floor.lanes))
    finally:
        for connection in connections:
            await connection.close()
    return timing


@dataclass
class Case:
    label: str
    conversations: bool
    # side -> each round's timing
    rounds: dict[str, list[Timing]] = field(default_factory=dict)
    loads: list[str] = field(default_factory=list)
    # the writer without a database, a run beside each round
    alone: list[Timing] = field(default_factory=list)

    def median(self, side: str) -> float:
        return statistics.median(t.rows_per_s for t in self.rounds[side])

    def client_cpu_us(self, side: str) -> float:
        return statistics.median(t.client_cpu_us for t in self.rounds[side])

    def machine_cpu_us(self, side: str) -> float | None:
        values = [t.machine_cpu_us for t in self.rounds[side]]
        known = [v for v in values if v is not None]
        return statistics.median(known) if known and len(known) == len(values) else None


def _alone(records: list[TurnRecord]) -> Timing:
    with tempfile.TemporaryDirectory(prefix="bench-") as tmp:
        return asyncio.run(_writer_alone(records, Path(tmp) / "spool"))


def _round(run: Callable[[str, Path], Timing]) -> Timing:
    with scratch_database() as url, tempfile.TemporaryDirectory(prefix="bench-") as tmp:
        return run(url, Path(tmp))


def _sides(
    records: list[TurnRecord], cores: int, memory_only: bool
) -> dict[str, Callable[[str, Path], Timing]]:
    """What each side of a round runs, in a fresh database and scratch directory."""
    floor = FloorInput.of(records, cores)
    sides: dict[str, Callable[[str, Path], Timing]] = {
        "writer, spool": lambda url, tmp: asyncio.run(_writer(url, records, tmp / "spool")),
        "COPY floor": lambda url, _tmp: asyncio.run(_floor(url, floor)),
    }
    if memory_only:
        sides["writer, memory only"] = lambda url, _tmp: asyncio.run(_writer(url, records, None))
    return sides


def measure(rows: int = 100_000, rounds: int = 3) -> dict[str, float]:
    """Each case: ``rounds`` rounds of every side, the sides' order alternating."""
    cores = os.cpu_count() or 1
    cases = (
        Case("50 concurrent conversations of 10 turns", True),
        Case("one row a session (2,000 sessions)", False),
    )
    print(
        f"\n## Audit ingest into PostgreSQL: the writer and the COPY floor "
        f"({rows:,} turn rows, {rounds} alternating rounds a side)"
    )
    print(
        f"   floor: a bare asyncpg COPY of the same rows, pre-encoded, on {cores} connections "
        f"(one a core, rows split by session, sessions inserted first), "
        f"{FLOOR_ROWS_A_TRANSACTION:,} rows a transaction"
    )
    figures: dict[str, float] = {}
    for case in cases:
        records = turns(rows, conversations=case.conversations)
        sides = _sides(records, cores, case.conversations)
        case.rounds = {side: [] for side in sides}
        for index in range(rounds):
            order = list(sides) if index % 2 == 0 else list(reversed(sides))
            case.loads.append(load_average())
            for side in order:
                case.rounds[side].append(_round(sides[side]))
            case.alone.append(_alone(records))
        print(f"\n   {case.label} (load average at each round's start: {'; '.join(case.loads)})")
        floor_median = case.median("COPY floor")
        for side, values in case.rounds.items():
            runs = ", ".join(f"{v.rows_per_s:,.0f}" for v in values)
            ratio = case.median(side) / floor_median
            # Each round's ratio to the floor's round beside it (the same load on both).
            paired = statistics.median(
                w.rows_per_s / f.rows_per_s
                for w, f in zip(values, case.rounds["COPY floor"], strict=True)
            )
            machine = case.machine_cpu_us(side)
            print(
                f"   {side + ':':22} {case.median(side):9,.0f} rows/s median "
                f"({runs}); {ratio:.2f} of the floor (round by round {paired:.2f}); "
                f"CPU a row: client {case.client_cpu_us(side):.1f} us"
                + (f", machine {machine:.1f} us" if machine is not None else "")
            )
            figures[f"{case.label}: {side}"] = case.median(side)
            figures[f"{case.label}: {side}, client CPU us"] = case.client_cpu_us(side)
            figures[f"{case.label}: {side} / floor"] = ratio
        print("   every writer round: 0 rows lost, 0 duplicated, every session counted right")
        figures[f"{case.label}: writer alone, CPU us"] = _print_bound(case)
    return figures


def _print_bound(case: Case) -> float:
    """The writer's own CPU a row (no database), and the ratio it leaves at best."""
    own = statistics.median(t.client_cpu_us for t in case.alone)
    print(
        f"   the writer alone (spool, no database): {own:.1f} us of CPU a row "
        f"({', '.join(f'{t.client_cpu_us:.1f}' for t in case.alone)})"
    )
    floor = case.machine_cpu_us("COPY floor")
    writer = case.machine_cpu_us("writer, spool")
    if floor is not None and writer is not None:
        client = case.client_cpu_us("writer, spool") - case.client_cpu_us("COPY floor")
        print(
            f"   the writer's machine CPU a row above the floor's: {writer - floor:+.1f} us: "
            f"its client {client:+.1f} us, the server and the kernel {writer - floor - client:+.1f}"
            f" us (counting sessions, the spool's writeback)"
        )
        print(
            f"   bound: the floor's {floor:.1f} us of machine CPU a row plus the writer's "
            f"own {own:.1f} us leave it at most {floor / (floor + own):.2f} of the floor "
            f"while the floor keeps the machine busy"
        )
    return own
