"""``agent-service report weekly|monthly``: the argument parser and the command."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

from agent_service.default_stack import DEFAULT_STACK
from agent_service.reports.build import build_report
from agent_service.reports.period import KINDS, parse_end
from agent_service.reports.render import render_html, report_filename
from agent_service.reports.source import ReportSourceError
from agent_service.settings import Settings

__all__ = ["add_report_command", "run_report"]


def _end(text: str) -> datetime:
    try:
        return parse_end(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def add_report_command(commands: Any, settings: Settings) -> None:
    """The ``report`` sub-command on the ``agent-service`` parser."""
    report = commands.add_parser(
        "report",
        help="write a weekly or monthly HTML report from the audit log",
        description="Write a self-contained HTML report (inline SVG charts, no script) of a "
        "week or a calendar month: turns, sessions, users, satisfaction, latency and TTFT "
        "percentiles, SLA compliance against the stack spec's SLOs and alert targets, growth "
        "against the previous period, agent usage, tool error rates and the worst-rated "
        "answers. Reads the audit database; with --prometheus, also uptime and the SLOs "
        "as Prometheus measures them (if Prometheus cannot be reached the report is still "
        "written, with a note). Prints the path of the file written.",
        epilog="examples: agent-service report weekly  |  agent-service report monthly "
        "--end 2026-12-01 --out november.html --prometheus http://127.0.0.1:9090",
    )
    report.add_argument("kind", choices=KINDS, help="the period: 7 days, or a calendar month")
    report.add_argument(
        "--end",
        type=_end,
        help="end of the period, excluded: YYYY-MM-DD (midnight UTC) or an ISO-8601 "
        "date-time; default: this Monday (weekly) or the 1st of this month (monthly), "
        "i.e. the last complete period",
    )
    report.add_argument(
        "--out",
        help="the HTML file to write ('-': standard output); default: "
        "<stack>-<kind>-report-<first day>-to-<last day>.html in the current directory",
    )
    report.add_argument(
        "--database-url",
        default=settings.database_url,
        help="PostgreSQL audit log (postgresql://...); default: DATABASE_URL, else the SQLite file",
    )
    report.add_argument(
        "--sqlite-path",
        type=Path,
        default=settings.sqlite_path,
        help=f"the SQLite audit log when no database URL is set; default: AUDIT_SQLITE_PATH "
        f"or {settings.sqlite_path}",
    )
    report.add_argument(
        "--prometheus",
        default=os.environ.get("PROMETHEUS_URL") or None,
        metavar="URL",
        help="Prometheus base URL (e.g. http://127.0.0.1:9090) for uptime and SLO figures; "
        "default: PROMETHEUS_URL, else none",
    )


def run_report(args: argparse.Namespace) -> int:
    source = args.database_url or args.sqlite_path
    try:
        report = asyncio.run(
            build_report(source, args.kind, args.end, args.prometheus, stack=DEFAULT_STACK)
        )
    except ReportSourceError as error:
        print(f"agent-service: no report: {error}", file=sys.stderr)
        return 1
    html = render_html(report)
    if args.out == "-":
        sys.stdout.write(html)
        return 0
    path = Path(args.out or report_filename(report))
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(html, encoding="utf-8")
    except OSError as error:
        print(f"agent-service: cannot write {path}: {error.strerror or error}", file=sys.stderr)
        return 1
    print(path)
    return 0
