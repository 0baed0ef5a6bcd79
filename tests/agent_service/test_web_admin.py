"""/admin over HTTP against a real uvicorn on 127.0.0.1 and a real audit database:
sign-in, roles, CSRF, rate limit, sign-out, the admin audit, exports, service status
probing real local servers, runbooks and the Grafana embeds."""

from __future__ import annotations

import csv
import io
import json
import logging
import re
import sqlite3
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar

import pytest

from agent_service.web.auth import SESSION_COOKIE
from specs.bestbox import stack as bestbox_stack
from specs.bestbox.admin import ADMIN_TABS
from specs.bestbox.alerts import CONVERSATION_AUDIT
from stackgen.render.runbooks import runbook_links
from stackgen.spec import Scrape, Service
from tests.agent_service.alert_payloads import alert, notification
from tests.agent_service.servers import free_port
from tests.agent_service.web_helpers import (
    ADMIN_PASSWORD,
    VIEWER_PASSWORD,
    chat,
    csrf_of,
    password_hashes,
    served,
    sign_in,
    wait_for_rows,
)

REPO = Path(__file__).resolve().parents[2]


def test_without_a_hash_sign_in_is_disabled(tmp_path: Path) -> None:
    with served("sqlite", tmp_path, accounts=False) as app, app.client() as client:
        page = client.get("/admin")
        assert page.status_code == 503
        assert "sign-in is disabled" in page.text and "ADMIN_PASSWORD_HASH" in page.text
        assert 'type="password"' not in page.text
        refused = client.post("/admin/login", data={"username": "admin", "password": "x"})
        assert refused.status_code == 503
        assert SESSION_COOKIE not in refused.cookies


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_sign_in_fails_with_a_wrong_password_and_works_with_the_right_one(
    backend: str, tmp_path: Path
) -> None:
    with served(backend, tmp_path) as app, app.client() as client:
        wrong = sign_in(client, "admin", "not-the-password")
        assert wrong.status_code == 401
        assert "Wrong account or password" in wrong.text
        assert SESSION_COOKIE not in client.cookies

        right = sign_in(client, "admin", ADMIN_PASSWORD)
        assert right.status_code == 303 and right.headers["location"] == "/admin"
        cookie = right.headers["set-cookie"].lower()
        assert "httponly" in cookie and "samesite=strict" in cookie and "path=/admin" in cookie
        home = client.get("/admin")
        assert home.status_code == 200
        assert 'id="signed-in-as">admin<' in home.text

        rows = app.db.rows("SELECT username, role, action, ip FROM admin_audit ORDER BY id")
        assert rows == [
            {"username": "admin", "role": None, "action": "login_failed", "ip": "127.0.0.1"},
            {"username": "admin", "role": "admin", "action": "login", "ip": "127.0.0.1"},
        ]


def test_a_sign_in_without_the_csrf_token_is_refused(tmp_path: Path) -> None:
    with served("sqlite", tmp_path) as app, app.client() as client:
        form = {"username": "admin", "password": ADMIN_PASSWORD}
        assert client.post("/admin/login", data=form).status_code == 403
        page = client.get("/admin")
        forged = client.post("/admin/login", data={**form, "csrf": "forged"})
        assert forged.status_code == 403
        # A token from another browser's sign-in page does not go with this cookie.
        with app.client() as other:
            other_token = csrf_of(other.get("/admin").text)
        assert client.post("/admin/login", data={**form, "csrf": other_token}).status_code == 403
        ok = client.post("/admin/login", data={**form, "csrf": csrf_of(page.text)})
        assert ok.status_code == 303


