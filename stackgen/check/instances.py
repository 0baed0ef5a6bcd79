"""Expressions that stay right when a job has many instances (replicas, pods) and the
data comes from several Prometheus replicas.

With one instance per job, ``instance`` is a constant and almost any expression gives
the intended answer; with three, an expression that keeps ``instance`` where one figure
is meant gives three, and a match that relied on one series per side fails or pairs up
nothing. Each check reads the labels the expression's parts keep (the same inference as
the catalog checks) and reports:

- ``unmatched-operands``: the two sides of ``/``, ``>``, ``and``... keep different label
  sets (without ``on``): no sample pairs up and the result is silently empty;
- ``per-instance-operand``: ``on(L)`` matching where the side that must be one series
  per match group keeps ``instance`` beyond L;
- ``per-instance-stat``: a stat or gauge panel whose query keeps ``instance``;
- ``per-instance-page``: a critical alert on ``up`` that keeps ``instance``;
- ``quantile-mixes-instances``: per-instance quantiles averaged or summed, or buckets
  merged with an aggregation other than ``sum``/``avg`` before ``histogram_quantile``.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import promql_parser as pp

from stackgen.check.catalog import SeriesIndex
from stackgen.check.codes import FindingCode, finding
from stackgen.check.context import CheckContext
from stackgen.check.dashboards import grafana_to_promql
from stackgen.check.origins import target_origin
from stackgen.check.promql import Subject, is_scalar, node_labels
from stackgen.findings import Finding
from stackgen.promql_trees import parsed
from stackgen.spec import Severity

__all__ = [
    "INSTANCE_LABEL",
    "SINGLE_VALUE_PANELS",
    "check_alert_instances",
    "check_expression_instances",
    "check_page_instances",
    "check_panel_instances",
    "check_single_value_instances",
]

# The scrape label that tells the instances of a job apart.
INSTANCE_LABEL = "instance"
# Panels that show one figure per series: several series are several figures.
SINGLE_VALUE_PANELS = frozenset({"stat", "gauge"})
# Bucket aggregations a quantile stays right under: a sum, or a sum scaled (avg).
_BUCKET_MERGES = frozenset({"sum", "avg"})
# Aggregations of quantiles that pretend to be a quantile of the whole.
_QUANTILE_MIXES = frozenset({"sum", "avg"})
_MATCHING_SET_OPERATORS = frozenset({"and", "unless"})
_ARITHMETIC_AND_COMPARISON = frozenset(
    {"+", "-", "*", "/", "%", "^", "atan2", "==", "!=", ">", "<", ">=", "<="}
)


def _nodes(tree: Any) -> Iterator[Any]:
    found: list[Any] = []

    def visit(node: Any) -> bool:
        found.append(node)
        return True

    pp.walk(tree, visit)
    return iter(found)


def _unwrapped(node: Any) -> Any:
    while type(node).__name__ == "ParenExpr":
        node = node.expr
    return node


def _is_quantile(node: Any) -> bool:
    node = _unwrapped(node)
    return type(node).__name__ == "Call" and node.func.name == "histogram_quantile"


def _shown(labels: frozenset[str]) -> str:
    return "{" + ", ".join(sorted(labels)) + "}"


class _Report:
    def __init__(self, subject: Subject) -> None:
        self.subject = subject
        self.findings: list[Finding] = []

    def __call__(self, code: FindingCode, message: str, hint: str) -> None:
        subject = self.subject
        self.findings.append(
            finding(
                code,
                subject.where,
                message,
                hint,
                spec=subject.spec,
                location=subject.location,
                expr=subject.expr,
            )
        )


def _binary(node: Any, index: SeriesIndex, report: _Report) -> None:
    op = str(node.op)
    if op not in _ARITHMETIC_AND_COMPARISON | _MATCHING_SET_OPERATORS:
        return
    if is_scalar(node.lhs) or is_scalar(node.rhs):
        return
    lhs, rhs = node_labels(node.lhs, index), node_labels(node.rhs, index)
    if lhs is None or rhs is None:
        return
    modifier = node.modifier
    matching = modifier.matching if modifier is not None else None
    labels = frozenset((matching and matching.labels) or ())
    if matching is not None and matching.type == pp.LabelModifierType.Include:
        if op in _MATCHING_SET_OPERATORS:
            return  # set operators allow several series per match group
        card = modifier.card
        # The sides that must hold one series per value of the `on` labels.
        unique = []
        if card != pp.VectorMatchCardinality.OneToMany:
            unique.append(("right", rhs))
        if card != pp.VectorMatchCardinality.ManyToOne:
            unique.append(("left", lhs))
        for side, kept in unique:
            if INSTANCE_LABEL in kept - labels:
                report(
                    FindingCode.PER_INSTANCE_OPERAND,
                    f"{op} on({', '.join(sorted(labels))}): the {side} side keeps "
                    f"{INSTANCE_LABEL}, so with several instances it has several series per "
                    "match group and the query fails (many-to-many)",
                    f"aggregate that side by the `on` labels: sum by ({', '.join(sorted(labels))})"
                    " (...), or match on instance too",
                )
        return
    left, right = lhs - labels, rhs - labels
    if left != right:
        only_left, only_right = left - right, right - left
        parts = []
        if only_left:
            parts.append(f"only the left side keeps {_shown(only_left)}")
        if only_right:
            parts.append(f"only the right side keeps {_shown(only_right)}")
        report(
            FindingCode.UNMATCHED_OPERANDS,
            f"{op} between {_shown(lhs)} and {_shown(rhs)}: {' and '.join(parts)}, so no "
            "sample pairs up and the result is empty",
            "aggregate both sides by the same labels (sum by (...)), or say how they match "
            "with on(...) / ignoring(...) and group_left",
        )


def _quantiles(node: Any, index: SeriesIndex, report: _Report) -> None:
    kind = type(node).__name__
    if kind == "AggregateExpr" and str(node.op) in _QUANTILE_MIXES and _is_quantile(node.expr):
        inner = node_labels(_unwrapped(node.expr), index)
        result = node_labels(node, index)
        if inner is not None and result is not None and INSTANCE_LABEL in inner - result:
            report(
                FindingCode.QUANTILE_MIXES_INSTANCES,
                f"{node.op} over per-instance quantiles: a {node.op} of quantiles is not the "
                "quantile of all the requests",
                "merge the buckets first: histogram_quantile(q, sum by (le) (rate(x_bucket[5m])))",
            )
    if kind == "Call" and node.func.name == "histogram_quantile" and len(node.args) == 2:
        argument = _unwrapped(node.args[1])
        if type(argument).__name__ == "AggregateExpr" and str(argument.op) not in _BUCKET_MERGES:
            report(
                FindingCode.QUANTILE_MIXES_INSTANCES,
                f"histogram_quantile over {argument.op} of the buckets: only summed buckets "
                "count every instance's requests",
                "sum by (le) (rate(x_bucket[5m]))",
            )


def check_expression_instances(expr: str, index: SeriesIndex, subject: Subject) -> list[Finding]:
    """The instance-safety findings of one expression (none if it does not parse: the
    expression checks report that)."""
    try:
        tree = parsed(expr)
    except ValueError:
        return []
    report = _Report(subject if subject.expr else replace(subject, expr=expr))
    for node in _nodes(tree):
        if type(node).__name__ == "BinaryExpr":
            _binary(node, index, report)
        _quantiles(node, index, report)
    return report.findings


def _reads_up(tree: Any) -> bool:
    return any(
        type(node).__name__ == "VectorSelector" and node.name == "up" for node in _nodes(tree)
    )


def check_page_instances(expr: str, index: SeriesIndex, subject: Subject) -> list[Finding]:
    """A critical alert's expression on ``up`` that keeps ``instance``: one page per pod."""
    try:
        tree = parsed(expr)
    except ValueError:
        return []
    labels = node_labels(tree, index)
    if not (_reads_up(tree) and labels is not None and INSTANCE_LABEL in labels):
        return []
    return [
        finding(
            FindingCode.PER_INSTANCE_PAGE,
            subject.where,
            f"a critical alert on up that keeps {INSTANCE_LABEL}: with several pods of a "
            "job it pages once per pod",
            "page once per job: max by (job) (up{...}) == 0 (every instance down); "
            "warn separately about single instances",
            spec=subject.spec,
            location=subject.location,
            expr=subject.expr or expr,
        )
    ]


