"""The OpenTelemetry collector: OTLP in, traces to Jaeger, metrics for Prometheus.

There is deliberately no ``logging`` exporter: it was removed upstream; the
``debug`` exporter replaces it. Unknown fields are rejected, so a spec that
still asks for ``logging`` fails validation instead of producing a config the
collector refuses to start with.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Self

from pydantic import Field, model_validator

from stackgen.spec.base import Duration, SpecModel, distinct_ports, duration_seconds

__all__ = [
    "Batch",
    "Collector",
    "DebugExporter",
    "DebugVerbosity",
    "MemoryLimiter",
    "PrometheusExporter",
    "ResourceAction",
]

# An image pinned by version: "otel/opentelemetry-collector-contrib:0.165.1" (no `latest`).
PINNED_IMAGE = r"^[a-z0-9][a-z0-9./_-]*:v?[0-9]+(\.[0-9]+)+([.-][A-Za-z0-9]+)*$"
Port = int
# The exporter's retry_on_failure.max_interval default; the collector refuses a
# max_elapsed_time below it.
RETRY_MAX_INTERVAL_S = 30.0


class DebugVerbosity(StrEnum):
    BASIC = "basic"
    NORMAL = "normal"
    DETAILED = "detailed"


class ResourceAction(StrEnum):
    # insert: only where the attribute is missing; upsert: also overwrite it.
    INSERT = "insert"
    UPSERT = "upsert"


class MemoryLimiter(SpecModel):
    """Refuses data before the collector runs out of memory; first in every pipeline."""

    spec_key = "limit_mib"

    check_interval: Duration = "1s"
    limit_mib: int = Field(default=512, ge=1)
    spike_limit_mib: int = Field(default=128, ge=1)

    @model_validator(mode="after")
    def _spike_below_limit(self) -> Self:
        if self.spike_limit_mib >= self.limit_mib:
            raise ValueError(
                f"spike_limit_mib ({self.spike_limit_mib}) must be < limit_mib "
                f"({self.limit_mib}): the soft limit is limit - spike"
            )
        return self


class Batch(SpecModel):
    spec_key = "timeout"

    timeout: Duration = "5s"
    send_batch_size: int = Field(default=1024, ge=1)
    send_batch_max_size: int = Field(default=2048, ge=1)

    @model_validator(mode="after")
    def _max_not_below_size(self) -> Self:
        if self.send_batch_max_size < self.send_batch_size:
            raise ValueError(
                f"send_batch_max_size ({self.send_batch_max_size}) must be >= "
                f"send_batch_size ({self.send_batch_size})"
            )
        return self


class DebugExporter(SpecModel):
    """The `debug` exporter (the removed `logging` exporter's replacement)."""

    spec_key = "verbosity"

    verbosity: DebugVerbosity = DebugVerbosity.BASIC
    sampling_initial: int = Field(default=5, ge=1)
    sampling_thereafter: int = Field(default=200, ge=1)


class PrometheusExporter(SpecModel):
    """OTLP metrics re-exposed in Prometheus format: a scrape target like any other."""

    spec_key = "port"

    port: Port = Field(default=8889, ge=1, le=65535)
    # Prefix of every re-exposed metric name (the stack's name, say); None: no prefix.
    namespace: str | None = Field(default=None, pattern=r"^[a-zA-Z_][a-zA-Z0-9_]*$")
    # Resource attributes (service.name, service.namespace...) that become metric labels:
    # wildcard patterns of their keys ("*": all); empty, none does.
    resource_labels: tuple[Annotated[str, Field(pattern=r"^[A-Za-z0-9_.*-]+$")], ...] = ("*",)


class Collector(SpecModel):
    """otel/opentelemetry-collector-contrib, as the compose service ``host``."""

    spec_key = "host"

    image: str = Field(default="otel/opentelemetry-collector-contrib:0.165.1", pattern=PINNED_IMAGE)
    # The compose service name other containers reach it by.
    host: str = Field(default="otel-collector", pattern=r"^[a-z][a-z0-9-]*$")
    # Inside the container every interface; the local profile binds 127.0.0.1.
    listen_host: str = Field(default="0.0.0.0", pattern=r"^[0-9.]+$")
    otlp_grpc_port: Port = Field(default=4317, ge=1, le=65535)
    otlp_http_port: Port = Field(default=4318, ge=1, le=65535)
    health_check_port: Port = Field(default=13133, ge=1, le=65535)
    # The collector's own telemetry (otelcol_* metrics).
    telemetry_metrics_port: Port = Field(default=8888, ge=1, le=65535)
    memory_limiter: MemoryLimiter = MemoryLimiter()
    batch: Batch = Batch()
    # Added to every span and metric (service.namespace, deployment.environment).
    resource_attributes: dict[str, str] = Field(default_factory=dict)
    resource_action: ResourceAction = ResourceAction.UPSERT
    # Traces go to Jaeger over OTLP gRPC (Jaeger >= 1.35 receives OTLP natively).
    traces_endpoint: str = Field(default="jaeger:4317", pattern=r"^[a-z0-9.-]+:[0-9]+$")
    traces_tls_insecure: bool = True
    # How long a batch Jaeger refuses is retried before it is dropped and counted in
    # otelcol_exporter_send_failed_spans_total (upstream's 5 minutes would hide an
    # outage that long); at least the retry's 30 s maximum interval.
    traces_retry_max_elapsed: Duration = "1m"
    debug: DebugExporter = DebugExporter()
    prometheus: PrometheusExporter = PrometheusExporter()

    @model_validator(mode="after")
    def _distinct_ports(self) -> Self:
        ports = {
            "otlp_grpc_port": self.otlp_grpc_port,
            "otlp_http_port": self.otlp_http_port,
            "health_check_port": self.health_check_port,
            "telemetry_metrics_port": self.telemetry_metrics_port,
            "prometheus.port": self.prometheus.port,
        }
        distinct_ports(ports)
        if duration_seconds(self.traces_retry_max_elapsed) < RETRY_MAX_INTERVAL_S:
            raise ValueError(
                f"traces_retry_max_elapsed ({self.traces_retry_max_elapsed}) must be >= the "
                f"retry's maximum interval ({RETRY_MAX_INTERVAL_S:g}s)"
            )
        return self

    def metrics_ports(self) -> dict[str, int]:
        """Every port the collector serves Prometheus metrics on, by what serves it."""
        return {
            "prometheus exporter": self.prometheus.port,
            "own telemetry": self.telemetry_metrics_port,
        }
