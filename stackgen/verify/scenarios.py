"""Fault scenarios, each driven against its own live stack: healthy traffic, then a
fault made with real requests or real service settings, then the matching alert must
reach the Alertmanager webhook, and nothing outside the scenario may fire. Where the
agent service stays up, the alert must also be in its alert_notifications table:
delivered through the agent's own authenticated webhook."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from stackgen.spec import Severity, Stack, duration_seconds
from stackgen.verify.live import LiveStack, free_port
from stackgen.verify.traffic import (
    HEALTHY_MIX,
    NEGATIVE_FEEDBACK_MIX,
    TOOL_ERROR_MIX,
    Traffic,
    failed_outcomes,
)

__all__ = ["SCENARIOS", "Scenario", "ScenarioResult", "run_scenario"]

# Healthy traffic before the fault: rate windows hold pre-fault samples and the rules
# have evaluated a few times, so a pre-fault alert would show.
WARMUP_S = 30.0
# How long a critical alert may take is the stack's budget; the run waits this much
# longer so an overshoot is measured instead of cut off.
OVERSHOOT_S = 45.0
# A first token this slow puts nearly every turn above CriticalLatency's 5 s P95.
SLOW_FIRST_TOKEN_S = "6"
# Alertmanager notifies its webhooks concurrently: the agent's copy lands within a
# second or two of the timing webhook's; a failed delivery is retried with backoff.
RECORDED_WITHIN_S = 30.0

Fault = Callable[[LiveStack, Traffic], None]


def _agent_down(live: LiveStack, traffic: Traffic) -> None:
    live.stop_agent()  # traffic keeps trying: clients see connection errors


def _stop(program: str) -> Fault:
    """A program of the stack stopped (the collector, Jaeger): chat must not notice."""

    def fault(live: LiveStack, traffic: Traffic) -> None:
        live.stop(program)

    return fault


def _tool_errors(live: LiveStack, traffic: Traffic) -> None:
    traffic.set_mix(TOOL_ERROR_MIX)


def _restart_with(env: dict[str, str], workers: int | None = None) -> Fault:
    """Restart the service with a setting that makes the fault. The fault begins when
    the restarted service serves (the run measures from there)."""

    def fault(live: LiveStack, traffic: Traffic) -> None:
        # No request may be cut by the restart: a cut turn counts as an error.
        traffic.stop()
        live.restart_agent(env)
        traffic.start(workers)

    return fault


def _llm_unreachable() -> Fault:
    # The LLM server down: the service is pointed at a port nobody listens on, so every
    # LLM call fails (connection refused) and every turn ends in an error.
    return _restart_with(
        {"LLM_BASE_URL": f"http://127.0.0.1:{free_port()}/v1", "LLM_CONNECT_TIMEOUT_S": "1"}
    )


def _negative_feedback(live: LiveStack, traffic: Traffic) -> None:
    traffic.set_mix(NEGATIVE_FEEDBACK_MIX)


@dataclass(frozen=True)
class Scenario:
    name: str
    title: str
    alert: str  # must reach the webhook
    fault: Callable[[], Fault]
    # Also allowed to fire: other alerts of the same fault, and the burn-rate alerts of
    # the SLOs the fault really burns.
    also_allowed: frozenset[str] = frozenset()
    slos: frozenset[str] = frozenset()
    quick: bool = False  # part of the pytest subset
    # Cap on the wait after the fault (None: the promise plus OVERSHOOT_S).
    max_wait_s: float | None = None
    # Users must not notice the fault: no request may fail during the whole scenario.
    requests_must_succeed: bool = False
    # The agent service is up when the alert fires, so it must record it.
    agent_records: bool = True


SCENARIOS: tuple[Scenario, ...] = (
    Scenario(
        "slow-ttft",
        "LLM slow to first token (6 s)",
        "CriticalLatency",
        # 6 users instead of 2: slow turns arrive about as often as the fast ones did
        # (a slow LLM does not make users ask less), yet under the 8-session capacity
        # alert (HighConcurrentSessions) that a pile-up would rightly fire.
        lambda: _restart_with({"SCRIPTED_FIRST_TOKEN_DELAY_S": SLOW_FIRST_TOKEN_S}, workers=6),
        also_allowed=frozenset({"HighTTFTP95"}),
        slos=frozenset({"ttft-under-2s"}),
    ),
    Scenario(
        "tool-errors",
        "burst of tool errors (legacy-01 status checks)",
        "HighToolErrorRate",
        lambda: _tool_errors,
        slos=frozenset({"tool-success"}),
        quick=True,
    ),
    Scenario(
        "error-ratio",
        "high error ratio (LLM server unreachable)",
        "HighErrorRate",
        _llm_unreachable,
        slos=frozenset({"request-availability"}),
    ),
    Scenario(
        "agent-down",
        "the agent service down",
        "ServiceDown",
        lambda: _agent_down,
        quick=True,
        agent_records=False,  # the agent is the service that is down
    ),
    Scenario(
        "low-satisfaction",
        "low satisfaction (every answer rated thumbs down)",
        "LowUserSatisfaction",
        lambda: _negative_feedback,
        slos=frozenset({"user-satisfaction"}),
        # Its spec allows 30 min (a full hour of history); from a fresh start the 1h
        # window fills with thumbs down at once, leaving its `for: 5m` plus delivery.
        max_wait_s=9 * 60,
    ),
    Scenario(
        "collector-down",
        "the OpenTelemetry collector down (spans cannot be exported)",
        "CollectorDown",
        lambda: _stop("otelcol"),
        quick=True,
        requests_must_succeed=True,
    ),
    Scenario(
        "jaeger-down",
        "Jaeger down (the collector cannot deliver spans)",
        "TraceExportFailing",
        lambda: _stop("jaeger"),
        quick=True,
        requests_must_succeed=True,
    ),
)


@dataclass
class ScenarioResult:
    scenario: Scenario
    criterion: str  # what the spec promises
    budget_s: float
    detected_s: float | None = None
    unexpected: set[str] = field(default_factory=set)
    error: str | None = None
    # Requests that failed where users must not notice the fault (outcome -> count).
    failed_requests: dict[str, int] = field(default_factory=dict)
    # Seconds from the timing webhook's arrival to the agent's row (None: not checked).
    recorded_s: float | None = None

    @property
    def passed(self) -> bool:
        return (
            self.error is None
            and self.detected_s is not None
            and self.detected_s <= self.budget_s
            and not self.unexpected
            and not self.failed_requests
        )


def criterion_of(stack: Stack, alertname: str) -> tuple[str, float]:
    """The detection promise: the critical budget (the seed's "< 2 min") for critical
    alerts, the spec's tested ``fires_within`` for warnings."""
    alert = next(a for a in stack.alerts if a.name == alertname)
    if alert.severity is Severity.CRITICAL:
        budget = stack.critical_detection_budget
        return f"< {budget} (critical)", duration_seconds(budget)
    within = alert.test.fires_within if alert.test else "10m"
    held = f"for {alert.for_}" if alert.for_ else "no for"
    return f"<= {within} (spec, {held})", duration_seconds(within)


def _allowed(scenario: Scenario, labels: dict[str, str]) -> bool:
    name = labels.get("alertname", "")
    return (
        name == scenario.alert
        or name in scenario.also_allowed
        or labels.get("slo", "") in scenario.slos
    )


def _describe(labels: dict[str, str]) -> str:
    slo = labels.get("slo")
    return f"{labels.get('alertname')}{{slo={slo}}}" if slo else str(labels.get("alertname"))


def _check_recorded(
    live: LiveStack,
    scenario: Scenario,
    onset: float,
    arrived: float,
    result: ScenarioResult,
    log: Callable[[str], None],
) -> None:
    """The alert is in the agent's alert_notifications (bounded wait)."""
    deadline = arrived + RECORDED_WITHIN_S
    while True:
        if live.recorded_alerts(scenario.alert, onset) > 0:
            result.recorded_s = max(0.0, time.time() - arrived)
            log(
                f"[{scenario.name}] {scenario.alert} recorded by the agent in "
                f"alert_notifications ({result.recorded_s:.0f}s after the webhook)"
            )
            return
        if time.time() >= deadline:
            result.error = (
                f"{scenario.alert} reached the webhook but the agent did not record it in "
                f"alert_notifications within {RECORDED_WITHIN_S:.0f}s"
            )
            return
        live.sleep(1)


def run_scenario(live: LiveStack, scenario: Scenario, log: Callable[[str], None]) -> ScenarioResult:
    criterion, budget_s = criterion_of(live.stack, scenario.alert)
    result = ScenarioResult(scenario, criterion, budget_s)
    traffic = Traffic(live.agent_url, HEALTHY_MIX)
    traffic.start()
    try:
        live.wait_discovered()
        log(f"[{scenario.name}] targets up; {WARMUP_S:g}s of healthy traffic")
        live.sleep(WARMUP_S)
        for alert in live.api.alerts():  # healthy: nothing fires or is about to
            state = alert["state"]
            result.unexpected.add(f"{_describe(alert['labels'])} ({state} before the fault)")
        log(f"[{scenario.name}] fault: {scenario.title}")
        scenario.fault()(live, traffic)
        # Onset: the fault is in effect (a restart to apply a setting is not part of it).
        onset = time.time()
        log(f"[{scenario.name}] fault in effect; waiting for {scenario.alert}")
        wait_s = scenario.max_wait_s or budget_s + OVERSHOOT_S
        deadline = onset + wait_s
        next_progress = time.time() + 30
        while time.time() < deadline:
            notification = live.webhook.first_firing(scenario.alert, onset)
            if notification is not None:
                result.detected_s = notification.received_at - onset
                log(
                    f"[{scenario.name}] {scenario.alert} reached the webhook after "
                    f"{result.detected_s:.0f}s"
                )
                break
            if time.time() >= next_progress:
                states = sorted(f"{_describe(a['labels'])}:{a['state']}" for a in live.api.alerts())
                log(f"[{scenario.name}] +{time.time() - onset:.0f}s alerts: {states or 'none'}")
                next_progress += 30
            live.sleep(1)
        if result.detected_s is None:
            result.error = f"{scenario.alert} did not reach the webhook within {wait_s:.0f}s"
        elif scenario.agent_records:
            _check_recorded(live, scenario, onset, onset + result.detected_s, result, log)
        for notification in live.webhook.notifications():
            for labels in notification.firing():
                if not _allowed(scenario, labels):
                    result.unexpected.add(_describe(labels))
        # Also pending: an alert on its way to fire is as wrong as one that fired.
        for alert in live.api.alerts():
            if not _allowed(scenario, alert["labels"]):
                result.unexpected.add(f"{_describe(alert['labels'])} ({alert['state']})")
    finally:
        traffic.stop()
    if scenario.requests_must_succeed:
        result.failed_requests = failed_outcomes(traffic.outcomes)
    return result
