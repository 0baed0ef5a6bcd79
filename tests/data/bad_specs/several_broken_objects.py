"""Three independent broken objects: the loader must report every one, each at its line."""

from stackgen.spec import Alert, AlertTest, Metric, Scrape, Service, Stack

requests = Metric(  # broken: Metric[agent_requests_total]
    service="agent-api",
    name="agent_requests_total",
    type="counter",
    help="Chat turns handled.",
)
api = Service(  # broken: Service[agent-api]
    name="agent-api",
    description="The agent API.",
    host="agent-api",
    port=8000,
    critical=True,
)
alertmanager = Service(
    name="alertmanager",
    description="Alertmanager.",
    host="alertmanager",
    port=9093,
    scrape=Scrape(path="/metrics"),
)
api_down = Alert(  # broken: Alert[ApiDown].for_
    name="ApiDown",
    group="infra",
    expr='up{job="agent-api"} == 0',
    for_="five minutes",
    severity="critical",
    summary="The agent API is down",
    description="{{ $labels.instance }} has not answered a scrape.",
    runbook="api-down",
    test=AlertTest(
        series={'up{job="agent-api",instance="agent-api:8000"}': "1x10 0x10"},
        fault_at="2m45s",
        fires_within="1m",
        labels={"job": "agent-api", "instance": "agent-api:8000"},
        value=0,
        near_miss={'up{job="agent-api",instance="agent-api:8000"}': "1x20"},
    ),
)

stack = Stack(
    name="several-broken",
    metrics=(requests,),
    alerts=(api_down,),
    services=(api, alertmanager),
    runbook_url="http://localhost:8000/runbooks",
)
