"""The scale-out run's faults on real replicas: the scale-out started on 127.0.0.1 (three
agent service processes, the Prometheus and Alertmanager pairs, the Thanos store), each
kind of fault made on every replica and undone, with each replica's own traffic; then
every process stopped and the database dropped. Nothing here is a test double (the agent
service's built-in scripted model stands in for the GPU LLM, which cannot run here).

`make verify-scale` runs the whole proof (alerts through the kills, the store); this is
the part of it that changes the replicas, kept in `make test`.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator

import asyncpg
import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from specs.bestbox import stack as STACK
from stackgen.spec import FaultScenario, RestartService
from stackgen.verify.live import DEFAULT_ADMIN_DSN
from stackgen.verify.scale import scale_scenarios
from stackgen.verify.scale_faults import ScaleFault
from stackgen.verify.scale_stack import ScaleStack
from stackgen.verify.traffic import HEALTHY_MIX, Traffic

pytestmark = pytest.mark.live

CHAT = {"message": "What is the status of invoice INV-1001?"}
# Each replica's traffic: one action a second per user, so a few seconds show the mix.
TRAFFIC_WAIT_S = 20.0


def _scenario(name: str) -> FaultScenario:
    return next(s for s in scale_scenarios(STACK) if s.name == name)


@pytest.fixture(scope="module")
def live() -> Iterator[ScaleStack]:
    assert STACK.scale_out is not None
    with ScaleStack(STACK, STACK.scale_out, log=lambda _message: None) as started:
        yield started
    assert [c.pid for c in started.processes.children if c.running()] == []
    assert asyncio.run(_database_exists(started.database)) is False


async def _database_exists(name: str) -> bool:
    connection = await asyncpg.connect(DEFAULT_ADMIN_DSN, timeout=5)
    try:
        found = await connection.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name)
    finally:
        await connection.close()
    return found is not None


@pytest.fixture
def traffic(live: ScaleStack) -> Iterator[list[Traffic]]:
    each = [Traffic(url, HEALTHY_MIX, workers=1) for url in live.agent_urls]
    for one in each:
        one.start()
    yield each
    for one in each:
        one.stop()


def _chat_status(url: str) -> int:
    return httpx.post(f"{url}/chat", json=CHAT, timeout=30).status_code


def _health(url: str) -> str:
    try:
        return str(httpx.get(f"{url}/health", timeout=5).status_code)
    except httpx.TransportError as error:
        return type(error).__name__


def _tool_errors(url: str) -> float:
    text = httpx.get(f"{url}/metrics", timeout=10).text
    return sum(
        sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == "tool_executions_total" and sample.labels.get("status") == "error"
    )


def _wait_until(predicate: object, timeout_s: float) -> bool:
    assert callable(predicate)
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.5)
    return bool(predicate())


def test_a_restart_with_a_setting_is_made_and_undone_on_every_replica(
    live: ScaleStack, traffic: list[Traffic]
) -> None:
    # The LLM pointed at a port nobody listens on: every turn of every replica fails.
    fault = ScaleFault(_scenario("error-ratio"), live, traffic)
    fault.begin()
    assert [_chat_status(url) for url in live.agent_urls] == [502, 502, 502]
    fault.end()
    assert [_chat_status(url) for url in live.agent_urls] == [200, 200, 200]
    assert [t.workers for t in traffic] == [1, 1, 1]


def test_a_scenarios_users_are_spread_over_the_replicas(
    live: ScaleStack, traffic: list[Traffic]
) -> None:
    # Like the slow-TTFT scenario's six users, with a setting that slows nothing down.
    users = RestartService(environment={"SCRIPTED_FIRST_TOKEN_DELAY_S": "0.01"}, workers=6)
    scenario = FaultScenario(name="users", title="six users", alert="CriticalLatency", fault=users)
    fault = ScaleFault(scenario, live, traffic)
    fault.begin()
    try:
        # Six users on one instance are two on each of three.
        assert [t.workers for t in traffic] == [2, 2, 2]
    finally:
        fault.end()
    assert [t.workers for t in traffic] == [1, 1, 1]
    assert [_chat_status(url) for url in live.agent_urls] == [200, 200, 200]
    # No turn was cut by the restarts: the traffic waited for them.
    cut = {k: v for t in traffic for k, v in t.outcomes.items() if "client error" in k}
    assert cut == {}


def test_the_service_stopped_and_started_on_every_replica(
    live: ScaleStack, traffic: list[Traffic]
) -> None:
    fault = ScaleFault(_scenario("agent-down"), live, traffic)
    fault.begin()
    assert [_health(url) for url in live.agent_urls] == ["ConnectError"] * 3
    fault.end()
    assert [_health(url) for url in live.agent_urls] == ["200"] * 3


def test_a_traffic_mix_reaches_every_replica_and_goes_back(
    live: ScaleStack, traffic: list[Traffic]
) -> None:
    before = [_tool_errors(url) for url in live.agent_urls]
    fault = ScaleFault(_scenario("tool-errors"), live, traffic)
    fault.begin()
    try:
        more = _wait_until(
            lambda: all(
                _tool_errors(url) > b for url, b in zip(live.agent_urls, before, strict=True)
            ),
            TRAFFIC_WAIT_S,
        )
        assert more, "the tool-error mix did not fail a tool call on every replica"
    finally:
        fault.end()
    # Back to the healthy mix: no tool fails any more (a turn in flight may finish).
    time.sleep(3)
    settled = [_tool_errors(url) for url in live.agent_urls]
    time.sleep(6)
    assert [_tool_errors(url) for url in live.agent_urls] == settled
