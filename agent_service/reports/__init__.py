"""Weekly and monthly reports from the audit log (and Prometheus when given).

For a download (``/admin``)::

    report = await build_report(store, "weekly", stack=stack)   # or a URL / SQLite path
    html, filename = render_html(report), report_filename(report)
"""

from __future__ import annotations

from agent_service.reports.build import Growth, Report, SloResult, TargetCheck, build_report
from agent_service.reports.period import KINDS, Kind, Period, parse_end, report_period
from agent_service.reports.prometheus import PrometheusUnavailable
from agent_service.reports.render import render_html, report_filename
from agent_service.reports.source import ReportSourceError

__all__ = [
    "KINDS",
    "Growth",
    "Kind",
    "Period",
    "PrometheusUnavailable",
    "Report",
    "ReportSourceError",
    "SloResult",
    "TargetCheck",
    "build_report",
    "parse_end",
    "render_html",
    "report_filename",
    "report_period",
]
