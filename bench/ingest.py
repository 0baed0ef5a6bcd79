"""Audit ingest: rows per second into PostgreSQL through the AuditWriter, with the
spool (every row appended and fsynced locally first, the service's default) and
without it, default batch size. Turn rows of realistic size (a tool call with
arguments and result, a few hundred characters of text) from 50 users talking at once,
10 turns a conversation (so a batch touches a few hundred sessions), and, as the worst
case, every row from a different session of 2,000."""

from __future__ import annotations

import asyncio
import statistics
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

from agent_service.domain import ToolCall, TurnRecord
from agent_service.store import AuditWriter, PostgresStore
from agent_service.store.spool import Spool
from bench.common import scratch_database

T0 = datetime(2026, 1, 1, tzinfo=UTC)


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


async def _ingest(database_url: str, records: list[TurnRecord], spool_dir: Path | None) -> float:
    store = PostgresStore(database_url)
    await store.migrate()
    spool = Spool(spool_dir, max_bytes=4 * 1024**3) if spool_dir else None
    writer = AuditWriter(store, max_queue=len(records), spool=spool)
    await writer.start()
    started = time.perf_counter()
    for record in records:
        writer.submit(record)
    await writer.flush(timeout_s=600)
    seconds = time.perf_counter() - started
    await writer.stop()
    await store.close()
    assert writer.written == len(records) and writer.dropped == 0
    return len(records) / seconds


def measure(rows: int = 100_000) -> dict[str, float]:
    figures: dict[str, float] = {}
    cases = (
        ("conversations, spool", True, True),
        ("conversations, memory only", True, False),
        ("one row a session, spool", False, True),
    )
    print(f"\n## Audit ingest into PostgreSQL through the writer ({rows} turn rows)")
    for label, conversations, with_spool in cases:
        records = turns(rows, conversations=conversations)
        with scratch_database() as url, tempfile.TemporaryDirectory(prefix="bench-") as tmp:
            spool_dir = Path(tmp) / "spool" if with_spool else None
            figures[label] = asyncio.run(_ingest(url, records, spool_dir))
        print(f"   {label + ':':30} {figures[label]:10,.0f} rows/s")
    return figures


def measure_median(runs: int, rows: int = 100_000) -> dict[str, float]:
    """``measure`` ``runs`` times (the machine is shared: one run can be unlucky); the
    median of each case."""
    results = [measure(rows) for _ in range(runs)]
    medians = {label: statistics.median(r[label] for r in results) for label in results[0]}
    print(f"\n## Audit ingest, median of {runs} runs")
    for label, value in medians.items():
        print(f"   {label + ':':30} {value:10,.0f} rows/s")
    return medians
