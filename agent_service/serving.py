"""How the service is put on the network: the uvicorn configuration (the CLI and the
tests' servers use this one) and whose forwarded headers are believed.

uvicorn's own default believes X-Forwarded-For from 127.0.0.1: anything on the host
(a sidecar, a local user, a compromised neighbour) could then claim any client address
and get fresh sign-in attempts under each. So uvicorn never reads those headers here;
the app does, and only from the proxies ``TRUSTED_PROXIES`` names."""

from __future__ import annotations

from typing import Any

import uvicorn
from fastapi import FastAPI
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from agent_service.settings import Settings

__all__ = ["trust_forwarded_headers", "uvicorn_config"]


def uvicorn_config(app: Any, *, host: str, port: int, log_level: str = "info") -> uvicorn.Config:
    # proxy_headers=False: uvicorn must not rewrite the client from the headers, since
    # it would do so before the app could tell a proxy from anyone else.
    return uvicorn.Config(
        app, host=host, port=port, log_level=log_level, proxy_headers=False, server_header=False
    )


def trust_forwarded_headers(app: FastAPI, settings: Settings) -> None:
    """Read X-Forwarded-For/-Proto only from the configured proxies (none by default):
    the client address the pages record and rate-limit is then the real peer, or the
    address a trusted proxy reports for it."""
    if settings.trusted_proxies:
        app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=list(settings.trusted_proxies))
