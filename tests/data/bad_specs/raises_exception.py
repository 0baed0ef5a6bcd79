"""A plain Python error in the spec, unrelated to validation."""

from stackgen.spec import Metric, Service, Stack

THRESHOLDS = {"ttft_seconds": 2.0}

requests = Metric(
    service="agent-api", name="agent_requests", type="counter", help="Chat turns handled."
)
latency_target = THRESHOLDS["latency_seconds"]  # broken: KeyError
api = Service(name="agent-api", description="The agent API.", host="agent-api", port=8000)

stack = Stack(
    name="raises-exception",
    metrics=(requests,),
    services=(api,),
    prometheus={"alertmanager": None},
    runbook_url="http://localhost:8000/runbooks",
)
