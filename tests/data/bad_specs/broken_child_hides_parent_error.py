"""An alert with its own error (an unsupported template) whose test is broken too:
both the test's error and the alert's own must be reported."""

from stackgen.spec import Alert, AlertTest, Metric, Scrape, Service, Stack

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
api_down = Alert(  # broken: alert
    name="ApiDown",
    group="infra",
    expr='up{job="agent-api"} == 0',
    for_="1m",
    severity="critical",
    summary="The agent API is down",
    description="The last scrape returned {{ $value }}.",
    runbook="api-down",
    test=AlertTest(  # broken: alert-test
        series={'up{job="agent-api",instance="agent-api:8000"}': "1x10 0x10"},
        fault_at="2m45s",
        fires_within="soon",
        labels={"job": "agent-api", "instance": "agent-api:8000"},
        value=0,
        near_miss={'up{job="agent-api",instance="agent-api:8000"}': "1x20"},
    ),
)

stack = Stack(
    name="broken-child",
    metrics=(requests,),
    alerts=(api_down,),
    services=(api,),
    prometheus={"alertmanager": None},
    runbook_url="http://localhost:8000/runbooks",
)
