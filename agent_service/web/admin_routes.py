"""``GET /admin`` (the tabs, each embedding one of the stack's dashboards; the
conversation search on its tab), ``/admin/status`` and ``/admin/runbooks``: for any
signed-in role, except the tabs marked admin only."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from agent_service.catalog import agent_types
from agent_service.dependencies import AdminSessionDep, AdminViewsDep, SettingsDep, StackDep, WebDep
from agent_service.store.base import StoreUnavailable
from agent_service.web.conversations import FEEDBACK_CHOICES, count_turns, search_turns
from agent_service.web.filters import filter_fields, parse_filters
from agent_service.web.runbooks import runbooks_html
from agent_service.web.summaries import summarize

__all__ = ["SEARCH_LIMIT", "router"]

SEARCH_LIMIT = 100

router = APIRouter(include_in_schema=False)


@router.get("/admin")
async def admin_home(
    request: Request,
    session: AdminSessionDep,
    views: AdminViewsDep,
    web: WebDep,
    settings: SettingsDep,
    stack: StackDep,
) -> Response:
    if session is None:
        return views.login_page(request)
    slug = request.query_params.get("tab", web.tabs[0].slug)
    tab = next((t for t in web.tabs if t.slug == slug), None)
    if tab is None:
        return views.not_found(session, f"no tab {slug!r}")
    if tab.admin_only and not session.is_admin:
        return views.forbidden(session, f"{tab.title} is for the admin role only.")
    context: dict[str, Any] = {
        "tab": tab,
        "grafana_embed": (
            f"{settings.grafana_url}/d/{tab.dashboard_uid}?orgId=1&kiosk"
            if settings.grafana_url
            else None
        ),
        "grafana_link": f"{stack.grafana_url}/d/{tab.dashboard_uid}",
        "statuses": await web.probe.statuses(),
        "summary": None,
        "db_error": None,
    }
    try:
        context["summary"] = await summarize(web.db, datetime.now(UTC))
        if tab.slug == "conversations":
            agents = agent_types(stack)
            filters, error = parse_filters(dict(request.query_params), agents)
            context["filters"] = filter_fields(filters)
            context["filter_error"] = error
            context["agents"] = agents
            context["feedback_choices"] = FEEDBACK_CHOICES
            if error is None:
                context["total"] = await count_turns(web.db, filters)
                context["turns"] = await search_turns(web.db, filters, SEARCH_LIMIT)
    except StoreUnavailable as error:
        context["db_error"] = str(error)
    # Bad filters: the page (with the message and the form) as a 400.
    status = 400 if context.get("filter_error") else 200
    return views.page("admin.html", session, status, title=f"Admin: {tab.title}", **context)


@router.get("/admin/status")
async def admin_status(session: AdminSessionDep, web: WebDep) -> Response:
    if session is None:
        return Response("sign in first", status_code=401)
    return web.pages.render("status.html", statuses=await web.probe.statuses())


@router.get("/admin/runbooks")
async def admin_runbooks(
    request: Request, session: AdminSessionDep, views: AdminViewsDep, stack: StackDep
) -> Response:
    if session is None:
        return views.login_page(request)
    return views.page("runbooks.html", session, title="Runbooks", body=runbooks_html(stack))
