"""`stackgen verify`, live: the real agent service (PostgreSQL audit log), the real
Prometheus, Alertmanager, OpenTelemetry collector and Jaeger on 127.0.0.1 with the local
profile.

One run covers the whole expression table, the traces of audited turns in Jaeger and
the quick fault scenarios (the agent service, the collector or Jaeger down, a tool-error
burst; each on its own stack, concurrently); a second run, at the same time, uses
a test variant of the service with one metric renamed and must fail naming every panel
and rule that lost its data. Nothing here is a test double: the only stand-in is the
agent service's built-in scripted model for the GPU LLM, which cannot run here.

The slow scenarios (TTFT, error ratio, low satisfaction) run in `make verify`.
Detection times are printed, not asserted here (no timing assertions in tests);
`stackgen verify` itself fails a critical alert slower than the 2-minute budget.
"""

from __future__ import annotations

import asyncio
import os
import queue
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import asyncpg
import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from specs.bestbox.verify import VERIFY
from stackgen.check.catalog import CatalogIndex
from stackgen.cli import main
from stackgen.render import render_all
from stackgen.spec import Stack
from stackgen.verify import VerifyReport
from stackgen.verify.expressions import base_metrics, collect_expressions, rule_index
from stackgen.verify.live import DEFAULT_ADMIN_DSN
from stackgen.verify.report import format_report
from stackgen.verify.scenarios import scenarios_of
from stackgen.verify.trace_check import TRACE_TURNS
from stackgen.verify.traffic import FULL_MIX
from tests.conftest import REPO_ROOT
from tests.stackgen.verify_background import RUNS, BackgroundVerify

pytestmark = pytest.mark.live

RENAMED_METRIC = "user_feedback"
QUICK = {"agent-down", "tool-errors", "collector-down", "jaeger-down"}


@pytest.fixture(scope="module")
def reports(stack: Stack) -> tuple[VerifyReport, VerifyReport]:
    """The runs started in the background when collection finished (see
    verify_background.py); started here when this module runs on its own."""
    assert {s.name for s in scenarios_of(stack) if s.quick} == QUICK
    if not RUNS:
        run = BackgroundVerify(stack)
        run.start()
        RUNS.append(run)
    main_report, variant = RUNS[0].result("main"), RUNS[0].result("renamed")
    print("\n".join(RUNS[0].logs))
    print(format_report(main_report))
    print(format_report(variant))
    return main_report, variant


def test_every_expression_evaluates_with_data(
    reports: tuple[VerifyReport, VerifyReport], stack: Stack
) -> None:
    report, _ = reports
    assert report.environment_error is None
    expected = collect_expressions(stack, render_all(stack))
    assert [e.expression for e in report.evaluations] == expected
    failed = [(e.expression.source, e.status, e.detail) for e in report.evaluations if e.failed]
    assert failed == []
    # "Not exercised" is only for metrics of services the local profile does not run
    # (none today: every expression gets data).
    for evaluation in report.evaluations:
        if evaluation.status == "not exercised":
            print(f"not exercised: {evaluation.expression.source}: {evaluation.detail}")
    assert any(e.status == "ok" for e in report.evaluations)
    assert report.missing_metrics == []


def test_audited_turns_are_complete_traces_in_jaeger_without_message_text(
    reports: tuple[VerifyReport, VerifyReport],
) -> None:
    # Real spans through the real collector into the real Jaeger, checked against the
    # run's audit log: the tree, the GenAI attributes, no message text or user id.
    for report in reports:
        traces = report.traces
        assert traces is not None
        print(traces.summary())
        assert traces.error is None
        assert traces.checked == TRACE_TURNS
        assert traces.found == traces.complete == TRACE_TURNS
        assert traces.leaking == 0
        assert traces.passed


def test_the_quick_faults_reach_the_webhook(
    reports: tuple[VerifyReport, VerifyReport],
) -> None:
    # The agent service down, a tool-error burst, the collector down, Jaeger down.
    report, _ = reports
    by_name = {r.scenario.name: r for r in report.scenarios}
    assert set(by_name) == QUICK
    for result in by_name.values():
        assert result.error is None, result.error
        assert result.detected_s is not None
        assert result.unexpected == set(), result.unexpected
        assert result.failed_requests == {}, result.failed_requests
        print(f"{result.scenario.alert}: detected in {result.detected_s:.0f}s ({result.criterion})")


