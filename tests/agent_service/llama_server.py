"""A real llama-server (built by the tools step) on 127.0.0.1, serving the tiny model the
project writes: real tokens through llama.cpp's OpenAI-compatible streaming API, and its
own Prometheus metrics."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from stackgen.tools import ToolMissing, find_tool, tiny_model
from stackgen.verify.processes import Child, ProcessSet
from tests.agent_service.servers import free_port

STARTUP_TIMEOUT_S = 60.0
_SAMPLE = re.compile(r"^(llamacpp:[a-z_]+) ([0-9.eE+-]+)$", re.MULTILINE)


@dataclass
class LlamaServer:
    url: str
    child: Child

    def metrics(self) -> dict[str, float]:
        """The server's own samples (``llamacpp:*``), by name."""
        text = httpx.get(f"{self.url}/metrics", timeout=5).text
        return {name: float(value) for name, value in _SAMPLE.findall(text)}


@contextmanager
def llama_server(log_dir: Path, *extra: str, predict: int = 24) -> Iterator[LlamaServer]:
    """``predict`` bounds each answer (tokens); ``extra`` are more llama-server flags."""
    try:
        binary, model = find_tool("llama-server"), tiny_model()
    except ToolMissing as missing:
        raise AssertionError(str(missing)) from None
    port = free_port()
    argv: Sequence[str] = [
        binary,
        *("--model", str(model), "--host", "127.0.0.1", "--port", str(port)),
        *("--metrics", "--threads", "1", "--parallel", "1", "--n-predict", str(predict)),
        *extra,
    ]
    processes = ProcessSet(log_dir=log_dir)
    try:
        child = processes.start("llama-server", argv)
        url = f"http://127.0.0.1:{port}"
        _wait_healthy(url, child)
        yield LlamaServer(url, child)
    finally:
        processes.stop_all()


def _wait_healthy(url: str, child: Child) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while time.monotonic() < deadline:
        if not child.running():
            raise AssertionError(f"llama-server exited at start:\n{child.log_tail()}")
        try:
            if httpx.get(f"{url}/health", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise AssertionError(f"llama-server did not become healthy:\n{child.log_tail()}")
