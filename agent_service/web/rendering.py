"""Templates, and the no-store caching of private pages (the security headers every
response carries are added by agent_service.web.headers)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape

from agent_service.visible import shown

__all__ = ["STATIC_DIR", "Pages"]

WEB_DIR = Path(__file__).parent
STATIC_DIR = WEB_DIR / "static"


class Pages:
    def __init__(self) -> None:
        self.env = Environment(
            loader=FileSystemLoader(WEB_DIR / "templates"),
            autoescape=select_autoescape(["html"]),
            trim_blocks=True,
            lstrip_blocks=True,
            finalize=shown,  # NUL and lone surrogates from the audit log, made visible
        )

    def render(
        self,
        template: str,
        status_code: int = 200,
        *,
        private: bool = True,
        **context: Any,
    ) -> HTMLResponse:
        html = self.env.get_template(template).render(**context)
        response = HTMLResponse(html, status_code=status_code)
        self.secure(response, private=private)
        return response

    @staticmethod
    def secure(response: Any, *, private: bool = True) -> None:
        """Private pages (the admin's) are never cached."""
        if private:
            response.headers["cache-control"] = "no-store"
