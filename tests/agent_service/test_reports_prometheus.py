"""The report's Prometheus figures from a real Prometheus (Debian's 2.42) on 127.0.0.1:
a week of series is backfilled with ``promtool tsdb create-blocks-from openmetrics``,
Prometheus serves it, and the uptime and SLO ratios on the page are checked against
values computed here from the series written."""

from __future__ import annotations

import random
import socket
import subprocess
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import httpx
import pytest

from agent_service.cli import main
from tests.agent_service.databases import audit_database
from tests.agent_service.report_data import WEEK_END, WEEK_START, ReportPage, seed
from tests.conftest import tool_path

STEP = timedelta(minutes=5)
STEPS = int((WEEK_END - WEEK_START) / STEP)  # samples 1..STEPS lie inside the week
OUTSIDE = 12  # samples before and after the week that must not count
TTFT_LE = ("0.5", "1.0", "2.0", "5.0", "+Inf")


class Series:
    """Values of one series at steps -OUTSIDE..STEPS+OUTSIDE (step 0 is never written:
    Prometheus 2.x range selectors include their left end)."""

    def __init__(self, name: str, labels: dict[str, str]) -> None:
        self.line = name + "{" + ",".join(f'{k}="{v}"' for k, v in sorted(labels.items())) + "}"
        self.values: dict[int, float] = {}

    def openmetrics(self) -> str:
        start = WEEK_START.timestamp()
        return "".join(
            f"{self.line} {value:g} {start + step * STEP.total_seconds():.0f}\n"
            for step, value in sorted(self.values.items())
        )

    def in_week(self) -> list[float]:
        return [self.values[s] for s in range(1, STEPS + 1)]

    def increase(self) -> float:
        return self.values[STEPS] - self.values[1]


def _steps() -> list[int]:
    return [s for s in range(-OUTSIDE, STEPS + OUTSIDE + 1) if s != 0]


def _week_series() -> dict[str, list[Series]]:
    rng = random.Random(42)
    api_up = Series("up", {"job": "agent-api", "instance": "agent-api:8000"})
    db_up = Series("up", {"job": "postgres", "instance": "postgres-exporter:9187"})
    for step in _steps():
        inside = 1 <= step <= STEPS
        api_up.values[step] = (1.0 if rng.random() > 0.03 else 0.0) if inside else 0.0
        db_up.values[step] = 1.0
    requests = [
        Series("agent_requests_total", {"job": "agent-api", "agent_type": a, "status": s})
        for a in ("erp", "crm")
        for s in ("success", "error")
    ]
    tools = [
        Series("tool_executions_total", {"job": "agent-api", "tool_name": t, "status": s})
        for t in ("search_orders", "kb_search")
        for s in ("success", "error")
    ]
    buckets = [
        Series("agent_ttft_seconds_bucket", {"job": "agent-api", "agent_type": "erp", "le": le})
        for le in TTFT_LE
    ]
    count = Series("agent_ttft_seconds_count", {"job": "agent-api", "agent_type": "erp"})
    totals = {id(s): 1000.0 for s in [*requests, *tools, *buckets, count]}
    for step in _steps():
        for series in [*requests, *tools]:
            bad = series.line.find('status="error"') >= 0
            totals[id(series)] += rng.randrange(0, 3) if bad else rng.randrange(5, 40)
            series.values[step] = totals[id(series)]
        # New first tokens this step, spread over the buckets (cumulative).
        new = [rng.randrange(0, 12), rng.randrange(0, 8), rng.randrange(0, 5), rng.randrange(0, 3)]
        cumulative = 0
        for series, added in zip(buckets, [*new, 0], strict=True):
            cumulative += added
            totals[id(series)] += cumulative
            series.values[step] = totals[id(series)]
        totals[id(count)] += cumulative
        count.values[step] = totals[id(count)]
    return {
        "up": [api_up, db_up],
        "requests": requests,
        "tools": tools,
        "buckets": buckets,
        "count": [count],
    }


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="module")
def prometheus(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[str, dict[str, list[Series]]]]:
    prometheus_bin, promtool = tool_path("prometheus"), tool_path("promtool")
    base = tmp_path_factory.mktemp("prometheus")
    series = _week_series()
    data = base / "openmetrics.txt"
    # One family after the other, as OpenMetrics requires.
    data.write_text(
        "".join(s.openmetrics() for group in series.values() for s in group) + "# EOF\n"
    )
    subprocess.run(
        # One block for the fortnight instead of 2-hour ones: a second instead of 16.
        [
            promtool,
            "tsdb",
            "create-blocks-from",
            "openmetrics",
            "--max-block-duration=336h",
            str(data),
            str(base / "tsdb"),
        ],
        check=True,
        capture_output=True,
        timeout=120,
    )
    (base / "prometheus.yml").write_text("global:\n  scrape_interval: 1m\n")
    port = _free_port()
    process = subprocess.Popen(
        [
            prometheus_bin,
            f"--config.file={base / 'prometheus.yml'}",
            f"--storage.tsdb.path={base / 'tsdb'}",
            "--storage.tsdb.retention.time=100y",
            f"--web.listen-address=127.0.0.1:{port}",
        ],
        stdout=subprocess.DEVNULL,
        stderr=(base / "prometheus.log").open("w"),
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{url}/-/ready", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(
                    "Prometheus did not start: " + (base / "prometheus.log").read_text()[-2000:]
                )
            time.sleep(0.2)
        yield url, series
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


