"""Installing the web pages on the service: the chat page at ``/``, the admin at
``/admin`` (who may see what, CSRF on every form, and an admin audit row for every admin
action, written before the action's answer; when it cannot be written, the action is
refused), and their static files."""

from __future__ import annotations

from collections.abc import Sequence

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from agent_service.settings import Settings
from agent_service.store import AuditStore
from agent_service.web import admin_routes, audit_routes, chat_page, report_routes, sign_in_routes
from agent_service.web.auth import Authenticator
from agent_service.web.context import WebContext
from agent_service.web.database import database_for
from agent_service.web.rendering import STATIC_DIR, Pages
from agent_service.web.revocations import Revocations
from agent_service.web.status import ServiceProbe
from agent_service.web.tabs import AdminTab
from stackgen.spec import Stack

__all__ = ["install_web"]


def install_web(
    app: FastAPI,
    *,
    settings: Settings,
    stack: Stack,
    store: AuditStore,
    tabs: Sequence[AdminTab],
    probe: ServiceProbe | None = None,
) -> WebContext:
    """Builds the web context (kept on ``app.state.web``) and includes the routes. Every
    tab must embed one of the stack's dashboards (ValueError otherwise)."""
    dashboards = {dashboard.uid for dashboard in stack.dashboards}
    unknown = [tab.slug for tab in tabs if tab.dashboard_uid not in dashboards]
    if not tabs or unknown:
        raise ValueError(
            f"admin tabs must embed dashboards of the stack {stack.name!r}: "
            + (", ".join(unknown) if unknown else "no tabs")
        )
    db = database_for(store)
    web = WebContext(
        tabs=tuple(tabs),
        auth=Authenticator(settings, revocations=Revocations(db)),
        db=db,
        probe=probe or ServiceProbe(stack.services),
        pages=Pages(),
    )
    app.state.web = web
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    for routes in (chat_page, admin_routes, sign_in_routes, audit_routes, report_routes):
        app.include_router(routes.router)
    return web
