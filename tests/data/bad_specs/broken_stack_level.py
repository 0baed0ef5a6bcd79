"""Every object is valid on its own; the stack that assembles them is not. Each error
names the line of the object it is about, not the Stack's."""

from stackgen.spec import (
    SLO,
    Alert,
    AlertTest,
    Metric,
    PrometheusSettings,
    RatioSLI,
    Scrape,
    Service,
    Stack,
)

requests = Metric(
    service="agent-api", name="agent_requests", type="counter", help="Chat turns handled."
)
requests_again = Metric(  # broken: metrics
    service="agent-api", name="agent_requests", type="counter", help="The same family twice."
)
api = Service(
    name="agent-api",
    description="The agent API.",
    host="agent-api",
    port=8000,
    scrape=Scrape(path="/metrics"),
    critical=True,
)
api_down = Alert(  # broken: alerts[ApiDown]
    name="ApiDown",
    group="infra",
    expr='up{job="agent-api"} == 0',
    for_="1m",
    severity="critical",
    summary="The agent API is down",
    description="{{ $labels.instance }} has not answered a scrape.",
    runbook="api-down",
    test=AlertTest(
        series={'up{job="agent-api",instance="agent-api:8000"}': "1x10 0x20"},
        fault_at="2m45s",
        fires_within="5m",
        labels={"job": "agent-api", "instance": "agent-api:8000"},
        value=0,
        near_miss={'up{job="agent-api",instance="agent-api:8000"}': "1x30"},
    ),
)
availability = SLO(  # broken: slos[availability]
    name="availability",
    description="Turns without an error.",
    objective=99.0,
    sli=RatioSLI(metric="agent_errors", bad={"status": "error"}),
)

stack = Stack(
    name="broken-stack-level",
    metrics=(requests, requests_again),
    alerts=(api_down,),
    slos=(availability,),
    services=(api,),
    prometheus=PrometheusSettings(alertmanager="mailer"),  # broken: prometheus
    runbook_url="http://localhost:8000/runbooks",
)
