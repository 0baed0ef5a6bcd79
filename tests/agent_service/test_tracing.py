"""Spans of a turn (GenAI conventions, no message text by default), trace export that
cannot fail a request, and `agent-service migrate`."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import httpx
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from agent_service.app import create_app
from agent_service.llm.scripted import ScriptedModel
from agent_service.settings import Settings
from tests.agent_service.databases import AuditDatabase
from tests.agent_service.servers import serving

QUESTION = "What is the status of server legacy-01?"


def _recorded_spans(settings: Settings) -> tuple[dict[str, object], list[object]]:
    app = create_app(settings, model=ScriptedModel(0.0, 0.0))
    exporter = InMemorySpanExporter()
    app.state.services.tracing.provider.add_span_processor(SimpleSpanProcessor(exporter))
    with serving(app) as url:
        reply = httpx.post(f"{url}/chat", json={"message": QUESTION}, timeout=30).json()
    return reply, list(exporter.get_finished_spans())


def test_a_turn_has_request_router_agent_llm_and_tool_spans(tmp_path: Path) -> None:
    reply, spans = _recorded_spans(Settings(sqlite_path=tmp_path / "a.sqlite3"))
    by_name = {span.name: span for span in spans}
    assert set(by_name) == {
        "chat_turn",
        "route",
        "invoke_agent it_ops",
        "execute_tool server_status",
        "chat bestbox-scripted",
    }
    # The tree: the request holds the router and the agent; the agent its tool calls
    # and its LLM call.
    parent = {
        span.name: next(
            (p.name for p in spans if span.parent and p.context.span_id == span.parent.span_id),
            None,
        )
        for span in spans
    }
    assert parent == {
        "chat_turn": None,
        "route": "chat_turn",
        "invoke_agent it_ops": "chat_turn",
        "execute_tool server_status": "invoke_agent it_ops",
        "chat bestbox-scripted": "invoke_agent it_ops",
    }
    tool = by_name["execute_tool server_status"]
    assert tool.attributes["gen_ai.operation.name"] == "execute_tool"
    assert tool.attributes["gen_ai.tool.name"] == "server_status"
    assert tool.attributes["error.type"] == "TimeoutError"
    assert not tool.status.is_ok
    agent = by_name["invoke_agent it_ops"]
    assert agent.attributes["gen_ai.agent.name"] == "it_ops"
    assert agent.attributes["gen_ai.provider.name"] == "bestbox.scripted"
    llm = by_name["chat bestbox-scripted"]
    assert llm.attributes["gen_ai.operation.name"] == "chat"
    assert llm.attributes["gen_ai.request.model"] == "bestbox-scripted"
    assert llm.attributes["gen_ai.provider.name"] == "bestbox.scripted"
    assert llm.attributes["gen_ai.usage.output_tokens"] > 0
    trace_ids = {format(s.context.trace_id, "032x") for s in spans}
    assert trace_ids == {reply["trace_id"]}
    # Message text stays off spans unless explicitly enabled.
    for span in spans:
        assert all(QUESTION not in str(v) for v in span.attributes.values())


def test_message_text_on_spans_only_when_enabled(tmp_path: Path) -> None:
    settings = Settings(sqlite_path=tmp_path / "a.sqlite3", capture_message_content=True)
    _, spans = _recorded_spans(settings)
    turn = next(s for s in spans if s.name == "chat_turn")
    assert turn.attributes["bestbox.user_message"] == QUESTION


def test_an_unreachable_collector_never_fails_a_request(tmp_path: Path) -> None:
    # Port 1 on loopback: nothing listens, every export fails.
    settings = Settings(
        sqlite_path=tmp_path / "a.sqlite3",
        otlp_endpoint="http://127.0.0.1:1",
        otlp_timeout_s=0.5,
    )
    app = create_app(settings, model=ScriptedModel(0.0, 0.0))
    assert app.state.services.tracing.exporting
    started = time.monotonic()
    with serving(app) as url, httpx.Client(base_url=url, timeout=30) as client:
        for _ in range(5):
            assert client.post("/chat", json={"message": QUESTION}).status_code == 200
    # Shutdown (including the bounded tracing flush) does not hang on the dead collector.
    assert time.monotonic() - started < 15


def test_migrate_command_creates_the_audit_schema(tmp_path: Path) -> None:
    script = Path(sys.executable).parent / "agent-service"
    env = {"AUDIT_SQLITE_PATH": str(tmp_path / "audit.sqlite3"), "PATH": "/usr/bin:/bin"}
    for _ in range(2):  # idempotent
        result = subprocess.run(
            [str(script), "migrate"], env=env, capture_output=True, text=True, timeout=60
        )
        assert result.returncode == 0, result.stderr
    db = AuditDatabase("sqlite", None, tmp_path / "audit.sqlite3")
    tables = {r["name"] for r in db.rows("SELECT name FROM sqlite_master WHERE type='table'")}
    assert {"user_sessions", "conversation_log", "schema_migrations"} <= tables


def test_health_db_reports_a_down_audit_store(tmp_path: Path) -> None:
    # PostgreSQL on port 1 of loopback: nothing listens. Chat still works (the writer
    # retries in the background); /health/db says why the store is unavailable.
    settings = Settings(database_url="postgresql://postgres@127.0.0.1:1/bestbox")
    app = create_app(settings, model=ScriptedModel(0.0, 0.0))
    with serving(app) as url, httpx.Client(base_url=url, timeout=30) as client:
        assert client.get("/health").status_code == 200
        down = client.get("/health/db")
        assert down.status_code == 503
        assert down.json()["status"] == "unavailable" and down.json()["reason"]
        assert client.post("/chat", json={"message": QUESTION}).status_code == 200
        unknown = client.post("/feedback", json={"message_id": "msg-x", "rating": "positive"})
        assert unknown.status_code == 503
        assert client.get("/nowhere").status_code == 404
        metrics = client.get("/metrics").text
    assert 'http_requests_total{method="POST",route="/chat",status_class="2xx"} 1.0' in metrics
    assert 'http_requests_total{method="GET",route="/health/db",status_class="5xx"} 1.0' in metrics
    assert 'http_requests_total{method="GET",route="unmatched",status_class="4xx"} 1.0' in metrics


def test_a_client_leaving_mid_stream_is_still_counted_and_audited(tmp_path: Path) -> None:
    slow = ScriptedModel(first_token_delay_s=0.0, token_delay_s=0.2)
    app = create_app(Settings(sqlite_path=tmp_path / "a.sqlite3"), model=slow)
    db = AuditDatabase("sqlite", None, tmp_path / "a.sqlite3")
    body = {"messages": [{"role": "user", "content": QUESTION}], "stream": True}
    with serving(app) as url:
        with httpx.stream("POST", f"{url}/v1/chat/completions", json=body, timeout=30) as r:
            message_id = r.headers["x-message-id"]
            next(r.iter_lines())  # the first event, then hang up
        deadline = time.monotonic() + 15
        rows: list[dict[str, object]] = []
        while time.monotonic() < deadline and not rows:
            rows = db.rows(f"SELECT * FROM conversation_log WHERE message_id = '{message_id}'")
            time.sleep(0.1)
        metrics = httpx.get(f"{url}/metrics", timeout=5).text
    assert rows, "the cut-short turn was not audited"
    assert "disconnected" in str(rows[0]["error"])
    assert 'agent_requests_total{agent_type="it_ops",status="error"} 1.0' in metrics
