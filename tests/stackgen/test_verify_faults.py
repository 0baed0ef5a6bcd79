"""The live proof's settings are spec data (Stack.verify): each kind of fault does what it
says to a live stack, without starting one (stand-ins record the calls), and the live
helpers default to the stack's verified service."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, cast

import pytest
from prometheus_client import CollectorRegistry

from stackgen.check.live import check_exposition
from stackgen.runtime import CatalogMetrics
from stackgen.spec import (
    FaultScenario,
    LocalProgram,
    RestartService,
    Stack,
    StopProgram,
    StopService,
    TrafficMix,
)
from stackgen.spec.base import SpecError
from stackgen.verify.live import LiveStack, expand_program_text
from stackgen.verify.scenarios import MIXES, make_fault, scenarios_of
from stackgen.verify.traffic import Traffic, unclean_outcomes


class Live:
    """Stands in for LiveStack; every call is kept, in order, in ``calls``."""

    def __init__(self, calls: list[tuple[str, Any]]) -> None:
        self.calls = calls

    def stop_agent(self) -> None:
        self.calls.append(("stop_agent", None))

    def stop(self, program: str) -> None:
        self.calls.append(("stop", program))

    def restart_agent(self, env: Mapping[str, str]) -> None:
        self.calls.append(("restart_agent", dict(env)))


class Load:
    """Stands in for Traffic."""

    def __init__(self, calls: list[tuple[str, Any]]) -> None:
        self.calls = calls

    def set_mix(self, mix: object) -> None:
        self.calls.append(("set_mix", mix))

    def stop(self) -> None:
        self.calls.append(("traffic_stop", None))

    def start(self, workers: int | None = None) -> None:
        self.calls.append(("traffic_start", workers))


def run(fault: Any) -> list[tuple[str, Any]]:
    calls: list[tuple[str, Any]] = []
    scenario = FaultScenario(name="f", title="A fault", alert="ServiceDown", fault=fault)
    make_fault(scenario)(cast(LiveStack, Live(calls)), cast(Traffic, Load(calls)))
    return calls


def test_stop_service_stops_the_verified_service() -> None:
    assert run(StopService()) == [("stop_agent", None)]


def test_stop_program_stops_that_program() -> None:
    assert run(StopProgram(program="jaeger")) == [("stop", "jaeger")]


def test_traffic_mix_switches_the_traffic() -> None:
    assert run(TrafficMix(mix="tool-errors")) == [("set_mix", MIXES["tool-errors"])]


def test_an_unknown_traffic_mix_is_an_error_naming_the_known_ones() -> None:
    with pytest.raises(ValueError, match="'negative-feedback', 'tool-errors'"):
        run(TrafficMix(mix="slow-clients"))


def test_restart_service_fills_in_a_free_port_and_pauses_the_traffic() -> None:
    fault = RestartService(
        environment={"LLM_BASE_URL": "http://127.0.0.1:{free_port}/v1"}, workers=3
    )
    calls = run(fault)
    assert [name for name, _ in calls] == ["traffic_stop", "restart_agent", "traffic_start"]
    url = calls[1][1]["LLM_BASE_URL"]
    port = url.removeprefix("http://127.0.0.1:").removesuffix("/v1")
    assert port.isdigit() and 0 < int(port) < 65536
    assert calls[2] == ("traffic_start", 3)


def test_the_bestbox_scenarios_come_from_its_spec(stack: Stack) -> None:
    scenarios = scenarios_of(stack)
    assert {s.name for s in scenarios if s.quick} == {
        "agent-down",
        "tool-errors",
        "collector-down",
        "jaeger-down",
    }
    assert scenarios_of(stack.model_copy(update={"verify": None})) == ()


def test_the_live_helpers_default_to_the_stacks_verified_service(stack: Stack) -> None:
    assert stack.app_service() == "agent-api"
    catalog = CatalogMetrics(stack, CollectorRegistry())
    assert catalog["agent_requests"] is not None
    unverified = stack.model_copy(update={"verify": None})
    with pytest.raises(ValueError, match=r"has no verify\.service: pass `service`"):
        CatalogMetrics(unverified, CollectorRegistry())
    with pytest.raises(ValueError, match=r"has no verify\.service"):
        check_exposition(unverified, "")
    assert check_exposition(unverified, "", service="agent-api")  # every metric missing


def test_only_failures_without_a_clean_answer_are_unclean() -> None:
    outcomes = {
        "turn 200": 5,
        "turn 502": 3,
        "turn 200, feedback 200": 2,
        "GET /nowhere 404": 2,
        "client error: ReadTimeout": 1,
        "turn 500": 1,
        "turn 502, feedback 503": 1,
    }
    assert unclean_outcomes(outcomes) == {
        "client error: ReadTimeout": 1,
        "turn 500": 1,
        "turn 502, feedback 503": 1,
    }


def test_a_local_programs_placeholders_are_filled_in() -> None:
    assert expand_program_text("--web.listen-address=127.0.0.1:{port}", 9100) == (
        "--web.listen-address=127.0.0.1:9100"
    )
    assert expand_program_text("{url}/v1", 8080) == "http://127.0.0.1:8080/v1"
    assert expand_program_text("{tiny_model}", 1).endswith("tiny-llama.gguf")


def _with_verify(stack: Stack, **changes: Any) -> Stack:
    assert stack.verify is not None
    data = stack.model_dump()
    data["verify"] = {**stack.verify.model_dump(), **changes}
    return Stack.model_validate(data)


def test_a_scenario_may_stop_only_a_program_the_live_run_starts(stack: Stack) -> None:
    assert stack.verify is not None
    scenario = FaultScenario(
        name="stop-grafana",
        title="Grafana stopped",
        alert="ServiceDown",
        fault=StopProgram(program="grafana"),
    )
    with pytest.raises(SpecError, match=r"stops 'grafana', which the live run does not start"):
        _with_verify(stack, scenarios=[*stack.verify.scenarios, scenario.model_dump()])


def test_a_local_program_stands_in_for_a_scraped_service(stack: Stack) -> None:
    program = LocalProgram(service="postgres", program="postgres")
    with pytest.raises(SpecError, match=r"verify.programs\[postgres\]: not a scraped service"):
        _with_verify(stack, programs=[program.model_dump()])
