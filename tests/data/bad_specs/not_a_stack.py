"""`stack` names the catalog instead of the Stack built from it."""

from stackgen.spec import Metric

stack = (
    Metric(service="agent-api", name="agent_requests", type="counter", help="Chat turns handled."),
)
