"""The audit writer: the request path hands records over without awaiting the
database; background tasks write them to the database in batches, in order, retrying
failed batches with bounded backoff.

With a spool (the service's default) every record is first appended to the local
spool file, one write and one fsync for each group of records that arrive together,
and ``enqueue`` resolves once its record is there: from then on it survives the
database being down and the process being killed. The database task writes from
memory while the backlog fits in ``max_queue`` records, and reads back from the spool
when it does not (a long outage) or after a restart. Without a spool, records wait in
memory only (at most ``max_queue``) and are lost if the process dies.

Each record is encoded once, on its way into the spool: its spool line and its row
for the database together (agent_service.store.codec); a store that takes rows
(``WritesRows``: PostgreSQL) is handed them and does not encode the record again.
With such a store, which also keeps overlapping writes in order, the next batch is
started while the one before it is still being written, so the database never waits
for the writer between batches.

A batch the database refuses for good (agent_service.store.errors: a data error, not
an outage) is written again in halves, down to the refused records, which are set
aside in the dead-letter store (agent_service.store.deadletter) with the reason; the
other records are written, in order. Retrying an outage never ends; a refusal never
blocks the records after it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal, Protocol

from agent_service.store.base import AuditItem, AuditStore, TurnRow, WritesRows
from agent_service.store.codec import encode_with_rows
from agent_service.store.deadletter import DeadLetters, Destination, RecordKind
from agent_service.store.errors import is_permanent
from agent_service.store.spool import Segment, Spool, SpoolFull

__all__ = ["AuditWriter", "BatchHook", "DropReason", "WriterEvents"]

log = logging.getLogger(__name__)

BatchHook = Callable[[int, float], None]  # (rows written, seconds the write took)
DropReason = Literal["queue_full", "spool_full", "unreadable", "shutdown"]


class WriterEvents(Protocol):
    """What the writer reports (the service turns these into catalog metrics)."""

    def batch_written(self, rows: int, seconds: float) -> None: ...

    def write_failed(self) -> None: ...

    def dropped(self, reason: DropReason, rows: int) -> None: ...

    def dead_lettered(self, kind: RecordKind, destination: Destination) -> None: ...


@dataclass(eq=False)
class _Run:
    """Records in submission order that are stored alike: in one spool segment
    (``segment``), or only in memory (``segment`` None). ``items`` is None while they
    are only on disk. ``prepared``, when not None, holds each item's row as encoded
    with its spool line (``codec.encode_with_row``), so the store does not encode it
    again."""

    segment: Segment | None
    items: list[AuditItem] | None
    rows: int
    written: int = 0
    prepared: list[TurnRow | None] | None = None
    sent: int = 0  # handed to the store (``written`` and the batch being written)

    @property
    def left(self) -> int:
        return self.rows - self.written

    @property
    def unsent(self) -> int:
        return self.rows - max(self.sent, self.written)


@dataclass(eq=False)
class _Flight:
    """A batch being written, by one attempt (``attempt``: the seconds it took)."""

    run: _Run
    batch: list[AuditItem]
    prepared: list[TurnRow | None] | None
    attempt: asyncio.Task[float]


# A backlog goes to the database in batches of this many records: each batch pays a
# fixed cost (its sessions' upsert, a commit and its fsync), which larger batches
# spread thinner; one row a session gains most (a session is counted once a batch, not
# once a row). With overlapping batches (bench/ingest.py, 5 alternating rounds,
# 2026-12-01) 10,000 instead of 5,000 gave one row a session +12 % and 50
# conversations -7 %: the worse case gains more than the better one loses.
DEFAULT_BATCH_SIZE = 10_000
# Records encoded for the spool between two turns of the event loop (~0.5 ms of work).
_ENCODE_SLICE = 256


class AuditWriter:
    def __init__(
        self,
        store: AuditStore,
        max_queue: int = 10_000,
        batch_size: int = DEFAULT_BATCH_SIZE,
        flush_interval_s: float = 0.2,
        *,
        spool: Spool | None = None,
        retry_initial_s: float = 0.1,
        retry_max_s: float = 2.0,
        on_batch_written: BatchHook | None = None,
        events: WriterEvents | None = None,
    ) -> None:
        if batch_size < 1 or max_queue < 1:
            raise ValueError("batch_size and max_queue must be positive")
        self.store = store
        self.spool = spool
        self.max_queue = max_queue
        self.batch_size = batch_size
        self.flush_interval_s = flush_interval_s
        self.retry_initial_s = retry_initial_s
        self.retry_max_s = retry_max_s
        self.on_batch_written = on_batch_written
        self.events = events
        self.dead_letters = DeadLetters(
            store,
            spool.directory if spool is not None else None,
            retry_initial_s=retry_initial_s,
            retry_max_s=retry_max_s,
        )
        # Accepted records waiting for the spool (spool mode), with their waiters.
        # Two lists, not one of pairs: a pair a record would be one more object a
        # record for the garbage collector to track and traverse while it waits.
        self._pending: list[AuditItem] = []
        self._waiters: list[asyncio.Future[bool] | None] = []
        self._runs: deque[_Run] = deque()
        self._cached = 0  # unwritten records held in memory
        self._accepted = 0
        self._written = 0
        self._lost = 0  # accepted, then dropped
        self._set_aside = 0  # accepted, refused by the database, kept as dead letters
        self._dropped = 0
        self._failures = 0
        self._last_error: str | None = None
        self._spool_full_logged = False
        self._journal_wake = asyncio.Event()
        self._journal_idle = asyncio.Event()
        self._journal_idle.set()
        self._wake = asyncio.Event()  # records are waiting, or a flush was asked for
        self._progress = asyncio.Event()  # a batch was written
        self._flushing = 0
        self._task: asyncio.Task[None] | None = None
        self._journal: asyncio.Task[None] | None = None
        # The batch started while the one before it is still being written (only for
        # a store that keeps overlapping writes in order: WritesRows).
        self._ahead: _Flight | None = None

    # -- the request path -------------------------------------------------------------

    def submit(self, item: AuditItem) -> bool:
        """Hand a record over; False (and counted in ``dropped``) when the writer
        cannot hold it."""
        return self._accept(item, None)

    def enqueue(self, item: AuditItem) -> asyncio.Future[bool]:
        """Hand a record over; the future is True once the record is in the spool
        (durable), False if it was dropped or can only be held in memory."""
        done: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        if not self._accept(item, done) and not done.done():
            done.set_result(False)
        return done

    async def record(self, item: AuditItem, timeout_s: float = 5.0) -> bool:
        """``enqueue`` and wait (at most ``timeout_s``) until the record is durable."""
        done = self.enqueue(item)
        try:
            async with asyncio.timeout(timeout_s):
                return await asyncio.shield(done)
        except TimeoutError:
            log.warning("audit record not in the spool after %.1fs; not waiting", timeout_s)
            return False

    def _accept(self, item: AuditItem, done: asyncio.Future[bool] | None) -> bool:
        if self.spool is None:
            if not self._hold_in_memory([item], "queue_full"):
                return False
            self._accepted += 1
            if done is not None:
                done.set_result(False)
            return True
        if len(self._pending) >= self.max_queue:
            self._drop("queue_full", 1)
            return False
        self._pending.append(item)
        self._waiters.append(done)
        self._accepted += 1
        self._journal_wake.set()
        return True

    # -- what the metrics read -----------------------------------------------------------

    @property
    def depth(self) -> int:
        """Records accepted but not yet in the database (in memory or in the spool)."""
        return self._accepted - self._written - self._lost - self._set_aside

    @property
    def spooled(self) -> int:
        """Records in the spool that are not yet in the database."""
        return sum(run.left for run in self._runs if run.segment is not None)

    @property
    def spool_bytes(self) -> int:
        return self.spool.size_bytes if self.spool is not None else 0

    @property
    def spool_limit_bytes(self) -> int:
        return self.spool.max_bytes if self.spool is not None else 0

    @property
    def dropped(self) -> int:
        return self._dropped

    @property
    def written(self) -> int:
        return self._written

    @property
    def dead_lettered(self) -> int:
        """Records the database refused for good, set aside as dead letters."""
        return self._set_aside

    @property
    def failures(self) -> int:
        """Failed write attempts so far (each retried)."""
        return self._failures

    @property
    def last_error(self) -> str | None:
        """The latest write failure, or None once a batch has been written since."""
        return self._last_error

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    # -- lifecycle --------------------------------------------------------------------

    async def start(self) -> None:
        """Start the background tasks; with a spool, first take over the records an
        earlier run left in it (they are written before anything new)."""
        if self.running:
            return
        if self.spool is not None and self._journal is None:
            left = await asyncio.to_thread(self.spool.open)
            for segment in left:
                self._runs.append(_Run(segment, None, segment.rows))
                self._accepted += segment.rows
            if left:
                log.info(
                    "audit spool: replaying %d records left by an earlier run",
                    sum(s.rows for s in left),
                )
            self._journal = asyncio.create_task(self._journal_loop(), name="audit-spool")
        self._task = asyncio.create_task(self._run(), name="audit-writer")
        self._wake.set()

    async def flush(self, timeout_s: float = 10) -> None:
        """Wait until every record accepted so far is written; TimeoutError otherwise."""
        target = self._accepted
        async with asyncio.timeout(timeout_s):
            self._flushing += 1
            try:
                while self._written + self._lost + self._set_aside < target:
                    self._progress.clear()
                    self._wake.set()
                    self._journal_wake.set()
                    await self._progress.wait()
            finally:
                self._flushing -= 1

    async def stop(self, timeout_s: float = 5) -> None:
        """Write what is waiting (for at most ``timeout_s``), then stop. With a spool,
        whatever is left stays there for the next start; without one it is lost."""
        task, self._task = self._task, None
        journal, self._journal = self._journal, None
        if task is None:
            return
        started = time.monotonic()
        if not task.done():
            try:
                await self.flush(timeout_s)
            except TimeoutError:
                pass
        if journal is not None:
            # Everything accepted goes into the spool before it closes (an append is
            # a few milliseconds; the spool is local).
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(max(1.0, timeout_s - (time.monotonic() - started))):
                    while self._pending or not self._journal_idle.is_set():
                        self._journal_wake.set()
                        await asyncio.sleep(0.005)
        for running in (task, journal):
            if running is not None:
                running.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await running
        if self.spool is not None:
            await asyncio.to_thread(self.spool.close)
            if self.depth:
                log.warning(
                    "audit writer stopped: %d records stay in the spool %s and are written "
                    "at the next start",
                    self.depth,
                    self.spool.directory,
                )
        elif self.depth:
            log.warning("audit writer stopped with %d records unwritten (lost)", self.depth)
            self._lose("shutdown", self.depth)

    # -- the spool task ---------------------------------------------------------------

    async def _journal_loop(self) -> None:
        assert self.spool is not None
        while True:
            await self._journal_wake.wait()
            self._journal_wake.clear()
            if not self._pending:
                continue
            # Bounded groups: a large burst is appended in pieces, so database writes
            # of the first pieces overlap with encoding the next.
            items = self._pending[: self.batch_size]
            waiters = self._waiters[: self.batch_size]
            del self._pending[: self.batch_size], self._waiters[: self.batch_size]
            if self._pending:
                self._journal_wake.set()
            self._journal_idle.clear()
            segment: Segment | None = None
            prepared: list[TurnRow | None] | None = None
            try:
                data, prepared = await self._encode(items)
                segment = await asyncio.to_thread(self.spool.append, items, data)
                if not isinstance(self.store, WritesRows):
                    prepared = None  # the store encodes its rows itself
            except SpoolFull as error:
                if not self._spool_full_logged:
                    log.error("%s; keeping records in memory, then dropping them", error)
                    self._spool_full_logged = True
            except Exception:
                log.exception("audit spool write failed; keeping records in memory")
            finally:
                self._journal_idle.set()
            if segment is not None:
                self._spool_full_logged = False
                self._add_to_segment_run(segment, items, prepared)
                durable = True
            else:
                durable = False
                # Later appends start a new segment: one run per segment, always.
                self.spool.seal()
                if not self._hold_in_memory(items, "spool_full"):
                    self._lost += len(items)
                    self._progress.set()
            for done in waiters:
                if done is not None and not done.done():
                    done.set_result(durable)
            self._wake.set()

    async def _encode(self, items: list[AuditItem]) -> tuple[bytes, list[TurnRow | None]]:
        """The records' spool lines, joined, and their rows (``codec.encode_with_rows``),
        encoded here on the event loop a slice at a time, not in the spool's thread: a
        thread encoding holds the interpreter lock for milliseconds at a time, and the
        loop, which feeds the database connections, then waits for it each time it
        wakes (bench/ingest.py: 8-24 % more rows a second this way)."""
        lines: list[bytes] = []
        rows: list[TurnRow | None] = []
        for start in range(0, len(items), _ENCODE_SLICE):
            data, part = encode_with_rows(items[start : start + _ENCODE_SLICE])
            lines.append(data)
            rows += part
            await asyncio.sleep(0)  # let the loop run between slices
        return b"".join(lines), rows

    def _add_to_segment_run(
        self, segment: Segment, items: list[AuditItem], prepared: list[TurnRow | None] | None
    ) -> None:
        last = self._runs[-1] if self._runs else None
        if last is None or last.segment is not segment:
            last = _Run(segment, [], 0, prepared=[] if prepared is not None else None)
            self._runs.append(last)
        last.rows += len(items)
        if last.items is not None and self._cached + len(items) <= self.max_queue:
            last.items.extend(items)
            if last.prepared is not None and prepared is not None:
                last.prepared.extend(prepared)
            else:
                last.prepared = None  # the store encodes this run's rows itself
            self._cached += len(items)
        elif last.items is not None:
            # A long outage: the backlog no longer fits in memory. These records are
            # read back from the spool when their turn comes.
            self._cached -= len(last.items) - last.written
            last.items = last.prepared = None

    def _hold_in_memory(self, items: list[AuditItem], reason: DropReason) -> bool:
        if self._cached + len(items) > self.max_queue:
            self._drop(reason, len(items))
            return False
        last = self._runs[-1] if self._runs else None
        if last is None or last.segment is not None or last.items is None:
            last = _Run(None, [], 0)
            self._runs.append(last)
        assert last.items is not None
        last.items.extend(items)
        last.rows += len(items)
        self._cached += len(items)
        self._wake.set()
        return True

    def _drop(self, reason: DropReason, rows: int) -> None:
        self._dropped += rows
        if self.events is not None:
            try:
                self.events.dropped(reason, rows)
            except Exception:
                log.exception("reporting dropped audit records failed")

    def _lose(self, reason: DropReason, rows: int) -> None:
        self._lost += rows
        self._drop(reason, rows)

    # -- the database task ------------------------------------------------------------

    async def _run(self) -> None:
        try:
            await self._write_runs()
        finally:
            ahead, self._ahead = self._ahead, None
            if ahead is not None:  # stopped: its records stay where they are
                ahead.attempt.cancel()
                with contextlib.suppress(BaseException):
                    await ahead.attempt

    async def _write_runs(self) -> None:
        """Batch after batch, in order. With a store that keeps overlapping writes in
        order, the next batch starts while the one before it is still being written
        (the database's lanes then never wait for each other, nor for the writer
        between batches); the earlier one is accounted for first, and when it fails
        both are written again one at a time."""
        while True:
            run = await self._next_run()
            if run.items is None:
                await self._settle_ahead()
                try:
                    await self._load(run)
                except OSError:
                    log.exception("reading the audit spool failed; retrying")
                    await asyncio.sleep(self.retry_max_s)
                continue
            if run.unsent < self.batch_size and self._flushing == 0 and len(self._runs) == 1:
                await self._settle_ahead()
                # Wait a little for a fuller batch (unless someone is waiting).
                self._wake.clear()
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(self.flush_interval_s):
                        while run.unsent < self.batch_size and self._flushing == 0:
                            await self._wake.wait()
                            self._wake.clear()
                if run.items is None or run.unsent == 0:
                    continue
            start = max(run.sent, run.written)
            end = start + self.batch_size
            batch = run.items[start:end]
            prepared = run.prepared[start:end] if run.prepared is not None else None
            run.sent = start + len(batch)
            flight = _Flight(
                run,
                batch,
                prepared,
                asyncio.create_task(self._attempt(batch, prepared, overlapping=True)),
            )
            earlier, self._ahead = self._ahead, flight
            if earlier is not None:
                await self._settle(earlier)
            if self._ahead is flight and not isinstance(self.store, WritesRows):
                await self._settle_ahead()  # this store writes one batch at a time

    async def _next_run(self) -> _Run:
        """The oldest run with records not yet handed to the store, waiting for one if
        there is none (the batch being written is accounted for meanwhile)."""
        while True:
            self._finish_runs()
            for run in self._runs:
                if run.unsent > 0:
                    return run
            if self._ahead is not None:
                await self._settle_ahead()
                continue
            self._wake.clear()
            await self._wake.wait()

    async def _settle_ahead(self) -> None:
        flight, self._ahead = self._ahead, None
        if flight is not None:
            await self._settle(flight)

    async def _settle(self, flight: _Flight) -> None:
        """Wait for ``flight``'s attempt and account for its batch. When it failed, the
        batch started after it (``self._ahead``), which may have been written in part,
        is let finish, and both are written again one at a time (retried, or halved
        when refused): a store write is idempotent, and nothing else runs meanwhile."""
        try:
            seconds = await flight.attempt
        except Exception as error:
            later, self._ahead = self._ahead, None
            if later is not None:
                await asyncio.wait([later.attempt])
                if not later.attempt.cancelled():
                    later.attempt.exception()  # retrieved: it is written again below
            self._attempt_failed(error)
            if is_permanent(error):
                await self._refused(flight.batch, flight.prepared, error)
            else:
                await self._write(flight.batch, flight.prepared)
            self._account(flight)
            if later is not None:
                await self._write(later.batch, later.prepared)
                self._account(later)
            return
        self._batch_written(len(flight.batch), seconds)
        self._account(flight)

    def _account(self, flight: _Flight) -> None:
        run = flight.run
        run.written += len(flight.batch)
        if run.items is not None:  # else evicted meanwhile, and uncounted then
            self._cached -= len(flight.batch)
        self._finish_runs()

    def _finish_runs(self) -> None:
        """Forget written runs from the front, deleting their spool segments. The
        segment being appended to is sealed first (not while an append is under way)."""
        while self._runs and self._runs[0].left == 0:
            run = self._runs[0]
            segment = run.segment
            if segment is not None and self.spool is not None:
                if segment is self.spool.current:
                    if not self._journal_idle.is_set():
                        return  # more records are going into it right now
                    self.spool.seal()
                self.spool.remove(segment)
            if run.items is not None:
                self._cached -= len(run.items) - run.written
            self._runs.popleft()
            self._progress.set()

    async def _load(self, run: _Run) -> None:
        """Read a run's records back from its spool segment."""
        assert self.spool is not None and run.segment is not None
        if run.segment is self.spool.current:
            await self._journal_idle.wait()
            if run.segment is self.spool.current:
                self.spool.seal()
        items, unreadable = await asyncio.to_thread(self.spool.read, run.segment)
        if unreadable:
            self._lose("unreadable", unreadable)
        run.rows = len(items)
        run.items = items
        run.prepared = None
        self._cached += run.left

    async def _write(
        self, batch: list[AuditItem], prepared: list[TurnRow | None] | None = None
    ) -> None:
        """Write one batch (with its rows, when ``prepared``), retrying until it
        succeeds (order is kept: nothing else is written meanwhile). A batch refused for
        good is written in halves, in order, until the refused records are found and
        set aside."""
        delay = self.retry_initial_s
        while True:
            try:
                seconds = await self._attempt(batch, prepared)
            except Exception as error:
                self._attempt_failed(error)
                if is_permanent(error):
                    await self._refused(batch, prepared, error)
                    return
                log.error(
                    "audit write of %d records failed (retry in %.1fs): %s",
                    len(batch),
                    delay,
                    self._last_error,
                )
                await asyncio.sleep(delay)
                delay = min(delay * 2, self.retry_max_s)
                continue
            break
        self._batch_written(len(batch), seconds)

    async def _attempt(
        self,
        batch: list[AuditItem],
        prepared: list[TurnRow | None] | None,
        *,
        overlapping: bool = False,
    ) -> float:
        """One try at writing ``batch``; the seconds it took. ``overlapping``: it may
        run beside the batch before it (only the batches ``_write_runs`` starts; a
        retry, a half or a batch written again runs alone)."""
        started = time.perf_counter()
        if isinstance(self.store, WritesRows):
            await self.store.write_rows(batch, prepared, overlapping=overlapping)
        else:
            await self.store.write(batch)
        return time.perf_counter() - started

    def _attempt_failed(self, error: BaseException) -> None:
        self._failures += 1
        self._last_error = f"{type(error).__name__}: {error}"
        if self.events is not None:
            with contextlib.suppress(Exception):
                self.events.write_failed()

    def _batch_written(self, rows: int, seconds: float) -> None:
        self._written += rows
        self._last_error = None
        self._progress.set()
        hooks = [self.on_batch_written, self.events.batch_written if self.events else None]
        for hook in hooks:
            if hook is not None:
                try:
                    hook(rows, seconds)
                except Exception:
                    log.exception("reporting a written audit batch failed")

    async def _refused(
        self,
        batch: list[AuditItem],
        prepared: list[TurnRow | None] | None,
        error: BaseException,
    ) -> None:
        """The database refused ``batch`` for a reason retrying cannot fix. Each half
        is written on its own (a store write is idempotent: rows already in are
        skipped), so only the refused records end up aside."""
        if len(batch) > 1:
            log.warning(
                "audit batch of %d records refused (%s: %s); writing it in parts to find "
                "the refused records",
                len(batch),
                type(error).__name__,
                error,
            )
            middle = len(batch) // 2
            halves = (None, None) if prepared is None else (prepared[:middle], prepared[middle:])
            await self._write(batch[:middle], halves[0])
            await self._write(batch[middle:], halves[1])
            return
        (item,) = batch
        letter, destination = await self.dead_letters.keep(item, error)
        log.error(
            "audit %s %s refused by the database for good (%s %s: %s); set aside in the "
            "dead-letter %s",
            letter.kind,
            letter.message_id,
            letter.refusal.error_class,
            letter.refusal.sqlstate or "-",
            letter.refusal.message,
            destination,
        )
        self._set_aside += 1
        self._progress.set()
        if self.events is not None:
            try:
                self.events.dead_lettered(letter.kind, destination)
            except Exception:
                log.exception("reporting a dead-lettered audit record failed")
