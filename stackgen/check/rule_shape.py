"""Checks of an alerting rule's shape that no catalog is needed for: ``absent()`` over
several alternatives, and alerts on ratios of short-window rates (5m or less) that fire
on one evaluation."""

from __future__ import annotations

import re
from typing import Any

import promql_parser as pp

from stackgen.check.codes import FindingCode, finding
from stackgen.check.promql import Subject
from stackgen.conventions import COUNTER_RANGE_FUNCTIONS
from stackgen.findings import Finding
from stackgen.promql_trees import parsed

__all__ = ["check_rule_shape"]

# A regex that is a plain list of alternatives, job=~"api|worker": each one a value.
_ALTERNATION = re.compile(r"^\(?[A-Za-z0-9_.:-]+(\|[A-Za-z0-9_.:-]+)+\)?$")
_NO_DURATION = (None, "0", "0s", "0m")


# Rates over windows this short are noisy: a few requests swing the ratio.
_NOISY_WINDOW_S = 300


def _contains_short_rate(node: Any) -> bool:
    found = False

    def visit(child: Any) -> bool:
        nonlocal found
        if type(child).__name__ == "Call" and child.func.name in COUNTER_RANGE_FUNCTIONS:
            for arg in child.args:
                if (
                    type(arg).__name__ == "MatrixSelector"
                    and arg.range.total_seconds() <= _NOISY_WINDOW_S
                ):
                    found = True
        return not found

    pp.walk(node, visit)
    return found


def _selectors(node: Any) -> list[Any]:
    selectors: list[Any] = []

    def visit(child: Any) -> bool:
        if type(child).__name__ == "VectorSelector":
            selectors.append(child)
        return True

    pp.walk(node, visit)
    return selectors


def check_rule_shape(
    expr: str, subject: Subject, *, alert: bool, for_: str | None
) -> list[Finding]:
    """The shape findings of one rule (none for an expression that does not parse)."""
    try:
        tree = parsed(expr)
    except ValueError:
        return []
    findings: list[Finding] = []

    def report(code: FindingCode, message: str, hint: str) -> None:
        findings.append(
            finding(
                code,
                subject.where,
                message,
                hint,
                spec=subject.spec,
                location=subject.location,
                expr=subject.expr or expr,
            )
        )

    ratio = False

    def visit(node: Any) -> bool:
        nonlocal ratio
        kind = type(node).__name__
        if kind == "Call" and node.func.name == "absent" and node.args:
            for selector in _selectors(node.args[0]):
                for matcher in selector.matchers.matchers:
                    if matcher.op == pp.MatchOp.Re and _ALTERNATION.match(matcher.value):
                        values = matcher.value.strip("()").split("|")
                        report(
                            FindingCode.ABSENT_REGEX,
                            f"absent() over {matcher.name}=~{matcher.value!r} fires only when "
                            f"every one of {values} is gone, not when one of them is",
                            "one absent() per value: absent(x{"
                            + f'{matcher.name}="{values[0]}"'
                            + "}) or absent(...)",
                        )
        if kind == "BinaryExpr" and str(node.op) == "/":
            if _contains_short_rate(node.lhs) and _contains_short_rate(node.rhs):
                ratio = True
        return True

    pp.walk(tree, visit)
    if alert and ratio and for_ in _NO_DURATION:
        report(
            FindingCode.RATIO_WITHOUT_FOR,
            "the alert compares a ratio of rates over 5m or less and has no `for`: a "
            "single evaluation over a few requests pages",
            "add `for:` (a few evaluation intervals, e.g. 5m) or alert on burn rates over "
            "two windows",
        )
    return findings
