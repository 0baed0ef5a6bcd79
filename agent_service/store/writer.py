"""The audit writer: the request path hands records to a bounded queue (never awaiting
the database); one background task writes them in batches, in order, retrying failed
batches with bounded backoff."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable

from agent_service.store.base import AuditItem, AuditStore

__all__ = ["AuditWriter", "BatchHook"]

log = logging.getLogger(__name__)

BatchHook = Callable[[int, float], None]  # (rows written, seconds the write took)


class AuditWriter:
    def __init__(
        self,
        store: AuditStore,
        max_queue: int = 10_000,
        batch_size: int = 500,
        flush_interval_s: float = 0.2,
        *,
        retry_initial_s: float = 0.1,
        retry_max_s: float = 2.0,
        on_batch_written: BatchHook | None = None,
    ) -> None:
        if batch_size < 1 or max_queue < 1:
            raise ValueError("batch_size and max_queue must be positive")
        self.store = store
        self.batch_size = batch_size
        self.flush_interval_s = flush_interval_s
        self.retry_initial_s = retry_initial_s
        self.retry_max_s = retry_max_s
        self.on_batch_written = on_batch_written
        self._queue: asyncio.Queue[AuditItem] = asyncio.Queue(maxsize=max_queue)
        self._accepted = 0
        self._written = 0
        self._dropped = 0
        self._failures = 0
        self._last_error: str | None = None
        self._wake = asyncio.Event()  # a full batch is waiting, or a flush was asked for
        self._progress = asyncio.Event()  # a batch was written
        self._flushing = 0
        self._task: asyncio.Task[None] | None = None

    # -- the request path -------------------------------------------------------------

    def submit(self, item: AuditItem) -> bool:
        """Queue a record; False (and counted in ``dropped``) when the queue is full."""
        try:
            self._queue.put_nowait(item)
        except asyncio.QueueFull:
            self._dropped += 1
            return False
        self._accepted += 1
        if self._queue.qsize() >= self.batch_size:
            self._wake.set()
        return True

    @property
    def depth(self) -> int:
        """Records accepted but not yet written (queued plus the batch in flight)."""
        return self._accepted - self._written

    @property
    def dropped(self) -> int:
        return self._dropped

    @property
    def written(self) -> int:
        return self._written

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
        if not self.running:
            self._task = asyncio.create_task(self._run(), name="audit-writer")

    async def flush(self, timeout_s: float = 10) -> None:
        """Wait until every record accepted so far is written; TimeoutError otherwise."""
        target = self._accepted
        async with asyncio.timeout(timeout_s):
            self._flushing += 1
            try:
                while self._written < target:
                    self._progress.clear()
                    self._wake.set()
                    await self._progress.wait()
            finally:
                self._flushing -= 1

    async def stop(self, timeout_s: float = 5) -> None:
        """Write what is queued (for at most ``timeout_s``), then stop the task."""
        task, self._task = self._task, None
        if task is None:
            return
        if not task.done():
            try:
                await self.flush(timeout_s)
            except TimeoutError:
                log.warning("audit writer stopped with %d records unwritten", self.depth)
            task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

    # -- the background task ----------------------------------------------------------

    async def _run(self) -> None:
        while True:
            batch = [await self._queue.get()]
            self._take(batch)
            if len(batch) < self.batch_size and self._flushing == 0:
                self._wake.clear()
                if self._queue.qsize() < self.batch_size - len(batch):
                    with contextlib.suppress(TimeoutError):
                        async with asyncio.timeout(self.flush_interval_s):
                            await self._wake.wait()
                self._take(batch)
            await self._write(batch)

    def _take(self, batch: list[AuditItem]) -> None:
        while len(batch) < self.batch_size:
            try:
                batch.append(self._queue.get_nowait())
            except asyncio.QueueEmpty:
                return

    async def _write(self, batch: list[AuditItem]) -> None:
        """Write one batch, retrying until it succeeds (order is kept: nothing else is
        written meanwhile)."""
        delay = self.retry_initial_s
        while True:
            started = time.perf_counter()
            try:
                await self.store.write(batch)
            except Exception as error:
                self._failures += 1
                self._last_error = f"{type(error).__name__}: {error}"
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
        seconds = time.perf_counter() - started
        self._written += len(batch)
        self._last_error = None
        self._progress.set()
        if self.on_batch_written is not None:
            try:
                self.on_batch_written(len(batch), seconds)
            except Exception:
                log.exception("on_batch_written hook failed")
