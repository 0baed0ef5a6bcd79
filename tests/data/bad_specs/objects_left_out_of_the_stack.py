"""An alert and a metric defined but never put in the stack: they would vanish from the
generated files without a word."""

from stackgen.spec import Alert, AlertTest, Label, Metric, Service, Severity, Stack

agent_type = Label(name="agent_type", description="Which agent answered.", values=("erp",))
requests = Metric(
    service="agent-api",
    name="agent_requests",
    type="counter",
    help="Chat turns handled.",
    labels=(agent_type,),
)
errors = Metric(  # broken: Metric[agent_errors]
    service="agent-api",
    name="agent_errors",
    type="counter",
    help="Chat turns that failed.",
    labels=(agent_type,),
)
api_down = Alert(  # broken: Alert[ApiDown]
    name="ApiDown",
    group="demo",
    expr='up{job="agent-api"} == 0',
    for_="1m",
    severity=Severity.CRITICAL,
    summary="The agent API is down",
    description="The agent API has not answered a scrape for a minute.",
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
api = Service(name="agent-api", description="The agent API.", host="agent-api", port=8000)

stack = Stack(
    name="left-out",
    metrics=(requests,),
    services=(api,),
    prometheus={"alertmanager": None},
    runbook_url="http://localhost:8000/runbooks",
)
