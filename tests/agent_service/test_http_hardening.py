"""The service's HTTP edge over a real uvicorn on 127.0.0.1: whose forwarded headers
are believed, the body limit (413 before a body is read), the security headers on every
response, and the API docs only when enabled."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from tests.agent_service.web_helpers import (
    ADMIN_PASSWORD,
    csrf_of,
    rows,
    served,
    sign_in,
)

HUGE = 300_000_000  # 300 MB declared; only the headers are ever sent


def _forged_sign_in(client: httpx.Client, forged: str, password: str) -> httpx.Response:
    page = client.get("/admin", headers={"x-forwarded-for": forged})
    return client.post(
        "/admin/login",
        data={"csrf": csrf_of(page.text), "username": "admin", "password": password},
        headers={"x-forwarded-for": forged},
    )


# -- forwarded headers ----------------------------------------------------------------


def test_forged_forwarded_addresses_get_no_fresh_attempts(tmp_path: Path) -> None:
    """No proxy is trusted by default: the client is the TCP peer, whatever address the
    header claims, for the limit and for the admin audit."""
    with served("sqlite", tmp_path) as app, app.client() as client:
        answers = [
            _forged_sign_in(client, f"198.51.100.{n}", "wrong guess").status_code for n in range(7)
        ]
        assert answers[:5] == [401] * 5 and set(answers[5:]) == {429}
        ips = {r["ip"] for r in rows(app.db, "SELECT ip FROM admin_audit")}
        assert ips == {"127.0.0.1"}


def test_a_configured_proxy_is_believed(tmp_path: Path) -> None:
    with (
        served("sqlite", tmp_path, trusted_proxies=("127.0.0.1",)) as app,
        app.client() as client,
    ):
        assert _forged_sign_in(client, "203.0.113.7", "wrong guess").status_code == 401
        assert _forged_sign_in(client, "203.0.113.8", ADMIN_PASSWORD).status_code == 303
        audit = rows(app.db, "SELECT action, ip FROM admin_audit ORDER BY id")
        assert audit == [
            {"action": "login_failed", "ip": "203.0.113.7"},
            {"action": "login", "ip": "203.0.113.8"},
        ]


# -- the body limit -------------------------------------------------------------------


def _declared_only(url: str, path: str, content_type: str, length: int) -> bytes:
    """Send a request's headers declaring ``length`` bytes and a few of them, then read
    the answer: a server that waits for the whole body times out instead."""
    parts = urlsplit(url)
    with socket.create_connection((parts.hostname, parts.port), timeout=10) as conn:
        conn.sendall(
            (
                f"POST {path} HTTP/1.1\r\nHost: {parts.netloc}\r\n"
                f"Content-Type: {content_type}\r\nContent-Length: {length}\r\n\r\n"
            ).encode()
            + b"x" * 1024
        )
        answer = b""
        while b"\r\n\r\n" not in answer:
            chunk = conn.recv(65536)
            if not chunk:
                break
            answer += chunk
        return answer


@pytest.mark.parametrize(
    ("path", "content_type"),
    [
        ("/v1/chat/completions", "application/json"),
        ("/chat", "application/json"),
        ("/feedback", "application/json"),
        ("/alerts/critical", "application/json"),
        ("/admin/login", "application/x-www-form-urlencoded"),
        ("/admin/export", "application/x-www-form-urlencoded"),
        ("/admin/logout", "application/x-www-form-urlencoded"),
    ],
)
def test_a_huge_declared_body_is_refused_before_it_is_read(
    path: str, content_type: str, tmp_path: Path
) -> None:
    with served("sqlite", tmp_path) as app:
        answer = _declared_only(app.url, path, content_type, HUGE)
        assert answer.startswith(b"HTTP/1.1 413 "), answer[:200]
        assert b"x-content-type-options: nosniff" in answer.lower()


def _chunks(total: int) -> Iterator[bytes]:
    """A body without a Content-Length (chunked): only counting it can stop it."""
    yield b'{"message": "'
    for _ in range(total // 65536 + 1):
        yield b"x" * 65536
    yield b'"}'


def test_a_streamed_body_over_the_limit_is_cut_off(tmp_path: Path) -> None:
    limit = 256 * 1024
    with served("sqlite", tmp_path, max_body_bytes=limit) as app, app.client() as client:
        streamed = client.post(
            "/chat", content=_chunks(limit), headers={"content-type": "application/json"}
        )
        assert streamed.status_code == 413
        assert streamed.json()["error"]["message"]
        small = client.post("/chat", json={"message": "show open orders"})
        assert small.status_code == 200


def test_admin_forms_have_a_lower_limit(tmp_path: Path) -> None:
    with served("sqlite", tmp_path) as app, app.client() as client:
        assert sign_in(client, "admin", ADMIN_PASSWORD).status_code == 303
        csrf = csrf_of(client.get("/admin").text)
        big = client.post(
            "/admin/export", data={"csrf": csrf, "format": "csv", "text": "x" * 70_000}
        )
        assert big.status_code == 413
        ok = client.post("/admin/export", data={"csrf": csrf, "format": "csv"})
        assert ok.status_code == 200


# -- security headers -----------------------------------------------------------------


def _assert_secured(response: httpx.Response) -> None:
    headers = response.headers
    assert headers["x-content-type-options"] == "nosniff", response.url
    assert headers["x-frame-options"] == "DENY", response.url
    assert headers["referrer-policy"] == "no-referrer", response.url
    assert "frame-ancestors 'none'" in headers["content-security-policy"], response.url
    assert "server" not in headers, response.url


def test_every_response_carries_the_security_headers(tmp_path: Path) -> None:
    with served("sqlite", tmp_path) as app, app.client() as client:
        answers = [
            client.get("/"),
            client.get("/admin"),
            client.get("/static/chat.js"),
            client.get("/static/style.css"),
            client.get("/static/missing.js"),
            client.get("/health"),
            client.get("/metrics"),
            client.get("/v1/models"),
            client.get("/no/such/path"),
            client.post("/chat", json={}),
            client.post("/feedback", json={"message_id": "nope", "rating": "positive"}),
            client.post("/alerts/critical", json={}),
            client.post("/chat", json={"message": "show open orders"}),
        ]
        assert {a.status_code for a in answers} >= {200, 404, 422, 503}
        for answer in answers:
            _assert_secured(answer)


# -- API docs -------------------------------------------------------------------------


def test_api_docs_are_off_by_default(tmp_path: Path) -> None:
    with served("sqlite", tmp_path) as app, app.client() as client:
        for path in ("/docs", "/redoc", "/openapi.json", "/docs/oauth2-redirect"):
            answer = client.get(path)
            assert answer.status_code == 404, path
            _assert_secured(answer)


def test_api_docs_when_enabled_carry_the_security_headers(tmp_path: Path) -> None:
    with served("sqlite", tmp_path, api_docs=True) as app, app.client() as client:
        schema = client.get("/openapi.json")
        assert schema.status_code == 200 and "/v1/chat/completions" in schema.json()["paths"]
        _assert_secured(schema)
        for path in ("/docs", "/redoc"):
            page = client.get(path)
            assert page.status_code == 200 and "/openapi.json" in page.text, path
            _assert_secured(page)
            # Scripts: the CDN, and an inline start-up script only by its hash.
            scripts = page.headers["content-security-policy"].split("script-src ")[1]
            assert "'unsafe-inline'" not in scripts.split(";")[0]
            assert ("'sha256-" in scripts) == ("<script>" in page.text), path
