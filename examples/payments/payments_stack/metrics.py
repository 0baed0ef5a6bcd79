"""The metric catalog of the payments example: every metric payments-api emits.
Dashboards, alerts and SLOs may query nothing else (`up` and the other scrape series come
from the scrape jobs)."""

from __future__ import annotations

from stackgen.spec import Label, Metric, MetricType

from payments_stack.services import app

# Bucket bounds the SLO's latency threshold must be one of.
LATENCY_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)

outcome = Label(
    name="status",
    description="success, or error when the request failed.",
    values=("success", "error"),
)

requests = Metric(
    name="payments_requests",
    type=MetricType.COUNTER,
    help="Requests handled, by outcome.",
    labels=(outcome,),
    service=app.name,
)
request_duration_seconds = Metric(
    name="payments_request_duration_seconds",
    type=MetricType.HISTOGRAM,
    unit="seconds",
    help="Time to handle a request, from arrival to the last byte of the answer.",
    buckets=LATENCY_BUCKETS,
    service=app.name,
)
provider_calls = Metric(
    name="payments_provider_calls",
    type=MetricType.COUNTER,
    help="Calls to the card payment providers, by provider and outcome.",
    labels=(
        Label(name="provider", description="The payment provider called.", max_cardinality=5),
        outcome,
    ),
    service=app.name,
)
in_flight_requests = Metric(
    name="payments_in_flight_requests",
    type=MetricType.GAUGE,
    help="Requests being handled right now.",
    service=app.name,
)

CATALOG = (requests, request_duration_seconds, provider_calls, in_flight_requests)
