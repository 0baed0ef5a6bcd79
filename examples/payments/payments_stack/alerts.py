"""Alerts, each with its fault test: promtool proves it fires on the fault within the
promised time and stays silent just under the threshold."""

from __future__ import annotations

from stackgen.spec import Alert, AlertTest, Severity
from stackgen.spec.scenarios import counter

from payments_stack.metrics import provider_calls, requests
from payments_stack.services import app

OVERVIEW = "payments-overview"
ERROR_RATIO_LIMIT = 0.05
# At 15 s a sample: the fault begins 10 minutes in.
FAULT_STEP = 40
STEPS = FAULT_STEP + 12

_TARGET = f'job="{app.name}",instance="{app.address}"'
_SUCCESS = f'{requests.name}_total{{{_TARGET},status="success"}}'
_ERROR = f'{requests.name}_total{{{_TARGET},status="error"}}'

high_error_rate = Alert(
    name="HighErrorRate",
    group="payments_availability",
    expr=(
        f'sum(rate({requests.name}_total{{status="error"}}[1m]))'
        f" / sum(rate({requests.name}_total[1m])) > {ERROR_RATIO_LIMIT:g}"
    ),
    for_="1m",
    severity=Severity.CRITICAL,
    summary="More than 5% of requests fail",
    description="{{ $value | humanizePercentage }} of requests failed over the last minute.",
    runbook="high-error-rate",
    dashboard=OVERVIEW,
    test=AlertTest(
        series={
            _SUCCESS: counter(10, 10, FAULT_STEP, STEPS),
            _ERROR: counter(0, 3, FAULT_STEP, STEPS),
        },
        fault_at="10m",
        fires_within="2m",
        value=3 / 13,
        # 1 failure in 25 requests: 4%, under the 5% line.
        near_miss={
            _SUCCESS: counter(24, 24, FAULT_STEP, STEPS),
            _ERROR: counter(0, 1, FAULT_STEP, STEPS),
        },
    ),
)

PROVIDER_ERROR_RATIO_LIMIT = 0.2
_PROVIDER = f'{_TARGET},provider="acquirer-a"'
_PROVIDER_OK = f'{provider_calls.name}_total{{{_PROVIDER},status="success"}}'
_PROVIDER_ERROR = f'{provider_calls.name}_total{{{_PROVIDER},status="error"}}'

# One provider failing is a ticket, not a page: checkout retries with another one.
provider_failing = Alert(
    name="PaymentProviderFailing",
    group="payments_providers",
    expr=(
        f'sum by (provider) (rate({provider_calls.name}_total{{status="error"}}[5m]))'
        f" / sum by (provider) (rate({provider_calls.name}_total[5m]))"
        f" > {PROVIDER_ERROR_RATIO_LIMIT:g}"
    ),
    for_="5m",
    severity=Severity.WARNING,
    summary="A payment provider fails more than 20% of its calls",
    description="{{ $labels.provider }} failed {{ $value | humanizePercentage }} of its calls.",
    runbook="payment-provider-failing",
    dashboard=OVERVIEW,
    test=AlertTest(
        series={
            _PROVIDER_OK: counter(10, 6, FAULT_STEP, STEPS + 20),
            _PROVIDER_ERROR: counter(0, 4, FAULT_STEP, STEPS + 20),
        },
        fault_at="10m",
        fires_within="9m",
        labels={"provider": "acquirer-a"},
        value=0.4,
        # 1 failure in 10 calls: 10%, under the 20% line.
        near_miss={
            _PROVIDER_OK: counter(10, 9, FAULT_STEP, STEPS + 20),
            _PROVIDER_ERROR: counter(0, 1, FAULT_STEP, STEPS + 20),
        },
    ),
)

ALERTS = (high_error_rate, provider_failing)
