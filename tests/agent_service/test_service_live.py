"""The agent service on 127.0.0.1 against a real audit database (PostgreSQL and SQLite):
turns through every agent, a failing tool, a failing LLM call, feedback and bad requests;
then the live check finds the exposition exactly as catalogued, and the audit tables hold
every turn with its trace id, time to first token and tool calls.

The LLM is the built-in scripted model, wrapped to fail on a marker word: a test double
for the GPU LLM server, which cannot run here (the real OpenAI client is tested against a
real HTTP server in test_llm.py).
"""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import httpx
import pytest
from prometheus_client import CollectorRegistry, Counter

from agent_service.app import create_app
from agent_service.domain import Chunk
from agent_service.llm.base import ChatModel, LLMError
from agent_service.llm.scripted import ScriptedModel
from agent_service.settings import Settings
from specs.bestbox import stack as bestbox
from stackgen.check.live import check_live
from stackgen.cli import main as stackgen_main
from tests.agent_service.databases import AuditDatabase, audit_database
from tests.agent_service.servers import serving

FAIL_MARKER = "FAIL-LLM"

# One question per agent, and the agent the router must pick.
QUESTIONS = {
    "erp": "What is the status of invoice INV-1001?",
    "crm": "Show me the open leads and the deal pipeline",
    "it_ops": "What is the status of server web-01? Any open incidents?",
    "oa": "How many days of leave do I have left, and what is on my calendar?",
    "general": "What does the expense policy say about travel?",
}
FAILING_TOOL_QUESTION = "What is the status of server legacy-01?"


class FailingOnMarker:
    """Delegates to a real model; fails mid-stream when the prompt holds the marker."""

    def __init__(self, inner: ChatModel) -> None:
        self.inner = inner
        self.name = inner.name
        self.provider = inner.provider

    async def stream(self, messages: Sequence[Mapping[str, str]]) -> AsyncIterator[Chunk]:
        fail = any(FAIL_MARKER in m.get("content", "") for m in messages)
        count = 0
        async for chunk in self.inner.stream(messages):
            if fail and count == 2:
                raise LLMError("LLM server closed the stream before [DONE]")
            count += 1
            yield chunk

    async def aclose(self) -> None:
        await self.inner.aclose()


def _wait_for_rows(db: AuditDatabase, expected: int, timeout_s: float = 15.0) -> None:
    deadline = time.monotonic() + timeout_s
    count = -1
    while time.monotonic() < deadline:
        count = db.rows("SELECT count(*) AS n FROM conversation_log")[0]["n"]
        if count >= expected:
            return
        time.sleep(0.1)
    raise AssertionError(f"audit log has {count} rows, expected {expected}")


def _stream_chat(
    client: httpx.Client, question: str, user: str = "alice", session: str | None = None
) -> tuple[httpx.Headers, list[dict[str, Any]]]:
    headers = {"x-user-id": user}
    if session:
        headers["x-session-id"] = session
    body = {"messages": [{"role": "user", "content": question}], "stream": True}
    events: list[dict[str, Any]] = []
    with client.stream("POST", "/v1/chat/completions", json=body, headers=headers) as response:
        assert response.status_code == 200, response.read()
        assert response.headers["content-type"].startswith("text/event-stream")
        lines = [line for line in response.iter_lines() if line.startswith("data: ")]
    assert lines[-1] == "data: [DONE]"
    events = [json.loads(line.removeprefix("data: ")) for line in lines[:-1]]
    return response.headers, events


@pytest.fixture(params=["postgres", "sqlite"])
def service(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, AuditDatabase]]:
    with audit_database(request.param, tmp_path) as db:
        settings = Settings(database_url=db.database_url, sqlite_path=db.sqlite_path)
        model = FailingOnMarker(ScriptedModel(first_token_delay_s=0.01, token_delay_s=0.0))
        app = create_app(settings, model=model)
        with serving(app) as url:
            yield url, db