def test_prometheus_figures_on_the_weekly_page(
    prometheus: tuple[str, dict[str, list[Series]]], tmp_path: Path
) -> None:
    url, series = prometheus
    with audit_database("sqlite", tmp_path) as db:
        seed(db)
        out = tmp_path / "weekly.html"
        code = main(
            [
                "report",
                "weekly",
                "--end",
                WEEK_END.date().isoformat(),
                "--out",
                str(out),
                "--sqlite-path",
                str(db.sqlite_path),
                "--prometheus",
                url,
            ]
        )
        assert code == 0
        html = out.read_text(encoding="utf-8")
    page = ReportPage(html)
    assert "Prometheus figures are missing" not in html

    api_up = series["up"][0]
    expected_uptime = sum(api_up.in_week()) / STEPS
    assert 0.9 < expected_uptime < 1.0
    assert page.number("prometheus.uptime.agent-api") == pytest.approx(expected_uptime, rel=1e-9)
    assert page.number("prometheus.uptime.postgres") == pytest.approx(1.0, rel=1e-9)

    # rate() extrapolates every series of the same timestamps by the same factor, so a
    # ratio of summed rates is the ratio of the increases inside the week.
    def bad_share(group: list[Series]) -> float:
        errors = sum(s.increase() for s in group if 'status="error"' in s.line)
        return errors / sum(s.increase() for s in group)

    assert page.number("slo.request-availability.prometheus_ratio") == pytest.approx(
        1 - bad_share(series["requests"]), rel=1e-9
    )
    assert page.number("slo.tool-success.prometheus_ratio") == pytest.approx(
        1 - bad_share(series["tools"]), rel=1e-9
    )
    within_2s = next(s for s in series["buckets"] if 'le="2.0"' in s.line)
    assert page.number("slo.ttft-under-2s.prometheus_ratio") == pytest.approx(
        within_2s.increase() / series["count"][0].increase(), rel=1e-9
    )
    # Nothing was recorded for these: no data, not zero.
    for name in ("simple-turn-latency", "complex-turn-latency", "user-satisfaction"):
        assert page.figures[f"slo.{name}.prometheus_ratio"] == ""
        assert page.figures[f"slo.{name}.prometheus_status"] == "no data"
    assert page.figures["slo.request-availability.prometheus_status"] in ("met", "missed")
