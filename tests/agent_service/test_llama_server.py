"""The agent service against a real llama-server (built from llama.cpp's sources by the
tools step) serving the tiny random-weight model: real tokens streamed through the
OpenAI-compatible API, token counts from the server's own usage, the client's disconnect
cancelling the generation upstream, and the server killed mid-stream failing the turn
cleanly, audited as an error."""

from __future__ import annotations

import json
import os
import signal
import time
from collections.abc import Iterator
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

import httpx
import pytest
from prometheus_client import CollectorRegistry

from agent_service.app import create_app
from agent_service.settings import Settings
from specs.bestbox import stack as bestbox
from stackgen.check.live import check_live
from stackgen.spec import Metric, MetricSource, MetricType
from tests.agent_service.databases import AuditDatabase, audit_database
from tests.agent_service.llama_server import LlamaServer, llama_server
from tests.agent_service.servers import serving

QUESTION = "What is the status of invoice INV-1001?"
# Long enough that a stream is still running when the test acts on it: EOS ignored, so
# generation only ends with the context (tens of thousands of tokens, seconds).
ENDLESS = ("--ignore-eos", "--ctx-size", "32768")


def _chat(client: httpx.Client, stream: bool) -> httpx.Response:
    body = {"messages": [{"role": "user", "content": QUESTION}], "stream": stream}
    return client.post("/v1/chat/completions", json=body, headers={"x-user-id": "alice"})


def _open_stream(client: httpx.Client) -> AbstractContextManager[httpx.Response]:
    body = {"messages": [{"role": "user", "content": QUESTION}], "stream": True}
    return client.stream("POST", "/v1/chat/completions", json=body, headers={"x-user-id": "alice"})


def _settings(db: AuditDatabase, server: LlamaServer) -> Settings:
    llm = {"LLM_BASE_URL": f"{server.url}/v1", "LLM_MODEL": "tiny-llama", "LLM_TIMEOUT_S": "20"}
    return Settings(database_url=db.database_url, sqlite_path=db.sqlite_path, llm_env=llm)


def _audited(db: AuditDatabase, count: int, timeout_s: float = 15.0) -> list[dict[str, Any]]:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        rows = db.rows("SELECT * FROM conversation_log ORDER BY id")
        if len(rows) >= count:
            return rows
        time.sleep(0.1)
    raise AssertionError(f"the audit log did not reach {count} rows")


def _sample(registry: CollectorRegistry, name: str, **labels: str) -> float:
    value = registry.get_sample_value(name, labels)
    return 0.0 if value is None else value


@pytest.fixture
def database(tmp_path: Path) -> Iterator[AuditDatabase]:
    with audit_database("postgres", tmp_path) as db:
        yield db


def test_a_streamed_turn_carries_real_tokens_and_the_servers_usage(
    tmp_path: Path, database: AuditDatabase
) -> None:
    registry = CollectorRegistry()
    with llama_server(tmp_path, predict=16) as server:
        app = create_app(_settings(database, server), registry=registry)
        with serving(app) as url, httpx.Client(base_url=url, timeout=30) as client:
            with _open_stream(client) as response:
                assert response.status_code == 200
                lines = [line for line in response.iter_lines() if line.startswith("data: ")]
            plain = _chat(client, stream=False)
        served = server.metrics()

    assert lines[-1] == "data: [DONE]"
    events = [json.loads(line.removeprefix("data: ")) for line in lines[:-1]]
    assert "error" not in events[-1], events[-1]
    text = "".join(e["choices"][0]["delta"].get("content", "") for e in events)
    assert text, "no token text reached the client"
    assert plain.status_code == 200, plain.text
    # The server generated every token both turns report, and the prompts it read.
    reported = events[-1]["usage"]["completion_tokens"] + plain.json()["usage"]["completion_tokens"]
    assert 0 < reported == served["llamacpp:tokens_predicted_total"]
    rows = _audited(database, 2)
    assert sum(r["completion_tokens"] for r in rows) == served["llamacpp:tokens_predicted_total"]
    # The server counts a prompt's tokens it reused from its cache apart from those it read.
    prompted = (
        served["llamacpp:prompt_tokens_total"] + served["llamacpp:prompt_tokens_cached_total"]
    )
    assert sum(r["prompt_tokens"] for r in rows) == prompted
    assert all(r["error"] is None and r["ttft_ms"] is not None for r in rows)
    assert all(0 < r["ttft_ms"] <= r["latency_ms"] for r in rows)
    # Time to first token was observed once per turn, at a real token.
    assert _sample(registry, "agent_ttft_seconds_count", agent_type="erp") == 2