def test_every_path_is_metered_and_audited(service: tuple[str, AuditDatabase]) -> None:
    url, db = service
    turns: dict[str, dict[str, Any]] = {}  # message_id -> what the client saw
    with httpx.Client(base_url=url, timeout=30) as client:
        for agent, question in QUESTIONS.items():
            headers, events = _stream_chat(client, question, session="s-alice-1")
            assert {e["agent"] for e in events} == {agent}, question
            text = "".join(e["choices"][0]["delta"].get("content", "") for e in events)
            assert text.strip()
            assert events[-1]["choices"][0]["finish_reason"] == "stop"
            assert events[-1]["usage"]["completion_tokens"] > 0
            turns[headers["x-message-id"]] = {"trace": headers["x-trace-id"], "error": False}

        # A failing tool: the turn still answers, the tool call is recorded with its error.
        reply = client.post("/chat", json={"message": FAILING_TOOL_QUESTION})
        assert reply.status_code == 200, reply.text
        failing_tool_turn = reply.json()["message_id"]
        turns[failing_tool_turn] = {"trace": reply.json()["trace_id"], "error": False}

        # A failing LLM call, streamed: an error event, then [DONE].
        headers, events = _stream_chat(client, f"Show invoice INV-1001 {FAIL_MARKER}")
        assert any("error" in e for e in events)
        assert events[-1]["choices"][0]["finish_reason"] == "error"
        turns[headers["x-message-id"]] = {"trace": headers["x-trace-id"], "error": True}
        # ... and not streamed: a 502 naming the cause, with the message id.
        failed = client.post(
            "/v1/chat/completions",
            json={"messages": [{"role": "user", "content": f"hello {FAIL_MARKER}"}]},
        )
        assert failed.status_code == 502
        assert "before [DONE]" in failed.json()["error"]["message"]
        turns[failed.json()["error"]["message_id"]] = {
            "trace": failed.json()["error"]["trace_id"],
            "error": True,
        }

        # A second user, non-streamed OpenAI form.
        plain = client.post(
            "/v1/chat/completions",
            json={"messages": [{"role": "user", "content": QUESTIONS["crm"]}]},
            headers={"x-user-id": "bob"},
        )
        assert plain.status_code == 200
        assert plain.json()["choices"][0]["message"]["content"]
        assert plain.json()["usage"]["total_tokens"] > 0
        turns[plain.json()["message_id"]] = {"trace": plain.json()["trace_id"], "error": False}

        # Feedback rates the message named, not the session's latest.
        rated = list(turns)
        positive, negative = rated[0], rated[1]
        assert client.post(
            "/feedback", json={"message_id": positive, "rating": "positive"}
        ).is_success
        again = client.post("/feedback", json={"message_id": positive, "rating": "positive"})
        assert again.status_code == 200  # idempotent re-rating
        comment = {"message_id": negative, "rating": "negative", "comment": "wrong invoice"}
        assert client.post("/feedback", json=comment).status_code == 200
        unknown = client.post("/feedback", json={"message_id": "msg-nope", "rating": "positive"})
        assert unknown.status_code == 404 and unknown.json()["error"]["type"] == "unknown_message"
        bad_rating = client.post("/feedback", json={"message_id": positive, "rating": "meh"})
        assert bad_rating.status_code == 422

        # Bad requests: 4xx with a JSON error, never a 500.
        bad_requests = [
            client.post("/v1/chat/completions", json={"messages": []}),
            client.post(
                "/v1/chat/completions",
                content=b"{not json",
                headers={"content-type": "application/json"},
            ),
            client.post(
                "/v1/chat/completions", json={"messages": [{"role": "assistant", "content": "x"}]}
            ),
            client.post("/chat", json={"message": ""}),
            client.post("/chat", json={"message": "hi", "session_id": "bad id with spaces"}),
            client.post(
                "/v1/chat/completions",
                json={"messages": [{"role": "user", "content": "hi"}]},
                headers={"x-session-id": "x" * 65},
            ),
            client.get("/no-such-route"),
        ]
        for response in bad_requests:
            assert 400 <= response.status_code < 500, response.text
            assert "error" in response.json()

        assert client.get("/health").json() == {"status": "ok"}
        assert client.get("/health/db").status_code == 200
        assert client.get("/v1/models").json()["data"][0]["id"] == "bestbox-scripted"
        exposition = client.get("/metrics").text

    # The live check: every catalog metric, exactly its labels and types, nothing else.
    assert check_live(bestbox, f"{url}/metrics") == []
    assert stackgen_main(["check", "--live", f"{url}/metrics"]) == 0
    assert 'agent_requests_total{agent_type="erp",status="error"} 1.0' in exposition
    assert 'tool_executions_total{status="error",tool_name=' in exposition or (
        "tool_executions_total{tool_name=" in exposition and 'status="error"' in exposition
    )
    assert 'user_feedback_total{rating="positive"} 1.0' in exposition
    assert 'user_feedback_total{rating="negative"} 1.0' in exposition
    assert "user_id" not in exposition and "session_id" not in exposition

    # The audit log: every turn, with its trace id, TTFT, tool calls and feedback.
    _wait_for_rows(db, len(turns))
    _wait_for_feedback(db, 2)
    rows = {r["message_id"]: r for r in db.rows("SELECT * FROM conversation_log")}
    assert set(rows) == set(turns)
    for message_id, seen in turns.items():
        row = rows[message_id]
        assert row["trace_id"] == seen["trace"] and len(row["trace_id"]) == 32
        assert (row["error"] is not None) == seen["error"]
        assert row["latency_ms"] >= 0
        assert row["ttft_ms"] is not None and row["ttft_ms"] <= row["latency_ms"]
    tool_row = rows[failing_tool_turn]
    assert any(call["error"] for call in tool_row["tool_calls"])
    assert all(
        {"name", "arguments", "latency_ms", "error"} <= set(c) for c in tool_row["tool_calls"]
    )
    assert rows[positive]["user_feedback"] == "positive"
    assert rows[negative]["user_feedback"] == "negative"
    assert rows[negative]["feedback_comment"] == "wrong invoice"
    sessions = {r["session_id"]: r for r in db.rows("SELECT * FROM user_sessions")}
    assert sessions["s-alice-1"]["total_messages"] == len(QUESTIONS)
    assert sessions["s-alice-1"]["user_id"] == "alice"
    assert {r["user_id"] for r in db.rows("SELECT user_id FROM conversation_log")} >= {
        "alice",
        "bob",
    }


