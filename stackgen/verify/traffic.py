"""A bounded mix of real requests to the agent service: every agent, every tool, both
complexities, streamed and plain turns, feedback, and the service's other endpoints.

Each mix is a fixed cycle of actions; each worker thread (a user) sends one action a
second at most, so the load is small (about 2 requests a second) and the run is
reproducible.
"""

from __future__ import annotations

import re
import threading
import time
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import httpx

__all__ = [
    "FULL_MIX",
    "HEALTHY_MIX",
    "NEGATIVE_FEEDBACK_MIX",
    "TOOL_ERROR_MIX",
    "Action",
    "Traffic",
    "failed_outcomes",
    "unclean_outcomes",
]

# Questions the router sends to each agent; the multi-part ones make "complex" turns
# (more than one tool call).
QUESTIONS = {
    "erp": "What is the status of invoice INV-1001?",
    "erp-complex": "Show invoice INV-1001 and check the inventory level of item SKU-100",
    "crm": "Show me the open leads and the deal pipeline",
    "it_ops": "What is the status of server web-01? Any open incidents?",
    "oa": "How many days of leave do I have left, and what is on my calendar?",
    "general": "What does the expense policy say about travel?",
}
# The demo data's documented failure: the status endpoint of legacy-01 times out, so the
# server_status tool call fails (the turn itself still answers).
FAILING_TOOL_QUESTION = "What is the status of server legacy-01?"


@dataclass(frozen=True)
class Action:
    kind: str  # chat | stream | get
    text: str = ""  # the question, or the path of a GET
    rating: str | None = None  # rate the answer: positive | negative


def _turns(rating_every: int, rating: str) -> list[Action]:
    actions = []
    for index, question in enumerate(QUESTIONS.values()):
        kind = "stream" if index % 2 else "chat"
        rated = rating if index % rating_every == 0 else None
        actions.append(Action(kind, question, rated))
    return actions


_ENDPOINTS = [Action("get", "/health"), Action("get", "/v1/models"), Action("get", "/nowhere")]

# Scenario baseline: no failures at all, only thumbs up.
HEALTHY_MIX: Sequence[Action] = (*_turns(2, "positive"), *_ENDPOINTS)
# The expression table's mix: also a failing tool call and a thumbs down, so the error
# and negative series carry samples. Rare among turns (under the error-ratio and
# satisfaction thresholds), but the failing call is one of four server_status calls:
# HighToolErrorRate, which is per tool, fires under this mix (the scale-out run, whose
# fault scenarios follow it on the same stack, waits for an alert to resolve before
# the scenario of that alert).
FULL_MIX: Sequence[Action] = (
    *_turns(2, "positive"),
    *_ENDPOINTS,
    *_turns(3, "positive"),
    Action("chat", FAILING_TOOL_QUESTION, "negative"),
    *_turns(2, "positive"),
)
# Fault: most status checks hit the failing server.
TOOL_ERROR_MIX: Sequence[Action] = (
    Action("chat", FAILING_TOOL_QUESTION),
    Action("chat", QUESTIONS["erp"]),
    Action("stream", FAILING_TOOL_QUESTION),
    Action("chat", QUESTIONS["general"]),
)
# Fault: users rate every answer thumbs down.
NEGATIVE_FEEDBACK_MIX: Sequence[Action] = tuple(
    Action(a.kind, a.text, "negative") for a in _turns(1, "negative")
)


_SERVER_ERROR = re.compile(r"\b5\d\d\b")


def failed_outcomes(outcomes: Mapping[str, int]) -> dict[str, int]:
    """Outcomes a user would see as a failure: no answer at all (a client error) or a
    server error (5xx) of the turn, its feedback or an endpoint. The mix's deliberate
    404 and a failing tool call inside an answered turn are not failures."""
    return {
        outcome: count
        for outcome, count in sorted(outcomes.items())
        if outcome.startswith("client error") or _SERVER_ERROR.search(outcome)
    }


def unclean_outcomes(outcomes: Mapping[str, int]) -> dict[str, int]:
    """Failures a user sees as a broken service rather than an error message: no answer
    at all (refused, reset, timed out) or a server error other than 502, the service's
    answer when a dependency it needs fails."""
    return {
        outcome: count
        for outcome, count in sorted(outcomes.items())
        if outcome.startswith("client error")
        or any(code != "502" for code in _SERVER_ERROR.findall(outcome))
    }


class Traffic:
    """Worker threads sending the current mix to ``base_url`` until stopped."""

    def __init__(
        self, base_url: str, mix: Sequence[Action], *, workers: int = 2, pace_s: float = 1.0
    ) -> None:
        self.base_url = base_url
        self._mix = mix
        self._workers = workers
        self._pace_s = pace_s
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self.outcomes: Counter[str] = Counter()

    @property
    def workers(self) -> int:
        """How many users (worker threads) it runs when started."""
        return self._workers

    def set_mix(self, mix: Sequence[Action]) -> None:
        with self._lock:
            self._mix = mix

    def start(self, workers: int | None = None) -> None:
        """Start the workers (``workers``: a new number of them, e.g. more concurrent
        users so that slow turns keep about the same arrival rate)."""
        self._workers = workers or self._workers
        self._stop.clear()
        self._threads = [
            threading.Thread(target=self._run, args=(n,), daemon=True) for n in range(self._workers)
        ]
        for thread in self._threads:
            thread.start()

    def stop(self) -> None:
        """Stop and wait for requests in flight (bounded by the client timeout)."""
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=60)
        self._threads = []

    def _run(self, worker: int) -> None:
        step = worker
        # One user id per worker: the trace check proves no span carries it.
        user = {"X-User-Id": f"verify-user-{worker + 1}"}
        with httpx.Client(base_url=self.base_url, timeout=30, headers=user) as client:
            while not self._stop.is_set():
                with self._lock:
                    mix = self._mix
                action = mix[step % len(mix)]
                step += self._workers
                started = time.monotonic()
                try:
                    outcome = _send(client, action)
                except httpx.HTTPError as error:
                    outcome = f"client error: {type(error).__name__}"
                with self._lock:
                    self.outcomes[outcome] += 1
                self._stop.wait(max(0.0, self._pace_s - (time.monotonic() - started)))


def _send(client: httpx.Client, action: Action) -> str:
    if action.kind == "get":
        return f"GET {action.text} {client.get(action.text).status_code}"
    if action.kind == "stream":
        body = {"messages": [{"role": "user", "content": action.text}], "stream": True}
        with client.stream("POST", "/v1/chat/completions", json=body) as reply:
            for _ in reply.iter_lines():
                pass
            message_id = reply.headers.get("x-message-id")
            status = reply.status_code
    else:
        reply = client.post("/chat", json={"message": action.text})
        status = reply.status_code
        message_id = reply.json().get("message_id") if status == 200 else None
    if action.rating and message_id:
        rated = client.post("/feedback", json={"message_id": message_id, "rating": action.rating})
        return f"turn {status}, feedback {rated.status_code}"
    return f"turn {status}"
