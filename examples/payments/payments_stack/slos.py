"""Service level objectives: stackgen generates their error-ratio rules, burn-rate
alerts (multi-window, multi-burn-rate), promtool tests and the SLO dashboard."""

from __future__ import annotations

from stackgen.spec import SLO, LatencySLI, RatioSLI

from payments_stack.metrics import request_duration_seconds, requests

availability = SLO(
    name="availability",
    description="Requests that complete without an error.",
    objective=99.0,
    period="30d",
    sli=RatioSLI(metric=requests.name, bad={"status": "error"}),
    runbook="slo-availability",
)

checkout_latency = SLO(
    name="checkout-latency",
    description="Requests answered within a second.",
    objective=99.0,
    period="30d",
    sli=LatencySLI(metric=request_duration_seconds.name, threshold=1.0),
    runbook="slo-checkout-latency",
)

SLOS = (availability, checkout_latency)
