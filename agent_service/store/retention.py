"""The audit log's retention on PostgreSQL, in the background: at start and then every
``interval_s``, the monthly partitions of ``conversation_log`` are created ahead (this
month and ``months_ahead`` more) and those whose every row is older than the retention
are dropped whole (agent_service/store/partitions.py). A failed round (the database
down, a lock not granted in time) is logged and tried again at the next one; the
writer creates a missing month's partition itself, so a late round loses nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Protocol

from agent_service.store.partitions import Month

__all__ = ["PartitionedStore", "Retention"]

log = logging.getLogger(__name__)


class PartitionedStore(Protocol):
    async def maintain_partitions(
        self, now: datetime, retention_days: int | None, months_ahead: int
    ) -> tuple[list[Month], list[Month]]: ...


def _now() -> datetime:
    return datetime.now(UTC)


class Retention:
    def __init__(
        self,
        store: PartitionedStore,
        retention_days: int | None,
        *,
        interval_s: float = 3600.0,
        months_ahead: int = 2,
        clock: Callable[[], datetime] = _now,
    ) -> None:
        if retention_days is not None and retention_days < 1:
            raise ValueError("retention_days must be positive (None keeps every row)")
        self.store = store
        self.retention_days = retention_days
        self.interval_s = interval_s
        self.months_ahead = months_ahead
        self.clock = clock
        self._task: asyncio.Task[None] | None = None

    async def run_once(self) -> tuple[list[Month], list[Month]]:
        """One round; (partitions created, partitions dropped)."""
        created, dropped = await self.store.maintain_partitions(
            self.clock(), self.retention_days, self.months_ahead
        )
        if created:
            log.info("audit log: partitions created for %s", ", ".join(m.name for m in created))
        if dropped:
            log.info(
                "audit log: partitions older than %d days dropped: %s",
                self.retention_days,
                ", ".join(m.name for m in dropped),
            )
        return created, dropped

    async def _loop(self) -> None:
        while True:
            try:
                await self.run_once()
            except Exception as error:
                log.warning("audit log retention round failed (retried later): %r", error)
            await asyncio.sleep(self.interval_s)

    def start(self) -> None:
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._loop(), name="audit-retention")

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
