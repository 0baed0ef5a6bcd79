"""The verify-scale tables: expressions on every source, aggregates against the
replicas' /metrics, alert deliveries through the kills, the storage node's restart."""

from __future__ import annotations

import math
from collections.abc import Sequence

from stackgen.verify.answers import Comparison
from stackgen.verify.scale import ScaleReport

__all__ = ["format_scale_report"]

_EXPR_WIDTH = 60
_PROBLEMS_SHOWN = 2


def table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    """Columns padded to their widest cell, a rule under the header."""
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    lines = [" | ".join(h.ljust(w) for h, w in zip(header, widths, strict=True))]
    lines.append("-+-".join("-" * w for w in widths))
    lines += [" | ".join(str(c).ljust(w) for c, w in zip(r, widths, strict=True)) for r in rows]
    return [line.rstrip() for line in lines]


def _short(expr: str, width: int = _EXPR_WIDTH) -> str:
    flat = " ".join(expr.split())
    return flat if len(flat) <= width else flat[: width - 3] + "..."


def _difference(comparison: Comparison) -> str:
    if math.isinf(comparison.max_difference):
        return "-"
    return f"{comparison.max_difference:.1%}"


def _verdict(comparisons: Sequence[Comparison]) -> str:
    problems = [p for c in comparisons for p in c.problems]
    if not problems:
        return "equal"
    shown = "; ".join(problems[:_PROBLEMS_SHOWN])
    more = f" (+{len(problems) - _PROBLEMS_SHOWN} more)" if len(problems) > _PROBLEMS_SHOWN else ""
    return f"DIFFERS: {shown}{more}"


def _expression_lines(report: ScaleReport, sources: str) -> list[str]:
    rows = []
    for check in report.expressions:
        e = check.expression
        kind = "dashboard" if e.kind == "panel" else e.kind
        comparisons = [check.comparison] + ([check.signal] if check.signal else [])
        series = "/".join(str(n) for n in check.comparison.series)
        if check.signal is not None:
            series += " (signal " + "/".join(str(n) for n in check.signal.series) + ")"
        worst = max(comparisons, key=lambda c: c.max_difference)
        rows.append(
            (
                _short(e.expr),
                f"{kind} {_short(e.source, 50)}",
                check.moment,
                series,
                _difference(worst),
                _verdict(comparisons),
            )
        )
    agree = sum(1 for c in report.expressions if c.agrees)
    return [
        f"Expressions on {sources} (same instant; tolerance {report.tolerance.describe()} "
        "plus how far the series moves on one source within one sampling interval; "
        "expressions over windows under traffic, the others once traffic stopped)",
        "",
        *table(
            ("expression", "source", "compared", f"series {sources}", "max diff", "result"), rows
        ),
        "",
        f"expressions: {agree} of {len(report.expressions)} equal on every source",
        "",
    ]


def _aggregate_lines(report: ScaleReport, sources: str) -> list[str]:
    rows = []
    for check in report.aggregates:
        series = "/".join(str(n) for n in check.comparison.series)
        by = f"sum by ({', '.join(check.by)})"
        moving = str(check.moving) if check.moving else "-"
        rows.append((check.sample, by, series, moving, _verdict([check.comparison])))
    agree = sum(1 for c in report.aggregates if c.comparison.agrees)
    return [
        f"Aggregates on {sources} against the sum of the replicas' own /metrics (exact for "
        "counters and histograms, the tolerance for gauges; series that move with no "
        "traffic are left out)",
        "",
        *table(
            ("sample", "aggregate", f"series {sources}/metrics", "moving, left out", "result"),
            rows,
        ),
        "",
        f"aggregates: {agree} of {len(report.aggregates)} equal",
        "",
    ]


def _alert_lines(report: ScaleReport) -> list[str]:
    rows = []
    for a in report.alerts:
        d = a.deliveries
        firing = str(len(d.firing)) if d else "-"
        resolved = str(len(d.resolved)) if d else "-"
        detected = f"{a.detected_s:.0f}s" if a.detected_s is not None else "-"
        verdict = "exactly once" if a.passed else "FAIL" + (f": {a.error}" if a.error else "")
        others = ", ".join(a.others) or "none"
        rows.append(
            (
                a.scenario.title,
                a.scenario.alert or "-",
                detected,
                ", ".join(a.killed) or "-",
                firing,
                resolved,
                others,
                verdict,
            )
        )
    return [
        "Alerts through the kills (one Prometheus and one Alertmanager killed after the "
        "firing notification, started again)",
        "",
        *table(
            (
                "scenario",
                "alert",
                "fired after",
                "killed",
                "firing",
                "resolved",
                "other alerts",
                "result",
            ),
            rows,
        ),
        "",
    ]


def _storage_lines(report: ScaleReport) -> list[str]:
    s = report.storage
    assert s is not None
    c = s.continuity
    if c is None:
        row = (
            s.node,
            f"{s.down_s:g}s",
            "-",
            "-",
            "-",
            "-",
            f"{s.retried_samples:g}",
            f"FAIL: {s.error}",
        )
    else:
        verdict = (
            "no loss" if s.passed else "FAIL" + (f": {'; '.join(c.examples)}" if c.examples else "")
        )
        row = (
            s.node,
            f"{s.down_s:g}s",
            str(c.series),
            str(c.samples),
            str(c.lost),
            f"{c.max_gap_s:g}s (bound {s.gap_bound_s:g}s, replica's own {c.reference_gap_s:g}s)",
            f"{s.retried_samples:g}",
            verdict,
        )
    return [
        "Storage node killed and restarted (the store against the replica never killed)",
        "",
        *table(
            ("node", "down", "series", "samples", "lost", "max gap", "retried writes", "result"),
            [row],
        ),
        "",
    ]


def format_scale_report(report: ScaleReport) -> str:
    lines = [f"Topology: {report.topology}", ""] if report.topology else []
    sources = ""
    if report.expressions:
        names = list(("A", "B", "C", "D", "E")[: len(report.expressions[0].comparison.series) - 1])
        sources = "/".join([*names, "store"])
        lines += _expression_lines(report, sources)
    if report.aggregates:
        lines += _aggregate_lines(report, sources)
    if report.alerts:
        lines += _alert_lines(report)
    if report.storage is not None:
        lines += _storage_lines(report)
    if report.traffic:
        lines += [f"traffic: {dict(sorted(report.traffic.items()))}", ""]
    if report.pids:
        still = f"STILL RUNNING: {report.left_running}" if report.left_running else "all stopped"
        lines += [f"processes: {len(report.pids)} started (restarts included), {still}", ""]
    if report.environment_error:
        lines += [f"environment error: {report.environment_error}", ""]
    verdict = "passed" if report.passed else "FAILED"
    lines += [f"stackgen verify-scale: {verdict} in {report.elapsed_s:.0f}s"]
    return "\n".join(lines) + "\n"
