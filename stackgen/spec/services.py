"""Services of the stack and how Prometheus scrapes them."""

from __future__ import annotations

from enum import StrEnum
from typing import Self

from pydantic import Field, model_validator

from stackgen.spec.base import Duration, SpecModel

__all__ = ["MetricsFormat", "Scrape", "Service"]

SERVICE_NAME = r"^[a-z][a-z0-9-]*$"


class MetricsFormat(StrEnum):
    # The Prometheus text format or OpenMetrics: the only formats Prometheus can scrape.
    PROMETHEUS = "prometheus"
    # JSON health or status documents: not scrapeable; probe them instead.
    JSON = "json"
    # Plain text, HTML or anything else.
    OTHER = "other"


class Scrape(SpecModel):
    """How Prometheus scrapes a service: one scrape job named after the service."""

    spec_key = "path"

    path: str = Field(default="/metrics", pattern=r"^/")
    interval: Duration | None = None  # None: the global scrape interval
    format: MetricsFormat = MetricsFormat.PROMETHEUS
    scheme: str = Field(default="http", pattern=r"^https?$")


class Service(SpecModel):
    """A process the stack runs or reaches: inside compose, or on the host."""

    name: str = Field(pattern=SERVICE_NAME)
    description: str = Field(min_length=1)
    host: str = Field(min_length=1)
    port: int = Field(ge=1, le=65535)
    scrape: Scrape | None = None
    # Runs outside the compose project (e.g. llama-server on the GPU host).
    external: bool = False
    # Its outage is critical: covered by the ServiceDown alert.
    critical: bool = False
    # Memory the service may use (bytes); memory alerts compare against it.
    memory_limit_bytes: int | None = Field(default=None, ge=1)

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if self.critical and self.scrape is None:
            raise ValueError(
                "a critical service must be scraped: ServiceDown watches its `up` series"
            )
        return self

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"
