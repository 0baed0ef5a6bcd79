"""A metric of a type stackgen does not know: Prometheus' summary."""

from stackgen.spec import Metric, Service, Stack

requests = Metric(
    service="agent-api",
    name="agent_requests",
    type="counter",
    help="Chat turns handled.",
)
summaries = Metric(  # broken: Metric[agent_latency_seconds].type
    service="agent-api",
    name="agent_latency_seconds",
    type="summary",
    unit="seconds",
    help="End-to-end latency of a turn.",
)
api = Service(name="agent-api", description="The agent API.", host="agent-api", port=8000)

stack = Stack(
    name="unknown-metric-type",
    metrics=(requests, summaries),
    services=(api,),
    prometheus={"alertmanager": None},
    runbook_url="http://localhost:8000/runbooks",
)
