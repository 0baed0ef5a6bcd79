"""Label values the service reads from the stack's metric catalog: the spec declares
them (its dashboards and alerts use the same), the service only looks them up."""

from __future__ import annotations

from stackgen.spec import Stack

__all__ = ["AGENT_METRIC", "agent_types", "label_values"]

# The metric whose agent_type label lists the agents the service routes to.
AGENT_METRIC = "agent_requests"


def label_values(stack: Stack, metric: str, label: str) -> tuple[str, ...]:
    """The values the catalog declares for ``metric``'s ``label`` (in the spec's order);
    a metric or label the catalog lacks, or an unbounded label, is a ValueError."""
    spec = next((m for m in stack.metrics if m.name == metric), None)
    found = spec.label(label) if spec is not None else None
    if found is None or found.values is None:
        raise ValueError(f"{stack.name}: the catalog declares no values for {metric}{{{label}}}")
    return found.values


def agent_types(stack: Stack) -> tuple[str, ...]:
    """The agents of the stack, as the agent_type label values of its catalog."""
    return label_values(stack, AGENT_METRIC, "agent_type")
