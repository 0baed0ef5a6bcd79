"""Audit records as one line of JSON each (the spool's format) and back.

A line carries everything the store writes, so a record replayed from the spool is
written exactly as the original would have been (tool results go through the same
``default=str`` JSON as the ``tool_calls`` column)."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from agent_service.domain import FeedbackRecord, ToolCall, TurnRecord
from agent_service.store.base import AuditItem
from agent_service.store.jsontext import dumps_bytes

__all__ = ["SpoolFormatError", "as_json", "decode", "encode"]


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
    """The record as the JSON object of its spool line (``kind`` included)."""
    return _turn(item) if isinstance(item, TurnRecord) else _feedback(item)


def encode(item: AuditItem) -> bytes:
    """One record as a line of JSON, newline included."""
    return dumps_bytes(as_json(item)) + b"\n"


def decode(line: bytes) -> AuditItem:
    """The record of one spool line; SpoolFormatError when it is not one."""
    try:
        data = json.loads(line)
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
    except (ValueError, KeyError, TypeError) as error:
        raise SpoolFormatError(f"unreadable spool line: {error}") from error
    raise SpoolFormatError(f"unknown record kind {kind!r}")
