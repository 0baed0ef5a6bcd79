"""``POST /v1/chat/completions`` (OpenAI's form, streamed or not) and ``POST /chat`` (the
simple form): one chat turn each."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import APIRouter, Header
from fastapi.responses import JSONResponse, Response, StreamingResponse

from agent_service.api.errors import error_response
from agent_service.api.schemas import ChatRequest, CompletionRequest
from agent_service.api.turns import begin_turn, last_event, sse, turn_headers, usage
from agent_service.dependencies import EngineDep

__all__ = ["router"]

router = APIRouter()


@router.post("/v1/chat/completions", response_model=None)
async def chat_completions(
    body: CompletionRequest,
    engine: EngineDep,
    x_user_id: str | None = Header(default=None),
    x_session_id: str | None = Header(default=None),
) -> Response:
    begun = await begin_turn(engine, body.question, x_user_id, x_session_id)
    if isinstance(begun, JSONResponse):
        return begun
    start, events = begun
    headers = turn_headers(start)
    created = int(datetime.now(UTC).timestamp())
    base = {
        "id": start.message_id,
        "created": created,
        "model": start.model,
        "message_id": start.message_id,
        "session_id": start.session_id,
        "agent": start.agent,
        "trace_id": start.trace_id,
    }
    if body.stream:
        return StreamingResponse(sse(events, base), media_type="text/event-stream", headers=headers)
    end = await last_event(events)
    if end.error:
        return error_response(502, "llm_unavailable", end.error, **base)
    return JSONResponse(
        {
            **base,
            "object": "chat.completion",
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": end.text},
                    "finish_reason": "stop",
                }
            ],
            "usage": usage(end),
        },
        headers=headers,
    )


@router.post("/chat", response_model=None)
async def chat(
    body: ChatRequest,
    engine: EngineDep,
    user_id: str | None = Header(default=None),
    x_user_id: str | None = Header(default=None),
    x_session_id: str | None = Header(default=None),
) -> Response:
    begun = await begin_turn(
        engine, body.message, x_user_id or user_id, body.session_id or x_session_id
    )
    if isinstance(begun, JSONResponse):
        return begun
    start, events = begun
    end = await last_event(events)
    headers = turn_headers(start)
    payload = {
        "response": end.text,
        "message_id": start.message_id,
        "session_id": start.session_id,
        "agent_used": start.agent,
        "confidence": start.confidence,
        "trace_id": start.trace_id,
        "latency_ms": round(end.latency_s * 1000),
        "ttft_ms": round(end.ttft_s * 1000) if end.ttft_s is not None else None,
        "usage": usage(end),
    }
    if end.error:
        return error_response(502, "llm_unavailable", end.error, **payload)
    return JSONResponse(payload, headers=headers)
