"""Audit records as one line of JSON each (the spool's format) and back.

A line carries everything the store writes, so a record replayed from the spool is
written exactly as the original would have been (tool results go through the same
``default=str`` JSON as the ``tool_calls`` column).

A line is a JSON array: the record's kind, then its fields in a fixed order
(``_TURN_FIELDS``, ``_FEEDBACK_FIELDS``). Lines written by earlier versions, one JSON
object a record with the fields by name, are read too.

Every record is encoded once on its way in (``encode_with_row``): the same pass gives
its spool line and, for a turn, its ``conversation_log`` row as the store inserts it
(``turn_row`` of ``stored_turn``), the tool calls' JSON shared by the two."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import orjson

from agent_service.domain import FeedbackRecord, ToolCall, TurnRecord
from agent_service.store.base import AuditItem, TurnRow, stored_turn, turn_row, utc
from agent_service.store.escaping import stored_json_text
from agent_service.store.jsontext import dumps_bytes

__all__ = [
    "SpoolFormatError",
    "as_json",
    "decode",
    "encode",
    "encode_with_row",
    "encode_with_rows",
]

# The order a line holds a record's fields in: a format on disk, so spelt out here and
# never derived from the table's columns (TURN_COLUMNS is the same list today; a column
# added to the table must not shift the fields of lines already in a spool).
_TURN_FIELDS = (
    "message_id",
    "session_id",
    "user_id",
    "timestamp",
    "user_message",
    "agent_response",
    "agent_type",
    "tool_calls",
    "latency_ms",
    "ttft_ms",
    "prompt_tokens",
    "completion_tokens",
    "confidence",
    "error",
    "trace_id",
)
_FEEDBACK_FIELDS = ("message_id", "rating", "comment", "at")
_FIELDS = {"turn": _TURN_FIELDS, "feedback": _FEEDBACK_FIELDS}

# The tool calls as the ``tool_calls`` column and ``dumps_bytes`` encode them (anything
# unknown as its ``str``).
_CALLS_OPTIONS = orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS


class SpoolFormatError(ValueError):
    """A spool line that is not a record this version can read."""


def _turn(turn: TurnRecord) -> dict[str, Any]:
    return {
        "kind": "turn",
        "message_id": turn.message_id,
        "session_id": turn.session_id,
        "user_id": turn.user_id,
        "timestamp": turn.timestamp.isoformat(),
        "user_message": turn.user_message,
        "agent_response": turn.agent_response,
        "agent_type": turn.agent_type,
        "tool_calls": [call.to_json() for call in turn.tool_calls],
        "latency_ms": turn.latency_ms,
        "ttft_ms": turn.ttft_ms,
        "prompt_tokens": turn.prompt_tokens,
        "completion_tokens": turn.completion_tokens,
        "confidence": turn.confidence,
        "error": turn.error,
        "trace_id": turn.trace_id,
    }


def _feedback(feedback: FeedbackRecord) -> dict[str, Any]:
    return {
        "kind": "feedback",
        "message_id": feedback.message_id,
        "rating": feedback.rating,
        "comment": feedback.comment,
        "at": feedback.at.isoformat(),
    }


def as_json(item: AuditItem) -> dict[str, Any]:
    """The record as a JSON object (``kind`` included): what a dead letter keeps."""
    return _turn(item) if isinstance(item, TurnRecord) else _feedback(item)


def _line(fields: tuple[Any, ...], item: AuditItem) -> bytes:
    """``fields`` as a line; the standard library's way (``dumps_bytes``) for what
    orjson does not take (lone surrogates, integers beyond 64 bits, other time zones)."""
    try:
        return orjson.dumps(fields) + b"\n"
    except orjson.JSONEncodeError:
        value = as_json(item)
        return dumps_bytes([value["kind"], *(value[name] for name in _fields_of(item))]) + b"\n"


def _fields_of(item: AuditItem) -> tuple[str, ...]:
    return _TURN_FIELDS if isinstance(item, TurnRecord) else _FEEDBACK_FIELDS


def _moment(at: datetime) -> datetime | str:
    """What a line holds for a time: orjson writes a UTC datetime as ``isoformat`` does
    (and faster); other offsets, which it would round to the minute, as that text."""
    return at if at.tzinfo is UTC else at.isoformat()


def _feedback_line(f: FeedbackRecord) -> bytes:
    return _line(("feedback", f.message_id, f.rating, f.comment, _moment(f.at)), f)


def encode_with_row(item: AuditItem) -> tuple[bytes, TurnRow | None]:
    """The record's spool line (newline included) and, for a turn, its
    ``conversation_log`` row: ``turn_row(stored_turn(item), utc)``."""
    if not isinstance(item, TurnRecord):
        return _feedback_line(item), None
    t = item
    calls = [call.to_json() for call in t.tool_calls]
    try:
        calls_json: Any = orjson.dumps(calls, default=str, option=_CALLS_OPTIONS)
        column = stored_json_text(calls, calls_json.decode())
        calls_json = orjson.Fragment(calls_json)
    except orjson.JSONEncodeError:
        # The standard library's way for both (``dumps_stored`` takes the same path).
        calls_json = calls
        column = stored_json_text(calls, json.dumps(calls, default=str))
    line = _line(
        (
            "turn",
            t.message_id,
            t.session_id,
            t.user_id,
            _moment(t.timestamp),
            t.user_message,
            t.agent_response,
            t.agent_type,
            calls_json,
            t.latency_ms,
            t.ttft_ms,
            t.prompt_tokens,
            t.completion_tokens,
            t.confidence,
            t.error,
            t.trace_id,
        ),
        t,
    )
    return line, turn_row(stored_turn(t), utc, column)


def encode_with_rows(items: list[AuditItem]) -> tuple[bytes, list[TurnRow | None]]:
    """``encode_with_row`` of each record: their lines joined, and their rows."""
    lines: list[bytes] = []
    rows: list[TurnRow | None] = []
    for item in items:
        line, row = encode_with_row(item)
        lines.append(line)
        rows.append(row)
    return b"".join(lines), rows


def encode(item: AuditItem) -> bytes:
    """One record as a line of JSON, newline included."""
    return encode_with_row(item)[0]


def decode(line: bytes) -> AuditItem:
    """The record of one spool line; SpoolFormatError when it is not one."""
    try:
        data = json.loads(line)
        if isinstance(data, list):
            kind = data[0] if data else None
            names = _FIELDS.get(kind) if isinstance(kind, str) else None
            if names is None or len(data) != len(names) + 1:
                raise SpoolFormatError(f"not a record: {kind!r} with {len(data)} fields")
            data = {"kind": kind, **dict(zip(names, data[1:], strict=True))}
        kind = data["kind"]
        if kind == "turn":
            return TurnRecord(
                message_id=data["message_id"],
                session_id=data["session_id"],
                user_id=data["user_id"],
                timestamp=datetime.fromisoformat(data["timestamp"]),
                user_message=data["user_message"],
                agent_response=data["agent_response"],
                agent_type=data["agent_type"],
                tool_calls=tuple(
                    ToolCall(c["name"], c["arguments"], c["result"], c["error"], c["latency_ms"])
                    for c in data["tool_calls"]
                ),
                latency_ms=data["latency_ms"],
                ttft_ms=data["ttft_ms"],
                prompt_tokens=data["prompt_tokens"],
                completion_tokens=data["completion_tokens"],
                confidence=data["confidence"],
                error=data["error"],
                trace_id=data["trace_id"],
            )
        if kind == "feedback":
            at = datetime.fromisoformat(data["at"])
            return FeedbackRecord(data["message_id"], data["rating"], data["comment"], at)
    except SpoolFormatError:
        raise
    except (ValueError, KeyError, TypeError) as error:
        raise SpoolFormatError(f"unreadable spool line: {error}") from error
    raise SpoolFormatError(f"unknown record kind {kind!r}")
