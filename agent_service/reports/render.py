"""The report as one self-contained HTML page: inline CSS and SVG, no script, no
external reference. Jinja2 autoescaping is on: conversation text is user content.
Every figure carries its raw value in ``data-figure``/``data-value`` attributes so
tools (and tests) can read the page without parsing formatted text."""

from __future__ import annotations

import math
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from markupsafe import Markup

from agent_service.reports.build import Report
from agent_service.reports.charts import Bar, column_chart, row_chart
from agent_service.visible import shown

__all__ = ["render_html", "report_filename"]

TEMPLATES = Path(__file__).parent / "templates"


def raw(value: object) -> str:
    """A figure as a machine-readable attribute value ('' for none)."""
    if value is None:
        return ""
    if isinstance(value, float):
        return "" if not math.isfinite(value) else repr(value)
    return str(value)


def percent(value: float | None, digits: int = 1) -> str:
    return "n/a" if value is None else f"{value * 100:.{digits}f} %"


def number(value: float | None, digits: int = 0) -> str:
    if value is None:
        return "n/a"
    return f"{value:,.{digits}f}"


def change(value: float | None, unit: str) -> str:
    if value is None:
        return "n/a"
    arrow = "▲" if value > 0 else "▼" if value < 0 else "="
    return f"{arrow} {value:+.1f} {unit}"


def _environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        finalize=shown,  # NUL and lone surrogates from the audit log, made visible
    )
    env.filters.update(raw=raw, percent=percent, number=number, change=change)
    return env


def _charts(report: Report) -> dict[str, Markup]:
    figures = report.current
    days = column_chart(
        [
            Bar(day.day.strftime("%m-%d"), day.turns, f"{day.turns}", warn=False)
            for day in figures.days
        ],
        "Turns per day",
    )
    total = figures.totals.turns or 1
    agents = row_chart(
        [Bar(a.agent, a.turns, f"{a.turns} ({a.turns / total:.0%})") for a in figures.agents],
        "Turns per agent",
    )
    slos = row_chart(
        [
            Bar(s.name, s.ratio, percent(s.ratio, 2), warn=s.status == "missed")
            for s in report.slos
            if s.ratio is not None
        ],
        "SLO compliance from the audit log (share of good events; red: objective missed)",
        maximum=1.0,
    )
    tools = row_chart(
        [
            Bar(t.name, t.error_ratio or 0.0, percent(t.error_ratio), warn=(t.error_ratio or 0) > 0)
            for t in figures.tools
        ],
        "Error ratio per tool",
        maximum=max([t.error_ratio or 0 for t in figures.tools] + [0.01]),
    )
    return {"days": days, "agents": agents, "slos": slos, "tools": tools}


def render_html(report: Report) -> str:
    """The complete HTML document of ``report``."""
    template = _environment().get_template("report.html.j2")
    return template.render(r=report, charts=_charts(report))


def report_filename(report: Report) -> str:
    """A download name, e.g. ``bestbox-weekly-report-2026-11-09-to-2026-11-15.html``."""
    period = report.period
    return (
        f"{report.stack}-{period.kind}-report-{period.start:%Y-%m-%d}-to-"
        f"{period.last_day:%Y-%m-%d}.html"
    )
