"""Admin sessions over real HTTP and a real audit database: a sign-out holds across a
restart (the revocation is in the database), and a new password ends every session
issued under the old one."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from agent_service.web.auth import SESSION_COOKIE
from stackgen.passwords import hash_password
from tests.agent_service.databases import audit_database
from tests.agent_service.web_helpers import (
    ADMIN_PASSWORD,
    csrf_of,
    password_hashes,
    rows,
    serving_on,
    sign_in,
)

SECRET = "a-fixed-session-secret-for-restarts"


def _replay(url: str, cookie: str) -> httpx.Response:
    """The stolen (or kept) cookie, sent by a client that has nothing else: the admin
    audit page when the session is alive, the sign-in page (also a 200) when not."""
    with httpx.Client(base_url=url, timeout=30, cookies={SESSION_COOKIE: cookie}) as client:
        return client.get("/admin/audit")


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_a_signed_out_cookie_stays_dead_after_a_restart(backend: str, tmp_path: Path) -> None:
    with audit_database(backend, tmp_path) as db:
        with serving_on(db, admin_session_secret=SECRET) as first, first.client() as client:
            assert sign_in(client, "admin", ADMIN_PASSWORD).status_code == 303
            cookie = client.cookies[SESSION_COOKIE]
            assert "Admin audit" in _replay(first.url, cookie).text
            home = client.get("/admin")
            assert (
                client.post("/admin/logout", data={"csrf": csrf_of(home.text)}).status_code == 303
            )
            assert 'type="password"' in _replay(first.url, cookie).text
        # Another process on the same database and secret: the cookie is still dead.
        with serving_on(db, admin_session_secret=SECRET) as second:
            replayed = _replay(second.url, cookie)
            assert 'type="password"' in replayed.text and "Admin audit" not in replayed.text
        revoked = rows(db, "SELECT username FROM admin_session_revocations")
        assert revoked == [{"username": "admin"}]


def test_a_session_survives_a_restart_unless_signed_out(tmp_path: Path) -> None:
    """The control: with the same secret and password, a live session does outlive a
    restart (so the test above shows the revocation, not a new key)."""
    with audit_database("sqlite", tmp_path) as db:
        with serving_on(db, admin_session_secret=SECRET) as first, first.client() as client:
            assert sign_in(client, "admin", ADMIN_PASSWORD).status_code == 303
            cookie = client.cookies[SESSION_COOKIE]
        with serving_on(db, admin_session_secret=SECRET) as second:
            page = _replay(second.url, cookie)
            assert page.status_code == 200 and "Admin audit" in page.text


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_a_new_password_ends_the_sessions_of_the_old_one(backend: str, tmp_path: Path) -> None:
    new_hash = hash_password("a-completely-new-Pa55word")
    with audit_database(backend, tmp_path) as db:
        with serving_on(db, admin_session_secret=SECRET) as first, first.client() as client:
            assert sign_in(client, "admin", ADMIN_PASSWORD).status_code == 303
            cookie = client.cookies[SESSION_COOKIE]
        with serving_on(db, admin_session_secret=SECRET, admin_password_hash=new_hash) as second:
            page = _replay(second.url, cookie)
            assert 'type="password"' in page.text and "Admin audit" not in page.text
            with second.client() as client:
                assert sign_in(client, "admin", ADMIN_PASSWORD).status_code == 401
                assert sign_in(client, "admin", "a-completely-new-Pa55word").status_code == 303
        # The viewer's sessions do not depend on the admin's password.
        assert password_hashes()[1] != new_hash
