"""The audit store interface: what the service needs from its database."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from agent_service.domain import AlertRecord, FeedbackRecord, TurnRecord
from agent_service.store.jsontext import dumps_text

__all__ = [
    "ALERT_COLUMNS",
    "AuditItem",
    "AuditStore",
    "SessionDelta",
    "StoreUnavailable",
    "alert_row",
    "merge_counts",
    "split_items",
    "tool_calls_json",
    "turn_row",
    "utc",
]

AuditItem = TurnRecord | FeedbackRecord


class StoreUnavailable(Exception):
    """The database cannot be reached (or did not answer in time)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class AuditStore(Protocol):
    async def migrate(self) -> None:
        """Apply the pending migrations; safe at every start and concurrently."""

    async def write(self, items: Sequence[AuditItem]) -> None:
        """Write turns (idempotently by message_id, with their session upserts) and then
        feedback. Writing a batch again, whole or in part, never logs or counts a turn
        twice (PostgreSQL may commit a large batch in several transactions; SQLite
        writes it in one)."""

    async def message_exists(self, message_id: str) -> bool: ...

    async def record_alerts(self, alerts: Sequence[AlertRecord]) -> None:
        """Insert the alerts of one notification in one transaction (directly, not
        through the spool: Alertmanager retries a notification it could not deliver).
        Raise StoreUnavailable when they cannot be written."""

    async def ping(self) -> None:
        """Raise StoreUnavailable when the database is down."""

    async def close(self) -> None: ...


def split_items(
    items: Sequence[AuditItem],
) -> tuple[list[TurnRecord], list[FeedbackRecord]]:
    """Turns (first occurrence of each message_id) and feedback, each in submission order."""
    turns: list[TurnRecord] = []
    seen: set[str] = set()
    feedback: list[FeedbackRecord] = []
    for item in items:
        if isinstance(item, TurnRecord):
            if item.message_id not in seen:
                seen.add(item.message_id)
                turns.append(item)
        else:
            feedback.append(item)
    return turns, feedback


def tool_calls_json(turn: TurnRecord) -> str:
    return dumps_text([call.to_json() for call in turn.tool_calls])


def turn_row(turn: TurnRecord, timestamp: Callable[[datetime], Any]) -> tuple[Any, ...]:
    """A turn as the conversation_log columns both backends insert, in their order;
    ``timestamp`` converts the time the way the backend stores it."""
    t = turn
    return (
        t.message_id,
        t.session_id,
        t.user_id,
        timestamp(t.timestamp),
        t.user_message,
        t.agent_response,
        t.agent_type,
        tool_calls_json(t),
        t.latency_ms,
        t.ttft_ms,
        t.prompt_tokens,
        t.completion_tokens,
        t.confidence,
        t.error,
        t.trace_id,
    )


def alert_row(alert: AlertRecord, timestamp: Callable[[datetime], Any]) -> tuple[Any, ...]:
    """An alert as the alert_notifications columns both backends insert, in order."""
    a = alert
    return (
        timestamp(a.received_at),
        a.receiver,
        a.status,
        a.alertname,
        a.severity,
        dumps_text(a.labels),
        a.summary,
        timestamp(a.starts_at),
        timestamp(a.ends_at) if a.ends_at is not None else None,
        a.fingerprint,
    )


ALERT_COLUMNS = (
    "received_at, receiver, status, alertname, severity, labels, summary, starts_at, "
    "ends_at, fingerprint"
)


def utc(moment: datetime) -> datetime:
    """An aware UTC datetime (naive values are taken as UTC)."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


@dataclass
class SessionDelta:
    """What a batch of inserted turns adds to one session (pre-aggregated)."""

    user_id: str
    first_at: datetime
    last_at: datetime
    messages: int
    agents: dict[str, int]

    @classmethod
    def aggregate(cls, turns: Sequence[TurnRecord]) -> dict[str, SessionDelta]:
        deltas: dict[str, SessionDelta] = {}
        for turn in turns:
            at = utc(turn.timestamp)
            delta = deltas.get(turn.session_id)
            if delta is None:
                deltas[turn.session_id] = cls(turn.user_id, at, at, 1, {turn.agent_type: 1})
                continue
            delta.first_at = min(delta.first_at, at)
            delta.last_at = max(delta.last_at, at)
            delta.messages += 1
            delta.agents[turn.agent_type] = delta.agents.get(turn.agent_type, 0) + 1
        return deltas


def merge_counts(old: dict[str, int], new: dict[str, int]) -> dict[str, int]:
    merged = dict(old)
    for key, count in new.items():
        merged[key] = merged.get(key, 0) + count
    return merged
