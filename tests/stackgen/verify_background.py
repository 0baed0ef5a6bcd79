"""The live verify runs of test_verify_live, started when collection finishes and run in
background threads while the rest of the suite runs.

They spend most of their ~3 minutes waiting for Prometheus to evaluate rules and for
alerts to reach the webhook (wall time, not CPU), so starting them first and collecting
their reports when test_verify_live runs saves that wait from the suite's wall time.
Each run starts real processes (agent service, Prometheus, Alertmanager, the collector,
Jaeger) and stops
them by PID in its own `finally`; the session waits for the threads before it ends.
"""

from __future__ import annotations

import sys
import threading
from dataclasses import dataclass, field

from stackgen.spec import Stack
from stackgen.verify import VerifyOptions, VerifyReport, run_verify
from stackgen.verify.scenarios import scenarios_of
from tests.conftest import REPO_ROOT

RENAMED_SERVICE = REPO_ROOT / "tests/data/services/renamed_metric.py"
# Bounds the wait: every wait inside a verify run is bounded, ~11 minutes worst case.
JOIN_TIMEOUT_S = 900


@dataclass
class BackgroundVerify:
    """The quick scenarios plus the expression table, and the renamed-metric variant."""

    stack: Stack
    reports: dict[str, VerifyReport] = field(default_factory=dict)
    errors: dict[str, BaseException] = field(default_factory=dict)
    threads: list[threading.Thread] = field(default_factory=list)
    # Progress lines, kept rather than printed: a print from this thread lands in
    # whichever test is capturing output at that moment (and fails one asserting it).
    logs: list[str] = field(default_factory=list)
    # Set when the session is interrupted: every stack of both runs is closed at once.
    cancel: threading.Event = field(default_factory=threading.Event)

    def start(self) -> None:
        quick = [s for s in scenarios_of(self.stack) if s.quick]
        runs = {
            "main": VerifyOptions(scenarios=quick, cancel=self.cancel),
            "renamed": VerifyOptions(
                scenarios=(),
                agent_argv=[sys.executable, str(RENAMED_SERVICE)],
                cancel=self.cancel,
            ),
        }
        for name, options in runs.items():
            thread = threading.Thread(
                target=self._run, args=(name, options), name=f"verify-{name}", daemon=False
            )
            thread.start()
            self.threads.append(thread)

    def _run(self, name: str, options: VerifyOptions) -> None:
        try:
            self.reports[name] = run_verify(
                self.stack, options, log=lambda m: self.logs.append(f"[verify {name}] {m}")
            )
        except BaseException as error:  # reported by the test that reads it
            self.errors[name] = error

    def join(self) -> None:
        for thread in self.threads:
            thread.join(timeout=JOIN_TIMEOUT_S)

    def result(self, name: str) -> VerifyReport:
        self.join()
        if name in self.errors:
            raise self.errors[name]
        return self.reports[name]


# Started by tests/conftest.py when test_verify_live is collected.
RUNS: list[BackgroundVerify] = []