def test_admin_forms_without_the_csrf_token_are_refused(tmp_path: Path) -> None:
    with served("sqlite", tmp_path) as app, app.client() as client:
        assert sign_in(client, "admin", ADMIN_PASSWORD).status_code == 303
        export = client.post("/admin/export", data={"format": "csv"})
        assert export.status_code == 403 and "CSRF" in export.text
        assert client.post("/admin/logout", data={}).status_code == 403
        assert client.get("/admin").status_code == 200  # still signed in
        actions = [r["action"] for r in app.db.rows("SELECT action FROM admin_audit")]
        assert "export_csv" not in actions and "logout" not in actions


def test_failed_sign_ins_are_rate_limited(tmp_path: Path) -> None:
    with served("sqlite", tmp_path) as app, app.client() as client:
        for _ in range(5):
            assert sign_in(client, "admin", "guess").status_code == 401
        limited = sign_in(client, "admin", ADMIN_PASSWORD)
        assert limited.status_code == 429
        assert int(limited.headers["retry-after"]) > 0
        assert SESSION_COOKIE not in client.cookies


def test_a_viewer_cannot_reach_admin_only_actions(tmp_path: Path) -> None:
    with served("sqlite", tmp_path) as app, app.client() as client:
        message_id = chat(client, "show open orders")["session_id"]
        assert sign_in(client, "viewer", VIEWER_PASSWORD).status_code == 303
        home = client.get("/admin")
        assert home.status_code == 200 and 'id="signed-in-as">viewer<' in home.text
        assert 'id="tab-conversations"' not in home.text and 'id="tab-audit"' not in home.text
        assert 'id="tab-alerts"' not in home.text
        csrf = csrf_of(home.text)
        assert client.get("/admin?tab=users").status_code == 200
        assert client.get("/admin/runbooks").status_code == 200
        assert client.get("/admin?tab=conversations").status_code == 403
        assert client.get(f"/admin/sessions/{message_id}").status_code == 403
        assert client.get("/admin/audit").status_code == 403
        assert client.get("/admin/alerts").status_code == 403
        export = client.post("/admin/export", data={"csrf": csrf, "format": "csv"})
        assert export.status_code == 403 and "admin role only" in export.text
        actions = [r["action"] for r in app.db.rows("SELECT action FROM admin_audit")]
        assert actions == ["login"]


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_reports_download_for_admins_only_and_are_audited(backend: str, tmp_path: Path) -> None:
    tomorrow = (datetime.now(UTC) + timedelta(days=1)).date().isoformat()
    with served(backend, tmp_path) as app, app.client() as client:
        chat(client, "show open orders", user="alice")
        chat(client, "reset my VPN password", user="bob")
        wait_for_rows(app.db, "SELECT message_id FROM conversation_log", 2)
        assert sign_in(client, "viewer", VIEWER_PASSWORD).status_code == 303
        assert 'id="report-weekly"' not in client.get("/admin").text
        assert client.get("/admin/reports/weekly").status_code == 403
        client.post("/admin/logout", data={"csrf": csrf_of(client.get("/admin").text)})

        assert sign_in(client, "admin", ADMIN_PASSWORD).status_code == 303
        assert 'href="/admin/reports/weekly"' in client.get("/admin").text
        report = client.get("/admin/reports/weekly", params={"end": tomorrow})
        assert report.status_code == 200
        disposition = report.headers["content-disposition"]
        assert disposition.startswith('attachment; filename="bestbox-weekly-report-')
        # The week ending tomorrow holds both turns just made.
        assert re.search(r'data-figure="turns" data-value="2"', report.text), report.text[:500]
        assert client.get("/admin/reports/monthly").status_code == 200
        assert client.get("/admin/reports/daily").status_code == 404
        assert client.get("/admin/reports/weekly", params={"end": "soon"}).status_code == 400
        rows = app.db.rows(
            "SELECT action, target FROM admin_audit WHERE role = 'admin' ORDER BY id"
        )
        assert [(r["action"], r["target"]) for r in rows] == [
            ("login", None),
            ("report_weekly", tomorrow),
            ("report_monthly", "monthly"),
        ]


