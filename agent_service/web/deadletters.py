"""Dead letters on /admin: how many records the audit database refused for good, and
the latest of them with the reason (agent_service/store/deadletter.py keeps them)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime

from agent_service.web.database import Database

__all__ = ["DeadLetterEntry", "DeadLetterSummary", "dead_letter_summary"]


@dataclass(frozen=True)
class DeadLetterEntry:
    at: datetime | None
    kind: str
    message_id: str
    error_class: str
    sqlstate: str | None
    error: str
    record: str  # the record's JSON, indented for reading


@dataclass(frozen=True)
class DeadLetterSummary:
    total: int
    latest: list[DeadLetterEntry] = field(default_factory=list)


def _record(value: object) -> str:
    # JSON text on SQLite; asyncpg returns JSONB as text too (no codec is set).
    decoded = json.loads(value) if isinstance(value, str) else value
    return json.dumps(decoded, indent=1, sort_keys=True, ensure_ascii=False)


async def dead_letter_summary(db: Database, limit: int = 20) -> DeadLetterSummary:
    (count,) = await db.fetch("SELECT count(*) AS n FROM audit_dead_letters")
    rows = await db.fetch(
        "SELECT at, kind, message_id, error_class, sqlstate, error, record "
        "FROM audit_dead_letters ORDER BY at DESC, id DESC LIMIT ?",
        (limit,),
    )
    latest = [
        DeadLetterEntry(
            at=db.read_time(r["at"]),
            kind=r["kind"],
            message_id=r["message_id"],
            error_class=r["error_class"],
            sqlstate=r["sqlstate"],
            error=r["error"],
            record=_record(r["record"]),
        )
        for r in rows
    ]
    return DeadLetterSummary(int(count["n"]), latest)
