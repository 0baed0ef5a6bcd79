"""A report: the figures of a period and the one before it, judged against the stack
spec's SLOs and alert targets, with Prometheus figures when a URL is given."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Literal

from agent_service.reports.figures import PeriodFigures, collect
from agent_service.reports.period import Kind, Period, default_end, report_period
from agent_service.reports.prometheus import (
    PrometheusFigures,
    PrometheusUnavailable,
    query_prometheus,
)
from agent_service.reports.source import ReportSource, open_reader
from agent_service.reports.targets import TARGETS, find_alert, guard_threshold
from stackgen.spec import SLO, Stack, alert_threshold

__all__ = ["Growth", "Report", "SloResult", "Status", "TargetCheck", "build_report"]

log = logging.getLogger(__name__)

Status = Literal["met", "missed", "no data"]


@dataclass(frozen=True)
class SloResult:
    name: str
    description: str
    objective: float  # percent, from the spec
    unit: str | None  # what the audit log counts: turns, tool calls; None: not recorded
    good: int
    total: int
    ratio: float | None
    status: Status
    prometheus_ratio: float | None = None
    prometheus_status: Status = "no data"


@dataclass(frozen=True)
class TargetCheck:
    """A figure of the period against an alert threshold of the spec."""

    key: str
    label: str
    value: float | None
    limit: float
    comparison: Literal["<=", ">="]
    source: str  # the alert of the stack whose threshold the limit is
    unit: Literal["s", "ratio"]
    status: Status


@dataclass(frozen=True)
class Growth:
    """A figure against the previous period: ``change`` in percent of the previous value
    (``%``), or in percentage points for ratios (``pp``); None when it has no meaning
    (no previous value, or a previous count of zero)."""

    key: str
    label: str
    current: float | None
    previous: float | None
    unit: Literal["%", "pp"]
    change: float | None


@dataclass(frozen=True)
class Report:
    stack: str
    period: Period
    current: PeriodFigures
    previous: PeriodFigures
    slos: tuple[SloResult, ...]
    targets: tuple[TargetCheck, ...]
    growth: tuple[Growth, ...]
    prometheus: PrometheusFigures | None
    generated_at: datetime
    notes: tuple[str, ...] = field(default=())


def _status(ratio: float | None, objective_percent: float) -> Status:
    if ratio is None:
        return "no data"
    return "met" if ratio * 100 >= objective_percent else "missed"


def _slo_results(
    slos: tuple[SLO, ...], figures: PeriodFigures, prometheus: PrometheusFigures | None
) -> tuple[SloResult, ...]:
    results = []
    for slo in slos:
        count = figures.slos[slo.name]
        remote = prometheus.slo_good_ratio.get(slo.name) if prometheus else None
        results.append(
            SloResult(
                name=slo.name,
                description=slo.description,
                objective=slo.objective,
                unit=count.unit,
                good=count.good,
                total=count.total,
                ratio=count.ratio,
                status=_status(count.ratio, slo.objective),
                prometheus_ratio=remote,
                prometheus_status=_status(remote, slo.objective),
            )
        )
    return tuple(results)


def _seconds(ms: int | None) -> float | None:
    return None if ms is None else ms / 1000


def _check(
    key: str,
    label: str,
    value: float | None,
    limit: float,
    comparison: Literal["<=", ">="],
    source: str,
    unit: Literal["s", "ratio"],
) -> TargetCheck:
    if value is None:
        status: Status = "no data"
    else:
        ok = value <= limit if comparison == "<=" else value >= limit
        status = "met" if ok else "missed"
    return TargetCheck(key, label, value, limit, comparison, source, unit, status)


def _targets(figures: PeriodFigures, stack: Stack) -> tuple[TargetCheck, ...]:
    totals, latency = figures.totals, figures.latency
    values = {
        "ttft_p95": _seconds(latency.ttft_p95_ms),
        "simple_p95": _seconds(latency.simple_p95_ms),
        "complex_p95": _seconds(latency.complex_p95_ms),
        "error_ratio": totals.error_ratio,
        "tool_error_ratio": totals.tool_error_ratio,
        "satisfaction": totals.satisfaction,
    }
    checks = []
    for target in TARGETS:
        alert = find_alert(stack, target.alert)
        if alert is None:
            continue
        value, label = values[target.key], target.label
        if target.key == "satisfaction":
            # Like the LowUserSatisfaction alert: too few ratings say nothing.
            min_ratings = guard_threshold(alert)
            if min_ratings is not None:
                label = f"{label} (positive / rated, at least {min_ratings:g} ratings)"
                value = value if totals.rated >= min_ratings else None
        checks.append(
            _check(
                target.key,
                label,
                value,
                alert_threshold(alert),
                target.comparison,
                target.alert,
                target.unit,
            )
        )
    return tuple(checks)


def _growth(
    key: str, label: str, current: float | None, previous: float | None, unit: Literal["%", "pp"]
) -> Growth:
    change: float | None = None
    if current is not None and previous is not None:
        if unit == "pp":
            change = (current - previous) * 100
        elif previous != 0:
            change = (current - previous) / previous * 100
    return Growth(key, label, current, previous, unit, change)


def _growths(now: PeriodFigures, before: PeriodFigures) -> tuple[Growth, ...]:
    a, b = now.totals, before.totals
    return (
        _growth("turns", "Turns", a.turns, b.turns, "%"),
        _growth("sessions", "Sessions", a.sessions, b.sessions, "%"),
        _growth("users", "Unique users", a.users, b.users, "%"),
        _growth(
            "messages_per_session",
            "Turns per session",
            a.messages_per_session,
            b.messages_per_session,
            "%",
        ),
        _growth("satisfaction", "Satisfaction", a.satisfaction, b.satisfaction, "pp"),
        _growth("error_ratio", "Error ratio", a.error_ratio, b.error_ratio, "pp"),
        _growth("latency_p95", "Latency P95 (ms)", now.latency.p95_ms, before.latency.p95_ms, "%"),
        _growth(
            "ttft_p95", "TTFT P95 (ms)", now.latency.ttft_p95_ms, before.latency.ttft_p95_ms, "%"
        ),
    )


async def build_report(
    source: ReportSource,
    kind: Kind,
    end: datetime | None = None,
    prometheus_url: str | None = None,
    *,
    stack: Stack,
    now: datetime | None = None,
    prometheus_timeout_s: float = 10.0,
) -> Report:
    """The report of the ``kind`` period ending (exclusively) at ``end`` (default: the
    last complete week or month), judged against ``stack``'s SLOs and alerts. ``source``
    is the service's audit store, a postgresql:// URL or a SQLite path. Raises
    ReportSourceError when the audit database cannot be read; an unreachable Prometheus
    only adds a note."""
    generated_at = now or datetime.now(UTC)
    period = report_period(kind, end or default_end(kind, generated_at))
    async with open_reader(source) as reader:
        current = await collect(reader, period, stack.slos)
        previous = await collect(reader, period.previous(), stack.slos, detail=False)
    notes: list[str] = []
    prometheus: PrometheusFigures | None = None
    if prometheus_url:
        try:
            prometheus = await query_prometheus(
                prometheus_url, period, stack.slos, timeout_s=prometheus_timeout_s
            )
        except PrometheusUnavailable as error:
            log.warning("report without Prometheus figures: %s", error)
            notes.append(f"Prometheus figures are missing: {error}")
    else:
        notes.append("Prometheus figures are not included (no Prometheus URL was given).")
    return Report(
        stack=stack.name,
        period=period,
        current=current,
        previous=previous,
        slos=_slo_results(stack.slos, current, prometheus),
        targets=_targets(current, stack),
        growth=_growths(current, previous),
        prometheus=prometheus,
        generated_at=generated_at,
        notes=tuple(notes),
    )
