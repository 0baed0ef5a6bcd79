"""The answers every admin route shares: a page with the session's CSRF token and the
tabs, the sign-in page, a 403, the 503 of an action that cannot be audited, and the
admin audit row itself."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import Request
from fastapi.responses import Response

from agent_service.store.base import StoreUnavailable
from agent_service.web.auth import LOGIN_COOKIE, Authenticator, Session
from agent_service.web.database import Database, record_admin_action
from agent_service.web.forms import client_host
from agent_service.web.rendering import Pages
from agent_service.web.tabs import AdminTab

__all__ = ["AdminViews"]

log = logging.getLogger(__name__)


class AdminViews:
    def __init__(
        self, auth: Authenticator, pages: Pages, tabs: tuple[AdminTab, ...], db: Database
    ) -> None:
        self.auth = auth
        self.pages = pages
        self.tabs = tabs
        self.db = db

    def page(
        self, template: str, session: Session, status_code: int = 200, **context: Any
    ) -> Response:
        return self.pages.render(
            template,
            status_code,
            session=session,
            csrf=self.auth.csrf_token(session),
            tabs=self.tabs,
            **context,
        )

    def forbidden(self, session: Session, message: str) -> Response:
        return self.page("message.html", session, 403, title="Forbidden", message=message)

    def not_found(self, session: Session, message: str) -> Response:
        return self.page("message.html", session, 404, title="Not found", message=message)

    def login_page(
        self, request: Request, status_code: int = 200, error: str | None = None
    ) -> Response:
        auth = self.auth
        if not auth.enabled:
            return self.pages.render("login_disabled.html", 503, title="Admin sign-in disabled")
        nonce = request.cookies.get(LOGIN_COOKIE) or auth.new_login_nonce()
        response = self.pages.render(
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
        self,
        session: Session | None,
        request: Request,
        action: str,
        target: str | None,
        *,
        username: str | None = None,
    ) -> bool:
        """Writes the admin audit row; False (and the action is refused) when it cannot."""
        try:
            await record_admin_action(
                self.db,
                username=username or (session.username if session else "?"),
                role=session.role.value if session else None,
                action=action,
                target=target,
                ip=client_host(request),
            )
        except StoreUnavailable as error:
            log.error("admin audit write failed, %s refused: %s", action, error)
            return False
        return True

    def unavailable(self, session: Session) -> Response:
        return self.page(
            "message.html",
            session,
            503,
            title="Audit database unavailable",
            message="The audit database cannot be reached, so this action cannot be "
            "recorded and is refused. Try again when /health/db is ok.",
        )
