"""Jaeger v2's generated config and its model (the real `jaeger validate` runs in
test_tools.py): the collector's traces go to Jaeger's OTLP port, the compose service
mounts the file, and every listener binds the model's listen host."""

from __future__ import annotations

import re
from typing import Any

import pytest
import yaml

from stackgen.conventions import COMPOSE_FILE, JAEGER_CONFIG_PATH, JAEGER_CONTAINER_CONFIG
from stackgen.render.jaeger import jaeger_config
from stackgen.spec import Jaeger, SpecError, Stack

ENDPOINT = re.compile(r"^([0-9.]+):(\d+)$")


def _endpoints(node: object) -> list[str]:
    if isinstance(node, dict):
        found = [v for k, v in node.items() if k == "endpoint" and isinstance(v, str)]
        return found + [e for v in node.values() for e in _endpoints(v)]
    if isinstance(node, list):
        return [e for item in node for e in _endpoints(item)]
    return []


def test_the_collector_sends_traces_to_jaegers_otlp_port(
    stack: Stack, rendered: dict[str, str]
) -> None:
    assert stack.collector is not None and stack.jaeger is not None
    config = yaml.safe_load(rendered[JAEGER_CONFIG_PATH])
    otlp = config["receivers"]["otlp"]["protocols"]["grpc"]["endpoint"]
    assert otlp == f"0.0.0.0:{stack.jaeger.otlp_grpc_port}"
    assert stack.collector.traces_endpoint == f"{stack.jaeger.host}:{stack.jaeger.otlp_grpc_port}"


def test_compose_runs_jaeger_with_the_generated_file(
    stack: Stack, rendered: dict[str, str]
) -> None:
    assert stack.jaeger is not None
    service = yaml.safe_load(rendered[COMPOSE_FILE])["services"]["jaeger"]
    assert service["image"] == stack.jaeger.image
    assert service["command"] == [f"--config={JAEGER_CONTAINER_CONFIG}"]
    assert f"./{JAEGER_CONFIG_PATH}:{JAEGER_CONTAINER_CONFIG}:ro" in service["volumes"]


def test_every_listener_binds_the_listen_host() -> None:
    config: dict[str, Any] = jaeger_config(Jaeger(listen_host="127.0.0.1", otlp_grpc_port=24317))
    endpoints = _endpoints(config)
    # OTLP in, query HTTP and gRPC, health: and no metrics server of its own.
    assert len(endpoints) == 4
    assert all(ENDPOINT.match(e) and e.startswith("127.0.0.1:") for e in endpoints)
    assert config["service"]["telemetry"]["metrics"] == {"level": "none"}


def test_ports_must_differ() -> None:
    with pytest.raises(SpecError, match="query_grpc_port and query_http_port both use port 16686"):
        Jaeger(query_grpc_port=16686)


def test_the_collector_must_point_at_jaeger(stack: Stack) -> None:
    assert stack.collector is not None
    data = stack.model_dump()
    data["collector"]["traces_endpoint"] = "jaeger:14250"
    with pytest.raises(SpecError, match=r"collector\.traces_endpoint: 'jaeger:14250' is not"):
        Stack.model_validate(data)
