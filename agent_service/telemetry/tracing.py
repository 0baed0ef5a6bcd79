"""OpenTelemetry tracing with an explicit provider (no global state). Trace ids exist
even when nothing is exported, so the audit log and responses can always carry one."""

from __future__ import annotations

import logging
import threading

from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.trace import NoOpTracer, Tracer

from agent_service.settings import Settings

__all__ = ["Tracing"]

log = logging.getLogger(__name__)


class Tracing:
    def __init__(self, settings: Settings) -> None:
        resource = Resource.create(
            {"service.name": settings.service_name, "service.namespace": "bestbox"}
        )
        # No atexit hook: the SDK's would call shutdown() again at interpreter exit,
        # unbounded, and with the collector down that blocks the exit for ~30 s.
        self.provider = TracerProvider(resource=resource, shutdown_on_exit=False)
        self.exporting = False
        if settings.otlp_endpoint and settings.telemetry:
            from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

            endpoint = settings.otlp_endpoint.rstrip("/") + "/v1/traces"
            # A short export timeout: with the collector down, the SDK would otherwise
            # block shutdown for ~30 s. Spans are dropped, requests never wait.
            exporter = OTLPSpanExporter(endpoint=endpoint, timeout=settings.otlp_timeout_s)
            self.provider.add_span_processor(BatchSpanProcessor(exporter))
            self.exporting = True
        self.tracer: Tracer = (
            self.provider.get_tracer("agent_service") if settings.telemetry else NoOpTracer()
        )

    def shutdown(self, timeout_s: float = 3.0) -> None:
        """Flush and stop, bounded: a dead collector must not hold the process."""
        worker = threading.Thread(target=self.provider.shutdown, daemon=True)
        worker.start()
        worker.join(timeout_s)
        if worker.is_alive():
            log.warning("tracing shutdown did not finish in %.1fs; spans dropped", timeout_s)
