"""Service status for /admin: every service of the stack probed from the server (a
scraped service by an HTTP GET of its scrape endpoint, any other by a TCP connect),
with latency and the time of the check; results are cached for 30 s."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

import httpx

from stackgen.spec import Service

__all__ = ["ServiceProbe", "ServiceStatus"]

State = Literal["up", "degraded", "down"]


@dataclass(frozen=True)
class ServiceStatus:
    name: str
    description: str
    target: str
    state: State
    latency_ms: float | None
    checked_at: datetime
    detail: str


def _target(service: Service) -> str:
    if service.scrape is not None:
        return f"{service.scrape.scheme}://{service.address}{service.scrape.path}"
    return f"tcp://{service.address}"


class ServiceProbe:
    def __init__(
        self, services: Sequence[Service], *, timeout_s: float = 2.0, ttl_s: float = 30.0
    ) -> None:
        self.services = tuple(services)
        self.timeout_s = timeout_s
        self.ttl_s = ttl_s
        self._cached: tuple[float, list[ServiceStatus]] | None = None
        self._lock = asyncio.Lock()

    async def statuses(self) -> list[ServiceStatus]:
        """The cached statuses, probed again when older than the TTL (one probe at a
        time, however many pages ask)."""
        async with self._lock:
            now = time.monotonic()
            if self._cached is None or now - self._cached[0] >= self.ttl_s:
                self._cached = (now, await self.probe_all())
            return self._cached[1]

    async def probe_all(self) -> list[ServiceStatus]:
        async with httpx.AsyncClient(timeout=self.timeout_s, follow_redirects=False) as client:
            return list(await asyncio.gather(*(self._probe(client, s) for s in self.services)))

    async def _probe(self, client: httpx.AsyncClient, service: Service) -> ServiceStatus:
        target = _target(service)
        started = time.perf_counter()
        state: State
        try:
            if service.scrape is not None:
                response = await client.get(target)
                state = "up" if response.is_success else "degraded"
                detail = f"HTTP {response.status_code}"
            else:
                async with asyncio.timeout(self.timeout_s):
                    _, writer = await asyncio.open_connection(service.host, service.port)
                writer.close()
                await writer.wait_closed()
                state, detail = "up", "TCP connect"
        except (httpx.HTTPError, OSError, TimeoutError) as error:
            return ServiceStatus(
                service.name,
                service.description,
                target,
                "down",
                None,
                datetime.now(UTC),
                type(error).__name__,
            )
        latency_ms = (time.perf_counter() - started) * 1000
        return ServiceStatus(
            service.name, service.description, target, state, latency_ms, datetime.now(UTC), detail
        )
