"""/openapi.json, /docs and /redoc, served only when API_DOCS is on.

The UIs load their scripts from a CDN and start with an inline script, which the
service's policy (``script-src 'self'``) forbids; these two pages get a policy that
allows exactly that CDN and that inline script (by its hash), and every other security
header as usual."""

from __future__ import annotations

import base64
import hashlib
import re

from fastapi import FastAPI
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import HTMLResponse

__all__ = ["OPENAPI_URL", "install_docs"]

OPENAPI_URL = "/openapi.json"
CDN = "https://cdn.jsdelivr.net"
_INLINE_SCRIPT = re.compile(r"<script>(.*?)</script>", re.DOTALL)


def _policy(html: str) -> str:
    scripts = " ".join(
        [CDN]
        + [
            "'sha256-" + base64.b64encode(hashlib.sha256(script.encode()).digest()).decode() + "'"
            for script in _INLINE_SCRIPT.findall(html)
        ]
    )
    return (
        f"default-src 'none'; script-src {scripts}; style-src {CDN} 'unsafe-inline'; "
        f"img-src 'self' data: {CDN} https://fastapi.tiangolo.com; font-src {CDN}; "
        "connect-src 'self'; worker-src blob:; frame-ancestors 'none'; base-uri 'none'"
    )


def _page(body: bytes | memoryview) -> HTMLResponse:
    html = bytes(body).decode()
    response = HTMLResponse(html)
    response.headers["content-security-policy"] = _policy(html)
    return response


def install_docs(app: FastAPI) -> None:
    swagger = get_swagger_ui_html(
        openapi_url=OPENAPI_URL, title=f"{app.title} - docs", oauth2_redirect_url=None
    ).body
    redoc = get_redoc_html(
        openapi_url=OPENAPI_URL, title=f"{app.title} - ReDoc", with_google_fonts=False
    ).body

    @app.get("/docs", include_in_schema=False)
    async def docs() -> HTMLResponse:
        return _page(swagger)

    @app.get("/redoc", include_in_schema=False)
    async def redoc_page() -> HTMLResponse:
        return _page(redoc)