def _wait_for_feedback(db: AuditDatabase, expected: int, timeout_s: float = 15.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        sql = "SELECT count(*) AS n FROM conversation_log WHERE user_feedback IS NOT NULL"
        if db.rows(sql)[0]["n"] >= expected:
            return
        time.sleep(0.1)
    raise AssertionError("feedback not written to the audit log")


def test_a_renamed_metric_fails_the_live_check(tmp_path: Path) -> None:
    # A variant of the service whose user_feedback counter was renamed user_feedbacks.
    registry = CollectorRegistry()
    settings = Settings(sqlite_path=tmp_path / "audit.sqlite3")
    app = create_app(settings, registry=registry, model=ScriptedModel(0.0, 0.0))
    registry.unregister(registry._names_to_collectors["user_feedback_total"])
    Counter("user_feedbacks", "Thumbs up / down given to answers.", ["rating"], registry=registry)
    with serving(app) as url:
        findings = check_live(bestbox, f"{url}/metrics")
        assert stackgen_main(["check", "--live", f"{url}/metrics"]) == 1
    codes = {(f.code, f.where.rsplit(" ", 1)[-1]) for f in findings}
    assert codes == {
        ("live-missing-metric", "user_feedback"),
        ("live-uncatalogued-metric", "user_feedbacks"),
    }


def test_ttft_is_measured_at_the_first_token(tmp_path: Path) -> None:
    # A slow first token (0.4 s) and a fast remainder: TTFT well below end-to-end.
    slow_start = ScriptedModel(first_token_delay_s=0.4, token_delay_s=0.02)
    app = create_app(Settings(sqlite_path=tmp_path / "audit.sqlite3"), model=slow_start)
    with serving(app) as url, httpx.Client(base_url=url, timeout=30) as client:
        reply = client.post("/chat", json={"message": QUESTIONS["erp"]}).json()
        exposition = client.get("/metrics").text
    assert 400 <= reply["ttft_ms"] < reply["latency_ms"]
    assert reply["latency_ms"] - reply["ttft_ms"] >= 20  # the remaining tokens took time
    assert 'agent_ttft_seconds_bucket{agent_type="erp",le="0.25"} 0.0' in exposition
    assert 'agent_ttft_seconds_bucket{agent_type="erp",le="0.5"} 1.0' in exposition


def test_exemplars_carry_the_trace_id(tmp_path: Path) -> None:
    app = create_app(Settings(sqlite_path=tmp_path / "a.sqlite3"), model=ScriptedModel(0.0, 0.0))
    with serving(app) as url, httpx.Client(base_url=url, timeout=30) as client:
        trace_id = client.post("/chat", json={"message": QUESTIONS["oa"]}).json()["trace_id"]
        openmetrics = client.get(
            "/metrics", headers={"accept": "application/openmetrics-text; version=1.0.0"}
        ).text
    assert f'# {{trace_id="{trace_id}"}}' in openmetrics
