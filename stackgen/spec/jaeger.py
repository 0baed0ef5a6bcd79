"""Jaeger v2: trace storage and query, OTLP in from the collector.

Jaeger v2 is an OpenTelemetry collector distribution: its configuration is a collector
file with Jaeger's own extensions (``jaeger_storage``, ``jaeger_query``). It has no
``resource`` processor and only the ``healthcheckv2`` extension, so the model offers
neither the collector's processor chain nor its ``health_check``.
"""

from __future__ import annotations

from typing import Self

from pydantic import Field, model_validator

from stackgen.spec.base import SpecModel, distinct_ports
from stackgen.spec.collector import PINNED_IMAGE, Port

__all__ = ["Jaeger"]


class Jaeger(SpecModel):
    """jaegertracing/jaeger (v2), as the compose service ``host``."""

    spec_key = "host"

    image: str = Field(default="jaegertracing/jaeger:2.13.0", pattern=PINNED_IMAGE)
    # The compose service name the collector and Grafana reach it by.
    host: str = Field(default="jaeger", pattern=r"^[a-z][a-z0-9-]*$")
    # Inside the container every interface; the local profile binds 127.0.0.1.
    listen_host: str = Field(default="0.0.0.0", pattern=r"^[0-9.]+$")
    # OTLP over gRPC only: the collector is the one sender.
    otlp_grpc_port: Port = Field(default=4317, ge=1, le=65535)
    # jaeger_query: the UI and its HTTP API (/api/traces), and the gRPC query API.
    query_http_port: Port = Field(default=16686, ge=1, le=65535)
    query_grpc_port: Port = Field(default=16685, ge=1, le=65535)
    health_check_port: Port = Field(default=13133, ge=1, le=65535)
    # The memory backend keeps the most recent traces only (lost on restart).
    max_traces: int = Field(default=100_000, ge=1)

    @model_validator(mode="after")
    def _distinct_ports(self) -> Self:
        ports = {
            "otlp_grpc_port": self.otlp_grpc_port,
            "query_http_port": self.query_http_port,
            "query_grpc_port": self.query_grpc_port,
            "health_check_port": self.health_check_port,
        }
        distinct_ports(ports)
        return self

    @property
    def otlp_address(self) -> str:
        """Where the collector sends traces."""
        return f"{self.host}:{self.otlp_grpc_port}"
