"""Inputs that used to make a 500, each now a 4xx with a JSON or HTML error, over real
HTTP on both audit backends (PostgreSQL refuses NUL in text; SQLite does not)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.agent_service.web_helpers import (
    ADMIN_PASSWORD,
    Served,
    chat,
    served,
    sign_in,
    wait_for_rows,
)

EDGES = ("0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00")


@pytest.fixture(params=["sqlite", "postgres"])
def admin(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[Served, httpx.Client]]:
    with served(request.param, tmp_path) as app, app.client() as client:
        assert sign_in(client, "admin", ADMIN_PASSWORD).status_code == 303
        yield app, client


def _post_json(client: httpx.Client, path: str, body: object) -> httpx.Response:
    """JSON as a client may send it: ASCII with escapes, so an unpaired surrogate
    (which no UTF-8 encoder writes) travels as ``\\ud800``."""
    content = json.dumps(body).encode()
    return client.post(path, content=content, headers={"content-type": "application/json"})


def _is_error(answer: httpx.Response, status: int) -> None:
    assert answer.status_code == status, (answer.url, answer.status_code, answer.text[:300])
    kind = answer.headers["content-type"]
    if kind.startswith("application/json"):
        assert answer.json()["error"]["message"]
    else:
        assert kind.startswith("text/html") and "<html" in answer.text.lower()


def test_nul_in_the_feedback_message_id(admin: tuple[Served, httpx.Client]) -> None:
    _, client = admin
    for message_id in ("msg-\x00", "\ud800", "a" * 65, ""):
        body = {"message_id": message_id, "rating": "positive"}
        _is_error(_post_json(client, "/feedback", body), 422)


def test_unpaired_surrogates_in_chat_text(admin: tuple[Served, httpx.Client]) -> None:
    _, client = admin
    _is_error(_post_json(client, "/chat", {"message": "orders \ud800"}), 422)
    body = {"messages": [{"role": "user", "content": "\udfff"}]}
    _is_error(_post_json(client, "/v1/chat/completions", body), 422)
    body = {"message_id": "msg-1", "rating": "negative", "comment": "\ud800"}
    _is_error(_post_json(client, "/feedback", body), 422)


@pytest.mark.parametrize(
    "extra",
    [
        {"max_tokens": -1},
        {"max_tokens": 0},
        {"max_tokens": 10**12},
        {"max_tokens": 1e12},
        {"max_tokens": "100"},
        {"stream": "yes"},
        {"stream": 1},
    ],
    ids=str,
)
def test_completion_options_are_validated(extra: dict[str, object], tmp_path: Path) -> None:
    with served("sqlite", tmp_path) as app, app.client() as client:
        body = {"messages": [{"role": "user", "content": "show open orders"}], **extra}
        _is_error(client.post("/v1/chat/completions", json=body), 422)
        good = {"messages": body["messages"], "max_tokens": 256, "stream": False}
        assert client.post("/v1/chat/completions", json=good).status_code == 200


def test_nul_in_the_sign_in_name(tmp_path: Path) -> None:
    for backend in ("sqlite", "postgres"):
        with served(backend, tmp_path / backend) as app, app.client() as client:
            page = client.get("/admin")
            csrf = page.text.split('name="csrf" value="')[1].split('"')[0]
            form = {"csrf": csrf, "username": "ad\x00min", "password": "whatever-it-is"}
            _is_error(client.post("/admin/login", data=form), 400)
            assert sign_in(client, "admin", ADMIN_PASSWORD).status_code == 303


@pytest.mark.parametrize("field", ["text", "user", "agent", "feedback", "since", "until"])
def test_nul_in_admin_filters(field: str, admin: tuple[Served, httpx.Client]) -> None:
    _, client = admin
    _is_error(client.get("/admin", params={"tab": "conversations", field: "a\x00b"}), 400)
    csrf = client.get("/admin").text.split('name="csrf" value="')[1].split('"')[0]
    form = {"csrf": csrf, "format": "csv", field: "a\x00b"}
    _is_error(client.post("/admin/export", data=form), 400)


@pytest.mark.parametrize("moment", EDGES)
@pytest.mark.parametrize("field", ["since", "until"])
def test_times_at_the_ends_of_the_calendar(
    field: str, moment: str, admin: tuple[Served, httpx.Client]
) -> None:
    _, client = admin
    _is_error(client.get("/admin", params={"tab": "conversations", field: moment}), 400)
    # Inside the calendar once in UTC, the same ends are fine.
    inside = moment.replace("+14:00", "+00:00").replace("-14:00", "+00:00")
    assert client.get("/admin", params={"tab": "conversations", field: inside}).status_code == 200


def test_odd_conversation_ids(admin: tuple[Served, httpx.Client]) -> None:
    app, client = admin
    session_id = chat(client, "show open orders")["session_id"]
    wait_for_rows(app.db, "SELECT id FROM conversation_log", 1)
    for odd in ("a%00b", "%ED%A0%80", "x" * 65, "a%0Ab"):
        _is_error(client.get(f"/admin/sessions/{odd}"), 404)
    assert client.get(f"/admin/sessions/{session_id}").status_code == 200


@pytest.mark.parametrize(
    ("kind", "end"),
    [("monthly", "0001-01-01"), ("weekly", "0001-01-03"), ("monthly", "0001-02-01T00:00:00+14:00")],
)
def test_reports_ending_at_the_start_of_the_calendar(
    kind: str, end: str, admin: tuple[Served, httpx.Client]
) -> None:
    _, client = admin
    _is_error(client.get(f"/admin/reports/{kind}", params={"end": end}), 400)
