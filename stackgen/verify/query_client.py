"""Instant queries at a chosen time, with their values: the scale-out run asks the same
question of each Prometheus replica and of the store at the same moment."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import httpx

from stackgen.verify.answers import Answer, parse_answer

__all__ = ["QueryClient", "QueryFailed"]


class QueryFailed(RuntimeError):
    """The API refused the query or could not be reached."""


class QueryClient:
    """``/api/v1/query`` of a Prometheus or of a Thanos querier. ``params`` go with
    every query (Thanos: ``dedup``, ``partial_response``)."""

    def __init__(
        self, base_url: str, params: Mapping[str, str] | None = None, timeout_s: float = 15.0
    ) -> None:
        self.base_url = base_url
        self.params = dict(params or {})
        self._client = httpx.Client(base_url=base_url, timeout=timeout_s)

    def close(self) -> None:
        self._client.close()

    def data(self, expr: str, at: float, **params: str) -> dict[str, Any]:
        """The reply's ``data`` for ``expr`` evaluated at ``at`` (Unix seconds)."""
        query = {**self.params, **params, "query": expr, "time": f"{at:.3f}"}
        try:
            reply = self._client.get("/api/v1/query", params=query)
            body: dict[str, Any] = reply.json()
        except (httpx.HTTPError, ValueError) as error:
            raise QueryFailed(f"{self.base_url}: {error}") from error
        if body.get("status") != "success":
            raise QueryFailed(f"{body.get('errorType')}: {body.get('error')}")
        data: dict[str, Any] = body["data"]
        return data

    def answer(self, expr: str, at: float, drop: Iterable[str] = ()) -> Answer:
        """The values, or the failure as the answer's error."""
        try:
            return parse_answer(self.data(expr, at), drop)
        except QueryFailed as failed:
            return Answer({}, str(failed))
