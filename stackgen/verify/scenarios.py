"""Fault scenarios, each driven against its own live stack: healthy traffic, then a
fault made with real requests or real service settings, then the matching alert must
reach the Alertmanager webhook, and nothing outside the scenario may fire. Where the
agent service stays up, the alert must also be in its alert_notifications table:
delivered through the agent's own authenticated webhook.

A quiet scenario (no alert) makes noise instead of a fault: for its whole length no
critical alert may fire or reach the webhook (warnings may: noise near a line is what a
ticket is for). Critical alerts that only pended, and how close each critical alert's
compared value came to its threshold, are logged: the noise must really be near the
lines for the silence to mean something."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import promql_parser as pp

from stackgen.conventions import SEVERITY_LABEL
from stackgen.promql_trees import parsed
from stackgen.spec import (
    FaultScenario,
    RestartService,
    Severity,
    Stack,
    StopProgram,
    StopService,
    TrafficMix,
    duration_seconds,
)
from stackgen.spec.verify import FREE_PORT
from stackgen.verify.live import LiveStack, free_port
from stackgen.verify.traffic import (
    HEALTHY_MIX,
    NEGATIVE_FEEDBACK_MIX,
    TOOL_ERROR_MIX,
    Action,
    Traffic,
    failed_outcomes,
    unclean_outcomes,
)

__all__ = [
    "MIXES",
    "ScenarioResult",
    "closest_approaches",
    "criterion_of",
    "fault_environment",
    "make_fault",
    "mix_of",
    "run_scenario",
    "scenarios_of",
    "watch_quiet",
]

# Healthy traffic before the fault: rate windows hold pre-fault samples and the rules
# have evaluated a few times, so a pre-fault alert would show.
WARMUP_S = 30.0
# How long a critical alert may take is the stack's budget; the run waits this much
# longer so an overshoot is measured instead of cut off.
OVERSHOOT_S = 45.0
# Alertmanager notifies its webhooks concurrently: the agent's copy lands within a
# second or two of the timing webhook's; a failed delivery is retried with backoff.
RECORDED_WITHIN_S = 30.0

Fault = Callable[[LiveStack, Traffic], None]

# The traffic driver's mixes a TrafficMix fault may name.
MIXES: Mapping[str, Sequence[Action]] = {
    "tool-errors": TOOL_ERROR_MIX,
    "negative-feedback": NEGATIVE_FEEDBACK_MIX,
}


def mix_of(fault: TrafficMix) -> Sequence[Action]:
    """The traffic driver's mix a TrafficMix fault names (ValueError if none)."""
    mix = MIXES.get(fault.mix)
    if mix is None:
        raise ValueError(f"traffic mix {fault.mix!r} is not one of {sorted(MIXES)}")
    return mix


def fault_environment(fault: RestartService) -> dict[str, str]:
    """The setting a RestartService fault applies, ``{free_port}`` replaced by one port
    nobody listens on, taken now."""
    port = str(free_port())
    return {k: v.replace(FREE_PORT, port) for k, v in fault.environment.items()}


def _restart(fault: RestartService) -> Fault:
    """Restart the service with a setting that makes the fault. The fault begins when
    the restarted service serves (the run measures from there)."""

    def restart(live: LiveStack, traffic: Traffic) -> None:
        env = fault_environment(fault)
        # No request may be cut by the restart: a cut turn counts as an error.
        traffic.stop()
        live.restart_agent(env)
        traffic.start(fault.workers)

    return restart


def make_fault(scenario: FaultScenario) -> Fault:
    """What the scenario's fault does to a live stack."""
    fault = scenario.fault
    if isinstance(fault, StopService):
        # Traffic keeps trying: clients see connection errors.
        return lambda live, traffic: live.stop_agent()
    if isinstance(fault, StopProgram):
        program = fault.program
        # A program of the stack stopped (the collector, Jaeger): users must not notice.
        return lambda live, traffic: live.stop(program)
    if isinstance(fault, TrafficMix):
        mix = mix_of(fault)
        return lambda live, traffic: traffic.set_mix(mix)
    return _restart(fault)


