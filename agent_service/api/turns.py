"""A chat turn as the HTTP routes answer it: the identity headers checked, the engine's
events read, the response headers, the usage block and the OpenAI stream's chunks."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from typing import Any

from fastapi.responses import JSONResponse

from agent_service.api.errors import error_response
from agent_service.domain import SESSION_ID
from agent_service.engine import ChatEngine, Delta, TurnEnd, TurnStart

__all__ = ["MAX_USER_ID", "TurnEvents", "begin_turn", "last_event", "sse", "turn_headers", "usage"]

MAX_USER_ID = 255

TurnEvents = AsyncIterator[TurnStart | Delta | TurnEnd]


def _identity(user_id: str | None, session_id: str | None) -> tuple[str, str] | JSONResponse:
    user = (user_id or "anonymous").strip() or "anonymous"
    if len(user) > MAX_USER_ID:
        return error_response(
            400, "invalid_header", f"x-user-id is longer than {MAX_USER_ID} characters"
        )
    session = session_id or str(uuid.uuid4())
    if not SESSION_ID.fullmatch(session):
        return error_response(
            400, "invalid_header", "x-session-id must be 1-64 characters of [A-Za-z0-9._:-]"
        )
    return user, session


async def begin_turn(
    engine: ChatEngine, message: str, user_id: str | None, session_id: str | None
) -> tuple[TurnStart, TurnEvents] | JSONResponse:
    """Check the identity headers, start the turn and read its TurnStart."""
    identity = _identity(user_id, session_id)
    if isinstance(identity, JSONResponse):
        return identity
    user, session = identity
    events = engine.run(message, user, session)
    start = await anext(events)
    assert isinstance(start, TurnStart)
    return start, events


def turn_headers(start: TurnStart) -> dict[str, str]:
    return {
        "x-trace-id": start.trace_id,
        "x-message-id": start.message_id,
        "x-session-id": start.session_id,
    }


def usage(end: TurnEnd) -> dict[str, int]:
    return {
        "prompt_tokens": end.usage.prompt_tokens,
        "completion_tokens": end.usage.completion_tokens,
        "total_tokens": end.usage.prompt_tokens + end.usage.completion_tokens,
    }


async def last_event(events: TurnEvents) -> TurnEnd:
    end: TurnEnd | None = None
    async for event in events:
        if isinstance(event, TurnEnd):
            end = event
    assert end is not None
    return end


async def sse(events: TurnEvents, base: dict[str, Any]) -> AsyncIterator[str]:
    """OpenAI's chat completion chunks as server-sent events, ``[DONE]`` last."""

    def chunk(delta: dict[str, Any], finish: str | None, **extra: Any) -> str:
        payload = {
            **base,
            "object": "chat.completion.chunk",
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
            **extra,
        }
        return f"data: {json.dumps(payload)}\n\n"

    yield chunk({"role": "assistant"}, None)
    async for event in events:
        if isinstance(event, Delta):
            yield chunk({"content": event.text}, None)
        elif isinstance(event, TurnEnd):
            if event.error:
                error = {"type": "llm_unavailable", "message": event.error}
                yield f"data: {json.dumps({**base, 'error': error})}\n\n"
            yield chunk({}, "error" if event.error else "stop", usage=usage(event))
    yield "data: [DONE]\n\n"
