"""The alert targets a report judges a period against, read from the stack's alerts:
each target is the number its alert compares with (from the parsed expression), so the
report moves with the alert. A target whose alert the stack does not define is left out.

The alert names are the service's contract with its stack, as the metric names are: the
alerts that watch the figures the report computes."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import promql_parser

from stackgen.spec import Alert, Stack

__all__ = ["TARGETS", "AlertTarget", "find_alert", "guard_threshold"]

_COMPARISONS = {">", ">=", "<", "<=", "==", "!="}


@dataclass(frozen=True)
class AlertTarget:
    key: str
    label: str
    alert: str  # the alert whose threshold is the target
    comparison: Literal["<=", ">="]  # what a figure that meets the target does
    unit: Literal["s", "ratio"]


TARGETS = (
    AlertTarget("ttft_p95", "Time to first token, P95", "HighTTFTP95", "<=", "s"),
    AlertTarget("simple_p95", "Simple-turn latency, P95", "SlowSimpleTurns", "<=", "s"),
    AlertTarget("complex_p95", "Complex-turn latency, P95", "SlowComplexTurns", "<=", "s"),
    AlertTarget("error_ratio", "Turns with an error", "HighErrorRate", "<=", "ratio"),
    AlertTarget("tool_error_ratio", "Tool calls with an error", "HighToolErrorRate", "<=", "ratio"),
    AlertTarget("satisfaction", "Satisfaction", "LowUserSatisfaction", ">=", "ratio"),
)


def find_alert(stack: Stack, name: str) -> Alert | None:
    return next((alert for alert in stack.alerts if alert.name == name), None)


def guard_threshold(alert: Alert) -> float | None:
    """The number the alert's ``and`` clause compares with (``ratio < 0.7 and
    count >= 10`` -> 10): how much data the alert needs before it judges; None when the
    expression has no such clause."""
    node = promql_parser.parse(alert.expr)
    if not isinstance(node, promql_parser.BinaryExpr) or str(node.op) != "and":
        return None
    guard = node.rhs
    if (
        isinstance(guard, promql_parser.BinaryExpr)
        and str(guard.op) in _COMPARISONS
        and isinstance(guard.rhs, promql_parser.NumberLiteral)
    ):
        return float(guard.rhs.val)
    return None
