"""Real HTTP servers on 127.0.0.1 for tests and benchmarks: an ASGI app under uvicorn in
a background thread, and a stand-in for the OpenTelemetry collector."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import uvicorn

from agent_service.serving import uvicorn_config


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@contextmanager
def serving(app: Any, *, startup_timeout_s: float = 15.0) -> Iterator[str]:
    """Serve ``app`` on 127.0.0.1 (lifespan included); yields the base URL."""
    port = free_port()
    # The service's own configuration (forwarded headers off in uvicorn, as in production).
    config = uvicorn_config(app, host="127.0.0.1", port=port, log_level="warning")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + startup_timeout_s
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError(f"the server on 127.0.0.1:{port} did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=15)


@dataclass
class CollectorStandIn:
    """Where spans go, and how many OTLP posts have arrived."""

    url: str = ""
    posts: int = 0


@contextmanager
def stand_in_collector() -> Iterator[CollectorStandIn]:
    """Accepts OTLP/HTTP posts, counts and discards them (a stand-in: the collector does
    not run on this machine)."""
    stand_in = CollectorStandIn()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("content-length", 0)))
            stand_in.posts += 1
            self.send_response(200)
            self.send_header("content-type", "application/x-protobuf")
            self.send_header("content-length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    stand_in.url = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        yield stand_in
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
