"""Every expression the stack's users see: dashboard panel targets and alerting and
recording rules, collected from the rendered files, and evaluated by a live Prometheus.

Dashboards are read generically from every ``grafana/dashboards/*.json`` the renderers
produce (targets with a Prometheus or the default datasource), so a new dashboard is
covered as soon as it is rendered.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import promql_parser as pp

from stackgen.artifacts import (
    DashboardArtifact,
    RuleArtifact,
    rate_window,
    read_artifacts,
    substitute_grafana_variables,
)
from stackgen.check.catalog import CatalogIndex
from stackgen.conventions import GRAFANA_DASHBOARDS_DIR, RULES_DIR
from stackgen.promql_trees import parsed
from stackgen.spec import Metric, Stack
from stackgen.verify.prometheus_api import PrometheusAPI

__all__ = [
    "Evaluation",
    "Expression",
    "base_metrics",
    "collect_expressions",
    "evaluate",
    "rule_index",
    "signal_of",
]

DASHBOARDS_DIR = f"{GRAFANA_DASHBOARDS_DIR}/"
_COMPARISONS = frozenset({"==", "!=", ">", "<", ">=", "<="})


@dataclass(frozen=True)
class Expression:
    source: str  # dashboard/panel/target, or rule file/group/name
    kind: str  # panel | alert | record
    expr: str  # PromQL as Prometheus receives it
    name: str = ""  # the alert or recorded series name
    # A rule's static labels (recording rules sharing a name differ by them, e.g. slo).
    labels: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Evaluation:
    expression: Expression
    status: str  # ok | error | no data | not exercised
    series: int
    detail: str = ""

    @property
    def failed(self) -> bool:
        return self.status in ("error", "no data")


def _dashboard_expressions(dashboard: DashboardArtifact, stack: Stack) -> list[Expression]:
    # Grafana's variables as a viewer's default would set them: interval variables
    # become 4 scrape intervals of the slowest job, others the "All" regex.
    window = rate_window(stack)
    found = []
    for panel in dashboard.panels:
        for target in panel.targets:
            if not target.is_promql:
                continue
            assert target.expr is not None
            # Titles repeat (one "Burn rate" per SLO row): the panel id tells them apart.
            title = panel.title or "untitled"
            if panel.id is not None:
                title += f" #{panel.id}"
            where = f"{dashboard.path.removeprefix(DASHBOARDS_DIR)} / {title} / {target.ref_id}"
            expr = substitute_grafana_variables(target.expr, window=window, value=".*")
            found.append(Expression(where, "panel", expr))
    return found


def _rule_expression(rule: RuleArtifact) -> Expression:
    slo = rule.labels.get("slo")
    label = f"{rule.name}{{slo={slo}}}" if slo else rule.name
    where = f"{rule.path.removeprefix(RULES_DIR + '/')} / {rule.group} / {label}"
    labels = tuple(sorted(rule.labels.items()))
    return Expression(where, rule.kind, rule.expr, rule.name, labels)


def collect_expressions(stack: Stack, files: Mapping[str, str]) -> list[Expression]:
    """Every dashboard target and rule expression among rendered ``files``."""
    artifacts = read_artifacts(files)
    expressions: list[Expression] = []
    for dashboard in artifacts.dashboards:
        expressions += _dashboard_expressions(dashboard, stack)
    expressions += [_rule_expression(rule) for rule in artifacts.rules]
    return expressions


def signal_of(expr: str) -> str:
    """The value an alert compares, without its threshold filter: ``A > 5`` is ``A``,
    ``A and B`` is A's signal. An alert's own expression is empty while it does not
    fire; its signal must still return data whenever its metrics received traffic."""
    node = parsed(expr)
    original = node
    while True:
        if isinstance(node, pp.ParenExpr):
            node = node.expr
        elif isinstance(node, pp.BinaryExpr) and str(node.op) in ("and", "unless"):
            node = node.lhs
        elif (
            isinstance(node, pp.BinaryExpr)
            and str(node.op) in _COMPARISONS
            and not (node.modifier is not None and node.modifier.return_bool)
            and isinstance(node.rhs, pp.NumberLiteral)
        ):
            node = node.lhs
        else:
            break
    return expr if node is original else str(node.prettify())


Selector = tuple[str, tuple[tuple[str, str], ...]]  # name, its equality matchers


def _selectors(expr: str) -> set[Selector]:
    found: set[Selector] = set()

    def visit(node: Any) -> bool:
        if isinstance(node, pp.VectorSelector):
            equal = {m.name: m.value for m in node.matchers.matchers if m.op == pp.MatchOp.Equal}
            name = node.name or equal.pop("__name__", None)
            equal.pop("__name__", None)
            if name:
                found.add((name, tuple(sorted(equal.items()))))
        return True

    pp.walk(parsed(expr), visit)
    return found


RuleIndex = Mapping[str, list[Expression]]


def rule_index(expressions: Iterable[Expression]) -> dict[str, list[Expression]]:
    rules: dict[str, list[Expression]] = {}
    for e in expressions:
        if e.kind == "record":
            rules.setdefault(e.name, []).append(e)
    return rules


def base_metrics(expr: str, rules: RuleIndex, index: CatalogIndex) -> set[str]:
    """Catalog metric names an expression reads, through the recording rules its
    selectors can match (a rule whose static labels contradict a matcher cannot)."""
    found: set[str] = set()
    pending, seen = list(_selectors(expr)), set()
    while pending:
        selector = pending.pop()
        if selector in seen:
            continue
        seen.add(selector)
        name, matchers = selector
        if name in rules:
            for rule in rules[name]:
                labels = dict(rule.labels)
                if all(labels.get(k, v) == v for k, v in matchers):
                    pending += _selectors(rule.expr)
            continue
        ref = index.resolve(name)
        found.add(ref.metric.name if ref is not None and ref.metric is not None else name)
    return found


def evaluate(
    stack: Stack,
    expressions: list[Expression],
    api: PrometheusAPI,
    exercised: Mapping[str, Metric],
) -> list[Evaluation]:
    """Evaluate each expression (and an alert's signal) now.

    ``exercised``: catalog metrics the run's traffic reaches (by name). An expression
    reading only those must return data; one reading another (a metric of a service the
    local profile does not run) is reported as not exercised.
    """
    index = CatalogIndex(stack)
    rules = rule_index(expressions)
    results = []
    for expression in expressions:
        full = api.query(expression.expr)
        if not full.ok:
            results.append(Evaluation(expression, "error", 0, full.error or ""))
            continue
        signal = signal_of(expression.expr) if expression.kind == "alert" else expression.expr
        result = full if signal == expression.expr else api.query(signal)
        if not result.ok:
            results.append(Evaluation(expression, "error", 0, f"signal {signal}: {result.error}"))
            continue
        detail = f"firing condition holds for {full.series}" if expression.kind == "alert" else ""
        if result.series:
            results.append(Evaluation(expression, "ok", result.series, detail))
            continue
        metrics = base_metrics(expression.expr, rules, index)
        unexercised = sorted(m for m in metrics if m not in exercised)
        if unexercised:
            results.append(
                Evaluation(expression, "not exercised", 0, f"no local traffic: {unexercised}")
            )
        else:
            results.append(
                Evaluation(
                    expression,
                    "no data",
                    0,
                    f"reads {sorted(metrics)}, which the traffic exercises",
                )
            )
    return results
