"""A scenario helper called with a fault step outside the scenario: the error is raised
inside stackgen, but the report must point at the spec line that called it."""

from stackgen.spec import Metric, RecordingRule, RecordingTest, Sample, Service, Stack
from stackgen.spec.scenarios import counter

requests = Metric(
    service="agent-api", name="agent_requests", type="counter", help="Chat turns handled."
)
api = Service(name="agent-api", description="The agent API.", host="agent-api", port=8000)
request_rate = RecordingRule(
    record="job:agent_requests:rate5m",
    expr="sum by (job) (rate(agent_requests_total[5m]))",
    group="recording",
    test=RecordingTest(
        series={
            'agent_requests_total{job="agent-api"}': counter(3, 3, 0, 40),  # broken: ValueError
        },
        at="9m",
        expect=(Sample(labels={"job": "agent-api"}, value=0.2),),
    ),
)

stack = Stack(
    name="scenario-helper-raises",
    metrics=(requests,),
    recording_rules=(request_rate,),
    services=(api,),
    prometheus={"alertmanager": None},
    runbook_url="http://localhost:8000/runbooks",
)
