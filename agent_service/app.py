"""The BestBox agent API: ``create_app(settings)`` builds the explicit dependencies, keeps
them on ``app.state`` and includes the routers, which read them through
agent_service.dependencies; nothing connects or registers at import time."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager

from fastapi import FastAPI
from prometheus_client import CollectorRegistry
from starlette.middleware.body_limit import RequestBodyLimitMiddleware

from agent_service.agents.orchestrator import Orchestrator
from agent_service.api import alerts, chat, feedback, health, metrics, models
from agent_service.api.docs import OPENAPI_URL, install_docs
from agent_service.api.errors import install_error_handlers
from agent_service.default_stack import DEFAULT_ADMIN_TABS, DEFAULT_STACK
from agent_service.engine import ChatEngine, RecentMessages
from agent_service.llm.base import ChatModel
from agent_service.llm.factory import model_from_env
from agent_service.services import Services
from agent_service.serving import trust_forwarded_headers
from agent_service.settings import Settings
from agent_service.store import AuditStore, PostgresStore, open_store
from agent_service.store.retention import Retention
from agent_service.store.spool import Spool
from agent_service.store.writer import AuditWriter
from agent_service.telemetry.http import HTTPMetricsMiddleware
from agent_service.telemetry.metrics import DisabledMetrics, ServiceMetrics
from agent_service.telemetry.tracing import Tracing
from agent_service.web.headers import SecurityHeadersMiddleware, security_headers
from agent_service.web.install import install_web
from agent_service.web.tabs import AdminTab
from stackgen.spec import Stack

__all__ = ["create_app"]

log = logging.getLogger(__name__)


def _services(
    settings: Settings,
    stack: Stack,
    model: ChatModel | None,
    store: AuditStore | None,
    registry: CollectorRegistry | None,
) -> Services:
    registry = registry or CollectorRegistry()
    service_metrics = (ServiceMetrics if settings.telemetry else DisabledMetrics)(stack, registry)
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
        events=service_metrics,
    )
    service_metrics.watch_audit(
        lambda: writer.depth,
        lambda: writer.spooled,
        lambda: writer.spool_bytes,
        lambda: writer.spool_limit_bytes,
    )
    recent = RecentMessages(settings.recent_messages)
    engine = ChatEngine(
        Orchestrator(),
        model,
        service_metrics,
        tracing.tracer,
        writer,
        recent,
        capture_content=settings.capture_message_content,
        audit=settings.telemetry,
        ack_timeout_s=settings.audit_ack_timeout_s,
    )
    return Services(
        settings, service_metrics, tracing, model, store, writer, engine, recent, stack, registry
    )


def _lifespan(
    services: Services, closing: Sequence[Callable[[], None]]
) -> Callable[[FastAPI], AbstractAsyncContextManager[None]]:
    settings, store, writer = services.settings, services.store, services.writer

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        try:
            await store.migrate()
        except Exception as error:  # the service runs; the writer retries its batches
            log.error("audit store migration failed: %s", error)
        await writer.start()
        retention = (
            Retention(store, settings.audit_retention_days)
            if settings.telemetry and isinstance(store, PostgresStore)
            else None
        )
        if retention is not None:
            retention.start()
        elif settings.telemetry and settings.audit_retention_days is not None:
            log.info("AUDIT_RETENTION_DAYS applies to PostgreSQL; this audit store keeps all")
        try:
            yield
        finally:
            if retention is not None:
                await retention.stop()
            # Bounded: what the writer cannot drain in time stays in the spool, and
            # tracing gets the rest of the budget (a dead collector must not hold us).
            started = time.monotonic()
            await writer.stop(timeout_s=settings.audit_drain_timeout_s)
            for close in closing:
                close()
            await services.model.aclose()
            try:
                # A database that went away must not hold the exit either.
                await asyncio.wait_for(store.close(), timeout=1.0)
            except TimeoutError:
                log.warning("closing the audit store timed out; exiting anyway")
            left = settings.shutdown_timeout_s - (time.monotonic() - started)
            services.tracing.shutdown(timeout_s=max(0.5, left))

    return lifespan


def create_app(
    settings: Settings,
    *,
    stack: Stack = DEFAULT_STACK,
    admin_tabs: Sequence[AdminTab] = DEFAULT_ADMIN_TABS,
    model: ChatModel | None = None,
    store: AuditStore | None = None,
    registry: CollectorRegistry | None = None,
) -> FastAPI:
    """The service for ``stack`` (its catalog's metrics, its services and dashboards);
    ``admin_tabs`` must embed dashboards of that stack."""
    services = _services(settings, stack, model, store, registry)
    closing: list[Callable[[], None]] = []
    # The schema and its UIs only when asked for (API_DOCS); the UIs are ours, not
    # FastAPI's, so that they carry the security headers.
    app = FastAPI(
        title="BestBox agent API",
        version="1.0.0",
        lifespan=_lifespan(services, closing),
        openapi_url=OPENAPI_URL if settings.api_docs else None,
        docs_url=None,
        redoc_url=None,
    )
    app.state.services = services
    if settings.api_docs:
        install_docs(app)
    # Innermost first (add_middleware wraps what is there): metrics, the body limit
    # (413 before a body over it is read; routes may set a lower one), the forwarded
    # headers of trusted proxies only, and outermost the security headers, so that
    # every response carries them, a 413 included.
    if settings.telemetry:
        app.add_middleware(HTTPMetricsMiddleware, metrics=services.metrics)
    app.add_middleware(RequestBodyLimitMiddleware, max_body_size=settings.max_body_bytes)
    trust_forwarded_headers(app, settings)
    app.add_middleware(SecurityHeadersMiddleware, headers=security_headers(settings.grafana_url))
    install_error_handlers(app)

    for api in (chat, feedback, metrics, health, alerts):
        app.include_router(api.router)
    # The chat page at / and the admin at /admin (agent_service.web).
    web = install_web(app, settings=settings, stack=stack, store=services.store, tabs=admin_tabs)
    closing.append(web.auth.close)
    app.include_router(models.router)
    return app