@dataclass
class ScenarioResult:
    scenario: FaultScenario
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
        detected = self.scenario.quiet or (
            self.detected_s is not None and self.detected_s <= self.budget_s
        )
        return self.error is None and detected and not self.unexpected and not self.failed_requests


def scenarios_of(stack: Stack) -> tuple[FaultScenario, ...]:
    """The stack's fault scenarios (none without verify settings)."""
    return stack.verify.scenarios if stack.verify is not None else ()


def criterion_of(stack: Stack, scenario: FaultScenario) -> tuple[str, float]:
    """The detection promise: the critical budget for critical alerts, the spec's
    tested ``fires_within`` for warnings; a quiet scenario promises silence for its
    length."""
    if scenario.alert is None:
        length = scenario.max_wait_s or 0.0
        return f"no critical alert in {length:.0f}s", length
    alert = next(a for a in stack.alerts if a.name == scenario.alert)
    if alert.severity is Severity.CRITICAL:
        budget = stack.critical_detection_budget
        return f"< {budget} (critical)", duration_seconds(budget)
    within = alert.test.fires_within if alert.test else "10m"
    held = f"for {alert.for_}" if alert.for_ else "no for"
    return f"<= {within} (spec, {held})", duration_seconds(within)


def _allowed(scenario: FaultScenario, labels: dict[str, str]) -> bool:
    name = labels.get("alertname", "")
    return (
        name == scenario.alert
        or name in scenario.also_allowed
        or labels.get("slo", "") in scenario.slos
    )


def _is_critical(labels: Mapping[str, str]) -> bool:
    return labels.get(SEVERITY_LABEL) == Severity.CRITICAL


def watch_quiet(
    live: LiveStack,
    scenario: FaultScenario,
    onset: float,
    result: ScenarioResult,
    log: Callable[[str], None],
) -> None:
    """Noise for the scenario's length: every critical alert that fires or pages is a
    false page."""
    deadline = onset + result.budget_s
    next_progress = time.time() + 30
    pended: set[str] = set()
    while time.time() < deadline:
        states = []
        for alert in live.api.alerts():
            states.append(f"{_describe(alert['labels'])}:{alert['state']}")
            if _is_critical(alert["labels"]):
                if alert["state"] == "firing":
                    result.unexpected.add(f"{_describe(alert['labels'])} (firing)")
                else:
                    pended.add(_describe(alert["labels"]))
        if time.time() >= next_progress:
            log(f"[{scenario.name}] +{time.time() - onset:.0f}s alerts: {sorted(states) or 'none'}")
            next_progress += 30
        live.sleep(2)
    for notification in live.webhook.notifications():
        for labels in notification.firing():
            if _is_critical(labels):
                result.unexpected.add(f"{_describe(labels)} (paged)")
    if pended:
        log(f"[{scenario.name}] critical alerts that pended, never fired: {sorted(pended)}")
    for line in closest_approaches(live, result.budget_s):
        log(f"[{scenario.name}] {line}")


def _compared(expr: str) -> tuple[str, str, float] | None:
    """``(left side, operator, number)`` of an expression that compares with a number at
    its top (``x > 0.05``); None for any other shape."""
    node = parsed(expr)
    if (
        isinstance(node, pp.BinaryExpr)
        and str(node.op) in _PEAK_FUNCTIONS
        and isinstance(node.rhs, pp.NumberLiteral)
    ):
        return node.lhs.prettify(), str(node.op), float(node.rhs.val)
    return None


# The way towards a threshold: up to a `>` line, down to a `<` or `==` one.
_PEAK_FUNCTIONS = {
    ">": "max_over_time",
    ">=": "max_over_time",
    "<": "min_over_time",
    "<=": "min_over_time",
    "==": "min_over_time",
}


