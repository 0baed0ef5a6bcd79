"""The audit store interface: what the service needs from its database."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from agent_service.domain import AlertRecord, FeedbackRecord, TurnRecord
from agent_service.store.escaping import dumps_stored, escape, needs_escape

if TYPE_CHECKING:
    from agent_service.store.deadletter import DeadLetter

__all__ = [
    "ALERT_COLUMNS",
    "AuditItem",
    "AuditStore",
    "SessionDelta",
    "StoreUnavailable",
    "TurnRow",
    "WritesRows",
    "alert_row",
    "merge_counts",
    "split_items",
    "stored_feedback",
    "stored_turn",
    "tool_calls_json",
    "turn_row",
    "utc",
]

AuditItem = TurnRecord | FeedbackRecord
# A turn as the conversation_log columns (``turn_row``, in TURN_COLUMNS order): its text
# as stored, its time an aware UTC datetime.
TurnRow = tuple[Any, ...]


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

    async def dead_letter(self, letters: Sequence[DeadLetter]) -> None:
        """Keep records the database refused for good in audit_dead_letters (once
        each, by fingerprint). Errors are raised as the driver raised them, so the
        writer can tell a refusal from an outage."""

    async def record_alerts(self, alerts: Sequence[AlertRecord]) -> None:
        """Insert the alerts of one notification in one transaction (directly, not
        through the spool: Alertmanager retries a notification it could not deliver).
        Raise StoreUnavailable when they cannot be written."""

    async def ping(self) -> None:
        """Raise StoreUnavailable when the database is down."""

    async def close(self) -> None: ...


@runtime_checkable
class WritesRows(Protocol):
    """A store that takes the turns' rows with the records (the spool encodes each
    record once, its line and its row in one pass), instead of encoding them again,
    and keeps overlapping writes in order."""

    async def write_rows(
        self,
        items: Sequence[AuditItem],
        rows: Sequence[TurnRow | None] | None,
        *,
        overlapping: bool = False,
    ) -> None:
        """``write(items)``; ``rows[i]`` is ``turn_row(stored_turn(items[i]), utc)``
        for a turn and None for feedback; ``rows`` None: like ``write``. Calls with
        ``overlapping`` may run at once and still write each session's rows in call
        order; one whose earlier overlapping call failed writes nothing that call did
        not and raises (the caller then writes both again, one at a time)."""


def split_items(
    items: Sequence[AuditItem],
) -> tuple[list[TurnRecord], list[FeedbackRecord]]:
    """Turns (first occurrence of each message_id) and feedback, each in submission
    order, their text as stored (``stored_turn``, ``stored_feedback``)."""
    turns: list[TurnRecord] = []
    seen: set[str] = set()
    feedback: list[FeedbackRecord] = []
    for item in items:
        if isinstance(item, TurnRecord):
            if item.message_id not in seen:
                seen.add(item.message_id)
                turns.append(stored_turn(item))
        else:
            feedback.append(stored_feedback(item))
    return turns, feedback


def _escape_optional(text: str | None) -> str | None:
    return None if text is None else escape(text)


def stored_turn(turn: TurnRecord) -> TurnRecord:
    """The turn with its text columns escaped (agent_service.store.escaping); the same
    object when nothing needs it (the common case). Tool calls are escaped when they
    are encoded (``tool_calls_json``)."""
    t = turn
    # One check over all the text (joined: one scan instead of eight calls).
    joined = "".join(
        (t.message_id, t.session_id, t.user_id, t.user_message, t.agent_response, t.agent_type)
    )
    if not needs_escape(joined + (t.error or "") + (t.trace_id or "")):
        return turn
    return replace(
        turn,
        message_id=escape(t.message_id),
        session_id=escape(t.session_id),
        user_id=escape(t.user_id),
        user_message=escape(t.user_message),
        agent_response=escape(t.agent_response),
        agent_type=escape(t.agent_type),
        error=_escape_optional(t.error),
        trace_id=_escape_optional(t.trace_id),
    )


def stored_feedback(feedback: FeedbackRecord) -> FeedbackRecord:
    """The feedback with its message id and comment escaped."""
    message_id, comment = escape(feedback.message_id), _escape_optional(feedback.comment)
    if (message_id, comment) == (feedback.message_id, feedback.comment):
        return feedback
    return replace(feedback, message_id=message_id, comment=comment)


def tool_calls_json(turn: TurnRecord) -> str:
    return dumps_stored([call.to_json() for call in turn.tool_calls])


def turn_row(
    turn: TurnRecord, timestamp: Callable[[datetime], Any], tool_calls: str | None = None
) -> tuple[Any, ...]:
    """A turn as the conversation_log columns both backends insert, in their order;
    ``timestamp`` converts the time the way the backend stores it; ``tool_calls`` is
    the turn's ``tool_calls_json`` when the caller has encoded it already."""
    t = turn
    return (
        t.message_id,
        t.session_id,
        t.user_id,
        timestamp(t.timestamp),
        t.user_message,
        t.agent_response,
        t.agent_type,
        tool_calls_json(t) if tool_calls is None else tool_calls,
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
        escape(a.receiver),
        a.status,
        escape(a.alertname),
        _escape_optional(a.severity),
        dumps_stored(a.labels),
        _escape_optional(a.summary),
        timestamp(a.starts_at),
        timestamp(a.ends_at) if a.ends_at is not None else None,
        escape(a.fingerprint),
    )


ALERT_COLUMNS = (
    "received_at, receiver, status, alertname, severity, labels, summary, starts_at, "
    "ends_at, fingerprint"
)


def utc(moment: datetime) -> datetime:
    """An aware UTC datetime (naive values are taken as UTC)."""
    if moment.tzinfo is UTC:
        return moment
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

    @classmethod
    def of_rows(cls, rows: Sequence[TurnRow]) -> dict[str, SessionDelta]:
        """``aggregate`` of the turns whose rows (``turn_row(turn, utc)``) these are."""
        deltas: dict[str, SessionDelta] = {}
        for row in rows:
            session_id, user_id, at, agent = row[1], row[2], row[3], row[6]
            delta = deltas.get(session_id)
            if delta is None:
                deltas[session_id] = cls(user_id, at, at, 1, {agent: 1})
                continue
            if at < delta.first_at:
                delta.first_at = at
            elif at > delta.last_at:
                delta.last_at = at
            delta.messages += 1
            agents = delta.agents
            agents[agent] = agents.get(agent, 0) + 1
        return deltas


def merge_counts(old: dict[str, int], new: dict[str, int]) -> dict[str, int]:
    merged = dict(old)
    for key, count in new.items():
        merged[key] = merged.get(key, 0) + count
    return merged
