"""A valid spec with a consistency error: a user_id label on agent_requests."""

from specs.bestbox import stack as bestbox
from stackgen.spec import Label, Metric, MetricType

seed_requests = Metric(
    service="agent-api",
    name="seed_agent_requests",
    type=MetricType.COUNTER,
    help="A request counter, labelled by user.",
    labels=(Label(name="user_id", description="Who asked.", max_cardinality=1000),),
)
stack = bestbox.model_copy(update={"metrics": (*bestbox.metrics, seed_requests)})
