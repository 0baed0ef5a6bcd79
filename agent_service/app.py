"""The BestBox agent API: ``create_app(settings)`` wires explicit dependencies; nothing
connects or registers at import time."""

from __future__ import annotations

import asyncio
import json
import logging
import re
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, MutableMapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from fastapi import FastAPI, Header, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response, StreamingResponse
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.openmetrics.exposition import (
    CONTENT_TYPE_LATEST as OPENMETRICS_CONTENT_TYPE,
)
from prometheus_client.openmetrics.exposition import generate_latest as generate_openmetrics
from starlette.exceptions import HTTPException as StarletteHTTPException

from agent_service.agents.orchestrator import Orchestrator
from agent_service.api.alerts import alerts_router
from agent_service.api.schemas import ChatRequest, CompletionRequest, FeedbackRequest
from agent_service.domain import FeedbackRecord
from agent_service.engine import ChatEngine, Delta, RecentMessages, TurnEnd, TurnStart
from agent_service.llm.base import ChatModel
from agent_service.llm.factory import model_from_env
from agent_service.settings import Settings
from agent_service.store import AuditStore, open_store
from agent_service.store.base import StoreUnavailable
from agent_service.store.spool import Spool
from agent_service.store.writer import AuditWriter
from agent_service.telemetry.metrics import DisabledMetrics, ServiceMetrics
from agent_service.telemetry.tracing import Tracing
from agent_service.web import install_web
from specs.bestbox import stack as bestbox_stack
from stackgen.spec import Stack

__all__ = ["Services", "create_app"]

log = logging.getLogger(__name__)

SESSION_ID = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")
MAX_USER_ID = 255

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
ASGIApp = Callable[
    [Scope, Callable[[], Awaitable[Message]], Callable[[Message], Awaitable[None]]], Awaitable[None]
]


@dataclass
class Services:
    """Everything a request needs, built by create_app (tests pass their own)."""

    settings: Settings
    metrics: ServiceMetrics
    tracing: Tracing
    model: ChatModel
    store: AuditStore
    writer: AuditWriter
    engine: ChatEngine
    recent: RecentMessages


def _error(status: int, kind: str, message: str, **extra: Any) -> JSONResponse:
    return JSONResponse({"error": {"type": kind, "message": message, **extra}}, status_code=status)


class HTTPMetricsMiddleware:
    """Counts requests by method, route template and status class. A pure ASGI
    middleware: BaseHTTPMiddleware costs several times an empty request here."""

    def __init__(self, app: ASGIApp, metrics: ServiceMetrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(
        self,
        scope: Scope,
        receive: Callable[[], Awaitable[Message]],
        send: Callable[[Message], Awaitable[None]],
    ) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        status = 500

        async def remember_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, remember_status)
        finally:
            route = scope.get("route")
            template = getattr(route, "path", None) or "unmatched"
            method = scope.get("method", "OTHER")
            known = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS")
            try:
                self.metrics.http(method if method in known else "OTHER", template, status)
            except Exception:  # telemetry never fails a request
                log.exception("recording the HTTP metric failed")


def _identity(user_id: str | None, session_id: str | None) -> tuple[str, str] | JSONResponse:
    user = (user_id or "anonymous").strip() or "anonymous"
    if len(user) > MAX_USER_ID:
        return _error(400, "invalid_header", f"x-user-id is longer than {MAX_USER_ID} characters")
    session = session_id or str(uuid.uuid4())
    if not SESSION_ID.match(session):
        return _error(
            400, "invalid_header", "x-session-id must be 1-64 characters of [A-Za-z0-9._:-]"
        )
    return user, session


