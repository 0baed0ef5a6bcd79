"""Every object is valid on its own; the stack that assembles them is not."""

from stackgen.spec import Alert, AlertTest, Metric, PrometheusSettings, Scrape, Service, Stack

requests = Metric(name="agent_requests", type="counter", help="Chat turns handled.")
requests_again = Metric(name="agent_requests", type="counter", help="The same family twice.")
api = Service(
    name="agent-api",
    description="The agent API.",
    host="agent-api",
    port=8000,
    scrape=Scrape(path="/metrics"),
    critical=True,
)
api_down = Alert(
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

stack = Stack(  # broken: Stack[broken-stack-level]
    name="broken-stack-level",
    metrics=(requests, requests_again),
    alerts=(api_down,),
    services=(api,),
    prometheus=PrometheusSettings(alertmanager="mailer"),
    runbook_url="http://localhost:8000/runbooks",
)
