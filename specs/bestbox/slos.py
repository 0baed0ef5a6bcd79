"""BestBox service level objectives, from the SLA tables of the product design.

Each SLO becomes error-ratio recording rules, page and ticket burn-rate alerts, their
promtool tests and a row of the SLO dashboard: adding one is adding an entry here.
"""

from __future__ import annotations

from specs.bestbox.alerts import (
    COMPLEX_TURN_TARGET_SECONDS,
    SIMPLE_TURN_TARGET_SECONDS,
    TTFT_TARGET_SECONDS,
)
from stackgen.spec import SLO, LatencySLI, RatioSLI

ttft = SLO(
    name="ttft-under-2s",
    description="Turns whose first answer token streams within 2 s.",
    objective=95.0,
    period="30d",
    sli=LatencySLI(metric="agent_ttft_seconds", threshold=TTFT_TARGET_SECONDS),
    runbook="slo-ttft",
)
simple_latency = SLO(
    name="simple-turn-latency",
    description="Simple turns (at most one tool call) answered end to end within 10 s.",
    objective=95.0,
    period="30d",
    sli=LatencySLI(
        metric="agent_latency_seconds",
        threshold=SIMPLE_TURN_TARGET_SECONDS,
        matchers={"complexity": "simple"},
    ),
    runbook="slo-turn-latency",
)
complex_latency = SLO(
    name="complex-turn-latency",
    description="Complex turns (several tool calls) answered end to end within 60 s.",
    objective=95.0,
    period="30d",
    sli=LatencySLI(
        metric="agent_latency_seconds",
        threshold=COMPLEX_TURN_TARGET_SECONDS,
        matchers={"complexity": "complex"},
    ),
    runbook="slo-turn-latency",
)
availability = SLO(
    name="request-availability",
    description="Chat turns that complete without an error.",
    objective=99.0,
    period="30d",
    sli=RatioSLI(metric="agent_requests", bad={"status": "error"}),
    runbook="slo-availability",
)
tool_success = SLO(
    name="tool-success",
    description="Tool calls that succeed.",
    objective=95.0,
    period="30d",
    sli=RatioSLI(metric="tool_executions", good={"status": "success"}),
    runbook="slo-tool-success",
)
# 80 % leaves a 20 % budget: even 6x that is more than every rating, so only the ticket
# tiers (3x, 1x) can fire; pages are off (the spec is rejected otherwise).
satisfaction = SLO(
    name="user-satisfaction",
    description="Answers rated thumbs up, among rated answers.",
    objective=80.0,
    period="30d",
    sli=RatioSLI(metric="user_feedback", bad={"rating": "negative"}),
    page=False,
    runbook="slo-user-satisfaction",
)

SLOS = (ttft, simple_latency, complex_latency, availability, tool_success, satisfaction)
