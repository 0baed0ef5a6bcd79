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

import os
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from stackgen.spec import Stack
from stackgen.verify import VerifyOptions, VerifyReport, run_verify
from stackgen.verify.scenarios import scenarios_of
from tests.conftest import REPO_ROOT

RENAMED_SERVICE = REPO_ROOT / "tests/data/services/renamed_metric.py"
# Bounds the wait: every wait inside a verify run is bounded, ~11 minutes worst case.
JOIN_TIMEOUT_S = 900
# When set, a file each progress line is also appended to as it comes: how a test that
# runs the suite in a child process (test_interrupted_suite) follows the runs while
# they are under way (the kept lines are printed only once both runs have ended).
PROGRESS_FILE_ENV = "STACKGEN_TEST_VERIFY_PROGRESS"


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
    progress: Path | None = field(
        default_factory=lambda: (
            Path(os.environ[PROGRESS_FILE_ENV]) if os.environ.get(PROGRESS_FILE_ENV) else None
        )
    )
    _progress_lock: threading.Lock = field(default_factory=threading.Lock)

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
                self.stack, options, log=lambda m: self._log(f"[verify {name}] {m}")
            )
        except BaseException as error:  # reported by the test that reads it
            self.errors[name] = error

    def _log(self, line: str) -> None:
        self.logs.append(line)
        if self.progress is not None:
            with self._progress_lock, self.progress.open("a", encoding="utf-8") as file:
                file.write(line + "\n")

    def join(self) -> None:
        # In short waits: the kernel may deliver SIGTERM to any thread, and the session's
        # handler runs only once the main thread wakes (a 900 s join would not).
        deadline = time.monotonic() + JOIN_TIMEOUT_S
        for thread in self.threads:
            while thread.is_alive() and time.monotonic() < deadline:
                thread.join(timeout=0.5)

    def result(self, name: str) -> VerifyReport:
        self.join()
        if name in self.errors:
            raise self.errors[name]
        return self.reports[name]


# Started by tests/conftest.py when test_verify_live is collected.
RUNS: list[BackgroundVerify] = []
