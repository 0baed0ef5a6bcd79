"""The verify run's tables: every expression with its result, and detection times."""

from __future__ import annotations

from collections.abc import Sequence

from stackgen.verify.expressions import Evaluation
from stackgen.verify.run import VerifyReport
from stackgen.verify.scenarios import ScenarioResult

__all__ = ["format_report"]

_EXPR_WIDTH = 70
# The success criterion: alerts detect issues in under a minute. Only critical alerts
# are held to it (warnings carry a longer `for` on purpose); shown for every scenario.
DETECTION_CRITERION_S = 60.0


def _table(header: Sequence[str], rows: list[Sequence[str]]) -> list[str]:
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    line = " | ".join(h.ljust(w) for h, w in zip(header, widths, strict=True))
    lines = [line, "-+-".join("-" * w for w in widths)]
    lines += [" | ".join(str(c).ljust(w) for c, w in zip(r, widths, strict=True)) for r in rows]
    return [row.rstrip() for row in lines]


def _short(expr: str) -> str:
    flat = " ".join(expr.split())
    return flat if len(flat) <= _EXPR_WIDTH else flat[: _EXPR_WIDTH - 3] + "..."


def _expression_rows(evaluations: list[Evaluation]) -> list[Sequence[str]]:
    rows: list[Sequence[str]] = []
    for e in evaluations:
        source = f"{'dashboard' if e.expression.kind == 'panel' else 'rule'} {e.expression.source}"
        result = e.status.upper() if e.failed else e.status
        if e.detail:
            result += f" ({e.detail})"
        rows.append((_short(e.expression.expr), source, result, str(e.series)))
    return rows


def _detection_rows(results: list[ScenarioResult]) -> list[Sequence[str]]:
    rows: list[Sequence[str]] = []
    for r in results:
        detected = f"{r.detected_s:.0f}s" if r.detected_s is not None else "-"
        if r.passed:
            verdict = "ok"
            if r.recorded_s is not None:
                verdict += " (recorded by the agent)"
        else:
            problems = [r.error] if r.error else []
            if r.detected_s is not None and r.detected_s > r.budget_s:
                problems.append("too slow")
            if r.unexpected:
                problems.append(f"also fired: {sorted(r.unexpected)}")
            if r.failed_requests:
                problems.append(f"requests failed: {r.failed_requests}")
            verdict = "FAIL: " + "; ".join(problems)
        within = (
            "-"
            if r.detected_s is None
            else ("yes" if r.detected_s < DETECTION_CRITERION_S else "no")
        )
        alert = r.scenario.alert or "none (quiet)"
        rows.append((r.scenario.title, alert, detected, within, r.criterion, verdict))
    return rows


# Enough to see what is wrong; the rest repeats it.
_TRACE_PROBLEMS_SHOWN = 10


def _trace_lines(report: VerifyReport) -> list[str]:
    traces = report.traces
    assert traces is not None
    lines = [traces.summary()]
    if traces.error:
        lines += [f"  {traces.error}"]
    bad = [r for r in traces.results if not r.ok]
    for result in bad[:_TRACE_PROBLEMS_SHOWN]:
        turn = result.turn
        what = result.leaks + result.problems if result.found else ["not found in Jaeger"]
        lines += [f"  turn {turn.message_id} (trace {turn.trace_id}): {'; '.join(what)}"]
    if len(bad) > _TRACE_PROBLEMS_SHOWN:
        lines += [f"  ... and {len(bad) - _TRACE_PROBLEMS_SHOWN} more"]
    return [*lines, ""]


def format_report(report: VerifyReport) -> str:
    lines: list[str] = []
    if report.evaluations:
        counts = {
            s: sum(1 for e in report.evaluations if e.status == s)
            for s in ("ok", "not exercised", "no data", "error")
        }
        lines += ["Expressions (evaluated by Prometheus against the live service)", ""]
        lines += _table(
            ("expression", "source", "result", "series"), _expression_rows(report.evaluations)
        )
        lines += ["", "expressions: " + ", ".join(f"{n} {s}" for s, n in counts.items()), ""]
    if report.missing_metrics:
        lines += ["Catalog metrics missing from Prometheus:"]
        lines += [f"  {m}" for m in report.missing_metrics]
        lines += [""]
    lost = [e for e in report.evaluations if e.failed]
    if lost:
        lines += ["Panels and rules that failed or lost their data:"]
        for e in lost:
            kind = "dashboard" if e.expression.kind == "panel" else "rule"
            lines += [f"  {kind} {e.expression.source}: {e.status} ({e.detail})"]
        lines += [""]
    if report.traces is not None:
        lines += _trace_lines(report)
    if report.scenarios:
        lines += ["Fault scenarios (fault onset to Alertmanager webhook)", ""]
        lines += _table(
            ("scenario", "alert", "detected in", "under 1 min", "criterion", "result"),
            _detection_rows(report.scenarios),
        )
        lines += [""]
    if report.environment_error:
        lines += [f"environment error: {report.environment_error}", ""]
    verdict = "passed" if report.passed else "FAILED"
    lines += [f"stackgen verify: {verdict} in {report.elapsed_s:.0f}s"]
    return "\n".join(lines) + "\n"