def check_single_value_instances(
    panel_type: str, expr: str, index: SeriesIndex, subject: Subject
) -> list[Finding]:
    """A stat or gauge panel's query that keeps ``instance``: one figure per instance."""
    if panel_type not in SINGLE_VALUE_PANELS:
        return []
    try:
        labels = node_labels(parsed(expr), index)
    except ValueError:
        return []
    if labels is None or INSTANCE_LABEL not in labels:
        return []
    return [
        finding(
            FindingCode.PER_INSTANCE_STAT,
            subject.where,
            f"a {panel_type} panel whose query keeps {INSTANCE_LABEL}: one "
            "value per instance where one figure is shown",
            "sum(...) a count such as active sessions; max(...) a ratio or a level per instance",
            spec=subject.spec,
            location=subject.location,
            expr=subject.expr or expr,
        )
    ]


def check_alert_instances(context: CheckContext) -> list[Finding]:
    """Every alert and recording rule expression (the spec's and each SLO's); and the
    critical alerts on ``up`` that page once per instance."""
    stack, index = context.stack, context.index
    findings: list[Finding] = []
    for rule in stack.recording_rules:
        subject = Subject.of(f"recording rule {rule.record}", rule)
        findings += check_expression_instances(rule.expr, index, subject)
    for slo in stack.slos:
        for slo_rule in slo.recording_rules():
            subject = Subject.of(f"SLO {slo.name}: recording rule {slo_rule.record}", slo)
            findings += check_expression_instances(slo_rule.expr, index, subject)
        for tier in slo.burn_tiers():
            subject = Subject.of(f"SLO {slo.name}: alert {tier.alert_name}", slo)
            findings += check_expression_instances(slo.alert_expr(tier), index, subject)
    for alert in stack.alerts:
        subject = Subject.of(f"alert {alert.name}", alert)
        findings += check_expression_instances(alert.expr, index, subject)
        if alert.severity is Severity.CRITICAL:
            findings += check_page_instances(alert.expr, index, subject)
    return findings


def check_panel_instances(context: CheckContext) -> list[Finding]:
    """Every Prometheus target of the rendered dashboards; single-value panels whose
    query keeps ``instance``."""
    stack, index = context.stack, context.index
    findings: list[Finding] = []
    for dashboard in context.artifacts.dashboards:
        for panel in dashboard.panels:
            for target in panel.targets:
                if not target.is_promql:
                    continue
                assert target.expr is not None
                origin = target_origin(stack, dashboard, panel, target)
                subject = Subject(origin.where, origin.spec_name, origin.location, origin.written)
                expr = grafana_to_promql(target.expr, stack)
                findings += check_expression_instances(expr, index, subject)
                findings += check_single_value_instances(panel.type, expr, index, subject)
    return findings
