"""``GET /admin/reports/{kind}``: the last complete week's or month's report, as a
download (admin only: it quotes the worst-rated conversations)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from agent_service.dependencies import (
    AdminSessionDep,
    AdminViewsDep,
    SettingsDep,
    StackDep,
    StoreDep,
)
from agent_service.reports import ReportSourceError, build_report, render_html, report_filename
from agent_service.reports.period import parse_end, report_period

__all__ = ["router"]

router = APIRouter(include_in_schema=False)


@router.get("/admin/reports/{kind}")
async def admin_report(
    request: Request,
    kind: str,
    session: AdminSessionDep,
    views: AdminViewsDep,
    settings: SettingsDep,
    stack: StackDep,
    store: StoreDep,
) -> Response:
    if session is None:
        return views.login_page(request)
    if not session.is_admin:
        return views.forbidden(session, "Reports are for the admin role only.")
    if kind not in ("weekly", "monthly"):
        return views.not_found(session, "no such report")
    # ?end=YYYY-MM-DD picks the period (it ends, excluded, then); default: the last
    # complete week or month.
    end_text = request.query_params.get("end")
    try:
        end = parse_end(end_text) if end_text else None
        if end is not None:
            # The period and the one before it must lie within the calendar.
            report_period("weekly" if kind == "weekly" else "monthly", end).previous()
    except ValueError as error:
        return views.page("message.html", session, 400, title="Bad date", message=str(error))
    if not await views.audited(session, request, f"report_{kind}", end_text or kind):
        return views.unavailable(session)
    try:
        # The audit store itself: the reports read it with their own queries.
        report = await build_report(
            store,
            "weekly" if kind == "weekly" else "monthly",
            end,
            prometheus_url=settings.prometheus_url,
            stack=stack,
        )
    except ReportSourceError as error:
        return views.page(
            "message.html", session, 503, title="Report unavailable", message=str(error)
        )
    response = HTMLResponse(
        render_html(report),
        headers={"content-disposition": f'attachment; filename="{report_filename(report)}"'},
    )
    views.pages.secure(response)
    return response
