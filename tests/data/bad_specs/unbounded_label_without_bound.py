"""A label with neither allowed values nor a declared cardinality bound."""

from stackgen.spec import Label, Metric, Service, Stack

tool_name = Label(  # broken: Label[tool_name]
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
api = Service(name="agent-api", description="The agent API.", host="agent-api", port=8000)

stack = Stack(
    name="unbounded-label",
    metrics=(tool_executions,),
    services=(api,),
    prometheus={"alertmanager": None},
    runbook_url="http://localhost:8000/runbooks",
)
