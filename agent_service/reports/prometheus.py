"""Optional figures from Prometheus (its HTTP API, ``/api/v1/query`` evaluated at the
period's end over a window as long as the period): uptime of every scrape job and each
SLO's good ratio from the same expressions the generated recording rules use."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import httpx

from agent_service.reports.period import Period
from agent_service.reports.source import redact_url
from stackgen.spec import SLO

__all__ = ["PrometheusFigures", "PrometheusUnavailable", "query_prometheus"]


class PrometheusUnavailable(Exception):
    """Prometheus could not be queried; the report is written without its figures."""


@dataclass(frozen=True)
class PrometheusFigures:
    where: str  # the URL without credentials
    window: str  # the PromQL range used, e.g. 604800s
    uptime: dict[str, float]  # scrape job -> share of scrapes that succeeded
    slo_good_ratio: dict[str, float | None]  # SLO name -> good share (None: no data)


def uptime_expr(window: str) -> str:
    return f"avg by (job) (avg_over_time(up[{window}]))"


def slo_good_expr(slo: SLO, window: str) -> str:
    return f"1 - ({slo.sli.error_ratio_expr(window)})"


async def _query(client: httpx.AsyncClient, expr: str, at: float, where: str) -> list[Any]:
    try:
        response = await client.get("/api/v1/query", params={"query": expr, "time": f"{at:.3f}"})
    except httpx.HTTPError as error:
        raise PrometheusUnavailable(
            f"cannot reach Prometheus at {where}: {type(error).__name__}"
        ) from None
    try:
        body = response.json()
    except ValueError:
        body = {}
    if response.status_code != 200 or body.get("status") != "success":
        detail = body.get("error") or f"HTTP {response.status_code}"
        raise PrometheusUnavailable(f"Prometheus at {where} refused {expr!r}: {detail}")
    data = body.get("data", {})
    return list(data.get("result", [])) if data.get("resultType") == "vector" else []


def _number(sample: dict[str, Any]) -> float | None:
    value = float(sample["value"][1])
    return value if math.isfinite(value) else None


async def query_prometheus(
    url: str, period: Period, slos: Sequence[SLO], *, timeout_s: float = 10.0
) -> PrometheusFigures:
    where = redact_url(url)
    window = f"{period.seconds}s"
    at = period.end.timestamp()
    async with httpx.AsyncClient(base_url=url.rstrip("/"), timeout=timeout_s) as client:
        uptime: dict[str, float] = {}
        for sample in await _query(client, uptime_expr(window), at, where):
            value = _number(sample)
            if value is not None:
                uptime[str(sample["metric"].get("job", ""))] = value
        good: dict[str, float | None] = {}
        for slo in slos:
            result = await _query(client, slo_good_expr(slo, window), at, where)
            good[slo.name] = _number(result[0]) if result else None
    return PrometheusFigures(where, window, dict(sorted(uptime.items())), good)