def test_a_client_disconnect_stops_the_generation_upstream(
    tmp_path: Path, database: AuditDatabase
) -> None:
    with llama_server(tmp_path, *ENDLESS, predict=-1) as server:
        app = create_app(_settings(database, server))
        with serving(app) as url, httpx.Client(base_url=url, timeout=30) as client:
            with _open_stream(client) as response:
                first = next(line for line in response.iter_lines() if line.startswith("data: "))
                assert "choices" in first
            # The client is gone: the agent cancels its request and the server stops.
            deadline = time.monotonic() + 15
            while server.metrics().get("llamacpp:requests_processing", 1) > 0:
                assert time.monotonic() < deadline, "the server kept generating"
                time.sleep(0.1)
            predicted = server.metrics()["llamacpp:tokens_predicted_total"]
            time.sleep(0.5)
            assert server.metrics()["llamacpp:tokens_predicted_total"] == predicted
    # Far fewer tokens than the context would have allowed.
    assert predicted < 32768


def test_the_server_killed_mid_stream_fails_the_turn_cleanly(
    tmp_path: Path, database: AuditDatabase
) -> None:
    registry = CollectorRegistry()
    with llama_server(tmp_path, *ENDLESS, predict=-1) as server:
        app = create_app(_settings(database, server), registry=registry)
        with serving(app) as url, httpx.Client(base_url=url, timeout=30) as client:
            with _open_stream(client) as response:
                lines = response.iter_lines()
                next(line for line in lines if line.startswith("data: "))
                os.killpg(server.child.pid, signal.SIGKILL)
                rest = [line for line in lines if line.startswith("data: ")]
            # Meanwhile a new turn gets a clean error naming the unreachable server.
            refused = _chat(client, stream=False)

    assert rest[-1] == "data: [DONE]"
    last = json.loads(rest[-2].removeprefix("data: "))
    assert last["choices"][0]["finish_reason"] == "error"
    assert refused.status_code == 502
    assert "unreachable" in refused.json()["error"]["message"]
    rows = _audited(database, 2)
    assert all(r["error"] for r in rows), [r["error"] for r in rows]
    assert _sample(registry, "agent_requests_total", agent_type="erp", status="error") == 2


def test_the_catalog_declares_llama_servers_metrics_as_it_exposes_them(tmp_path: Path) -> None:
    with llama_server(tmp_path, predict=4) as server:
        httpx.post(
            f"{server.url}/v1/chat/completions",
            json={"messages": [{"role": "user", "content": "hi"}]},
            timeout=30,
        ).raise_for_status()
        url = f"{server.url}/metrics"
        assert check_live(bestbox, url, service="llm-server") == []
        # The check can fail: a family this llama.cpp does not expose is reported.
        ghost = Metric(
            name="llamacpp:kv_cache_usage_ratio",
            type=MetricType.GAUGE,
            help="Not exposed by this llama.cpp.",
            source=MetricSource.EXTERNAL,
            service="llm-server",
        )
        variant = bestbox.model_copy(update={"metrics": (*bestbox.metrics, ghost)})
        codes = [f.code for f in check_live(variant, url, service="llm-server")]
    assert codes == ["live-missing-metric"]
