"""``stackgen verify``: the generated stack, live. Starts the real agent service,
Prometheus, Alertmanager, the OpenTelemetry collector and Jaeger on 127.0.0.1 with the
local profile, drives traffic, evaluates every dashboard and rule expression, checks
the traces of audited turns in Jaeger, and runs the fault scenarios, each on its own
stack so they run concurrently without disturbing each other.
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from typing import TypeVar

from stackgen.conventions import COUNTER_SUFFIXES, HISTOGRAM_SUFFIXES
from stackgen.render import render_all
from stackgen.spec import FaultScenario, Metric, MetricType, Stack
from stackgen.verify.expressions import Evaluation, collect_expressions, evaluate
from stackgen.verify.live import (
    DEFAULT_ADMIN_DSN,
    LiveStack,
    VerifyCancelled,
    VerifyEnvironmentError,
)
from stackgen.verify.scenarios import ScenarioResult, run_scenario
from stackgen.verify.trace_check import TraceReport, check_traces
from stackgen.verify.traffic import FULL_MIX, Traffic

__all__ = ["VerifyOptions", "VerifyReport", "run_verify"]

# Traffic before the expressions are evaluated: several scrapes (10 s) and rule
# evaluations (15 s), so every rate window holds two samples or more.
TRAFFIC_S = 45.0


@dataclass(frozen=True)
class VerifyOptions:
    # Of the stack's verify.scenarios (stackgen.verify.scenarios.scenarios_of).
    scenarios: Sequence[FaultScenario] = ()
    expressions: bool = True
    admin_dsn: str = DEFAULT_ADMIN_DSN
    agent_argv: Sequence[str] | None = None  # None: the real agent service
    traffic_s: float = TRAFFIC_S
    keep_dirs: bool = False
    # Set from another thread to stop the run: every stack is closed at once (a run in a
    # background thread cannot be interrupted by a signal).
    cancel: threading.Event | None = None


@dataclass
class VerifyReport:
    evaluations: list[Evaluation] = field(default_factory=list)
    missing_metrics: list[str] = field(default_factory=list)
    scenarios: list[ScenarioResult] = field(default_factory=list)
    # Turns of the expression run's audit log checked in Jaeger (None: not run).
    traces: TraceReport | None = None
    environment_error: str | None = None
    elapsed_s: float = 0.0
    # Every process the run started (all stopped when run_verify returns).
    pids: list[int] = field(default_factory=list)
    databases: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return (
            self.environment_error is None
            and not self.missing_metrics
            and not any(e.failed for e in self.evaluations)
            and (self.traces is None or self.traces.passed)
            and all(s.passed for s in self.scenarios)
        )


def exercised_metrics(stack: Stack) -> dict[str, Metric]:
    """Catalog metrics the local stack's traffic reaches: those of the services that
    run locally (the stack's own and the real programs standing in for external ones),
    and the series Prometheus writes per target."""
    local = set(stack.local_ports)
    if stack.verify is not None:
        local |= {program.service for program in stack.verify.programs}
    return {m.name: m for m in stack.metrics if m.service is None or m.service in local}


def _exposed_names(metric: Metric) -> list[str]:
    suffixes = {MetricType.COUNTER: COUNTER_SUFFIXES, MetricType.HISTOGRAM: HISTOGRAM_SUFFIXES}
    return [metric.name + suffix for suffix in suffixes.get(metric.type, ("",))]


class _Stacks:
    """The live stacks of a run, so an interrupt can stop them all at once."""

    def __init__(self, stack: Stack, options: VerifyOptions, log: Callable[[str], None]) -> None:
        self.stack, self.options, self.log = stack, options, log
        self._lock = threading.Lock()
        self._open: list[LiveStack] = []
        self._closed = False

    def new(self, name: str) -> LiveStack:
        with self._lock:
            if self._closed:
                raise VerifyCancelled(f"[{name}] not started: the run was stopped")
            live = LiveStack(
                self.stack,
                name,
                admin_dsn=self.options.admin_dsn,
                agent_argv=self.options.agent_argv,
                log=self.log,
                keep_dir=self.options.keep_dirs,
            )
            self._open.append(live)
        return live

    def started(self) -> tuple[list[int], list[str]]:
        with self._lock:
            stacks = list(self._open)
        pids = [c.pid for live in stacks for c in live.processes.children]
        return pids, [live.database for live in stacks]

    def close_all(self) -> None:
        with self._lock:
            self._closed = True
            stacks = list(self._open)
        for live in stacks:
            live.close()


def _expression_run(stacks: _Stacks, report: VerifyReport) -> None:
    stack, options, log = stacks.stack, stacks.options, stacks.log
    expressions = collect_expressions(stack, render_all(stack))
    with stacks.new("expressions") as live:
        traffic = Traffic(live.agent_url, FULL_MIX)
        traffic.start()
        try:
            live.wait_discovered()
            log(
                f"[expressions] targets up; {options.traffic_s:g}s of traffic "
                "through every agent and tool"
            )
            live.sleep(options.traffic_s)
            exercised = exercised_metrics(stack)
            present = live.api.metric_names()
            for metric in exercised.values():
                # A counter that appears at its first failure is absent while all is well.
                if metric.service is None or metric.first_event_only:
                    continue
                missing = [n for n in _exposed_names(metric) if n not in present]
                if missing:
                    report.missing_metrics.append(
                        f"{metric.name} ({metric.type}): no series {missing} in Prometheus; "
                        f"the {metric.service} service does not emit it"
                    )
            log(f"[expressions] evaluating {len(expressions)} expressions")
            report.evaluations = evaluate(stack, expressions, live.api, exercised)
        finally:
            traffic.stop()
        log(f"[expressions] traffic: {dict(sorted(traffic.outcomes.items()))}")
        prefix = stack.verify.span_attribute_prefix if stack.verify else None
        if live.traces and prefix is not None:
            log("[expressions] checking the traces of audited turns in Jaeger")
            report.traces = check_traces(
                live.database_url, live.jaeger_url, live.sleep, prefix=prefix
            )
            log(f"[expressions] {report.traces.summary()}")


def _scenario_run(stacks: _Stacks, scenario: FaultScenario) -> ScenarioResult:
    with stacks.new(scenario.name) as live:
        return run_scenario(live, scenario, stacks.log)


def run_verify(
    stack: Stack, options: VerifyOptions, log: Callable[[str], None] | None = None
) -> VerifyReport:
    """Run everything concurrently; every process is stopped before this returns, also
    when it raises (KeyboardInterrupt, or SystemExit from the CLI's SIGTERM handler)."""
    lock = threading.Lock()

    def say(message: str) -> None:
        with lock:
            (log or _stderr)(f"{time.strftime('%H:%M:%S')} {message}")

    started = time.monotonic()
    report = VerifyReport()
    if stack.verify is None:
        report.environment_error = f"the {stack.name} stack has no verify settings"
        return report
    stacks = _Stacks(stack, options, say)
    finished = threading.Event()
    if options.cancel is not None:
        threading.Thread(
            target=_close_when_cancelled, args=(options.cancel, finished, stacks), daemon=True
        ).start()
    with ThreadPoolExecutor(max_workers=1 + len(options.scenarios)) as pool:
        try:
            _collect(stacks, report, pool)
        except BaseException:
            stacks.close_all()  # the workers' waits end at once (VerifyCancelled)
            raise
        finally:
            finished.set()
    report.pids, report.databases = stacks.started()
    report.elapsed_s = time.monotonic() - started
    return report


def _close_when_cancelled(
    cancel: threading.Event, finished: threading.Event, stacks: _Stacks
) -> None:
    while not finished.is_set():
        if cancel.wait(0.2):
            stacks.close_all()
            return


def _collect(stacks: _Stacks, report: VerifyReport, pool: ThreadPoolExecutor) -> None:
    options = stacks.options
    expression_job = pool.submit(_expression_run, stacks, report) if options.expressions else None
    scenario_jobs = [pool.submit(_scenario_run, stacks, s) for s in options.scenarios]
    errors = []
    if expression_job is not None:
        try:
            _result(expression_job)
        except VerifyEnvironmentError as error:
            errors.append(str(error))
    for scenario, job in zip(options.scenarios, scenario_jobs, strict=True):
        try:
            report.scenarios.append(_result(job))
        except VerifyEnvironmentError as error:
            errors.append(str(error))
        except Exception as error:  # one broken scenario must not hide the others
            failed = ScenarioResult(scenario, "", 0.0, error=f"{type(error).__name__}: {error}")
            report.scenarios.append(failed)
    if errors:
        report.environment_error = "\n".join(errors)


_T = TypeVar("_T")
# How long the main thread waits at a time for a job: the kernel may deliver SIGTERM or
# SIGINT to any thread, and its Python handler (which stops the run) runs only once
# the main thread wakes; a wait without a timeout would not wake before the job ends.
_WAIT_SLICE_S = 0.5


def _result(job: Future[_T]) -> _T:
    """``job.result()``, waited for in slices of ``_WAIT_SLICE_S``."""
    while not job.done():
        wait([job], timeout=_WAIT_SLICE_S)
    return job.result()


def _stderr(message: str) -> None:
    print(message, file=sys.stderr, flush=True)
