"""Templates and the security headers every page is sent with."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape

from agent_service.visible import shown

__all__ = ["STATIC_DIR", "Pages"]

WEB_DIR = Path(__file__).parent
STATIC_DIR = WEB_DIR / "static"


def _origin(url: str | None) -> str | None:
    if not url:
        return None
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else None


class Pages:
    def __init__(self, grafana_embed_url: str | None) -> None:
        self.env = Environment(
            loader=FileSystemLoader(WEB_DIR / "templates"),
            autoescape=select_autoescape(["html"]),
            trim_blocks=True,
            lstrip_blocks=True,
            finalize=shown,  # NUL and lone surrogates from the audit log, made visible
        )
        frames = _origin(grafana_embed_url) or "'none'"
        # Scripts and styles only from our own /static: no inline code can run.
        self.csp = (
            "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
            f"frame-src {frames}; frame-ancestors 'none'; form-action 'self'; base-uri 'none'"
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

    def secure(self, response: Any, *, private: bool = True) -> None:
        response.headers["content-security-policy"] = self.csp
        response.headers["x-content-type-options"] = "nosniff"
        response.headers["referrer-policy"] = "no-referrer"
        response.headers["x-frame-options"] = "DENY"
        if private:
            response.headers["cache-control"] = "no-store"
