"""The OpenTelemetry collector's generated config, its model and its scrape cross-check.

The real collector validates the file (`otelcol validate`, tests/stackgen/test_tools.py)
and runs it in `stackgen verify`; these are the design's structural rules: the
components every pipeline names are defined, memory_limiter comes first, the removed
`logging` exporter appears nowhere, traces go to Jaeger over OTLP, and every port the
collector serves metrics on is a target of a generated Prometheus scrape job.
"""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from stackgen.check.static import check_stack
from stackgen.conventions import OTEL_COLLECTOR_CONFIG_PATH, PROMETHEUS_CONFIG_PATH
from stackgen.render import otel_collector
from stackgen.spec import (
    Batch,
    Collector,
    DebugExporter,
    MemoryLimiter,
    PrometheusExporter,
    SpecError,
    Stack,
)
from tests.stackgen.stack_variants import without_jobs


@pytest.fixture(scope="module")
def config(rendered: dict[str, str]) -> dict[str, Any]:
    document: dict[str, Any] = yaml.safe_load(rendered[OTEL_COLLECTOR_CONFIG_PATH])
    return document


def scrape_targets(rendered: dict[str, str]) -> set[str]:
    prometheus = yaml.safe_load(rendered[PROMETHEUS_CONFIG_PATH])
    return {
        target
        for job in prometheus["scrape_configs"]
        for static in job["static_configs"]
        for target in static["targets"]
    }


def all_keys(node: object) -> set[str]:
    if isinstance(node, dict):
        return {str(k) for k in node} | {k for v in node.values() for k in all_keys(v)}
    if isinstance(node, list):
        return {k for item in node for k in all_keys(item)}
    return set()


def all_strings(node: object) -> set[str]:
    if isinstance(node, dict):
        return {s for k, v in node.items() for s in {str(k), *all_strings(v)}}
    if isinstance(node, list):
        return {s for item in node for s in all_strings(item)}
    return {node} if isinstance(node, str) else set()


# -- the rendered config ---------------------------------------------------------------


def test_otlp_receivers_listen_inside_the_container(config: dict[str, Any]) -> None:
    protocols = config["receivers"]["otlp"]["protocols"]
    assert protocols == {
        "grpc": {"endpoint": "0.0.0.0:4317"},
        "http": {"endpoint": "0.0.0.0:4318"},
    }


@pytest.mark.parametrize("pipeline", ["traces", "metrics"])
def test_memory_limiter_first_and_batch_last(config: dict[str, Any], pipeline: str) -> None:
    processors = config["service"]["pipelines"][pipeline]["processors"]
    assert processors[0] == "memory_limiter"
    assert processors[-1] == "batch"
    assert "resource" in processors
    assert config["service"]["pipelines"][pipeline]["receivers"] == ["otlp"]


def test_memory_limiter_has_check_interval_and_limits(config: dict[str, Any]) -> None:
    limiter = config["processors"]["memory_limiter"]
    assert limiter["check_interval"] == "1s"
    assert limiter["spike_limit_mib"] < limiter["limit_mib"]


def test_every_component_a_pipeline_names_is_defined(config: dict[str, Any]) -> None:
    service = config["service"]
    for pipeline in service["pipelines"].values():
        for kind in ("receivers", "processors", "exporters"):
            for name in pipeline[kind]:
                assert name in config[kind], f"{kind}: {name} is used but not defined"
    for extension in service["extensions"]:
        assert extension in config["extensions"]


def test_every_defined_component_is_used(config: dict[str, Any]) -> None:
    pipelines = config["service"]["pipelines"].values()
    for kind in ("receivers", "processors", "exporters"):
        used = {name for pipeline in pipelines for name in pipeline[kind]}
        assert used == set(config[kind]), kind


def test_no_logging_exporter_anywhere(config: dict[str, Any]) -> None:
    # Removed upstream: a collector >= 0.111 refuses to start with it.
    assert "logging" not in all_strings(config)
    assert "loglevel" not in all_keys(config)
    debug = config["exporters"]["debug"]
    assert debug == {"verbosity": "basic", "sampling_initial": 5, "sampling_thereafter": 200}
    assert "debug" in config["service"]["pipelines"]["traces"]["exporters"]
    assert "debug" in config["service"]["pipelines"]["metrics"]["exporters"]


def test_traces_go_to_jaeger_over_otlp(config: dict[str, Any]) -> None:
    exporters = config["service"]["pipelines"]["traces"]["exporters"]
    assert "otlp_grpc/jaeger" in exporters
    # `otlp_grpc/<name>` is the OTLP exporter (`otlp` its deprecated alias); the old
    # `jaeger` exporter is gone upstream.
    assert "jaeger" not in config["exporters"]
    assert config["exporters"]["otlp_grpc/jaeger"] == {
        "endpoint": "jaeger:4317",
        "tls": {"insecure": True},
        # A minute of retries, then the batch is dropped and counted.
        "retry_on_failure": {"max_elapsed_time": "1m"},
    }


def test_resource_attributes(config: dict[str, Any]) -> None:
    attributes = {a["key"]: a for a in config["processors"]["resource"]["attributes"]}
    assert attributes["service.namespace"]["value"] == "bestbox"
    assert attributes["deployment.environment"]["value"] == "production"
    assert {a["action"] for a in attributes.values()} <= {"insert", "upsert"}


