"""The few Prometheus and Alertmanager HTTP API calls a verify run makes."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx

__all__ = ["PrometheusAPI", "QueryResult"]


@dataclass(frozen=True)
class QueryResult:
    error: str | None
    series: int  # samples of a vector, 1 for a scalar

    @property
    def ok(self) -> bool:
        return self.error is None


class PrometheusAPI:
    def __init__(self, base_url: str, timeout_s: float = 10.0) -> None:
        self.base_url = base_url
        self._client = httpx.Client(base_url=base_url, timeout=timeout_s)

    def close(self) -> None:
        self._client.close()

    def ready(self) -> bool:
        try:
            return self._client.get("/-/ready").status_code == 200
        except httpx.HTTPError:
            return False

    def query(self, expr: str) -> QueryResult:
        try:
            reply = self._client.get("/api/v1/query", params={"query": expr})
            body: dict[str, Any] = reply.json()
        except (httpx.HTTPError, ValueError) as error:
            return QueryResult(f"request failed: {error}", 0)
        if body.get("status") != "success":
            return QueryResult(f"{body.get('errorType')}: {body.get('error')}", 0)
        data = body["data"]
        if data["resultType"] in ("vector", "matrix"):
            return QueryResult(None, len(data["result"]))
        return QueryResult(None, 1)

    def values(self, expr: str) -> list[float]:
        """The sample values of an instant query (none when it fails or is empty)."""
        try:
            reply = self._client.get("/api/v1/query", params={"query": expr})
            body: dict[str, Any] = reply.json()
        except (httpx.HTTPError, ValueError):
            return []
        if body.get("status") != "success" or body["data"]["resultType"] != "vector":
            return []
        return [float(sample["value"][1]) for sample in body["data"]["result"]]

    def _data(self, path: str) -> Any:
        reply = self._client.get(path)
        reply.raise_for_status()
        return reply.json()["data"]

    def target_health(self) -> dict[str, str]:
        """Scrape job -> health of its (single) target."""
        targets = self._data("/api/v1/targets")["activeTargets"]
        return {t["labels"]["job"]: t["health"] for t in targets}

    def alertmanagers_found(self) -> int:
        return len(self._data("/api/v1/alertmanagers")["activeAlertmanagers"])

    def alerts(self) -> list[dict[str, Any]]:
        """Alerts pending or firing now (name, state, labels)."""
        alerts: list[dict[str, Any]] = self._data("/api/v1/alerts")["alerts"]
        return alerts

    def metric_names(self) -> set[str]:
        return set(self._data("/api/v1/label/__name__/values"))
