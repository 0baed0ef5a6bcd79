"""Alertmanager's webhook on the agent service, over real HTTP (uvicorn on 127.0.0.1)
into a real audit database: the bearer token, the payload's validation and bounds, one
row per alert, the catalog counter, and a 5xx (so Alertmanager retries) when the
database is down."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from agent_service.api.alerts import MAX_BODY_BYTES
from tests.agent_service.alert_payloads import alert, notification
from tests.agent_service.servers import free_port
from tests.agent_service.web_helpers import served, wait_for_rows

TOKEN = "x" * 43
AUTH = {"authorization": f"Bearer {TOKEN}"}
COLUMNS = "receiver, status, alertname, severity, labels, summary, starts_at, ends_at, fingerprint"


def counter(client: httpx.Client, receiver: str, status: str) -> float:
    line = f'agent_alert_notifications_total{{receiver="{receiver}",status="{status}"}} '
    for text in client.get("/metrics").text.splitlines():
        if text.startswith(line):
            return float(text.removeprefix(line))
    raise AssertionError(f"no sample {line!r}")


def post(client: httpx.Client, body: Any, path: str = "/alerts/critical", **headers: str) -> Any:
    return client.post(path, json=body, headers={**AUTH, **headers})


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_each_alert_of_a_notification_is_recorded(backend: str, tmp_path: Path) -> None:
    payload = notification(
        alert(fingerprint="aaaa000000000001", component="llm"),
        alert(
            fingerprint="aaaa000000000002",
            status="resolved",
            ends_at="2026-03-01T10:05:00Z",
            component="api",
        ),
    )
    with (
        served(backend, tmp_path, alert_webhook_token=TOKEN) as app,
        app.client() as client,
    ):
        before = counter(client, "pager", "firing")
        answer = post(client, payload)
        assert answer.status_code == 200, answer.text
        assert answer.json() == {"status": "recorded", "alerts": 2}
        rows = wait_for_rows(
            app.db, f"SELECT {COLUMNS} FROM alert_notifications ORDER BY fingerprint", 2
        )
        assert counter(client, "pager", "firing") == before + 1
    for row in rows:
        labels = row["labels"]
        row["labels"] = json.loads(labels) if isinstance(labels, str) else labels
        for key in ("starts_at", "ends_at"):
            row[key] = str(row[key]) if row[key] is not None else None
    assert [r["status"] for r in rows] == ["firing", "resolved"]
    assert all(r["receiver"] == "pager" and r["alertname"] == "HighErrorRate" for r in rows)
    assert all(r["severity"] == "critical" for r in rows)
    assert rows[0]["labels"] == {
        "alertname": "HighErrorRate",
        "severity": "critical",
        "component": "llm",
    }
    assert rows[0]["summary"] == "Error rate above 5% for 1m"
    assert rows[0]["ends_at"] is None  # firing: Go's zero time is not an end
    assert rows[1]["ends_at"] is not None and "10:05:00" in rows[1]["ends_at"]
    assert "10:00:00.123" in rows[0]["starts_at"]


@pytest.mark.parametrize(
    ("headers", "status"),
    [
        ({}, 401),
        ({"authorization": "Bearer wrong-token"}, 401),
        ({"authorization": f"Basic {TOKEN}"}, 401),
        ({"authorization": f"Bearer {TOKEN}x"}, 401),
        ({"authorization": TOKEN}, 401),
    ],
    ids=["no-header", "wrong-token", "wrong-scheme", "longer-token", "no-scheme"],
)
def test_a_call_without_the_token_is_refused_and_records_nothing(
    headers: dict[str, str], status: int, tmp_path: Path
) -> None:
    with (
        served("sqlite", tmp_path, alert_webhook_token=TOKEN) as app,
        app.client() as client,
    ):
        answer = client.post("/alerts/critical", json=notification(), headers=headers)
        assert answer.status_code == status
        assert answer.headers["www-authenticate"] == "Bearer"
        # Even a malformed body is refused for the token first (nothing is parsed).
        assert client.post("/alerts/critical", content=b"{", headers=headers).status_code == 401
        assert counter(client, "pager", "firing") == 0
        assert post(client, notification()).status_code == 200  # the right token works
        assert len(app.db.rows("SELECT id FROM alert_notifications")) == 1


def test_without_a_configured_token_every_call_is_refused(tmp_path: Path) -> None:
    with served("sqlite", tmp_path) as app, app.client() as client:
        for headers in ({}, AUTH, {"authorization": "Bearer"}):
            answer = client.post("/alerts/critical", json=notification(), headers=headers)
            assert answer.status_code == 503
            assert "ALERT_WEBHOOK_TOKEN is not set" in answer.text
        assert counter(client, "pager", "firing") == 0


def _without(key: str) -> dict[str, Any]:
    payload = notification()
    del payload[key]
    return payload


def _alert_with(**changes: Any) -> dict[str, Any]:
    return notification({**alert(), **changes})


@pytest.mark.parametrize(
    "body",
    [
        b"{",
        b"[]",
        json.dumps({**notification(), "version": "3"}).encode(),
        json.dumps(_without("receiver")).encode(),
        json.dumps({**notification(), "alerts": []}).encode(),
        json.dumps({**notification(), "status": "pending"}).encode(),
        json.dumps(_alert_with(startsAt="yesterday")).encode(),
        json.dumps(_alert_with(labels={"alertname": 5})).encode(),
        json.dumps(_alert_with(fingerprint="f" * 65)).encode(),
        json.dumps({**notification(), "alerts": [alert()] * 1001}).encode(),
        '{"receiver": "\udc80"}'.encode("utf-8", "surrogatepass"),
    ],
    ids=[
        "not-json",
        "not-an-object",
        "other-version",
        "no-receiver",
        "no-alerts",
        "bad-status",
        "bad-time",
        "non-string-label",
        "long-fingerprint",
        "too-many-alerts",
        "invalid-utf8",
    ],
)
def test_a_malformed_notification_is_a_422_and_records_nothing(body: bytes, tmp_path: Path) -> None:
    with (
        served("sqlite", tmp_path, alert_webhook_token=TOKEN) as app,
        app.client() as client,
    ):
        answer = client.post(
            "/alerts/critical", content=body, headers={**AUTH, "content-type": "application/json"}
        )
        assert answer.status_code == 422, answer.text
        assert answer.json()["error"]["type"] == "invalid_notification"
        assert app.db.rows("SELECT id FROM alert_notifications") == []


def test_a_body_over_the_bound_is_refused_unread(tmp_path: Path) -> None:
    with (
        served("sqlite", tmp_path, alert_webhook_token=TOKEN) as app,
        app.client() as client,
    ):
        big = b'{"pad": "' + b"x" * MAX_BODY_BYTES + b'"}'
        answer = client.post("/alerts/critical", content=big, headers=AUTH)
        assert answer.status_code == 413

        def chunks() -> Any:  # no content-length: the stream itself is cut off
            yield b'{"pad": "'
            for _ in range(MAX_BODY_BYTES // 65536 + 1):
                yield b"x" * 65536
            yield b'"}'

        streamed = client.post("/alerts/critical", content=chunks(), headers=AUTH)
        assert streamed.status_code == 413
        assert client.post("/alerts/critical", json=notification(), headers=AUTH).status_code == 200


def test_unknown_channels_are_refused(tmp_path: Path) -> None:
    with (
        served("sqlite", tmp_path, alert_webhook_token=TOKEN) as app,
        app.client() as client,
    ):
        assert post(client, notification(), path="/alerts/everyone").status_code == 422
        assert post(client, notification(), path="/alerts/warning").status_code == 200


def test_an_unknown_receiver_is_counted_as_other(tmp_path: Path) -> None:
    """The metric's label stays bounded whatever name a notification carries."""
    with (
        served("sqlite", tmp_path, alert_webhook_token=TOKEN) as app,
        app.client() as client,
    ):
        assert post(client, notification(receiver="night-shift")).status_code == 200
        assert counter(client, "other", "firing") == 1
        assert "night-shift" not in client.get("/metrics").text
        rows = app.db.rows("SELECT receiver FROM alert_notifications")
        assert rows == [{"receiver": "night-shift"}]  # the log keeps the real name


def test_with_the_database_down_the_answer_is_a_5xx_so_alertmanager_retries(
    tmp_path: Path,
) -> None:
    closed = f"postgresql://postgres@127.0.0.1:{free_port()}/nothing"
    with (
        served("sqlite", tmp_path, alert_webhook_token=TOKEN, database_url=closed) as app,
        app.client() as client,
    ):
        answer = post(client, notification())
        assert answer.status_code == 503
        assert answer.json()["error"]["type"] == "audit_store_unavailable"
        assert counter(client, "pager", "firing") == 0
        assert client.get("/health").status_code == 200  # the service itself stays up


def test_the_token_is_not_in_the_settings_repr(tmp_path: Path) -> None:
    with served("sqlite", tmp_path, alert_webhook_token=TOKEN) as app:
        assert TOKEN not in repr(app.app.state.services.settings)
