"""The admin role's audit views: one conversation, the conversation export (CSV or
JSON), the admin audit with the dead letters, and the alert log. Each view of
conversation content is itself audited first; when that cannot be written, refused."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime

from fastapi import APIRouter, Request
from fastapi.responses import Response, StreamingResponse

from agent_service.catalog import agent_types
from agent_service.dependencies import AdminSessionDep, AdminViewsDep, AuthDep, StackDep, WebDep
from agent_service.store.base import StoreUnavailable
from agent_service.web.alerts import recent_alerts
from agent_service.web.conversations import export_batches, session_turns
from agent_service.web.database import recent_admin_actions
from agent_service.web.deadletters import dead_letter_summary
from agent_service.web.exports import csv_stream, json_stream
from agent_service.web.filters import parse_filters
from agent_service.web.forms import MAX_FORM_BYTES, read_form
from agent_service.web.inputs import SESSION_ID

__all__ = ["router"]

router = APIRouter(include_in_schema=False)


@router.get("/admin/sessions/{session_id}")
async def admin_conversation(
    request: Request,
    session_id: str,
    session: AdminSessionDep,
    views: AdminViewsDep,
    web: WebDep,
    stack: StackDep,
) -> Response:
    if session is None:
        return views.login_page(request)
    if not session.is_admin:
        return views.forbidden(session, "Conversations are for the admin role only.")
    if not SESSION_ID.fullmatch(session_id):
        return views.not_found(
            session, "no conversation has that id (1-64 characters of [A-Za-z0-9._:-])"
        )
    if not await views.audited(session, request, "view_conversation", session_id[:64]):
        return views.unavailable(session)
    turns = await session_turns(web.db, session_id)
    return views.page(
        "conversation.html",
        session,
        200 if turns else 404,
        title=f"Conversation {session_id}",
        session_id=session_id,
        turns=turns,
        jaeger_url=stack.jaeger_url.rstrip("/"),
    )


@router.post("/admin/export", max_body_size=MAX_FORM_BYTES)
async def admin_export(
    request: Request,
    session: AdminSessionDep,
    auth: AuthDep,
    views: AdminViewsDep,
    web: WebDep,
    stack: StackDep,
) -> Response:
    if session is None:
        return Response("sign in first", status_code=401)
    if not session.is_admin:
        return views.forbidden(session, "Exports are for the admin role only.")
    form = await read_form(request) or {}
    if not auth.csrf_ok(session, form.get("csrf")):
        return views.forbidden(session, "Missing or invalid CSRF token.")
    kind = form.get("format", "")
    if kind not in ("csv", "json"):
        return views.page(
            "message.html", session, 400, title="Bad request", message="format must be csv or json"
        )
    filters, error = parse_filters(form, agent_types(stack))
    if error is not None:
        return views.page("message.html", session, 400, title="Bad filters", message=error)
    if not await views.audited(session, request, f"export_{kind}", filters.describe()):
        return views.unavailable(session)
    batches = export_batches(web.db, filters, web.export_batch_size)
    body: AsyncIterator[str] = csv_stream(batches) if kind == "csv" else json_stream(batches)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    response = StreamingResponse(
        body,
        media_type="text/csv; charset=utf-8" if kind == "csv" else "application/json",
        headers={"content-disposition": f'attachment; filename="conversations-{stamp}.{kind}"'},
    )
    web.pages.secure(response)
    return response


@router.get("/admin/audit")
async def admin_audit(
    request: Request, session: AdminSessionDep, views: AdminViewsDep, web: WebDep
) -> Response:
    if session is None:
        return views.login_page(request)
    if not session.is_admin:
        return views.forbidden(session, "The admin audit is for the admin role only.")
    try:
        entries = await recent_admin_actions(web.db)
        dead_letters = await dead_letter_summary(web.db)
    except StoreUnavailable:
        return views.unavailable(session)
    return views.page(
        "audit.html", session, title="Admin audit", entries=entries, dead_letters=dead_letters
    )


@router.get("/admin/alerts")
async def admin_alerts(
    request: Request, session: AdminSessionDep, views: AdminViewsDep, web: WebDep
) -> Response:
    """The incident log: alerts Alertmanager delivered (admin only, like the other
    audit logs)."""
    if session is None:
        return views.login_page(request)
    if not session.is_admin:
        return views.forbidden(session, "The alert log is for the admin role only.")
    try:
        entries = await recent_alerts(web.db)
    except StoreUnavailable:
        return views.unavailable(session)
    return views.page("alerts.html", session, title="Alerts", entries=entries)