def closest_approaches(live: LiveStack, window_s: float) -> list[str]:
    """For each critical alert of the stack comparing a value with a number: the value
    closest to its threshold over the last ``window_s`` (every series, every 5 s)."""
    lines = []
    for alert in live.stack.alerts:
        compared = None if alert.severity is not Severity.CRITICAL else _compared(alert.expr)
        if compared is None:
            continue
        side, op, threshold = compared
        function = _PEAK_FUNCTIONS[op]
        values = live.api.values(f"{function}(({side})[{window_s:.0f}s:5s])")
        if values:
            closest = max(values) if function == "max_over_time" else min(values)
            lines.append(f"{alert.name}: closest {closest:.4g} (fires {op} {threshold:g})")
        else:
            lines.append(f"{alert.name}: no value (fires {op} {threshold:g})")
    return lines


def _describe(labels: dict[str, str]) -> str:
    slo = labels.get("slo")
    return f"{labels.get('alertname')}{{slo={slo}}}" if slo else str(labels.get("alertname"))


def _check_recorded(
    live: LiveStack,
    scenario: FaultScenario,
    alert: str,
    onset: float,
    arrived: float,
    result: ScenarioResult,
    log: Callable[[str], None],
) -> None:
    """The alert is in the agent's alert_notifications (bounded wait)."""
    deadline = arrived + RECORDED_WITHIN_S
    while True:
        if live.recorded_alerts(alert, onset) > 0:
            result.recorded_s = max(0.0, time.time() - arrived)
            log(
                f"[{scenario.name}] {alert} recorded by the agent in "
                f"alert_notifications ({result.recorded_s:.0f}s after the webhook)"
            )
            return
        if time.time() >= deadline:
            result.error = (
                f"{alert} reached the webhook but the agent did not record it in "
                f"alert_notifications within {RECORDED_WITHIN_S:.0f}s"
            )
            return
        live.sleep(1)


def run_scenario(
    live: LiveStack, scenario: FaultScenario, log: Callable[[str], None]
) -> ScenarioResult:
    criterion, budget_s = criterion_of(live.stack, scenario)
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
        make_fault(scenario)(live, traffic)
        # Onset: the fault is in effect (a restart to apply a setting is not part of it).
        onset = time.time()
        if scenario.alert is None:
            log(f"[{scenario.name}] noise in effect; no critical alert for {budget_s:.0f}s")
            watch_quiet(live, scenario, onset, result, log)
        else:
            _watch_fault(live, scenario, onset, result, log)
    finally:
        traffic.stop()
    if scenario.requests_must_succeed:
        result.failed_requests = failed_outcomes(traffic.outcomes)
    elif scenario.failures_must_be_clean:
        result.failed_requests = unclean_outcomes(traffic.outcomes)
    return result


def _watch_fault(
    live: LiveStack,
    scenario: FaultScenario,
    onset: float,
    result: ScenarioResult,
    log: Callable[[str], None],
) -> None:
    """The scenario's alert must reach the webhook within its budget (plus an overshoot,
    measured), and nothing the scenario does not allow may fire or pend."""
    name = scenario.alert
    assert name is not None
    budget_s = result.budget_s
    log(f"[{scenario.name}] fault in effect; waiting for {name}")
    wait_s = scenario.max_wait_s or budget_s + OVERSHOOT_S
    deadline = onset + wait_s
    next_progress = time.time() + 30
    while time.time() < deadline:
        notification = live.webhook.first_firing(name, onset)
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
    elif scenario.service_records:
        _check_recorded(live, scenario, name, onset, onset + result.detected_s, result, log)
    for notification in live.webhook.notifications():
        for labels in notification.firing():
            if not _allowed(scenario, labels):
                result.unexpected.add(_describe(labels))
    # Also pending: an alert on its way to fire is as wrong as one that fired.
    for alert in live.api.alerts():
        if not _allowed(scenario, alert["labels"]):
            result.unexpected.add(f"{_describe(alert['labels'])} ({alert['state']})")
