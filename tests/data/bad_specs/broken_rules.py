"""Broken rules: unparseable PromQL, an unsupported annotation template, and a test
that expects the alert to fire before its `for_` can have elapsed."""

from stackgen.spec import Alert, AlertTest, Metric, Scrape, Service, Stack

UP = 'up{job="agent-api",instance="agent-api:8000"}'


def fault(fires_within: str) -> AlertTest:
    return AlertTest(
        series={UP: "1x10 0x20"},
        fault_at="2m45s",
        fires_within=fires_within,
        labels={"job": "agent-api", "instance": "agent-api:8000"},
        value=0,
        near_miss={UP: "1x30"},
    )


requests = Metric(
    service="agent-api", name="agent_requests", type="counter", help="Chat turns handled."
)
api = Service(
    name="agent-api",
    description="The agent API.",
    host="agent-api",
    port=8000,
    scrape=Scrape(path="/metrics"),
)
bad_expr = Alert(  # broken: expr
    name="HighErrorRate",
    group="sla",
    expr='sum(rate(agent_requests_total{status="error"}[5m]) / sum(rate(agent_requests_total[5m]))',
    for_="1m",
    severity="warning",
    summary="More than 5% of chat turns fail",
    description="{{ $value | humanizePercentage }} of chat turns failed.",
    runbook="high-error-rate",
    test=fault("2m"),
)
bad_template = Alert(  # broken: template
    name="ApiDown",
    group="infra",
    expr='up{job="agent-api"} == 0',
    for_="1m",
    severity="warning",
    summary="{{ .Labels.job }} is down",
    description="{{ $labels.instance }} has not answered a scrape.",
    runbook="api-down",
    test=fault("2m"),
)
too_early = Alert(  # broken: fires-within
    name="ApiFlapping",
    group="infra",
    expr='changes(up{job="agent-api"}[10m]) > 2',
    for_="10m",
    severity="warning",
    summary="{{ $labels.job }} is flapping",
    description="{{ $labels.instance }} changed state {{ $value | humanize }} times.",
    runbook="api-flapping",
    test=fault("5m"),
)

stack = Stack(
    name="broken-rules",
    metrics=(requests,),
    alerts=(bad_expr, bad_template, too_early),
    services=(api,),
    prometheus={"alertmanager": None},
    runbook_url="http://localhost:8000/runbooks",
)
