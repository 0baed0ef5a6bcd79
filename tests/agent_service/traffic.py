"""Steady chat traffic from worker threads against a service on 127.0.0.1, each turn's
outcome recorded: which requests failed, and the message id of every turn whose
response completed (for streams: the final chunk and ``[DONE]`` were received)."""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field

import httpx

QUESTIONS = (
    "status of invoice INV-1001",
    "is the mail server up?",
    "show customer ACME's open deals",
    "how many vacation days do I have left?",
    "hello there",
)


@dataclass
class Outcome:
    kind: str  # "chat", "stream" or "completion"
    ok: bool
    message_id: str | None
    seconds: float
    detail: str = ""
    # The answer arrived: the JSON body, or for a stream its final chunk (the one with
    # finish_reason), even if the connection broke before ``[DONE]``.
    answered: bool = False

    def __post_init__(self) -> None:
        self.answered = self.answered or self.ok


@dataclass
class Traffic:
    base_url: str
    workers: int = 3
    pause_s: float = 0.05
    max_requests: int = 5000  # per worker: a bound even if the stop never comes
    outcomes: list[Outcome] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _threads: list[threading.Thread] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def start(self) -> None:
        for index in range(self.workers):
            thread = threading.Thread(target=self._work, args=(index,), daemon=True)
            thread.start()
            self._threads.append(thread)

    def stop(self, timeout_s: float = 30) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout_s)

    @property
    def completed(self) -> list[str]:
        """Message ids of the turns whose answer arrived."""
        with self._lock:
            return [o.message_id for o in self.outcomes if o.answered and o.message_id]

    @property
    def failed(self) -> list[Outcome]:
        with self._lock:
            return [o for o in self.outcomes if not o.ok]

    def _work(self, index: int) -> None:
        kinds = ("chat", "stream", "completion")
        with httpx.Client(base_url=self.base_url, timeout=30) as client:
            for n in range(self.max_requests):
                if self._stop.is_set():
                    return
                kind = kinds[(n + index) % len(kinds)]
                question = QUESTIONS[(n + index) % len(QUESTIONS)]
                started = time.perf_counter()
                try:
                    outcome = one_turn(client, kind, question, f"worker-{index}")
                except httpx.HTTPError as error:
                    outcome = Outcome(kind, False, None, 0.0, f"{type(error).__name__}: {error}")
                outcome.seconds = time.perf_counter() - started
                with self._lock:
                    self.outcomes.append(outcome)
                time.sleep(self.pause_s)


def one_turn(client: httpx.Client, kind: str, question: str, user: str) -> Outcome:
    headers = {"x-user-id": user}
    if kind == "chat":
        response = client.post("/chat", json={"message": question}, headers=headers)
        ok = response.status_code == 200
        message_id = response.json().get("message_id") if ok else None
        return Outcome(kind, ok, message_id, 0.0, "" if ok else response.text[:200])
    body = {"messages": [{"role": "user", "content": question}], "stream": kind == "stream"}
    if kind == "completion":
        response = client.post("/v1/chat/completions", json=body, headers=headers)
        ok = response.status_code == 200
        message_id = response.json().get("message_id") if ok else None
        return Outcome(kind, ok, message_id, 0.0, "" if ok else response.text[:200])
    message_id = None
    finished = done = False
    try:
        with client.stream("POST", "/v1/chat/completions", json=body, headers=headers) as reply:
            if reply.status_code != 200:
                return Outcome(kind, False, None, 0.0, f"status {reply.status_code}")
            for line in reply.iter_lines():
                if line == "data: [DONE]":
                    done = True
                elif line.startswith("data: "):
                    chunk = json.loads(line.removeprefix("data: "))
                    message_id = chunk.get("message_id", message_id)
                    choices = chunk.get("choices") or [{}]
                    if choices[0].get("finish_reason") == "stop":
                        finished = True
    except httpx.HTTPError as error:
        return Outcome(kind, False, message_id, 0.0, f"{error!r}", answered=finished)
    ok = finished and done
    return Outcome(kind, ok, message_id, 0.0, "" if ok else "stream ended early")
