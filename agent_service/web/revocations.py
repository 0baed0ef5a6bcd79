"""Signed-out admin sessions, kept in the audit database (migration 006) so that a
sign-out survives a restart and holds on every replica. A revoked nonce is also
remembered in memory: it is the answer for good, so it is never asked again."""

from __future__ import annotations

import time
from datetime import UTC, datetime

from agent_service.web.database import Database

__all__ = ["Revocations"]


def _moment(epoch_s: float) -> datetime:
    return datetime.fromtimestamp(epoch_s, UTC)


class Revocations:
    def __init__(self, db: Database, max_remembered: int = 10_000) -> None:
        self.db = db
        self.max_remembered = max_remembered
        self._known: dict[str, float] = {}  # nonce -> the session's expiry (epoch s)

    def _remember(self, nonce: str, expires: float) -> None:
        now = time.time()
        if len(self._known) >= self.max_remembered:
            for old in [n for n, until in self._known.items() if until <= now]:
                del self._known[old]
        if len(self._known) < self.max_remembered:
            self._known[nonce] = expires

    async def revoke(self, nonce: str, username: str, expires: float) -> None:
        """Record the sign-out; raises StoreUnavailable when it cannot be written (it is
        still remembered by this process)."""
        self._remember(nonce, expires)
        await self.db.execute(
            "INSERT INTO admin_session_revocations (nonce, username, expires_at) "
            "VALUES (?, ?, ?) ON CONFLICT (nonce) DO NOTHING",
            (nonce, username[:64], self.db.param_time(_moment(expires))),
        )
        # Rows of sessions that have expired anyway are of no use.
        await self.db.execute(
            "DELETE FROM admin_session_revocations WHERE expires_at < ?",
            (self.db.param_time(datetime.now(UTC)),),
        )

    async def revoked(self, nonce: str) -> bool:
        """Raises StoreUnavailable when the database cannot say (callers refuse then)."""
        if nonce in self._known:
            return True
        rows = await self.db.fetch(
            "SELECT expires_at FROM admin_session_revocations WHERE nonce = ?", (nonce,)
        )
        if rows:
            moment = self.db.read_time(rows[0]["expires_at"])
            self._remember(nonce, moment.timestamp() if moment else time.time())
        return bool(rows)
