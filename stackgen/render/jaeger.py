"""generated/jaeger/config.yaml: Jaeger v2's configuration (a collector file).

OTLP gRPC in from the collector, batch, then the memory store; jaeger_query serves the
UI, its HTTP API and the gRPC query API from that store; healthcheckv2 answers
``/status``. Everything Jaeger's defaults would open besides (other receivers, remote
sampling, pprof, its own metrics on :8888) is left out: nothing in the stack uses it.
"""

from __future__ import annotations

from typing import Any

from stackgen.conventions import JAEGER_CONFIG_PATH
from stackgen.output import dump_yaml
from stackgen.spec import Jaeger, Stack

__all__ = ["HEALTH_PATH", "STORE", "jaeger_config", "render"]

STORE = "memstore"
HEALTH_PATH = "/status"


def jaeger_config(jaeger: Jaeger) -> dict[str, Any]:
    """Every listener on ``jaeger.listen_host`` (127.0.0.1 in the local profile)."""

    def _listen(port: int) -> dict[str, str]:
        return {"endpoint": f"{jaeger.listen_host}:{port}"}

    return {
        "extensions": {
            "healthcheckv2": {
                "use_v2": True,
                "http": {**_listen(jaeger.health_check_port), "status": {"path": HEALTH_PATH}},
            },
            "jaeger_storage": {"backends": {STORE: {"memory": {"max_traces": jaeger.max_traces}}}},
            "jaeger_query": {
                "storage": {"traces": STORE},
                # On by default in v2: Jaeger would trace its own queries to an OTLP
                # endpoint on localhost that nobody runs for it.
                "enable_tracing": False,
                "http": _listen(jaeger.query_http_port),
                "grpc": _listen(jaeger.query_grpc_port),
            },
        },
        "receivers": {"otlp": {"protocols": {"grpc": _listen(jaeger.otlp_grpc_port)}}},
        "processors": {"batch": {}},
        "exporters": {"jaeger_storage_exporter": {"trace_storage": STORE}},
        "service": {
            "extensions": ["healthcheckv2", "jaeger_storage", "jaeger_query"],
            "telemetry": {
                "resource": {"service.name": "jaeger"},
                # No metrics server (its default would listen on :8888): Prometheus does
                # not scrape Jaeger; the collector's exporter metrics show whether Jaeger
                # takes the spans.
                "metrics": {"level": "none"},
                "logs": {"level": "info"},
            },
            "pipelines": {
                "traces": {
                    "receivers": ["otlp"],
                    "processors": ["batch"],
                    "exporters": ["jaeger_storage_exporter"],
                }
            },
        },
    }


def render(stack: Stack) -> dict[str, str]:
    jaeger = stack.jaeger
    if jaeger is None:
        return {}
    comment = (
        f"Jaeger v2 of the {stack.name} stack ({jaeger.image}): OTLP gRPC in on "
        f":{jaeger.otlp_grpc_port}, the UI and /api/traces on :{jaeger.query_http_port}, "
        f"traces in memory (the {jaeger.max_traces} most recent)."
    )
    return {JAEGER_CONFIG_PATH: dump_yaml(jaeger_config(jaeger), comment=comment)}
