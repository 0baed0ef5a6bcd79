"""Every expression the stack's users see: dashboard panel targets and alerting and
recording rules, collected from the rendered files, and evaluated by a live Prometheus.

Dashboards are read generically from every ``grafana/dashboards/*.json`` the renderers
produce (targets with a Prometheus or the default datasource), so a new dashboard is
covered as soon as it is rendered.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import promql_parser as pp
import yaml

from stackgen.check.catalog import CatalogIndex

# One definition of which dashboard targets are Prometheus queries, and of Grafana's
# variables: the static dashboard check's.
from stackgen.check.dashboards import _INTERVAL_VARIABLE, _VARIABLE, _is_prometheus, _panels
from stackgen.conventions import GRAFANA_DASHBOARDS_DIR, MIN_SCRAPES_PER_RANGE, RULES_DIR
from stackgen.spec import Metric, Stack, duration_seconds
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


def _live_promql(expr: str, stack: Stack) -> str:
    """Grafana's variables as a viewer's default would set them: interval variables
    become 4 scrape intervals of the slowest job, others the "All" regex."""
    slowest = max(
        (duration_seconds(stack.scrape_interval_of(s)) for s in stack.scraped_services()),
        default=duration_seconds(stack.prometheus.scrape_interval),
    )
    expr = _INTERVAL_VARIABLE.sub(f"{int(MIN_SCRAPES_PER_RANGE * slowest)}s", expr)
    return _VARIABLE.sub(".*", expr)


def _dashboard_expressions(path: str, text: str, stack: Stack) -> list[Expression]:
    document = json.loads(text)
    dashboard = document.get("dashboard", document)
    found = []
    for panel in _panels(dashboard.get("panels") or []):
        for target in panel.get("targets") or []:
            if not isinstance(target, dict) or not isinstance(target.get("expr"), str):
                continue
            if not _is_prometheus(target.get("datasource", panel.get("datasource"))):
                continue
            # Titles repeat (one "Burn rate" per SLO row): the panel id tells them apart.
            title = panel.get("title") or "untitled"
            if panel.get("id") is not None:
                title += f" #{panel['id']}"
            where = f"{path.removeprefix(DASHBOARDS_DIR)} / {title} / {target.get('refId', '?')}"
            found.append(Expression(where, "panel", _live_promql(target["expr"], stack)))
    return found


def _rule_expressions(path: str, text: str) -> list[Expression]:
    found = []
    for group in (yaml.safe_load(text) or {}).get("groups") or []:
        for rule in group.get("rules") or []:
            kind, name = ("alert", rule["alert"]) if "alert" in rule else ("record", rule["record"])
            slo = (rule.get("labels") or {}).get("slo")
            label = f"{name}{{slo={slo}}}" if slo else name
            where = f"{path.removeprefix(RULES_DIR + '/')} / {group['name']} / {label}"
            labels = tuple(sorted((rule.get("labels") or {}).items()))
            found.append(Expression(where, kind, str(rule["expr"]), name, labels))
    return found


def collect_expressions(stack: Stack, files: Mapping[str, str]) -> list[Expression]:
    """Every dashboard target and rule expression among rendered ``files``."""
    expressions: list[Expression] = []
    for path, text in sorted(files.items()):
        if path.startswith(DASHBOARDS_DIR) and path.endswith(".json"):
            expressions += _dashboard_expressions(path, text, stack)
        elif path.startswith(f"{RULES_DIR}/") and path.endswith((".yml", ".yaml")):
            expressions += _rule_expressions(path, text)
    return expressions


def signal_of(expr: str) -> str:
    """The value an alert compares, without its threshold filter: ``A > 5`` is ``A``,
    ``A and B`` is A's signal. An alert's own expression is empty while it does not
    fire; its signal must still return data whenever its metrics received traffic."""
    node = pp.parse(expr)
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

    pp.walk(pp.parse(expr), visit)
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
