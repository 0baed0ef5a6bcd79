"""Reading the admin's urlencoded forms, and who sent a request."""

from __future__ import annotations

from urllib.parse import parse_qs

from fastapi import Request

__all__ = ["MAX_FORM_BYTES", "client_host", "read_form"]

# The admin forms are small; a larger body is refused (413) before it is read.
MAX_FORM_BYTES = 64 * 1024


async def read_form(request: Request) -> dict[str, str] | None:
    """An urlencoded form (first value of each field); None when it is not one. Its
    size is bounded by the route's ``max_body_size`` (413 before it is read)."""
    if not request.headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
        return None
    body = await request.body()
    fields = parse_qs(body.decode("utf-8", errors="replace"), keep_blank_values=True)
    return {key: values[0] for key, values in fields.items()}


def client_host(request: Request) -> str:
    return request.client.host if request.client else "unknown"
