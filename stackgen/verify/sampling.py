"""Whether an expression reads over a time window (pure): such an answer is compared
while traffic runs; one that reads only instant values (an in-flight gauge, a constant)
is compared once traffic has stopped, since its value at a moment depends on where in
the traffic each replica's scrape fell, not on anything the replicas do differently."""

from __future__ import annotations

from typing import Any

import promql_parser as pp

from stackgen.verify.expressions import Expression, RuleIndex

__all__ = ["reads_windows"]


def _windowed_or_names(expr: str) -> tuple[bool, set[str]]:
    windowed = False
    names: set[str] = set()

    def visit(node: Any) -> bool:
        nonlocal windowed
        if isinstance(node, pp.MatrixSelector | pp.SubqueryExpr):
            windowed = True
        elif isinstance(node, pp.VectorSelector) and node.name:
            names.add(node.name)
        return True

    pp.walk(pp.parse(expr), visit)
    return windowed, names


def reads_windows(expression: Expression, rules: RuleIndex) -> bool:
    """True when the expression, or a recording rule it reads (transitively), has a
    range selector or a subquery."""
    pending, seen = [expression.expr], set()
    while pending:
        expr = pending.pop()
        if expr in seen:
            continue
        seen.add(expr)
        windowed, names = _windowed_or_names(expr)
        if windowed:
            return True
        pending += [rule.expr for name in names for rule in rules.get(name, [])]
    return False