def test_sign_out_ends_the_session(tmp_path: Path) -> None:
    with served("sqlite", tmp_path) as app, app.client() as client:
        assert sign_in(client, "admin", ADMIN_PASSWORD).status_code == 303
        stolen = client.cookies[SESSION_COOKIE]
        out = client.post("/admin/logout", data={"csrf": csrf_of(client.get("/admin").text)})
        assert out.status_code == 303
        with app.client() as replay:
            replay.cookies.set(SESSION_COOKIE, stolen, path="/admin")
            page = replay.get("/admin")
            assert 'id="login-form"' in page.text and "signed-in-as" not in page.text
        actions = [r["action"] for r in app.db.rows("SELECT action FROM admin_audit ORDER BY id")]
        assert actions == ["login", "logout"]


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_exports_and_conversation_views_are_audited(backend: str, tmp_path: Path) -> None:
    with served(backend, tmp_path) as app, app.client() as client:
        erp = chat(client, "show open orders", user="alice")
        chat(client, "reset my VPN password", user="bob")
        wait_for_rows(app.db, "SELECT message_id FROM conversation_log", 2)
        assert sign_in(client, "admin", ADMIN_PASSWORD).status_code == 303
        page = client.get("/admin", params={"tab": "conversations", "user": "alice"})
        assert page.status_code == 200
        assert "1 matching turn" in page.text and erp["message_id"] in page.text
        csrf = csrf_of(page.text)

        export = client.post("/admin/export", data={"csrf": csrf, "format": "csv", "user": "alice"})
        assert export.status_code == 200
        assert export.headers["content-disposition"].startswith("attachment; filename=")
        rows = list(csv.DictReader(io.StringIO(export.text)))
        assert [r["message_id"] for r in rows] == [erp["message_id"]]
        document = client.post("/admin/export", data={"csrf": csrf, "format": "json"}).json()
        assert len(document) == 2

        view = client.get(f"/admin/sessions/{erp['session_id']}")
        assert view.status_code == 200
        assert f"http://localhost:16686/trace/{erp['trace_id']}" in view.text
        assert "show open orders" in view.text

        audit = client.get("/admin/audit")
        assert audit.status_code == 200
        rows = app.db.rows("SELECT action, target FROM admin_audit ORDER BY id")
        assert rows == [
            {"action": "login", "target": None},
            {"action": "export_csv", "target": "user=alice"},
            {"action": "export_json", "target": "all"},
            {"action": "view_conversation", "target": erp["session_id"]},
        ]


HOSTILE = '<script>alert("pwn")</script>'


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_the_alerts_tab_lists_received_alerts_newest_first(backend: str, tmp_path: Path) -> None:
    """Notifications posted to the webhook over HTTP appear on /admin/alerts, newest
    first, with their labels, every value escaped."""
    token = "t" * 43
    first = notification(
        alert("HighToolErrorRate", severity="warning", fingerprint="b1", component="tools"),
        receiver="tickets",
    )
    second = notification(
        alert(
            "HighErrorRate",
            status="resolved",
            fingerprint="c2",
            ends_at="2026-03-01T10:05:00Z",
            summary=HOSTILE,
            component=HOSTILE,
        )
    )
    with (
        served(backend, tmp_path, alert_webhook_token=token) as app,
        app.client() as client,
    ):
        assert sign_in(client, "admin", ADMIN_PASSWORD).status_code == 303
        assert "No alert has been received yet" in client.get("/admin/alerts").text
        for payload in (first, second):
            posted = client.post(
                "/alerts/critical", json=payload, headers={"authorization": f"Bearer {token}"}
            )
            assert posted.status_code == 200, posted.text
        assert 'id="tab-alerts"' in client.get("/admin").text
        page = client.get("/admin/alerts")
    assert page.status_code == 200
    table = page.text.split('id="alerts"', 1)[1]
    rows = re.findall(r'<tr class="alert-(\w+)">(.*?)</tr>', table, flags=re.DOTALL)
    assert [status for status, _ in rows] == ["resolved", "firing"]  # newest first
    resolved, firing = (cells for _, cells in rows)
    assert "HighErrorRate" in resolved and ">critical<" in resolved and ">pager<" in resolved
    assert "2026-03-01 10:00:00" in resolved and "2026-03-01 10:05:00" in resolved
    assert "HighToolErrorRate" in firing and ">warning<" in firing and ">tickets<" in firing
    assert "<code>component=tools</code>" in firing
    assert HOSTILE not in page.text
    assert "&lt;script&gt;alert(&#34;pwn&#34;)&lt;/script&gt;" in resolved


