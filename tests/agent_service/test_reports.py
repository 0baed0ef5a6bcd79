"""``agent-service report``: a seeded week (and the week before) in a real PostgreSQL on
127.0.0.1 and in SQLite; the real CLI writes the page and every figure on it is checked
against SQL this test runs itself on the tables (report_data.Expected)."""

from __future__ import annotations

import asyncio
import contextlib
import io
import logging
import math
import re
import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from agent_service.cli import main
from agent_service.reports import build_report, render_html, report_filename
from agent_service.store import open_store
from specs.bestbox import alerts as targets
from specs.bestbox import stack as bestbox_stack
from specs.bestbox.slos import SLOS
from tests.agent_service.databases import AuditDatabase, audit_database
from tests.agent_service.report_data import (
    HOSTILE_COMMENT,
    HOSTILE_ID,
    HOSTILE_MESSAGE,
    PREVIOUS_START,
    WEEK_END,
    WEEK_START,
    Expected,
    ReportPage,
    seed,
)

SECRETS = {
    "ADMIN_PASSWORD": "adm1n-Secret-Value-7731",
    "ADMIN_PASSWORD_HASH": "$argon2id$v=19$m=65536,t=3,p=4$c2FsdHNhbHQ$Hash0fTheAdminPw",
    "POSTGRES_PASSWORD": "pg-Secret-Value-4412",
    "GF_SECURITY_ADMIN_PASSWORD": "graf-Secret-Value-9090",
}
# Trust authentication on the test cluster ignores the password; it must never show.
URL_PASSWORD = "url-Secret-Value-5150"


