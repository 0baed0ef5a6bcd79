"""The live proof's settings are spec data (Stack.verify): each kind of fault does what it
says to a live stack, without starting one (stand-ins record the calls), and the live
helpers default to the stack's verified service."""

from __future__ import annotations

import time
from collections.abc import Mapping
from types import SimpleNamespace
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
from stackgen.verify.scenarios import (
    MIXES,
    ScenarioResult,
    criterion_of,
    make_fault,
    scenarios_of,
    watch_quiet,
)
from stackgen.verify.traffic import Traffic, unclean_outcomes
from stackgen.verify.webhook import Notification


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


# -- a quiet scenario: noise under every threshold pages nobody ---------------------------


class QuietLive:
    """Stands in for LiveStack in a quiet scenario: Prometheus reports ``alerts`` and
    answers every value query with ``values``; the webhook received ``paged`` (alert
    label sets)."""

    def __init__(
        self,
        stack: Stack,
        alerts: list[dict[str, Any]],
        paged: list[dict[str, str]],
        values: list[float] | None = None,
    ) -> None:
        self.stack = stack
        self.queries: list[str] = []

        def query(expr: str) -> list[float]:
            self.queries.append(expr)
            return values or []

        self.api = SimpleNamespace(alerts=lambda: alerts, values=query)
        payload = {"alerts": [{"status": "firing", "labels": labels} for labels in paged]}
        notification = Notification(received_at=0.0, path="/alerts/critical", payload=payload)
        self.webhook = SimpleNamespace(notifications=lambda: [notification])

    def sleep(self, seconds: float) -> None:
        time.sleep(0.01)


QUIET = FaultScenario(
    name="noisy",
    title="noise",
    fault=TrafficMix(mix="tool-errors"),
    max_wait_s=0.05,
)


def _quiet_result(live: QuietLive, log: list[str] | None = None) -> ScenarioResult:
    result = ScenarioResult(QUIET, "quiet", 0.05)
    lines = log if log is not None else []
    watch_quiet(cast(LiveStack, live), QUIET, time.time(), result, lines.append)
    return result


def test_a_quiet_scenario_needs_its_length() -> None:
    with pytest.raises(SpecError, match="max_wait_s"):
        FaultScenario(name="noisy", title="noise", fault=TrafficMix(mix="tool-errors"))


def test_a_quiet_scenario_passes_when_nothing_critical_fires(stack: Stack) -> None:
    """Warnings may fire and critical alerts may pend (a restart's missed scrape): no
    page. Both are logged, with how close each critical alert came to its line."""
    warning = {"labels": {"alertname": "HighTTFTP95", "severity": "warning"}, "state": "firing"}
    pending = {"labels": {"alertname": "ServiceDown", "severity": "critical"}, "state": "pending"}
    log: list[str] = []
    live = QuietLive(stack, [warning, pending], [{"alertname": "X", "severity": "warning"}], [4.3])
    result = _quiet_result(live, log)
    assert result.unexpected == set()
    assert result.passed  # no alert is expected, so none was detected
    assert "[noisy] critical alerts that pended, never fired: ['ServiceDown']" in log
    assert "[noisy] CriticalLatency: closest 4.3 (fires > 5)" in log
    assert (
        "max_over_time((histogram_quantile(0.95, sum by (le) "
        "(rate(agent_ttft_seconds_bucket[2m]))))[0s:5s])"
    ) in live.queries


@pytest.mark.parametrize(
    ("alerts", "paged", "flagged"),
    [
        pytest.param(
            [{"labels": {"alertname": "HighErrorRate", "severity": "critical"}, "state": "firing"}],
            [],
            "HighErrorRate (firing)",
            id="firing",
        ),
        pytest.param(
            [],
            [{"alertname": "ServiceDown", "severity": "critical"}],
            "ServiceDown (paged)",
            id="paged",
        ),
    ],
)
def test_a_quiet_scenario_fails_on_any_critical_alert_firing(
    stack: Stack, alerts: list[dict[str, Any]], paged: list[dict[str, str]], flagged: str
) -> None:
    result = _quiet_result(QuietLive(stack, alerts, paged))
    assert result.unexpected == {flagged}
    assert not result.passed


def test_the_bestbox_noisy_scenario_is_quiet_and_runs_past_the_critical_windows(
    stack: Stack,
) -> None:
    (noisy,) = [s for s in scenarios_of(stack) if s.quiet]
    assert criterion_of(stack, noisy) == ("no critical alert in 180s", 180.0)
