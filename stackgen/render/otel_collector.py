"""generated/otel-collector/config.yaml: the OpenTelemetry collector's configuration.

OTLP (gRPC and HTTP) in; memory_limiter first in every pipeline, then resource
attributes, then batch; traces to Jaeger over OTLP and to `debug` (never the removed
`logging` exporter); metrics to the Prometheus exporter, which Prometheus scrapes.
"""

from __future__ import annotations

from typing import Any

from stackgen.conventions import OTEL_COLLECTOR_CONFIG_PATH
from stackgen.output import dump_yaml
from stackgen.spec import Collector, Stack

__all__ = ["PROCESSORS", "collector_config", "render"]

# Every pipeline's processors, in order: memory_limiter must come first (it refuses
# data before anything else buffers it), batch last (it batches the final data).
PROCESSORS = ("memory_limiter", "resource", "batch")
# The OTLP gRPC exporter's type is `otlp_grpc` (`otlp` is its deprecated alias).
JAEGER_EXPORTER = "otlp_grpc/jaeger"


def collector_config(collector: Collector) -> dict[str, Any]:
    """Every listener on ``collector.listen_host``: every interface inside the
    container (compose maps the ports), 127.0.0.1 in the local profile."""

    def _listen(port: int) -> str:
        return f"{collector.listen_host}:{port}"

    limiter = collector.memory_limiter
    attributes = [
        {"key": key, "value": value, "action": str(collector.resource_action)}
        for key, value in sorted(collector.resource_attributes.items())
    ]
    debug = collector.debug
    prometheus = collector.prometheus
    return {
        "extensions": {"health_check": {"endpoint": _listen(collector.health_check_port)}},
        "receivers": {
            "otlp": {
                "protocols": {
                    "grpc": {"endpoint": _listen(collector.otlp_grpc_port)},
                    "http": {"endpoint": _listen(collector.otlp_http_port)},
                }
            }
        },
        "processors": {
            "memory_limiter": {
                "check_interval": limiter.check_interval,
                "limit_mib": limiter.limit_mib,
                "spike_limit_mib": limiter.spike_limit_mib,
            },
            "resource": {"attributes": attributes},
            "batch": {
                "timeout": collector.batch.timeout,
                "send_batch_size": collector.batch.send_batch_size,
                "send_batch_max_size": collector.batch.send_batch_max_size,
            },
        },
        "exporters": {
            JAEGER_EXPORTER: {
                "endpoint": collector.traces_endpoint,
                "tls": {"insecure": collector.traces_tls_insecure},
                "retry_on_failure": {"max_elapsed_time": collector.traces_retry_max_elapsed},
            },
            "debug": {
                "verbosity": str(debug.verbosity),
                "sampling_initial": debug.sampling_initial,
                "sampling_thereafter": debug.sampling_thereafter,
            },
            "prometheus": {
                "endpoint": _listen(prometheus.port),
                **({"namespace": prometheus.namespace} if prometheus.namespace else {}),
                # `resource_to_telemetry_conversion` is deprecated in its favour.
                **(
                    {"resource_constant_labels": {"included": list(prometheus.resource_labels)}}
                    if prometheus.resource_labels
                    else {}
                ),
            },
        },
        "service": {
            "extensions": ["health_check"],
            # The collector's own metrics, pulled by Prometheus (the `address` key of
            # older releases is gone: a reader with a Prometheus exporter serves them).
            # With the type and unit suffixes (`otelcol_exporter_sent_spans_total`): the
            # collector leaves them out by default, and then a counter's name would
            # depend on the exposition format Prometheus negotiates.
            "telemetry": {
                "metrics": {
                    "level": "normal",
                    "readers": [
                        {
                            "pull": {
                                "exporter": {
                                    "prometheus": {
                                        "host": collector.listen_host,
                                        "port": collector.telemetry_metrics_port,
                                        "without_type_suffix": False,
                                        "without_units": False,
                                    }
                                }
                            }
                        }
                    ],
                }
            },
            "pipelines": {
                "traces": {
                    "receivers": ["otlp"],
                    "processors": list(PROCESSORS),
                    "exporters": [JAEGER_EXPORTER, "debug"],
                },
                "metrics": {
                    "receivers": ["otlp"],
                    "processors": list(PROCESSORS),
                    "exporters": ["prometheus", "debug"],
                },
            },
        },
    }


def render(stack: Stack) -> dict[str, str]:
    collector = stack.collector
    if collector is None:
        return {}
    comment = (
        f"OpenTelemetry collector of the {stack.name} stack ({collector.image}).\n"
        f"Prometheus scrapes the prometheus exporter on :{collector.prometheus.port} and the "
        f"collector's own telemetry on :{collector.telemetry_metrics_port}."
    )
    return {OTEL_COLLECTOR_CONFIG_PATH: dump_yaml(collector_config(collector), comment=comment)}
