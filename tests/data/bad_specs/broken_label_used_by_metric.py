"""A broken label used by its metric, and an independent broken service after them:
both must be reported, the service although the metric trips over the broken label."""

from stackgen.spec import Label, Metric, Service, Stack

tool_name = Label(  # broken: label
    name="tool_name",
    description="The tool's registered name.",
)
tool_executions = Metric(
    service="agent-api",
    name="tool_executions",
    type="counter",
    help="Tool calls made by the agents.",
    labels=(tool_name,),
)
api = Service(  # broken: service
    name="agent-api",
    description="The agent API.",
    host="agent-api",
    port=0,
)

stack = Stack(
    name="broken-label-used-by-metric",
    metrics=(tool_executions,),
    services=(api,),
    prometheus={"alertmanager": None},
    runbook_url="http://localhost:8000/runbooks",
)
