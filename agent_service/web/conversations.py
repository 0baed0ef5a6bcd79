"""The conversation audit: filters over conversation_log, one session's turns, and the
filtered set read in bounded batches (keyset on id) for streamed exports."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from agent_service.web.database import Database

__all__ = [
    "EXPORT_COLUMNS",
    "Filters",
    "Turn",
    "count_turns",
    "export_batches",
    "search_turns",
    "session_turns",
]

# Everything an auditor needs from a turn, in export order.
EXPORT_COLUMNS = (
    "message_id",
    "session_id",
    "user_id",
    "timestamp",
    "agent_type",
    "user_message",
    "agent_response",
    "tool_calls",
    "latency_ms",
    "ttft_ms",
    "prompt_tokens",
    "completion_tokens",
    "confidence",
    "error",
    "user_feedback",
    "feedback_comment",
    "feedback_at",
    "trace_id",
)
FEEDBACK_CHOICES = ("", "positive", "negative", "none")
_SELECT = ", ".join(EXPORT_COLUMNS)


def _like_pattern(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


@dataclass(frozen=True)
class Filters:
    """What the auditor asked for; empty fields do not filter."""

    user: str = ""
    agent: str = ""
    feedback: str = ""  # "", positive, negative, none (not rated)
    since: datetime | None = None
    until: datetime | None = None
    text: str = ""

    def where(self, db: Database) -> tuple[str, list[Any]]:
        clauses: list[str] = []
        args: list[Any] = []
        if self.user:
            clauses.append("user_id = ?")
            args.append(self.user)
        if self.agent:
            clauses.append("agent_type = ?")
            args.append(self.agent)
        if self.feedback in ("positive", "negative"):
            clauses.append("user_feedback = ?")
            args.append(self.feedback)
        elif self.feedback == "none":
            clauses.append("user_feedback IS NULL")
        if self.since is not None:
            clauses.append("timestamp >= ?")
            args.append(db.param_time(self.since))
        if self.until is not None:
            clauses.append("timestamp <= ?")
            args.append(db.param_time(self.until))
        if self.text:
            # SQLite's LIKE is case-insensitive for ASCII; ILIKE is PostgreSQL's.
            like = "ILIKE" if db.dialect == "postgres" else "LIKE"
            clauses.append(
                f"(user_message {like} ? ESCAPE '\\' OR agent_response {like} ? ESCAPE '\\')"
            )
            pattern = _like_pattern(self.text)
            args += [pattern, pattern]
        return (" AND ".join(clauses) or "1 = 1"), args

    def describe(self) -> str:
        """The filters as an audit target, e.g. ``user=u1 agent=erp``."""
        parts = [
            f"{name}={value}"
            for name, value in (
                ("user", self.user),
                ("agent", self.agent),
                ("feedback", self.feedback),
                ("since", self.since.isoformat() if self.since else ""),
                ("until", self.until.isoformat() if self.until else ""),
                ("text", self.text),
            )
            if value
        ]
        return " ".join(parts) or "all"


@dataclass(frozen=True)
class Turn:
    values: dict[str, Any] = field(default_factory=dict)
    at: datetime | None = None

    def __getitem__(self, key: str) -> Any:
        return self.values[key]

    @property
    def tool_calls(self) -> list[dict[str, Any]]:
        raw = self.values.get("tool_calls")
        if isinstance(raw, str):
            decoded = json.loads(raw or "[]")
            return decoded if isinstance(decoded, list) else []
        return list(raw or [])


def _turn(db: Database, row: dict[str, Any]) -> Turn:
    return Turn(row, db.read_time(row.get("timestamp")))


async def count_turns(db: Database, filters: Filters) -> int:
    where, args = filters.where(db)
    rows = await db.fetch(f"SELECT count(*) AS n FROM conversation_log WHERE {where}", args)
    return int(rows[0]["n"])


async def search_turns(db: Database, filters: Filters, limit: int = 100) -> list[Turn]:
    where, args = filters.where(db)
    rows = await db.fetch(
        f"SELECT {_SELECT} FROM conversation_log WHERE {where} "
        "ORDER BY timestamp DESC, id DESC LIMIT ?",
        (*args, limit),
    )
    return [_turn(db, row) for row in rows]


async def session_turns(db: Database, session_id: str) -> list[Turn]:
    rows = await db.fetch(
        f"SELECT {_SELECT} FROM conversation_log WHERE session_id = ? ORDER BY timestamp, id",
        (session_id,),
    )
    return [_turn(db, row) for row in rows]


async def export_batches(
    db: Database,
    filters: Filters,
    batch_size: int = 1000,
    on_batch: Callable[[int], None] | None = None,
) -> AsyncIterator[list[dict[str, Any]]]:
    """The filtered turns in id order, ``batch_size`` rows at a time from one cursor:
    one pass over the data, and memory holds one batch whatever the total."""
    where, args = filters.where(db)
    sql = f"SELECT {_SELECT} FROM conversation_log WHERE {where} ORDER BY id"
    async for rows in db.batches(sql, args, batch_size):
        if on_batch is not None:
            on_batch(len(rows))
        yield rows