@pytest.fixture(scope="module", params=["postgres", "sqlite"])
def seeded(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[AuditDatabase]:
    with audit_database(request.param, tmp_path_factory.mktemp(request.param)) as db:
        seed(db)
        yield db


def _source_args(db: AuditDatabase) -> list[str]:
    if db.database_url is None:
        return ["--sqlite-path", str(db.sqlite_path)]
    return ["--database-url", db.database_url.replace("postgres@", f"postgres:{URL_PASSWORD}@")]


@pytest.fixture(scope="module")
def weekly(seeded: AuditDatabase, tmp_path_factory: pytest.TempPathFactory) -> tuple[str, str]:
    """The weekly page of the seeded week, and everything the CLI printed or logged."""
    out = tmp_path_factory.mktemp("out") / "weekly.html"
    with pytest.MonkeyPatch.context() as env:
        for name, value in SECRETS.items():
            env.setenv(name, value)
        env.delenv("DATABASE_URL", raising=False)
        env.delenv("PROMETHEUS_URL", raising=False)
        capture = _Capture()
        with capture:
            code = main(
                [
                    "report",
                    "weekly",
                    "--end",
                    "2026-11-16",
                    "--out",
                    str(out),
                    *_source_args(seeded),
                ]
            )
    assert code == 0, capture.text
    assert capture.stdout.strip() == str(out)
    return out.read_text(encoding="utf-8"), capture.text


class _Capture:
    """stdout, stderr and log records while the CLI runs (module-scoped fixtures cannot
    use capsys/caplog)."""

    def __enter__(self) -> None:
        self._out, self._err = io.StringIO(), io.StringIO()
        self._handler = logging.StreamHandler(self._err)
        logging.getLogger().addHandler(self._handler)
        self._stack = contextlib.ExitStack()
        self._stack.enter_context(contextlib.redirect_stdout(self._out))
        self._stack.enter_context(contextlib.redirect_stderr(self._err))

    def __exit__(self, *exc: object) -> None:
        self._stack.close()
        logging.getLogger().removeHandler(self._handler)

    @property
    def stdout(self) -> str:
        return self._out.getvalue()

    @property
    def text(self) -> str:
        return self._out.getvalue() + self._err.getvalue()


def _close(actual: float | None, expected: float | None) -> bool:
    if expected is None or actual is None:
        return actual is expected
    return math.isclose(actual, expected, rel_tol=1e-9, abs_tol=1e-9)


def test_weekly_totals_match_sql(seeded: AuditDatabase, weekly: tuple[str, str]) -> None:
    page = ReportPage(weekly[0])
    sql = Expected(seeded, WEEK_START, WEEK_END).counts()
    assert sql["turns"] > 500  # the seeded week, boundary rows included
    for key in (
        "turns",
        "sessions",
        "users",
        "errors",
        "rated",
        "positive",
        "negative",
        "prompt_tokens",
        "completion_tokens",
    ):
        assert page.number(key) == int(sql[key]), key
    assert _close(page.number("satisfaction"), sql["positive"] / sql["rated"])
    assert _close(page.number("error_ratio"), sql["errors"] / sql["turns"])
    assert _close(page.number("messages_per_session"), sql["turns"] / sql["sessions"])
    assert page.figures["worst.count"] == str(sql["negative"])


def test_weekly_percentiles_match_sql(seeded: AuditDatabase, weekly: tuple[str, str]) -> None:
    page = ReportPage(weekly[0])
    sql = Expected(seeded, WEEK_START, WEEK_END)
    tools = sql.tool_count()
    expected = {
        "latency_p50_ms": sql.percentile("latency_ms", 0.5),
        "latency_p95_ms": sql.percentile("latency_ms", 0.95),
        "ttft_p50_ms": sql.percentile("ttft_ms", 0.5),
        "ttft_p95_ms": sql.percentile("ttft_ms", 0.95),
        "simple_p95_ms": sql.percentile("latency_ms", 0.95, f"{tools} <= 1"),
        "complex_p95_ms": sql.percentile("latency_ms", 0.95, f"{tools} > 1"),
    }
    assert all(v is not None for v in expected.values())
    for key, value in expected.items():
        assert page.number(key) == value, key


def test_weekly_agents_tools_and_days_match_sql(
    seeded: AuditDatabase, weekly: tuple[str, str]
) -> None:
    page = ReportPage(weekly[0])
    sql = Expected(seeded, WEEK_START, WEEK_END)
    agents = sql.agents()
    assert len(agents) == 5
    for agent, counts in agents.items():
        for key, value in counts.items():
            assert page.number(f"agent.{agent}.{key}") == value, (agent, key)
    tools = sql.tools()
    assert len(tools) == 5 and sum(e for _, e in tools.values()) > 0
    for name, (calls, errors) in tools.items():
        assert page.number(f"tool.{name}.calls") == calls
        assert page.number(f"tool.{name}.errors") == errors
        assert _close(page.number(f"tool.{name}.error_ratio"), errors / calls)
    assert page.number("tool_calls") == sum(c for c, _ in tools.values())
    assert page.number("tool_errors") == sum(e for _, e in tools.values())
    days = sql.days()
    assert len(days) == 7
    for day, count in days.items():
        assert page.number(f"day.{day}.turns") == count


def test_weekly_sla_compliance_against_the_spec(
    seeded: AuditDatabase, weekly: tuple[str, str]
) -> None:
    page = ReportPage(weekly[0])
    sql = Expected(seeded, WEEK_START, WEEK_END)
    by_name = {slo.name: slo for slo in SLOS}
    tools = sql.tool_count()
    ttft_ms = by_name["ttft-under-2s"].sli.threshold * 1000
    simple_ms = by_name["simple-turn-latency"].sli.threshold * 1000
    complex_ms = by_name["complex-turn-latency"].sli.threshold * 1000
    tool_calls = sql.tools()
    expected = {
        "ttft-under-2s": sql.good_and_total(f"ttft_ms <= {ttft_ms}", "ttft_ms IS NOT NULL"),
        "simple-turn-latency": sql.good_and_total(f"latency_ms <= {simple_ms}", f"{tools} <= 1"),
        "complex-turn-latency": sql.good_and_total(f"latency_ms <= {complex_ms}", f"{tools} > 1"),
        "request-availability": sql.good_and_total("error IS NULL"),
        "tool-success": (
            sum(c - e for c, e in tool_calls.values()),
            sum(c for c, _ in tool_calls.values()),
        ),
        "user-satisfaction": sql.good_and_total(
            "user_feedback = 'positive'", "user_feedback IS NOT NULL"
        ),
    }
    assert set(expected) == set(by_name)  # a new SLO needs its expectation here
    statuses = set()
    for name, (good, total) in expected.items():
        assert page.number(f"slo.{name}.good") == good, name
        assert page.number(f"slo.{name}.total") == total, name
        assert _close(page.number(f"slo.{name}.ratio"), good / total), name
        assert page.number(f"slo.{name}.objective") == by_name[name].objective
        status = "met" if good / total * 100 >= by_name[name].objective else "missed"
        assert page.figures[f"slo.{name}.status"] == status, name
        statuses.add(status)
    assert statuses == {"met", "missed"}  # the data exercises both outcomes

    counts = sql.counts()
    checks = {
        "ttft_p95": (sql.percentile("ttft_ms", 0.95) / 1000, targets.TTFT_TARGET_SECONDS, "<="),
        "error_ratio": (counts["errors"] / counts["turns"], targets.ERROR_RATIO_LIMIT, "<="),
        "satisfaction": (counts["positive"] / counts["rated"], targets.SATISFACTION_FLOOR, ">="),
    }
    for key, (value, limit, comparison) in checks.items():
        assert _close(page.number(f"target.{key}.value"), value), key
        ok = value <= limit if comparison == "<=" else value >= limit
        assert page.figures[f"target.{key}.status"] == ("met" if ok else "missed"), key


def test_weekly_growth_against_the_previous_week(
    seeded: AuditDatabase, weekly: tuple[str, str]
) -> None:
    page = ReportPage(weekly[0])
    now = Expected(seeded, WEEK_START, WEEK_END)
    before = Expected(seeded, PREVIOUS_START, WEEK_START)
    a, b = now.counts(), before.counts()
    assert b["turns"] > 300
    for key in ("turns", "sessions", "users"):
        assert page.number(f"growth.{key}.previous") == b[key]
        assert _close(page.number(f"growth.{key}.change"), (a[key] - b[key]) / b[key] * 100), key
    sat_now, sat_before = a["positive"] / a["rated"], b["positive"] / b["rated"]
    assert _close(page.number("growth.satisfaction.change"), (sat_now - sat_before) * 100)
    p95_now, p95_before = now.percentile("latency_ms", 0.95), before.percentile("latency_ms", 0.95)
    assert p95_now is not None and p95_before is not None
    assert page.number("growth.latency_p95.previous") == p95_before
    assert _close(
        page.number("growth.latency_p95.change"), (p95_now - p95_before) / p95_before * 100
    )


def test_worst_rated_answers_are_listed_and_escaped(
    seeded: AuditDatabase, weekly: tuple[str, str]
) -> None:
    html = weekly[0]
    page = ReportPage(html)
    expected = Expected(seeded, WEEK_START, WEEK_END).worst_ids()
    assert page.worst == expected
    assert page.worst[0] == HOSTILE_ID  # commented, and the latest
    # Escaped: the markup is text on the page, never a tag.
    assert '<script>alert("pwn")</script>' not in html
    assert "<img src=x" not in html
    assert "&lt;script&gt;" in html and "&lt;img src=x onerror=alert(1)&gt;" in html
    shown = page.user_messages[0]
    assert shown.startswith(HOSTILE_MESSAGE[:60]) and len(shown) < len(HOSTILE_MESSAGE)
    assert HOSTILE_COMMENT.split(">")[1].strip() in html


def test_page_is_self_contained_and_holds_no_secret(weekly: tuple[str, str]) -> None:
    html, printed = weekly
    page = ReportPage(html)
    tags = {tag for tag, _ in page.tags}
    assert {"svg", "rect", "table"} <= tags
    assert not tags & {"script", "link", "iframe", "img", "object", "embed"}
    for tag, attrs in page.tags:
        for name in ("src", "href", "xlink:href", "action", "srcset"):
            assert name not in attrs, (tag, attrs)
    assert not re.search(r"https?://|url\(|@import", html, re.IGNORECASE)
    for text in (html, printed):
        for secret in (*SECRETS.values(), URL_PASSWORD):
            assert secret not in text


def test_monthly_report_covers_the_calendar_month(tmp_path: Path) -> None:
    with audit_database("sqlite", tmp_path) as db:
        seed(db)
        out = tmp_path / "month.html"
        code = main(
            [
                "report",
                "monthly",
                "--end",
                "2026-12-01",
                "--out",
                str(out),
                "--sqlite-path",
                str(db.sqlite_path),
            ]
        )
        assert code == 0
        page = ReportPage(out.read_text(encoding="utf-8"))
        november = Expected(
            db, datetime(2026, 11, 1, tzinfo=UTC), datetime(2026, 12, 1, tzinfo=UTC)
        )
        october = Expected(db, datetime(2026, 10, 1, tzinfo=UTC), datetime(2026, 11, 1, tzinfo=UTC))
        assert page.number("turns") == november.counts()["turns"]
        assert page.number("growth.turns.previous") == october.counts()["turns"] > 0
        assert len([k for k in page.figures if k.startswith("day.") and k.endswith(".turns")]) == 30
        # October against an empty September: no percent change from zero.
        code = main(
            [
                "report",
                "monthly",
                "--end",
                "2026-11-01",
                "--out",
                str(out),
                "--sqlite-path",
                str(db.sqlite_path),
            ]
        )
        page = ReportPage(out.read_text(encoding="utf-8"))
        assert page.number("turns") == october.counts()["turns"]
        assert page.number("growth.turns.previous") == 0
        assert page.figures["growth.turns.change"] == ""


def test_unreachable_database_is_a_clear_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "r.html"
    url = f"postgresql://postgres:{URL_PASSWORD}@127.0.0.1:1/audit"
    assert main(["report", "weekly", "--out", str(out), "--database-url", url]) == 1
    err = capsys.readouterr().err
    assert "cannot connect to PostgreSQL postgresql://postgres@127.0.0.1:1/audit" in err
    assert URL_PASSWORD not in err and not out.exists()


def test_missing_or_unmigrated_sqlite_is_a_clear_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "none.sqlite3"
    assert main(["report", "weekly", "--sqlite-path", str(missing), "--out", "-"]) == 1
    assert "no audit database at SQLite" in capsys.readouterr().err
    assert not missing.exists()  # a report never creates a database
    sqlite3.connect(tmp_path / "empty.sqlite3").close()
    assert main(["report", "weekly", "--sqlite-path", str(tmp_path / "empty.sqlite3")]) == 1
    assert "agent-service migrate" in capsys.readouterr().err


def test_bad_date_is_rejected(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["report", "weekly", "--end", "2026-13-45"])
    assert exit_.value.code == 2
    assert "'2026-13-45' is not a date" in capsys.readouterr().err


def test_unreachable_prometheus_still_writes_the_report(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    with audit_database("sqlite", tmp_path) as db:
        seed(db)
        out = tmp_path / "r.html"
        prometheus = f"http://admin:{URL_PASSWORD}@127.0.0.1:1"
        args = [
            "report",
            "weekly",
            "--end",
            "2026-11-16",
            "--out",
            str(out),
            "--sqlite-path",
            str(db.sqlite_path),
            "--prometheus",
            prometheus,
        ]
        assert main(args) == 0
        html = out.read_text(encoding="utf-8")
        page = ReportPage(html)
        assert page.number("turns") == Expected(db, WEEK_START, WEEK_END).counts()["turns"]
        assert (
            "Prometheus figures are missing: cannot reach Prometheus at "
            "http://admin@127.0.0.1:1" in html
        )
        assert 'id="prometheus"' not in html
        printed = capsys.readouterr()
        for text in (html, printed.out, printed.err, caplog.text):
            assert URL_PASSWORD not in text
        assert "cannot reach Prometheus" in caplog.text


def test_library_api_for_the_admin_download(seeded: AuditDatabase) -> None:
    """What /admin calls: build_report on the service's own store, then render_html."""
    store = open_store(seeded.database_url, seeded.sqlite_path)
    try:
        report = asyncio.run(build_report(store, "weekly", WEEK_END, stack=bestbox_stack))
    finally:
        asyncio.run(store.close())
    html = render_html(report)
    assert report_filename(report) == "bestbox-weekly-report-2026-11-09-to-2026-11-15.html"
    page = ReportPage(html)
    assert page.number("turns") == Expected(seeded, WEEK_START, WEEK_END).counts()["turns"]
    assert html.startswith("<!DOCTYPE html>")


def test_the_targets_are_the_given_stacks_alerts(seeded: AuditDatabase) -> None:
    """Each target is its alert's threshold in the stack the report is built for: a
    stricter HighErrorRate moves the limit, a stack without LowUserSatisfaction has no
    satisfaction target."""
    error_alert = next(a for a in bestbox_stack.alerts if a.name == "HighErrorRate")
    stricter = error_alert.model_copy(
        update={"expr": error_alert.expr.replace(f"> {targets.ERROR_RATIO_LIMIT:g}", "> 0.001")}
    )
    assert stricter.expr != error_alert.expr
    variant = bestbox_stack.model_copy(
        update={
            "alerts": tuple(
                stricter if alert is error_alert else alert
                for alert in bestbox_stack.alerts
                if alert.name != "LowUserSatisfaction"
            )
        }
    )
    store = open_store(seeded.database_url, seeded.sqlite_path)
    try:
        usual = asyncio.run(build_report(store, "weekly", WEEK_END, stack=bestbox_stack))
        varied = asyncio.run(build_report(store, "weekly", WEEK_END, stack=variant))
    finally:
        asyncio.run(store.close())
    usual_checks = {check.key: check for check in usual.targets}
    varied_checks = {check.key: check for check in varied.targets}
    assert usual_checks["error_ratio"].limit == targets.ERROR_RATIO_LIMIT
    assert usual_checks["error_ratio"].source == "HighErrorRate"
    assert usual_checks["satisfaction"].limit == targets.SATISFACTION_FLOOR
    assert f"at least {targets.MIN_RATINGS} ratings" in usual_checks["satisfaction"].label
    assert varied_checks["error_ratio"].limit == 0.001
    assert varied_checks["error_ratio"].status == "missed"  # the seeded week has errors
    assert set(varied_checks) == set(usual_checks) - {"satisfaction"}
    assert 'data-figure="target.satisfaction.value"' in render_html(usual)
    assert 'data-figure="target.satisfaction.value"' not in render_html(varied)


def test_empty_period_reports_no_data(tmp_path: Path) -> None:
    with audit_database("sqlite", tmp_path) as db:
        seed(db)
        out = tmp_path / "empty.html"
        args = [
            "report",
            "weekly",
            "--end",
            "2026-01-05",
            "--out",
            str(out),
            "--sqlite-path",
            str(db.sqlite_path),
        ]
        assert main(args) == 0
        page = ReportPage(out.read_text(encoding="utf-8"))
    assert page.number("turns") == 0 and page.figures["satisfaction"] == ""
    assert page.figures["latency_p95_ms"] == "" and page.worst == []
    assert {page.figures[f"slo.{slo.name}.status"] for slo in SLOS} == {"no data"}
    assert page.figures["target.ttft_p95.status"] == "no data"
