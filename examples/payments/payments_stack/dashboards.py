"""Grafana dashboards from panel specs: every query is checked against the catalog."""

from __future__ import annotations

from stackgen.spec import Dashboard, Panel, PanelKind, PromQuery, Threshold, alert_threshold

from payments_stack.alerts import OVERVIEW, high_error_rate
from payments_stack.metrics import (
    in_flight_requests,
    provider_calls,
    request_duration_seconds,
    requests,
)

PROMETHEUS = "prometheus"
ERROR_RATIO_LIMIT = alert_threshold(high_error_rate)

overview = Dashboard(
    uid=OVERVIEW,
    name="overview",
    title="payments: Overview",
    description="Traffic, errors, latency and load of payments-api.",
    tags=("payments",),
    panels=(
        Panel(
            title="Request rate",
            kind=PanelKind.TIMESERIES,
            description="Requests a second, by outcome.",
            datasource=PROMETHEUS,
            queries=(
                PromQuery(
                    expr=f"sum by (status) (rate({requests.name}_total[$__rate_interval]))",
                    legend="{{status}}",
                ),
            ),
            unit="reqps",
            width=12,
        ),
        Panel(
            title="Error ratio",
            kind=PanelKind.TIMESERIES,
            description=f"Failed requests among all; the line: the alert's {ERROR_RATIO_LIMIT:g}.",
            datasource=PROMETHEUS,
            queries=(
                PromQuery(
                    expr=(
                        f'sum(rate({requests.name}_total{{status="error"}}[$__rate_interval]))'
                        f" / sum(rate({requests.name}_total[$__rate_interval]))"
                    ),
                    legend="error ratio",
                ),
            ),
            unit="percentunit",
            thresholds=(Threshold(color="green"), Threshold(color="red", value=ERROR_RATIO_LIMIT)),
            threshold_line=True,
            width=12,
        ),
        Panel(
            title="Latency P95",
            kind=PanelKind.TIMESERIES,
            description="95th percentile of the request duration.",
            datasource=PROMETHEUS,
            queries=(
                PromQuery(
                    expr=(
                        "histogram_quantile(0.95, sum by (le) "
                        f"(rate({request_duration_seconds.name}_bucket[$__rate_interval])))"
                    ),
                    legend="P95",
                ),
            ),
            unit="s",
            width=12,
        ),
        Panel(
            title="Provider error ratio",
            kind=PanelKind.TIMESERIES,
            description="Failed calls among all, by payment provider.",
            datasource=PROMETHEUS,
            queries=(
                PromQuery(
                    expr=(
                        "sum by (provider) "
                        f'(rate({provider_calls.name}_total{{status="error"}}[$__rate_interval]))'
                        " / sum by (provider) "
                        f"(rate({provider_calls.name}_total[$__rate_interval]))"
                    ),
                    legend="{{provider}}",
                ),
            ),
            unit="percentunit",
            width=12,
        ),
        Panel(
            title="In-flight requests",
            kind=PanelKind.STAT,
            description="Requests being handled right now.",
            datasource=PROMETHEUS,
            queries=(PromQuery(expr=f"sum({in_flight_requests.name})", instant=True),),
            width=12,
        ),
    ),
)

DASHBOARDS = (overview,)