def test_a_renamed_metric_fails_naming_what_lost_data(
    reports: tuple[VerifyReport, VerifyReport], stack: Stack
) -> None:
    _, report = reports
    assert report.environment_error is None
    assert not report.passed
    index = CatalogIndex(stack)
    expressions = collect_expressions(stack, render_all(stack))
    rules = rule_index(expressions)
    readers = {
        e.source for e in expressions if RENAMED_METRIC in base_metrics(e.expr, rules, index)
    }
    assert readers  # the SLO panels, recording rules and alerts on user feedback
    failed = {e.expression.source for e in report.evaluations if e.failed}
    assert failed == readers
    assert [m.split(" ")[0] for m in report.missing_metrics] == [RENAMED_METRIC]
    text = format_report(report)
    assert "Panels and rules that failed or lost their data:" in text
    for source in readers:
        assert source in text
    assert text.rstrip().endswith(text.rstrip().splitlines()[-1])
    assert "stackgen verify: FAILED" in text


def test_every_process_and_database_is_gone(
    reports: tuple[VerifyReport, VerifyReport],
) -> None:
    pids = [pid for report in reports for pid in report.pids]
    databases = [name for report in reports for name in report.databases]
    # Per stack: the agent service (twice where restarted), Prometheus, Alertmanager,
    # Jaeger and the collector.
    assert len(pids) >= 5 * len(databases) >= 5 * 4
    for pid in pids:
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)
    left = asyncio.run(_databases_named(databases))
    assert left == []


async def _databases_named(names: list[str]) -> list[str]:
    connection = await asyncpg.connect(DEFAULT_ADMIN_DSN, timeout=5)
    try:
        rows = await connection.fetch(
            "SELECT datname FROM pg_database WHERE datname = ANY($1::text[])", names
        )
    finally:
        await connection.close()
    return [row["datname"] for row in rows]


def test_a_missing_environment_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    # Nothing listens on port 1: no PostgreSQL, so no stack can start.
    code = main(
        ["verify", "--scenarios", "none", "--database-url", "postgresql://postgres@127.0.0.1:1/x"]
    )
    assert code == 2
    assert "PostgreSQL at postgresql://postgres@127.0.0.1:1/x is not usable" in (
        capsys.readouterr().out
    )


def test_the_traffic_mix_reaches_every_agent_tool_and_complexity(tmp_path: Path) -> None:
    # The mix's turns, sent once to the real app on a real uvicorn server (SQLite audit).
    from agent_service.agents.tools import TOOLS
    from agent_service.app import create_app
    from agent_service.settings import Settings
    from specs.bestbox.metrics import AGENT_TYPES
    from tests.agent_service.servers import serving

    app = create_app(Settings(sqlite_path=tmp_path / "audit.sqlite3"))
    with serving(app) as url, httpx.Client(base_url=url, timeout=30) as client:
        for action in FULL_MIX:
            if action.kind in ("chat", "stream"):
                assert client.post("/chat", json={"message": action.text}).status_code == 200
        exposition = client.get("/metrics").text
    families = {f.name: f for f in text_string_to_metric_families(exposition)}
    tools = {s.labels["tool_name"] for s in families["tool_executions"].samples if s.value > 0}
    assert set(TOOLS) <= tools
    turns = {
        (s.labels["agent_type"], s.labels["complexity"])
        for s in families["agent_latency_seconds"].samples
        if s.name.endswith("_count") and s.value > 0
    }
    assert {agent for agent, _ in turns} == set(AGENT_TYPES)
    assert {complexity for _, complexity in turns} == {"simple", "complex"}


def test_sigterm_stops_every_process_it_started() -> None:
    # `stackgen verify` terminated mid-run (as `timeout` or CI would): every process it
    # started, each in its own process group, is stopped by PID before it exits.
    command = [sys.executable, "-m", "stackgen.cli", "verify", "--scenarios", "none"]
    verify = subprocess.Popen(
        command, cwd=REPO_ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    )
    lines: queue.Queue[str] = queue.Queue()
    stderr = verify.stderr
    assert stderr is not None
    threading.Thread(target=lambda: [lines.put(x) for x in stderr], daemon=True).start()
    pids: list[int] = []
    deadline = time.monotonic() + 120
    try:
        while time.monotonic() < deadline:
            try:
                line = lines.get(timeout=1)
            except queue.Empty:
                continue
            pids += [int(pid) for pid in re.findall(r", pid (\d+) ", line)]
            if "targets up" in line:
                break
        # alertmanager, jaeger, the collector, the real programs standing in for external
        # services (llama-server, node_exporter), the agent service, prometheus
        assert len(pids) == 5 + len(VERIFY.programs), pids
        verify.send_signal(signal.SIGTERM)
        assert verify.wait(timeout=90) == 128 + signal.SIGTERM
    finally:
        # A failed assertion above must not orphan the run's programs: SIGTERM lets it
        # stop them by PID; SIGKILL only when it does not exit.
        if verify.poll() is None:
            verify.send_signal(signal.SIGTERM)
            try:
                verify.wait(timeout=90)
            except subprocess.TimeoutExpired:
                verify.kill()
                verify.wait(timeout=10)
    for pid in pids:
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)
