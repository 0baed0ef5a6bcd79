"""`agent-service serve` with no configuration: the scripted model, a SQLite audit log
in the working directory, 127.0.0.1; a streamed chat works and /metrics shows it."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests.agent_service.servers import free_port

SCRIPT = Path(sys.executable).parent / "agent-service"


def _clean_env() -> dict[str, str]:
    unset = ("DATABASE_URL", "LLM_BASE_URL", "LLM_MODEL", "OTEL_EXPORTER_OTLP_ENDPOINT")
    return {k: v for k, v in os.environ.items() if k not in unset}


def test_serve_without_configuration_answers_a_streamed_chat(tmp_path: Path) -> None:
    port = free_port()
    process = subprocess.Popen(
        [str(SCRIPT), "serve", "--port", str(port)],
        cwd=tmp_path,
        env=_clean_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                if httpx.get(f"{base}/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert process.poll() is None, process.stdout.read() if process.stdout else ""
            assert time.monotonic() < deadline, "agent-service did not start in 20 s"
            time.sleep(0.1)
        body = {"messages": [{"role": "user", "content": "status of invoice INV-1001"}]}
        with httpx.stream(
            "POST", f"{base}/v1/chat/completions", json={**body, "stream": True}, timeout=30
        ) as response:
            lines = [line for line in response.iter_lines() if line.startswith("data: ")]
        assert lines[-1] == "data: [DONE]"
        chunks = [json.loads(line.removeprefix("data: ")) for line in lines[:-1]]
        assert all(c["object"] == "chat.completion.chunk" for c in chunks)
        assert "".join(c["choices"][0]["delta"].get("content", "") for c in chunks).strip()
        agent = chunks[0]["agent"]
        metrics = httpx.get(f"{base}/metrics", timeout=5).text
        assert f'agent_requests_total{{agent_type="{agent}",status="success"}} 1.0' in metrics
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)
    assert (tmp_path / "bestbox-audit.sqlite3").is_file()