def create_app(
    settings: Settings,
    *,
    stack: Stack = bestbox_stack,
    model: ChatModel | None = None,
    store: AuditStore | None = None,
    registry: CollectorRegistry | None = None,
) -> FastAPI:
    registry = registry or CollectorRegistry()
    metrics = (ServiceMetrics if settings.telemetry else DisabledMetrics)(stack, registry)
    tracing = Tracing(settings)
    model = model or model_from_env(settings.llm_env)
    store = store or open_store(settings.database_url, settings.sqlite_path)
    spool = (
        Spool(settings.audit_spool_dir, max_bytes=settings.audit_spool_max_bytes)
        if settings.audit_spool_dir is not None
        else None
    )
    writer = AuditWriter(
        store,
        max_queue=settings.audit_queue_size,
        flush_interval_s=settings.audit_flush_interval_s,
        spool=spool,
        events=metrics,
    )
    metrics.watch_audit(
        lambda: writer.depth,
        lambda: writer.spooled,
        lambda: writer.spool_bytes,
        lambda: writer.spool_limit_bytes,
    )
    recent = RecentMessages(settings.recent_messages)
    engine = ChatEngine(
        Orchestrator(),
        model,
        metrics,
        tracing.tracer,
        writer,
        recent,
        capture_content=settings.capture_message_content,
        audit=settings.telemetry,
        ack_timeout_s=settings.audit_ack_timeout_s,
    )
    services = Services(settings, metrics, tracing, model, store, writer, engine, recent)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        try:
            await store.migrate()
        except Exception as error:  # the service runs; the writer retries its batches
            log.error("audit store migration failed: %s", error)
        await writer.start()
        try:
            yield
        finally:
            # Bounded: what the writer cannot drain in time stays in the spool, and
            # tracing gets the rest of the budget (a dead collector must not hold us).
            started = time.monotonic()
            await writer.stop(timeout_s=settings.audit_drain_timeout_s)
            await model.aclose()
            try:
                # A database that went away must not hold the exit either.
                await asyncio.wait_for(store.close(), timeout=1.0)
            except TimeoutError:
                log.warning("closing the audit store timed out; exiting anyway")
            left = settings.shutdown_timeout_s - (time.monotonic() - started)
            tracing.shutdown(timeout_s=max(0.5, left))

    app = FastAPI(title="BestBox agent API", version="1.0.0", lifespan=lifespan)
    app.state.services = services
    if settings.telemetry:
        app.add_middleware(HTTPMetricsMiddleware, metrics=metrics)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(_: Request, error: RequestValidationError) -> JSONResponse:
        details = [
            {"field": ".".join(str(p) for p in e["loc"] if p != "body"), "message": e["msg"]}
            for e in error.errors()
        ]
        summary = "; ".join(f"{d['field'] or 'body'}: {d['message']}" for d in details)
        return _error(422, "invalid_request", summary, details=details)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_: Request, error: StarletteHTTPException) -> JSONResponse:
        response = _error(error.status_code, "http_error", str(error.detail))
        response.headers.update(error.headers or {})  # WWW-Authenticate on a 401
        return response

    @app.post("/v1/chat/completions", response_model=None)
    async def chat_completions(
        body: CompletionRequest,
        x_user_id: str | None = Header(default=None),
        x_session_id: str | None = Header(default=None),
    ) -> Response:
        begun = await _begin_turn(engine, body.question, x_user_id, x_session_id)
        if isinstance(begun, JSONResponse):
            return begun
        start, events = begun
        headers = _turn_headers(start)
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
            return StreamingResponse(
                _sse(events, base), media_type="text/event-stream", headers=headers
            )
        end = await _last(events)
        if end.error:
            return _error(502, "llm_unavailable", end.error, **base)
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
                "usage": _usage(end),
            },
            headers=headers,
        )

    @app.post("/chat", response_model=None)
    async def chat(
        body: ChatRequest,
        user_id: str | None = Header(default=None),
        x_user_id: str | None = Header(default=None),
        x_session_id: str | None = Header(default=None),
    ) -> Response:
        begun = await _begin_turn(
            engine, body.message, x_user_id or user_id, body.session_id or x_session_id
        )
        if isinstance(begun, JSONResponse):
            return begun
        start, events = begun
        end = await _last(events)
        headers = _turn_headers(start)
        payload = {
            "response": end.text,
            "message_id": start.message_id,
            "session_id": start.session_id,
            "agent_used": start.agent,
            "confidence": start.confidence,
            "trace_id": start.trace_id,
            "latency_ms": round(end.latency_s * 1000),
            "ttft_ms": round(end.ttft_s * 1000) if end.ttft_s is not None else None,
            "usage": _usage(end),
        }
        if end.error:
            return _error(502, "llm_unavailable", end.error, **payload)
        return JSONResponse(payload, headers=headers)

    @app.post("/feedback")
    async def feedback(body: FeedbackRequest) -> JSONResponse:
        known = body.message_id in recent
        if not known:
            try:
                known = await store.message_exists(body.message_id)
            except StoreUnavailable as error:
                return _error(503, "audit_store_unavailable", str(error))
        if not known:
            return _error(404, "unknown_message", f"no message with id {body.message_id!r}")
        changed = recent.rating(body.message_id) != body.rating
        if changed:
            # Re-rating with the same value is idempotent: counted once.
            metrics.feedback(body.rating)
        recent.rate(body.message_id, body.rating)
        if settings.telemetry:
            # "recorded" means in the spool (or held in memory without one).
            await writer.record(
                FeedbackRecord(body.message_id, body.rating, body.comment, datetime.now(UTC)),
                timeout_s=settings.audit_ack_timeout_s,
            )
        return JSONResponse(
            {"status": "recorded", "message_id": body.message_id, "rating": body.rating}
        )

    @app.get("/metrics")
    async def metrics_endpoint(request: Request) -> Response:
        # Exemplars (trace ids on latency buckets) exist only in OpenMetrics.
        if "application/openmetrics-text" in request.headers.get("accept", ""):
            body = generate_openmetrics(registry)  # type: ignore[no-untyped-call]
            return Response(body, media_type=OPENMETRICS_CONTENT_TYPE)
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)

    @app.get("/health")
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/health/db")
    async def health_db() -> JSONResponse:
        try:
            await store.ping()
        except StoreUnavailable as error:
            return JSONResponse({"status": "unavailable", "reason": str(error)}, status_code=503)
        return JSONResponse(
            {
                "status": "ok",
                "audit_queue_depth": writer.depth,
                "audit_spool_rows": writer.spooled,
            }
        )

    # Alertmanager's webhook: notifications into the audit database.
    app.include_router(
        alerts_router(token=settings.alert_webhook_token, store=store, metrics=metrics)
    )

    # The chat page at / and the admin at /admin (agent_service.web).
    install_web(app, settings=settings, stack=stack, store=store)

    @app.get("/v1/models")
    async def models() -> dict[str, Any]:
        return {
            "object": "list",
            "data": [{"id": model.name, "object": "model", "owned_by": "bestbox"}],
        }

    return app


TurnEvents = AsyncIterator[TurnStart | Delta | TurnEnd]


async def _begin_turn(
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


def _turn_headers(start: TurnStart) -> dict[str, str]:
    return {
        "x-trace-id": start.trace_id,
        "x-message-id": start.message_id,
        "x-session-id": start.session_id,
    }


def _usage(end: TurnEnd) -> dict[str, int]:
    return {
        "prompt_tokens": end.usage.prompt_tokens,
        "completion_tokens": end.usage.completion_tokens,
        "total_tokens": end.usage.prompt_tokens + end.usage.completion_tokens,
    }


async def _last(events: AsyncIterator[TurnStart | Delta | TurnEnd]) -> TurnEnd:
    end: TurnEnd | None = None
    async for event in events:
        if isinstance(event, TurnEnd):
            end = event
    assert end is not None
    return end


async def _sse(
    events: AsyncIterator[TurnStart | Delta | TurnEnd], base: dict[str, Any]
) -> AsyncIterator[str]:
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
            yield chunk({}, "error" if event.error else "stop", usage=_usage(event))
    yield "data: [DONE]\n\n"
