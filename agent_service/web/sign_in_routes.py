"""``POST /admin/login`` and ``POST /admin/logout``: CSRF-checked, rate-limited sign-in,
and sign-out that revokes the session; both recorded in the admin audit."""

from __future__ import annotations

import logging
import math

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from agent_service.dependencies import AdminSessionDep, AdminViewsDep, AuthDep
from agent_service.store.base import StoreUnavailable
from agent_service.web.auth import LOGIN_COOKIE, SESSION_COOKIE, SignInRefused
from agent_service.web.forms import MAX_FORM_BYTES, client_host, read_form
from agent_service.web.inputs import clean_text

__all__ = ["router"]

log = logging.getLogger(__name__)

router = APIRouter(include_in_schema=False)


@router.post("/admin/login", max_body_size=MAX_FORM_BYTES)
async def admin_login(request: Request, auth: AuthDep, views: AdminViewsDep) -> Response:
    if not auth.enabled:
        return views.login_page(request)
    form = await read_form(request)
    if form is None or not auth.login_csrf_ok(request.cookies.get(LOGIN_COOKIE), form.get("csrf")):
        return views.pages.render(
            "login_refused.html",
            403,
            title="Refused",
            message="Missing or invalid CSRF token: reload the sign-in page and try again.",
        )
    username = clean_text(form.get("username", "")[:64])
    if username is None:
        return views.login_page(request, 400, "The account name holds characters no account has.")
    try:
        account = await auth.check_password(
            username, form.get("password", ""), client_host(request)
        )
    except SignInRefused as refused:
        seconds = max(1, math.ceil(refused.retry_after_s))
        response = views.login_page(
            request, 429, f"{refused.reason.capitalize()}; try again in {seconds} s."
        )
        response.headers["retry-after"] = str(seconds)
        return response
    if account is None:
        await views.audited(None, request, "login_failed", None, username=username or "?")
        return views.login_page(request, 401, "Wrong account or password.")
    cookie, session = auth.issue(account)
    if not await views.audited(session, request, "login", None):
        return views.login_page(
            request,
            503,
            "The audit database is unavailable: sign-in is refused until it can be recorded.",
        )
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


@router.post("/admin/logout", max_body_size=MAX_FORM_BYTES)
async def admin_logout(
    request: Request, session: AdminSessionDep, auth: AuthDep, views: AdminViewsDep
) -> Response:
    if session is None:
        return RedirectResponse("/admin", status_code=303)
    form = await read_form(request) or {}
    if not auth.csrf_ok(session, form.get("csrf")):
        return views.forbidden(session, "Missing or invalid CSRF token.")
    await views.audited(session, request, "logout", None)
    try:
        await auth.revoke(session)
    except StoreUnavailable as error:
        log.error("sign-out of %s held in this process only: %s", session.username, error)
    response = RedirectResponse("/admin", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/admin")
    return response
