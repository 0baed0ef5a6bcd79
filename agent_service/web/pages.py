"""Routes of the chat page and the admin: who may see what, CSRF on every form, and an
admin audit row for every admin action (written before the action's answer; when it
cannot be written, the action is refused)."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response, StreamingResponse
from fastapi.staticfiles import StaticFiles

from agent_service.domain import AGENT_TYPES
from agent_service.reports import ReportSourceError, build_report, render_html, report_filename
from agent_service.reports.period import parse_end
from agent_service.settings import Settings
from agent_service.store import AuditStore
from agent_service.store.base import StoreUnavailable
from agent_service.web.alerts import recent_alerts
from agent_service.web.auth import LOGIN_COOKIE, SESSION_COOKIE, Authenticator, Session
from agent_service.web.conversations import (
    FEEDBACK_CHOICES,
    Filters,
    count_turns,
    export_batches,
    search_turns,
    session_turns,
)
from agent_service.web.database import (
    Database,
    database_for,
    recent_admin_actions,
    record_admin_action,
)
from agent_service.web.exports import csv_stream, json_stream
from agent_service.web.rendering import STATIC_DIR, Pages
from agent_service.web.runbooks import runbooks_html
from agent_service.web.status import ServiceProbe
from agent_service.web.summaries import summarize
from specs.bestbox.admin import ADMIN_TABS, AdminTab
from stackgen.spec import Stack

__all__ = ["WebContext", "install_web"]

log = logging.getLogger(__name__)

MAX_FORM_BYTES = 64 * 1024
SEARCH_LIMIT = 100
EXPORT_BATCH = 1000


@dataclass
class WebContext:
    settings: Settings
    stack: Stack
    tabs: tuple[AdminTab, ...]
    auth: Authenticator
    db: Database
    # The audit store itself: the reports read it with their own queries.
    store: AuditStore
    probe: ServiceProbe
    pages: Pages
    export_batch_size: int = EXPORT_BATCH


async def _form(request: Request) -> dict[str, str] | None:
    """An urlencoded form (first value of each field); None when too large or not one."""
    if not request.headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
        return None
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_FORM_BYTES:
            return None
    fields = parse_qs(body.decode("utf-8", errors="replace"), keep_blank_values=True)
    return {key: values[0] for key, values in fields.items()}


def _client(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def _parse_time(value: str) -> datetime | None:
    """A datetime-local value (taken as UTC) or full ISO-8601; ValueError if neither."""
    value = value.strip()
    if not value:
        return None
    moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _filters(fields: dict[str, str]) -> tuple[Filters, str | None]:
    """Filters from query or form fields, and an error message for a bad one."""
    feedback = fields.get("feedback", "")
    agent = fields.get("agent", "")
    try:
        since = _parse_time(fields.get("since", ""))
        until = _parse_time(fields.get("until", ""))
    except ValueError:
        return Filters(), "since/until must be dates like 2026-11-26T01:00 (UTC)"
    if feedback not in FEEDBACK_CHOICES:
        return Filters(), f"feedback must be one of {', '.join(c for c in FEEDBACK_CHOICES if c)}"
    if agent and agent not in AGENT_TYPES:
        return Filters(), f"agent must be one of {', '.join(AGENT_TYPES)}"
    return (
        Filters(
            user=fields.get("user", "").strip()[:255],
            agent=agent,
            feedback=feedback,
            since=since,
            until=until,
            text=fields.get("text", "").strip()[:200],
        ),
        None,
    )


def _filter_fields(filters: Filters) -> dict[str, str]:
    """The filters as form values (to repeat them in the export form and links)."""

    def local(moment: datetime | None) -> str:
        return moment.strftime("%Y-%m-%dT%H:%M") if moment else ""

    return {
        "user": filters.user,
        "agent": filters.agent,
        "feedback": filters.feedback,
        "since": local(filters.since),
        "until": local(filters.until),
        "text": filters.text,
    }


def install_web(
    app: FastAPI,
    *,
    settings: Settings,
    stack: Stack,
    store: AuditStore,
    tabs: Sequence[AdminTab] = ADMIN_TABS,
    probe: ServiceProbe | None = None,
) -> WebContext:
    web = WebContext(
        settings=settings,
        stack=stack,
        tabs=tuple(tabs),
        auth=Authenticator(settings),
        db=database_for(store),
        store=store,
        probe=probe or ServiceProbe(stack.services),
        pages=Pages(settings.grafana_url),
    )
    app.state.web = web
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    _chat_routes(app, web)
    _admin_routes(app, web)
    return web


def _chat_routes(app: FastAPI, web: WebContext) -> None:
    @app.get("/", include_in_schema=False)
    async def chat_page() -> Response:
        return web.pages.render("chat.html", private=False, title="BestBox assistant")


def _admin_routes(app: FastAPI, web: WebContext) -> None:
    auth, pages = web.auth, web.pages

    def current(request: Request) -> Session | None:
        return auth.session(request.cookies.get(SESSION_COOKIE))

    def page(template: str, session: Session, status_code: int = 200, **context: Any) -> Response:
        return pages.render(
            template,
            status_code,
            session=session,
            csrf=auth.csrf_token(session),
            tabs=web.tabs,
            **context,
        )

    def forbidden(session: Session, message: str) -> Response:
        return page("message.html", session, 403, title="Forbidden", message=message)

    def login_page(request: Request, status_code: int = 200, error: str | None = None) -> Response:
        if not auth.enabled:
            return pages.render("login_disabled.html", 503, title="Admin sign-in disabled")
        nonce = request.cookies.get(LOGIN_COOKIE) or auth.new_login_nonce()
        response = pages.render(
            "login.html",
            status_code,
            title="Admin sign-in",
            csrf=auth.login_csrf_token(nonce),
            accounts=sorted(auth.accounts),
            error=error,
        )
        response.set_cookie(
            LOGIN_COOKIE,
            nonce,
            max_age=3600,
            path="/admin",
            httponly=True,
            samesite="strict",
            secure=request.url.scheme == "https",
        )
        return response

    async def audited(
        session: Session | None, request: Request, action: str, target: str | None, **kw: Any
    ) -> bool:
        try:
            await record_admin_action(
                web.db,
                username=kw.get("username") or (session.username if session else "?"),
                role=session.role.value if session else None,
                action=action,
                target=target,
                ip=_client(request),
            )
        except StoreUnavailable as error:
            log.error("admin audit write failed, %s refused: %s", action, error)
            return False
        return True

    def unavailable(session: Session) -> Response:
        return page(
            "message.html",
            session,
            503,
            title="Audit database unavailable",
            message="The audit database cannot be reached, so this action cannot be "
            "recorded and is refused. Try again when /health/db is ok.",
        )

    # -- sign-in ------------------------------------------------------------------------

    @app.get("/admin", include_in_schema=False)
    async def admin_home(request: Request) -> Response:
        session = current(request)
        if session is None:
            return login_page(request)
        slug = request.query_params.get("tab", web.tabs[0].slug)
        tab = next((t for t in web.tabs if t.slug == slug), None)
        if tab is None:
            return page("message.html", session, 404, title="Not found", message=f"no tab {slug!r}")
        if tab.admin_only and not session.is_admin:
            return forbidden(session, f"{tab.title} is for the admin role only.")
        context: dict[str, Any] = {
            "tab": tab,
            "grafana_embed": (
                f"{web.settings.grafana_url}/d/{tab.dashboard_uid}?orgId=1&kiosk"
                if web.settings.grafana_url
                else None
            ),
            "grafana_link": f"{web.stack.grafana_url}/d/{tab.dashboard_uid}",
            "statuses": await web.probe.statuses(),
            "summary": None,
            "db_error": None,
        }
        try:
            context["summary"] = await summarize(web.db, datetime.now(UTC))
            if tab.slug == "conversations":
                filters, error = _filters(dict(request.query_params))
                context["filters"] = _filter_fields(filters)
                context["filter_error"] = error
                context["agents"] = AGENT_TYPES
                context["feedback_choices"] = FEEDBACK_CHOICES
                if error is None:
                    context["total"] = await count_turns(web.db, filters)
                    context["turns"] = await search_turns(web.db, filters, SEARCH_LIMIT)
        except StoreUnavailable as error:
            context["db_error"] = str(error)
        return page("admin.html", session, title=f"Admin: {tab.title}", **context)

    @app.post("/admin/login", include_in_schema=False)
    async def admin_login(request: Request) -> Response:
        if not auth.enabled:
            return login_page(request)
        form = await _form(request)
        if form is None or not auth.login_csrf_ok(
            request.cookies.get(LOGIN_COOKIE), form.get("csrf")
        ):
            return pages.render(
                "login_refused.html",
                403,
                title="Refused",
                message="Missing or invalid CSRF token: reload the sign-in page and try again.",
            )
        client = _client(request)
        wait = auth.limiter.retry_after(client)
        if wait > 0:
            response = login_page(
                request, 429, f"Too many failed sign-ins; try again in {int(wait) + 1} s."
            )
            response.headers["retry-after"] = str(int(wait) + 1)
            return response
        username = form.get("username", "")[:64]
        account = await auth.check_password(username, form.get("password", ""))
        if account is None:
            auth.limiter.failed(client)
            await audited(None, request, "login_failed", None, username=username or "?")
            return login_page(request, 401, "Wrong account or password.")
        cookie, session = auth.issue(account)
        if not await audited(session, request, "login", None):
            return login_page(
                request,
                503,
                "The audit database is unavailable: sign-in is refused until it can be recorded.",
            )
        auth.limiter.succeeded(client)
        response = RedirectResponse("/admin", status_code=303)
        response.set_cookie(
            SESSION_COOKIE,
            cookie,
            path="/admin",
            httponly=True,
            samesite="strict",
            secure=request.url.scheme == "https",
        )
        response.delete_cookie(LOGIN_COOKIE, path="/admin")
        return response

    @app.post("/admin/logout", include_in_schema=False)
    async def admin_logout(request: Request) -> Response:
        session = current(request)
        if session is None:
            return RedirectResponse("/admin", status_code=303)
        form = await _form(request) or {}
        if not auth.csrf_ok(session, form.get("csrf")):
            return forbidden(session, "Missing or invalid CSRF token.")
        await audited(session, request, "logout", None)
        auth.revoke(session)
        response = RedirectResponse("/admin", status_code=303)
        response.delete_cookie(SESSION_COOKIE, path="/admin")
        return response

    # -- any signed-in role -------------------------------------------------------------

    @app.get("/admin/status", include_in_schema=False)
    async def admin_status(request: Request) -> Response:
        session = current(request)
        if session is None:
            return Response("sign in first", status_code=401)
        return pages.render("status.html", statuses=await web.probe.statuses())

    @app.get("/admin/runbooks", include_in_schema=False)
    async def admin_runbooks(request: Request) -> Response:
        session = current(request)
        if session is None:
            return login_page(request)
        return page("runbooks.html", session, title="Runbooks", body=runbooks_html(web.stack))

    # -- admin only ---------------------------------------------------------------------

    @app.get("/admin/sessions/{session_id}", include_in_schema=False)
    async def admin_conversation(request: Request, session_id: str) -> Response:
        session = current(request)
        if session is None:
            return login_page(request)
        if not session.is_admin:
            return forbidden(session, "Conversations are for the admin role only.")
        if not await audited(session, request, "view_conversation", session_id[:64]):
            return unavailable(session)
        turns = await session_turns(web.db, session_id)
        return page(
            "conversation.html",
            session,
            200 if turns else 404,
            title=f"Conversation {session_id}",
            session_id=session_id,
            turns=turns,
            jaeger_url=web.stack.jaeger_url.rstrip("/"),
        )

    @app.post("/admin/export", include_in_schema=False)
    async def admin_export(request: Request) -> Response:
        session = current(request)
        if session is None:
            return Response("sign in first", status_code=401)
        if not session.is_admin:
            return forbidden(session, "Exports are for the admin role only.")
        form = await _form(request) or {}
        if not auth.csrf_ok(session, form.get("csrf")):
            return forbidden(session, "Missing or invalid CSRF token.")
        kind = form.get("format", "")
        if kind not in ("csv", "json"):
            return page(
                "message.html",
                session,
                400,
                title="Bad request",
                message="format must be csv or json",
            )
        filters, error = _filters(form)
        if error is not None:
            return page("message.html", session, 400, title="Bad filters", message=error)
        if not await audited(session, request, f"export_{kind}", filters.describe()):
            return unavailable(session)
        batches = export_batches(web.db, filters, web.export_batch_size)
        body: AsyncIterator[str] = csv_stream(batches) if kind == "csv" else json_stream(batches)
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
        response = StreamingResponse(
            body,
            media_type="text/csv; charset=utf-8" if kind == "csv" else "application/json",
            headers={"content-disposition": f'attachment; filename="conversations-{stamp}.{kind}"'},
        )
        pages.secure(response)
        return response

    @app.get("/admin/audit", include_in_schema=False)
    async def admin_audit(request: Request) -> Response:
        session = current(request)
        if session is None:
            return login_page(request)
        if not session.is_admin:
            return forbidden(session, "The admin audit is for the admin role only.")
        try:
            entries = await recent_admin_actions(web.db)
        except StoreUnavailable:
            return unavailable(session)
        return page("audit.html", session, title="Admin audit", entries=entries)

    @app.get("/admin/alerts", include_in_schema=False)
    async def admin_alerts(request: Request) -> Response:
        """The incident log: alerts Alertmanager delivered (admin only, like the other
        audit logs)."""
        session = current(request)
        if session is None:
            return login_page(request)
        if not session.is_admin:
            return forbidden(session, "The alert log is for the admin role only.")
        try:
            entries = await recent_alerts(web.db)
        except StoreUnavailable:
            return unavailable(session)
        return page("alerts.html", session, title="Alerts", entries=entries)

    @app.get("/admin/reports/{kind}", include_in_schema=False)
    async def admin_report(request: Request, kind: str) -> Response:
        """The last complete week's or month's report, as a download (admin only: it
        quotes the worst-rated conversations)."""
        session = current(request)
        if session is None:
            return login_page(request)
        if not session.is_admin:
            return forbidden(session, "Reports are for the admin role only.")
        if kind not in ("weekly", "monthly"):
            return page("message.html", session, 404, title="Not found", message="no such report")
        # ?end=YYYY-MM-DD picks the period (it ends, excluded, then); default: the last
        # complete week or month.
        end_text = request.query_params.get("end")
        try:
            end = parse_end(end_text) if end_text else None
        except ValueError as error:
            return page("message.html", session, 400, title="Bad date", message=str(error))
        if not await audited(session, request, f"report_{kind}", end_text or kind):
            return unavailable(session)
        try:
            report = await build_report(
                web.store,
                "weekly" if kind == "weekly" else "monthly",
                end,
                prometheus_url=web.settings.prometheus_url,
                stack=web.stack,
            )
        except ReportSourceError as error:
            return page(
                "message.html", session, 503, title="Report unavailable", message=str(error)
            )
        response = HTMLResponse(
            render_html(report),
            headers={"content-disposition": f'attachment; filename="{report_filename(report)}"'},
        )
        pages.secure(response)
        return response