def test_prometheus_exporter_port_is_scraped(
    config: dict[str, Any], rendered: dict[str, str], stack: Stack
) -> None:
    assert stack.collector is not None
    exporter = config["exporters"]["prometheus"]
    # Every resource attribute a label, with the key that replaced the deprecated
    # resource_to_telemetry_conversion.
    assert exporter["resource_constant_labels"] == {"included": ["*"]}
    assert "resource_to_telemetry_conversion" not in exporter
    assert exporter["namespace"] == "bestbox"
    port = exporter["endpoint"].rsplit(":", 1)[1]
    assert port == "8889"
    targets = scrape_targets(rendered)
    assert f"{stack.collector.host}:{port}" in targets
    # And the collector's own telemetry, from a pull reader (the `address` key is gone
    # from collectors >= 0.128).
    (reader,) = config["service"]["telemetry"]["metrics"]["readers"]
    assert "address" not in config["service"]["telemetry"]["metrics"]
    telemetry_port = str(reader["pull"]["exporter"]["prometheus"]["port"])
    assert f"{stack.collector.host}:{telemetry_port}" in targets


def test_health_check_extension(config: dict[str, Any]) -> None:
    assert config["extensions"]["health_check"] == {"endpoint": "0.0.0.0:13133"}
    assert config["service"]["extensions"] == ["health_check"]


def test_no_collector_no_file(stack: Stack) -> None:
    assert otel_collector.render(stack.model_copy(update={"collector": None})) == {}


# -- the cross-check ---------------------------------------------------------------------


def without_services(stack: Stack, *names: str) -> Stack:
    return without_jobs(stack, *names)


@pytest.mark.parametrize(
    ("removed", "ports"),
    [
        pytest.param(("otel-collector-exporter",), {8889}, id="exporter-unscraped"),
        pytest.param(("otel-collector",), {8888}, id="telemetry-unscraped"),
        pytest.param(("otel-collector", "otel-collector-exporter"), {8888, 8889}, id="neither"),
    ],
)
def test_unscraped_collector_port_is_reported(
    stack: Stack, removed: tuple[str, ...], ports: set[int]
) -> None:
    findings = check_stack(without_services(stack, *removed))
    assert {f.code for f in findings} == {"unscraped-exporter"}
    assert {int(f.where.rsplit(":", 1)[1]) for f in findings} == ports
    assert all(f.spec == "Collector[otel-collector]" for f in findings)


def test_scrape_of_another_host_does_not_count(stack: Stack) -> None:
    # An external host, so that only the collector's port goes unscraped (a compose host
    # that does not exist would also be `unknown-scrape-host`).
    elsewhere = {"host": "elsewhere", "external": True}
    services = tuple(
        s.model_copy(update=elsewhere) if s.name == "otel-collector-exporter" else s
        for s in stack.services
    )
    findings = check_stack(stack.model_copy(update={"services": services}))
    assert [(f.code, f.where) for f in findings] == [
        ("unscraped-exporter", "otel collector prometheus exporter otel-collector:8889")
    ]


def test_moved_exporter_port_is_reported(stack: Stack) -> None:
    assert stack.collector is not None
    moved = stack.collector.model_copy(update={"prometheus": PrometheusExporter(port=9464)})
    findings = check_stack(stack.model_copy(update={"collector": moved}))
    assert [f.where for f in findings] == ["otel collector prometheus exporter otel-collector:9464"]


def test_no_collector_no_finding(stack: Stack) -> None:
    bare = without_services(stack, "otel-collector", "otel-collector-exporter")
    assert check_stack(bare.model_copy(update={"collector": None})) == []


# -- model validation --------------------------------------------------------------------

INVALID: list[Any] = [
    pytest.param(
        lambda: Collector(logging={"loglevel": "info"}),
        "logging",
        id="logging-exporter-is-not-an-option",
    ),
    pytest.param(
        lambda: MemoryLimiter(limit_mib=512, spike_limit_mib=512),
        "spike_limit_mib (512) must be < limit_mib (512)",
        id="spike-equals-limit",
    ),
    pytest.param(
        lambda: MemoryLimiter(limit_mib=256, spike_limit_mib=400),
        "must be < limit_mib",
        id="spike-above-limit",
    ),
    pytest.param(lambda: MemoryLimiter(check_interval="soon"), "check_interval", id="bad-interval"),
    pytest.param(
        lambda: Collector(image="otel/opentelemetry-collector-contrib:latest"),
        "image",
        id="image-latest",
    ),
    pytest.param(
        lambda: Collector(image="otel/opentelemetry-collector-contrib"),
        "image",
        id="image-unpinned",
    ),
    pytest.param(
        lambda: Collector(telemetry_metrics_port=8889),
        "prometheus.port and telemetry_metrics_port both use port 8889",
        id="port-clash",
    ),
    pytest.param(
        lambda: Batch(send_batch_size=2048, send_batch_max_size=1024),
        "send_batch_max_size",
        id="batch-max-below-size",
    ),
    pytest.param(lambda: DebugExporter(verbosity="loud"), "verbosity", id="debug-verbosity"),
    pytest.param(
        lambda: PrometheusExporter(namespace="best-box"), "namespace", id="metric-namespace"
    ),
    pytest.param(
        lambda: Collector(traces_endpoint="http://jaeger:4317"),
        "traces_endpoint",
        id="traces-endpoint-host-port",
    ),
]


@pytest.mark.parametrize(("build", "message"), INVALID)
def test_invalid_collector_specs(build: Any, message: str) -> None:
    with pytest.raises(SpecError) as error:
        build()
    assert message in str(error.value)


def test_defaults_are_valid_and_pinned() -> None:
    collector = Collector()
    assert collector.image == "otel/opentelemetry-collector-contrib:0.165.1"
    assert collector.metrics_ports() == {"prometheus exporter": 8889, "own telemetry": 8888}
