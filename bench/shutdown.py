"""Tracing shutdown with the collector unreachable (a socket that accepts connections
and never answers): the OpenTelemetry SDK's OTLP/HTTP exporter with its defaults, vs
the service's Tracing (1 s export timeout, bounded shutdown)."""

from __future__ import annotations

import socket
import threading
import time

from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor

from agent_service.settings import Settings
from agent_service.telemetry.tracing import Tracing

LIMIT_S = 90.0  # the default exporter is given this long before we stop waiting


def _spans(provider_tracer: object) -> None:
    for n in range(50):
        with provider_tracer.start_as_current_span(f"span {n}"):  # type: ignore[attr-defined]
            pass


def measure() -> dict[str, float]:
    with socket.socket() as hole:
        hole.bind(("127.0.0.1", 0))
        hole.listen(128)
        endpoint = f"http://127.0.0.1:{hole.getsockname()[1]}"

        provider = TracerProvider(shutdown_on_exit=False)
        provider.add_span_processor(
            BatchSpanProcessor(OTLPSpanExporter(endpoint=f"{endpoint}/v1/traces"))
        )
        _spans(provider.get_tracer("bench"))
        started = time.perf_counter()
        worker = threading.Thread(target=provider.shutdown, daemon=True)
        worker.start()
        worker.join(LIMIT_S)
        sdk_default = time.perf_counter() - started

        tracing = Tracing(Settings(otlp_endpoint=endpoint))
        _spans(tracing.tracer)
        started = time.perf_counter()
        tracing.shutdown(timeout_s=3.0)
        ours = time.perf_counter() - started
    print("\n## Tracing shutdown with the collector unreachable")
    print(f"   SDK OTLP exporter, defaults: {sdk_default:6.1f} s")
    print(f"   agent_service Tracing:       {ours:6.1f} s")
    return {"sdk_default_shutdown_s": sdk_default, "service_shutdown_s": ours}
