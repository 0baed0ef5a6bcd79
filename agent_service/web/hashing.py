"""scrypt in its own bounded pool.

A password check takes ~0.1 s of CPU and 32 MiB. In the event loop's default pool it
queued in front of the audit spool's fsync: a burst of wrong sign-ins delayed every
answer and its audit record. Here it has its own threads, never shared with the audit
path, and a cap on checks in flight: beyond it a sign-in is refused at once (429) rather
than queued."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor

from stackgen.passwords import PasswordHash

__all__ = ["HashSlot", "PasswordHasher"]


class HashSlot:
    """One reserved place among the checks in flight; released once."""

    def __init__(self, hasher: PasswordHasher) -> None:
        self._hasher: PasswordHasher | None = hasher

    def release(self) -> None:
        if self._hasher is not None:
            self._hasher._pending -= 1
            self._hasher = None


class PasswordHasher:
    def __init__(self, *, workers: int = 2, max_pending: int = 8) -> None:
        self.workers = max(1, workers)
        self.max_pending = max(1, max_pending)
        self._pool = ThreadPoolExecutor(self.workers, thread_name_prefix="password-hash")
        self._pending = 0

    @property
    def executor(self) -> ThreadPoolExecutor:
        """The pool itself (the tests saturate it to show the audit path does not care)."""
        return self._pool

    @property
    def pending(self) -> int:
        return self._pending

    def acquire(self) -> HashSlot | None:
        """A slot for one check, or None when ``max_pending`` are in flight. Called on
        the event loop, so checking and taking are one step."""
        if self._pending >= self.max_pending:
            return None
        self._pending += 1
        return HashSlot(self)

    async def matches(self, slot: HashSlot, password_hash: PasswordHash, password: str) -> bool:
        """Check ``password`` in the hashing pool; the slot is released when done."""
        try:
            loop = asyncio.get_running_loop()
            return await loop.run_in_executor(self._pool, password_hash.matches, password)
        finally:
            slot.release()

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