def test_the_alerts_tab_says_when_the_log_cannot_be_read(tmp_path: Path) -> None:
    with served("sqlite", tmp_path) as app, app.client() as client:
        assert sign_in(client, "admin", ADMIN_PASSWORD).status_code == 303
        with sqlite3.connect(app.db.sqlite_path) as connection:
            connection.execute("DROP TABLE alert_notifications")
        page = client.get("/admin/alerts")
        assert page.status_code == 503 and "Audit database unavailable" in page.text


def test_no_password_or_hash_appears_in_pages_or_logs(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    admin_hash, viewer_hash = password_hashes()
    secrets = [ADMIN_PASSWORD, VIEWER_PASSWORD, admin_hash, viewer_hash]
    secrets += [piece for h in (admin_hash, viewer_hash) for piece in h.split("$")[4:]]
    caplog.set_level(logging.DEBUG)
    pages: list[str] = []
    with served("sqlite", tmp_path) as app, app.client() as client:
        chat(client, "show open orders")
        pages.append(sign_in(client, "admin", "wrong-password-here").text)
        pages.append(sign_in(client, "admin", ADMIN_PASSWORD).text)
        for path in ("/", "/admin", "/admin?tab=users", "/admin?tab=agents",
                     "/admin?tab=conversations", "/admin/audit", "/admin/alerts",
                     "/admin/runbooks"):  # fmt: skip
            pages.append(client.get(path).text)
        pages.append(repr(app.app.state.services.settings))
    text = "\n".join(pages) + caplog.text
    for secret in secrets:
        assert secret not in text
    generated = "\n".join(p.read_text() for p in (REPO / "generated").rglob("*") if p.is_file())
    assert "scrypt$" not in generated and ADMIN_PASSWORD not in generated


# -- service status -------------------------------------------------------------------


class _Target(BaseHTTPRequestHandler):
    hits: ClassVar[dict[str, int]] = {}

    def do_GET(self) -> None:
        _Target.hits[self.path] = _Target.hits.get(self.path, 0) + 1
        self.send_response(200 if self.path == "/metrics" else 500)
        self.end_headers()
        self.wfile.write(b"ok\n")

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def local_target() -> Iterator[int]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Target)
    _Target.hits = {}
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()


def test_service_status_probes_each_spec_service_from_the_server(
    tmp_path: Path, local_target: int
) -> None:
    """A stack variant whose services are real HTTP servers on 127.0.0.1 (and one closed
    port): up, degraded (HTTP 500), down, and a TCP-only service."""
    services = (
        Service(name="metrics-ok", description="scraped, 200", host="127.0.0.1",
                port=local_target, scrape=Scrape(path="/metrics")),
        Service(name="metrics-broken", description="scraped, 500", host="127.0.0.1",
                port=local_target, scrape=Scrape(path="/broken")),
        Service(name="gone", description="nothing listens", host="127.0.0.1",
                port=free_port(), scrape=Scrape(path="/metrics")),
        Service(name="tcp-only", description="no scrape endpoint", host="127.0.0.1",
                port=local_target),
    )  # fmt: skip
    variant = bestbox_stack.model_copy(update={"services": services})
    with served("sqlite", tmp_path, stack=variant) as app, app.client() as client:
        assert client.get("/admin/status").status_code == 401
        assert sign_in(client, "viewer", VIEWER_PASSWORD).status_code == 303
        fragment = client.get("/admin/status").text
        states = dict(re.findall(r'data-service="([^"]+)" class="state-(\w+)"', fragment))
        assert states == {
            "metrics-ok": "up",
            "metrics-broken": "degraded",
            "gone": "down",
            "tcp-only": "up",
        }
        assert "HTTP 500" in fragment and " ms</td>" in fragment
        # Cached for 30 s: pages and refreshes within that do not probe again.
        client.get("/admin")
        client.get("/admin/status")
        assert _Target.hits == {"/metrics": 1, "/broken": 1}


