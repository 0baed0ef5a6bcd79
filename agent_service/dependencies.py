"""The routes' dependencies, read from ``app.state`` (where ``create_app`` and
``install_web`` put them) through ``Depends``, so that a test can replace any one of them
with ``app.dependency_overrides[get_store] = ...``.

Each part has its own function, and a dependency built on a part reaches it through
that function, so an override reaches every route that uses the part (overriding
``get_auth`` changes the session check and the admin pages alike). All are ``async``:
FastAPI runs a plain function dependency in its thread pool, a cost every request would
pay."""

from __future__ import annotations

import logging
from typing import Annotated

from fastapi import Depends, Request
from prometheus_client import CollectorRegistry

from agent_service.engine import ChatEngine, RecentMessages
from agent_service.llm.base import ChatModel
from agent_service.settings import Settings
from agent_service.store import AuditStore
from agent_service.store.base import StoreUnavailable
from agent_service.store.writer import AuditWriter
from agent_service.telemetry.metrics import ServiceMetrics
from agent_service.web.admin_views import AdminViews
from agent_service.web.auth import SESSION_COOKIE, Authenticator, Session
from agent_service.web.context import WebContext
from stackgen.spec import Stack

__all__ = [
    "AdminSessionDep",
    "AdminViewsDep",
    "AuthDep",
    "EngineDep",
    "MetricsDep",
    "ModelDep",
    "RecentDep",
    "RegistryDep",
    "SettingsDep",
    "StackDep",
    "StoreDep",
    "WebDep",
    "WriterDep",
    "get_admin_session",
    "get_admin_views",
    "get_auth",
    "get_engine",
    "get_metrics",
    "get_model",
    "get_recent",
    "get_registry",
    "get_settings",
    "get_stack",
    "get_store",
    "get_web",
    "get_writer",
]

log = logging.getLogger(__name__)


# The service's parts, each read straight from app.state.services: one dependency per
# part, not a chain through the Services object (each level costs every request).


async def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.services.settings
    return settings


async def get_stack(request: Request) -> Stack:
    stack: Stack = request.app.state.services.stack
    return stack


async def get_metrics(request: Request) -> ServiceMetrics:
    metrics: ServiceMetrics = request.app.state.services.metrics
    return metrics


async def get_registry(request: Request) -> CollectorRegistry:
    registry: CollectorRegistry = request.app.state.services.registry
    return registry


async def get_model(request: Request) -> ChatModel:
    model: ChatModel = request.app.state.services.model
    return model


async def get_store(request: Request) -> AuditStore:
    store: AuditStore = request.app.state.services.store
    return store


async def get_writer(request: Request) -> AuditWriter:
    writer: AuditWriter = request.app.state.services.writer
    return writer


async def get_engine(request: Request) -> ChatEngine:
    engine: ChatEngine = request.app.state.services.engine
    return engine


async def get_recent(request: Request) -> RecentMessages:
    recent: RecentMessages = request.app.state.services.recent
    return recent


SettingsDep = Annotated[Settings, Depends(get_settings)]
StackDep = Annotated[Stack, Depends(get_stack)]
MetricsDep = Annotated[ServiceMetrics, Depends(get_metrics)]
RegistryDep = Annotated[CollectorRegistry, Depends(get_registry)]
ModelDep = Annotated[ChatModel, Depends(get_model)]
StoreDep = Annotated[AuditStore, Depends(get_store)]
WriterDep = Annotated[AuditWriter, Depends(get_writer)]
EngineDep = Annotated[ChatEngine, Depends(get_engine)]
RecentDep = Annotated[RecentMessages, Depends(get_recent)]


async def get_web(request: Request) -> WebContext:
    web: WebContext = request.app.state.web
    return web


WebDep = Annotated[WebContext, Depends(get_web)]


async def get_auth(web: WebDep) -> Authenticator:
    return web.auth


AuthDep = Annotated[Authenticator, Depends(get_auth)]


async def get_admin_session(request: Request, auth: AuthDep) -> Session | None:
    """The signed-in admin session of the request's cookie; None when there is none."""
    try:
        return await auth.current(request.cookies.get(SESSION_COOKIE))
    except StoreUnavailable as error:
        # Whether it was signed out cannot be known: not signed in, then.
        log.error("admin session not checked (audit database unavailable): %s", error)
        return None


async def get_admin_views(web: WebDep, auth: AuthDep) -> AdminViews:
    return AdminViews(auth, web.pages, web.tabs, web.db)


AdminSessionDep = Annotated[Session | None, Depends(get_admin_session)]
AdminViewsDep = Annotated[AdminViews, Depends(get_admin_views)]
