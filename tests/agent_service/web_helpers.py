"""Serving the agent service with admin accounts for the web tests (real uvicorn on
127.0.0.1, the scripted model, a real audit database)."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, replace
from functools import cache
from pathlib import Path
from typing import Any

import httpx

from agent_service.app import create_app
from agent_service.llm.scripted import ScriptedModel
from agent_service.settings import Settings
from specs.bestbox import stack as bestbox_stack
from stackgen.passwords import hash_password
from stackgen.spec import Stack
from tests.agent_service.databases import AuditDatabase, audit_database
from tests.agent_service.servers import serving

ADMIN_PASSWORD = "admin-Pa55word-for-tests"
VIEWER_PASSWORD = "viewer-Pa55word-for-tests"
_CSRF = re.compile(r'name="csrf" value="([^"]+)"')


@cache
def password_hashes() -> tuple[str, str]:
    """Made once per test run (scrypt is deliberately slow)."""
    return hash_password(ADMIN_PASSWORD), hash_password(VIEWER_PASSWORD)


@dataclass
class Served:
    url: str
    db: AuditDatabase
    app: Any

    def client(self) -> httpx.Client:
        return httpx.Client(base_url=self.url, timeout=30)


@contextmanager
def served(
    backend: str,
    tmp_path: Path,
    *,
    accounts: bool = True,
    stack: Stack = bestbox_stack,
    **settings: Any,
) -> Iterator[Served]:
    with audit_database(backend, tmp_path) as db, serving_on(db, accounts, stack, **settings) as up:
        yield up


@contextmanager
def serving_on(
    db: AuditDatabase, accounts: bool = True, stack: Stack = bestbox_stack, **settings: Any
) -> Iterator[Served]:
    """The service on an existing audit database (serve it again: a restart)."""
    admin_hash, viewer_hash = password_hashes() if accounts else (None, None)
    base = Settings(
        database_url=db.database_url,
        sqlite_path=db.sqlite_path,
        admin_password_hash=admin_hash,
        viewer_password_hash=viewer_hash,
    )
    app = create_app(
        replace(base, **settings),
        stack=stack,
        model=ScriptedModel(first_token_delay_s=0.01, token_delay_s=0.005),
    )
    with serving(app) as url:
        yield Served(url, db, app)


def csrf_of(html: str) -> str:
    match = _CSRF.search(html)
    assert match, "the page has no CSRF field"
    return match.group(1)


def sign_in(client: httpx.Client, username: str, password: str) -> httpx.Response:
    """Open the sign-in page (for its login cookie and CSRF token), then post the form."""
    page = client.get("/admin")
    return client.post(
        "/admin/login",
        data={"csrf": csrf_of(page.text), "username": username, "password": password},
    )


def chat(client: httpx.Client, question: str, user: str = "alice") -> dict[str, Any]:
    response = client.post("/chat", json={"message": question}, headers={"x-user-id": user})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def rows(db: AuditDatabase, sql: str) -> list[dict[str, Any]]:
    """``db.rows`` from a worker thread: callers may be inside a running event loop
    (playwright's sync API runs one)."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(db.rows, sql).result(timeout=30)


def wait_for_rows(db: AuditDatabase, sql: str, count: int, timeout_s: float = 15) -> list[Any]:
    """Poll (bounded) until the background audit writer has written ``count`` rows."""
    deadline = time.monotonic() + timeout_s
    found = rows(db, sql)
    while len(found) < count and time.monotonic() < deadline:
        time.sleep(0.05)
        found = rows(db, sql)
    assert len(found) >= count, f"only {len(found)} of {count} rows for {sql!r}"
    return found