# -- runbooks and Grafana --------------------------------------------------------------


def test_the_runbooks_page_keeps_every_alert_anchor(tmp_path: Path) -> None:
    with served("sqlite", tmp_path) as app, app.client() as client:
        assert 'id="login-form"' in client.get("/admin/runbooks").text
        assert sign_in(client, "viewer", VIEWER_PASSWORD).status_code == 303
        page = client.get("/admin/runbooks")
    assert page.status_code == 200
    anchors = {link.anchor for link in runbook_links(bestbox_stack)}
    assert anchors
    for anchor in anchors:
        assert f'<a id="{anchor}"></a>' in page.text
    assert "<h2>" in page.text and "<pre><code" in page.text  # Markdown became HTML


def test_tabs_embed_their_dashboard_only_when_grafana_url_is_set(tmp_path: Path) -> None:
    with served("sqlite", tmp_path, grafana_url="http://127.0.0.1:3999") as app:
        with app.client() as client:
            sign_in(client, "admin", ADMIN_PASSWORD)
            for tab in ADMIN_TABS:
                page = client.get("/admin", params={"tab": tab.slug})
                assert page.status_code == 200
                src = f'src="http://127.0.0.1:3999/d/{tab.dashboard_uid}?orgId=1&amp;kiosk"'
                assert src in page.text
                assert "frame-src http://127.0.0.1:3999;" in page.headers["content-security-policy"]
    with served("sqlite", tmp_path / "plain") as app, app.client() as client:
        sign_in(client, "admin", ADMIN_PASSWORD)
        page = client.get("/admin", params={"tab": "system"})
        assert "<iframe" not in page.text
        assert f'href="{bestbox_stack.grafana_url}/d/bestbox-system-health"' in page.text
        assert "frame-src 'none'" in page.headers["content-security-policy"]


def test_admin_tabs_embed_generated_dashboards() -> None:
    """The cross-check of the admin's links: each tab's UID is a dashboard the stack
    generates (read back from generated/, as Grafana provisions it), one per tab."""
    uids = [tab.dashboard_uid for tab in ADMIN_TABS]
    assert len(set(uids)) == len(uids)
    dashboards = REPO / "generated" / "grafana" / "dashboards"
    generated = {json.loads(p.read_text())["uid"] for p in dashboards.glob("*.json")}
    assert set(uids) <= generated, set(uids) - generated
    assert set(uids) <= {d.uid for d in bestbox_stack.dashboards}
    assert CONVERSATION_AUDIT in uids


def test_without_the_audit_database_admin_actions_are_refused(tmp_path: Path) -> None:
    """PostgreSQL on a closed 127.0.0.1 port: a sign-in cannot be recorded, so it is
    refused (the chat page still loads)."""
    closed = f"postgresql://postgres@127.0.0.1:{free_port()}/nothing"
    with served("sqlite", tmp_path, database_url=closed) as app, app.client() as client:
        assert client.get("/").status_code == 200
        refused = sign_in(client, "admin", ADMIN_PASSWORD)
        assert refused.status_code == 503
        assert "audit database is unavailable" in refused.text
        assert SESSION_COOKIE not in client.cookies
