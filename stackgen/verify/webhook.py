"""The Alertmanager webhook receiver of a verify run: records every notification with
the time it arrived."""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

__all__ = ["Notification", "WebhookReceiver"]


@dataclass(frozen=True)
class Notification:
    received_at: float  # time.time()
    path: str  # /alerts/critical or /alerts/warning: which receiver sent it
    payload: dict[str, Any]

    def firing(self) -> list[dict[str, str]]:
        """The labels of every alert this notification reports as firing."""
        return [
            dict(alert.get("labels", {}))
            for alert in self.payload.get("alerts", [])
            if alert.get("status") == "firing"
        ]


class WebhookReceiver:
    def __init__(self, host: str = "127.0.0.1") -> None:
        self._lock = threading.Lock()
        self._notifications: list[Notification] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                body = self.rfile.read(length)
                try:
                    payload = json.loads(body or b"{}")
                except ValueError:
                    payload = {"unparsed": body.decode(errors="replace")}
                receiver._record(Notification(time.time(), self.path, payload))
                self.send_response(200)
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                return None  # quiet: the verifier prints what matters

        self._server = ThreadingHTTPServer((host, 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._started = False

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def _record(self, notification: Notification) -> None:
        with self._lock:
            self._notifications.append(notification)

    def notifications(self) -> list[Notification]:
        with self._lock:
            return list(self._notifications)

    def first_firing(self, alertname: str, since: float) -> Notification | None:
        for notification in self.notifications():
            names = {labels.get("alertname") for labels in notification.firing()}
            if notification.received_at >= since and alertname in names:
                return notification
        return None

    def __enter__(self) -> WebhookReceiver:
        self._thread.start()
        self._started = True
        return self

    def __exit__(self, *_: object) -> None:
        if self._started:  # shutdown() would wait forever for a loop never started
            self._server.shutdown()
            self._thread.join(timeout=5)
            self._started = False
        self._server.server_close()
