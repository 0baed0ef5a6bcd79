"""The chat page and /admin in a real headless Chromium (Debian's chromium driven by
playwright) against a real uvicorn on 127.0.0.1 with a real PostgreSQL audit log and
the scripted model. Screenshots go to each test's temp directory."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, Page, Route, sync_playwright

from tests.agent_service.web_helpers import (
    ADMIN_PASSWORD,
    VIEWER_PASSWORD,
    Served,
    chat,
    rows,
    served,
    wait_for_rows,
)

CHROMIUM = Path("/usr/bin/chromium")
TIMEOUT_MS = 15_000


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        pytest.fail("chromium is missing: run `make test` (scripts/ensure-test-tools.sh)")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=str(CHROMIUM),
            args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
            timeout=30_000,
        )
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    with served("postgres", tmp_path_factory.mktemp("browser")) as running:
        yield running


@pytest.fixture
def page(app: Served, browser: Browser) -> Iterator[Page]:
    context = browser.new_context(base_url=app.url, accept_downloads=True)
    context.set_default_timeout(TIMEOUT_MS)
    opened = context.new_page()
    try:
        yield opened
    finally:
        context.close()


def sign_in(page: Page, username: str, password: str) -> None:
    page.goto("/admin")
    page.select_option("#username", username)
    page.fill("#password", password)
    page.click("#sign-in")


def test_chat_streams_an_answer_and_a_thumbs_down_lands_in_the_audit_log(
    page: Page, app: Served, tmp_path: Path
) -> None:
    page.goto("/")
    # Count how often the answer's text changes while it streams in.
    page.evaluate(
        """() => {
        window.__updates = 0;
        new MutationObserver(() => { window.__updates += 1; }).observe(
            document.getElementById('messages'),
            {subtree: true, childList: true, characterData: true});
    }"""
    )
    page.fill("#user-id", "browser-user")
    page.dispatch_event("#user-id", "change")
    page.fill("#question", "Which sales orders are still open?")
    page.click("#send")
    answer = page.locator(".message.assistant[data-message-id]")
    answer.wait_for()
    text = answer.locator(".body").inner_text()
    assert len(text) > 20
    assert page.evaluate("window.__updates") > 5, "the answer arrived in one piece"
    page.screenshot(path=str(tmp_path / "chat-answer.png"))
    message_id = answer.get_attribute("data-message-id")

    answer.locator(".thumb.down").click()
    answer.locator(".comment textarea").fill("It missed the overdue orders")
    answer.locator(".send-feedback").click()
    page.get_by_text("Thank you for your feedback!").wait_for()
    page.screenshot(path=str(tmp_path / "chat-feedback.png"))

    feedback = wait_for_rows(
        app.db,
        "SELECT user_id, user_feedback, feedback_comment FROM conversation_log "
        f"WHERE message_id = '{message_id}' AND user_feedback IS NOT NULL",
        1,
    )
    assert feedback == [
        {
            "user_id": "browser-user",
            "user_feedback": "negative",
            "feedback_comment": "It missed the overdue orders",
        }
    ]


def test_a_failed_feedback_post_is_shown(page: Page, tmp_path: Path) -> None:
    """The network failure is made by the browser (the request is aborted): the real
    /feedback accepts every known message."""
    page.goto("/")
    page.fill("#question", "Who is my account manager at Acme?")
    page.click("#send")
    answer = page.locator(".message.assistant[data-message-id]")
    answer.wait_for()

    def abort(route: Route) -> None:
        route.abort("connectionrefused")

    page.route("**/feedback", abort)
    answer.locator(".thumb.up").click()
    status = answer.locator(".feedback-status.error")
    status.wait_for()
    assert "not saved" in status.inner_text()
    assert answer.locator(".thumb.up").is_enabled()  # it can be tried again
    page.screenshot(path=str(tmp_path / "chat-feedback-error.png"))


def test_admin_sign_in_tabs_and_a_filtered_export(page: Page, app: Served, tmp_path: Path) -> None:
    with httpx.Client(base_url=app.url, timeout=30) as client:
        for question, user in [
            ("show open orders", "carol"),
            ("reset my VPN password", "dave"),
            ("list leave requests", "carol"),
        ]:
            chat(client, question, user=user)
    wait_for_rows(app.db, "SELECT 1 FROM conversation_log WHERE user_id IN ('carol', 'dave')", 3)

    sign_in(page, "admin", "definitely-wrong")
    assert "Wrong account or password" in page.locator("#login-error").inner_text()
    page.screenshot(path=str(tmp_path / "login-refused.png"))
    sign_in(page, "admin", ADMIN_PASSWORD)
    assert page.locator("#signed-in-as").inner_text() == "admin"

    turns = len(rows(app.db, "SELECT 1 FROM conversation_log"))
    sessions = len(rows(app.db, "SELECT DISTINCT session_id FROM conversation_log"))
    agents = rows(app.db, "SELECT DISTINCT agent_type FROM conversation_log")
    page.click("#tab-system")
    assert page.locator("#turns-24h").inner_text() == str(turns)
    assert page.locator("#latency-p95").inner_text().endswith(" ms")
    assert page.locator("#service-status tr[data-service='agent-api']").count() == 1
    page.screenshot(path=str(tmp_path / "tab-system.png"), full_page=True)
    page.click("#tab-users")
    assert page.locator("#sessions-24h").inner_text() == str(sessions)
    page.screenshot(path=str(tmp_path / "tab-users.png"), full_page=True)
    page.click("#tab-agents")
    assert page.locator("#agent-distribution tr[data-agent]").count() == len(agents)
    page.screenshot(path=str(tmp_path / "tab-agents.png"), full_page=True)
    page.click("#tab-conversations")
    assert page.locator("#recent-conversations tbody tr").count() == min(turns, 10)

    page.fill("input[name=user]", "carol")
    page.click("#apply-filters")
    assert page.locator("#match-count").inner_text().startswith("2 matching turns")
    page.screenshot(path=str(tmp_path / "tab-conversations.png"), full_page=True)
    with page.expect_download() as downloading:
        page.click("#export-csv")
    saved = tmp_path / downloading.value.suggested_filename
    downloading.value.save_as(saved)
    exported = list(csv.DictReader(saved.open(encoding="utf-8")))
    assert sorted(r["user_message"] for r in exported) == [
        "list leave requests",
        "show open orders",
    ]
    assert {r["user_id"] for r in exported} == {"carol"}
    actions = rows(app.db, "SELECT action, target FROM admin_audit WHERE action = 'export_csv'")
    assert {"action": "export_csv", "target": "user=carol"} in actions


def test_a_viewer_cannot_reach_admin_only_actions(page: Page, tmp_path: Path) -> None:
    sign_in(page, "viewer", VIEWER_PASSWORD)
    assert page.locator("#signed-in-as").inner_text() == "viewer"
    assert page.locator("#tab-conversations").count() == 0
    assert page.locator("#tab-audit").count() == 0
    response = page.goto("/admin?tab=conversations")
    assert response is not None and response.status == 403
    assert "admin role only" in page.locator("#message").inner_text()
    response = page.goto("/admin/audit")
    assert response is not None and response.status == 403
    page.screenshot(path=str(tmp_path / "viewer-forbidden.png"))
    response = page.goto("/admin/runbooks")
    assert response is not None and response.status == 200
    assert page.locator("#runbooks a#service-down").count() == 1


def test_a_form_without_its_csrf_token_is_refused(page: Page, tmp_path: Path) -> None:
    sign_in(page, "admin", ADMIN_PASSWORD)
    page.goto("/admin?tab=conversations")
    page.evaluate(
        "() => document.querySelectorAll('.exports input[name=csrf]').forEach(e => e.remove())"
    )
    page.click("#export-json")
    message = page.locator("#message")
    message.wait_for()
    assert "CSRF" in message.inner_text()
    page.screenshot(path=str(tmp_path / "csrf-refused.png"))
