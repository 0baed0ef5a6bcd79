"""What to do when an alert fires: one section per anchor alerts and SLOs link."""

from __future__ import annotations

from stackgen.spec import Runbook, RunbookQuery

from payments_stack.metrics import provider_calls, request_duration_seconds, requests

_ERROR_RATIO = (
    f'sum(rate({requests.name}_total{{status="error"}}[5m])) / sum(rate({requests.name}_total[5m]))'
)

high_error_rate = Runbook(
    anchor="high-error-rate",
    title="High error rate",
    meaning="More than 5% of requests to payments-api fail: users see errors.",
    causes=(
        "A dependency of payments-api (database, downstream API) is down or slow.",
        "A bad deployment.",
    ),
    steps=(
        "Open the overview dashboard: when did the error ratio rise?",
        "Read payments-api's logs for the failing requests.",
        "Roll back the last deployment if it coincides.",
    ),
    queries=(RunbookQuery(title="Error ratio over 5 minutes", promql=_ERROR_RATIO),),
    escalation="Page the owner of payments-api when the ratio stays above 5% for 15 minutes.",
)
slo_availability = Runbook(
    anchor="slo-availability",
    title="Availability SLO burning",
    meaning="Errors consume the 30-day error budget of the availability SLO too fast.",
    causes=("Sustained errors: see high-error-rate.",),
    steps=(
        "Open the SLO dashboard: which window burns?",
        "Follow the high-error-rate runbook.",
    ),
    queries=(
        RunbookQuery(title="Error ratio over 1 hour", promql=_ERROR_RATIO.replace("5m", "1h")),
    ),
    escalation="A page-tier burn is an incident: page the owner of payments-api.",
)

provider_failing = Runbook(
    anchor="payment-provider-failing",
    title="Payment provider failing",
    meaning="One card provider refuses or times out on more than 20% of its calls; "
    "checkout retries with another provider, so users mostly see slower payments.",
    causes=("The provider's outage.", "Expired credentials for that provider."),
    steps=(
        "Check the provider's status page.",
        "Read payments-api's logs for that provider's error codes.",
        "Take the provider out of rotation when its outage lasts.",
    ),
    queries=(
        RunbookQuery(
            title="Error ratio by provider",
            promql=(
                f'sum by (provider) (rate({provider_calls.name}_total{{status="error"}}[5m]))'
                f" / sum by (provider) (rate({provider_calls.name}_total[5m]))"
            ),
        ),
    ),
    escalation="Open a ticket with the provider; page payments on-call if two fail at once.",
)
slo_checkout_latency = Runbook(
    anchor="slo-checkout-latency",
    title="Checkout latency SLO burning",
    meaning="Too many requests take longer than a second: the latency budget burns.",
    causes=("A slow payment provider.", "payments-api saturated."),
    steps=(
        "Open the overview dashboard: latency P95 and in-flight requests.",
        "Compare the providers' error ratios (payment-provider-failing).",
    ),
    queries=(
        RunbookQuery(
            title="Latency P95",
            promql=(
                "histogram_quantile(0.95, sum by (le) "
                f"(rate({request_duration_seconds.name}_bucket[5m])))"
            ),
        ),
    ),
    escalation="A page-tier burn is an incident: page payments on-call.",
)

RUNBOOKS = (high_error_rate, slo_availability, provider_failing, slo_checkout_latency)
