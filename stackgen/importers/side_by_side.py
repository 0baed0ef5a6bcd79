"""stackgen's rules for imported SLOs beside the rules Sloth generates from the same spec.

Three comparisons per SLO:

- SLI ratios: each window's error-ratio expression, compared as PromQL trees (parentheses
  aside, the same computation over the same selectors).
- Burn tiers: the (short window, long window, factor) triples of each severity, read
  from Sloth's alert expressions, against stackgen's tiers, and the error budget.
- Firing: a promtool test over identical error-ratio series (the windows' means of one
  synthetic per-minute incident history over four days, sampled every 30 minutes) in
  which Sloth's and stackgen's alerts must both fire exactly when the burn-rate
  definition says, at every evaluation.

Sloth's 30-day ratio (a mean of its 5m ratios) and stackgen's (the SLI over 30d) differ
on purpose and are not compared; no alert reads them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import promql_parser as pp

from stackgen.check.rule_files import ForeignRule, read_rule_text
from stackgen.conventions import SLO_WINDOWS
from stackgen.rules_model import AlertingRule, RecordingRuleEntry, build_rules
from stackgen.spec import SLO, Stack
from stackgen.spec.base import duration_seconds
from stackgen.spec.stack import PrometheusSettings

__all__ = [
    "SlothSLO",
    "Tier",
    "alert_tiers",
    "canonical",
    "imported_stack",
    "promtool_test",
    "read_sloth_rules",
    "sloth_tiers",
    "stackgen_alerts",
    "stackgen_ratios",
    "stackgen_tiers",
]

_RATIO = re.compile(r"^slo:sli_error:ratio_rate(?P<window>\w+)$")
# Minutes of synthetic history: the 3-day window fills, then a day more.
HISTORY_MINUTES = 4 * 24 * 60
EVALUATION_STEP_MINUTES = 30


def canonical(expr: str) -> object:
    """A PromQL expression as a tree of tuples, parentheses dropped: two expressions with
    equal trees compute the same thing."""
    return _canonical(pp.parse(expr))


def _canonical(node: Any) -> object:
    kind = type(node).__name__
    if kind == "ParenExpr":
        return _canonical(node.expr)
    if kind == "BinaryExpr":
        modifier = str(node.modifier) if node.modifier is not None else ""
        return ("binary", str(node.op), modifier, _canonical(node.lhs), _canonical(node.rhs))
    if kind == "AggregateExpr":
        modifier = str(node.modifier) if node.modifier is not None else ""
        param = _canonical(node.param) if node.param is not None else None
        return ("aggregate", str(node.op), modifier, param, _canonical(node.expr))
    if kind == "Call":
        return ("call", node.func.name, tuple(_canonical(arg) for arg in node.args))
    if kind == "UnaryExpr":
        return ("negate", _canonical(node.expr))
    if kind == "SubqueryExpr":
        return ("subquery", str(node.range), str(node.step), _canonical(node.expr))
    if kind == "VectorSelector":
        matchers = sorted((m.name, str(m.op), m.value) for m in node.matchers.matchers)
        return ("selector", node.name, tuple(matchers))
    if kind == "MatrixSelector":
        return ("range", node.range.total_seconds(), _canonical(node.vector_selector))
    return ("literal", node.prettify())


@dataclass(frozen=True)
class Tier:
    """A multi-window burn-rate condition: both windows' error ratios above factor x
    budget."""

    severity: str  # page | ticket
    short_window: str
    long_window: str
    factor: float


@dataclass(frozen=True)
class SlothSLO:
    """What Sloth generated for one SLO (its ``sloth_id``)."""

    identity: str
    ratios: Mapping[str, ForeignRule]  # window -> recording rule
    alerts: tuple[ForeignRule, ...]

    @property
    def record_labels(self) -> dict[str, str]:
        """Labels of its ratio records without the window (what its alerts keep)."""
        labels = dict(next(iter(self.ratios.values())).labels)
        labels.pop("sloth_window", None)
        return labels


def read_sloth_rules(text: str, path: str) -> dict[str, SlothSLO]:
    """Sloth's generated rules (plain or PrometheusRule, any number of documents), by SLO."""
    contents = read_rule_text(text, path)
    ratios: dict[str, dict[str, ForeignRule]] = {}
    alerts: dict[str, list[ForeignRule]] = {}
    for rule in contents.rules:
        match = _RATIO.match(rule.name)
        if rule.kind == "record" and match and "sloth_id" in rule.labels:
            ratios.setdefault(rule.labels["sloth_id"], {})[match["window"]] = rule
        elif rule.kind == "alert":
            identity = re.search(r'sloth_id="([^"]+)"', rule.expr)
            if identity:
                alerts.setdefault(identity[1], []).append(rule)
    return {
        identity: SlothSLO(identity, windows, tuple(alerts.get(identity, ())))
        for identity, windows in ratios.items()
    }


def _conditions(node: Any) -> Iterable[tuple[str, float, float]]:
    """(window, factor, budget) of every ``ratio_rateW{...} > (F * B)`` under ``node``."""
    found: list[tuple[str, float, float]] = []

    def visit(child: Any) -> bool:
        if type(child).__name__ == "BinaryExpr" and str(child.op) == ">":
            lhs, rhs = child.lhs, child.rhs
            while type(rhs).__name__ == "ParenExpr":
                rhs = rhs.expr
            if type(lhs).__name__ == "VectorSelector" and type(rhs).__name__ == "BinaryExpr":
                match = _RATIO.match(lhs.name or "")
                if match and str(rhs.op) == "*":
                    found.append((match["window"], rhs.lhs.val, rhs.rhs.val))
        return True

    pp.walk(node, visit)
    return found


def alert_tiers(alert: ForeignRule) -> tuple[list[Tier], set[float]]:
    """The burn tiers of one of Sloth's alerts (its ``sloth_severity``, page or ticket)
    and the error budgets it multiplies: ``(A and B) or (C and D)``, each ``and`` one
    tier of two windows."""
    severity = alert.labels.get("sloth_severity", "?")
    pairs: list[Any] = []

    def collect(node: Any) -> bool:
        # Sloth's `and`s hold no `and` (returning False would end the whole walk).
        if type(node).__name__ == "BinaryExpr" and str(node.op) == "and":
            pairs.append(node)
        return True

    pp.walk(pp.parse(alert.expr), collect)
    tiers, budgets = [], set()
    for pair in pairs:
        conditions = sorted(_conditions(pair), key=lambda c: duration_seconds(c[0]))
        (short, factor, budget), (long, _, _) = conditions
        tiers.append(Tier(severity, short, long, factor))
        budgets.add(budget)
    return tiers, budgets


def sloth_tiers(sloth: SlothSLO) -> tuple[set[Tier], set[float]]:
    """Every burn tier of Sloth's alerts of an SLO, and the error budgets they use."""
    tiers: set[Tier] = set()
    budgets: set[float] = set()
    for alert in sloth.alerts:
        alert_set, alert_budgets = alert_tiers(alert)
        tiers.update(alert_set)
        budgets.update(alert_budgets)
    return tiers, budgets


def stackgen_tiers(slo: SLO) -> set[Tier]:
    return {
        Tier(tier.tier, tier.short_window, tier.long_window, tier.factor)
        for tier in slo.burn_tiers()
    }


def imported_stack(slos: Sequence[SLO]) -> Stack:
    """A stack holding only imported SLOs: enough to build their rules."""
    return Stack(
        name="imported",
        metrics=(),
        services=(),
        runbook_url="https://runbooks.invalid/slos",
        prometheus=PrometheusSettings(alertmanager=None),
        slos=tuple(slos),
    )


def _slo_rules(stack: Stack) -> list[AlertingRule | RecordingRuleEntry]:
    return [
        rule
        for rule_file in build_rules(stack).rule_files
        for group in rule_file.groups
        for rule in group.rules
    ]


def stackgen_ratios(stack: Stack, slo: SLO) -> dict[str, str]:
    """Window -> stackgen's error-ratio expression, for the windows Sloth also records."""
    ratios = {}
    for rule in _slo_rules(stack):
        if isinstance(rule, RecordingRuleEntry) and rule.labels.get("slo") == slo.name:
            match = _RATIO.match(rule.record)
            if match and match["window"] in SLO_WINDOWS:
                ratios[match["window"]] = rule.expr
    return ratios


def stackgen_alerts(stack: Stack, slo: SLO) -> list[AlertingRule]:
    return [
        rule
        for rule in _slo_rules(stack)
        if isinstance(rule, AlertingRule) and rule.labels.get("slo") == slo.name
    ]


# -- the promtool test ---------------------------------------------------------------


def _incidents(budget: float) -> list[float]:
    """A per-minute error ratio over the history: quiet, a sharp outage, a long
    degradation, a slow leak, each sized in multiples of the budget (capped below 1) so
    every tier has reasons to fire and to stay silent."""
    ratio = [0.0] * HISTORY_MINUTES

    def burn(start_h: float, hours: float, times_budget: float) -> None:
        value = min(times_budget * budget, 0.97)
        for minute in range(int(start_h * 60), int((start_h + hours) * 60)):
            ratio[minute] = value

    burn(10, 1.25, 40)  # an outage: 75 minutes at 40x
    burn(30, 8, 10)  # a degradation: 8 hours at 10x
    burn(50, 40, 1.7)  # a leak: 40 hours at 1.7x
    burn(92, 0.2, 25)  # a blip: 12 minutes at 25x
    return ratio


def _window_means(ratio: Sequence[float], window: str) -> list[float]:
    minutes = int(duration_seconds(window) // 60)
    sums = [0.0]
    for value in ratio:
        sums.append(sums[-1] + value)
    means = []
    for end in range(1, len(ratio) + 1):
        start = max(0, end - minutes)
        means.append((sums[end] - sums[start]) / minutes)
    return means


def _expanding(values: Sequence[float]) -> str:
    """promtool's expanding notation with runs of equal values (``vxN`` is N+1 samples)."""
    parts: list[str] = []
    index = 0
    while index < len(values):
        run = index
        while run + 1 < len(values) and values[run + 1] == values[index]:
            run += 1
        text = repr(round(values[index], 15))
        parts.append(f"{text}x{run - index}" if run > index else text)
        index = run + 1
    return " ".join(parts)


def _selector_text(name: str, labels: Mapping[str, str]) -> str:
    inner = ", ".join(f'{key}="{value}"' for key, value in sorted(labels.items()))
    return f"{name}{{{inner}}}"


def _fires(tier: Tier, budget: float, means: Mapping[str, list[float]], minute: int) -> bool:
    threshold = tier.factor * budget
    return bool(
        means[tier.short_window][minute] > threshold and means[tier.long_window][minute] > threshold
    )


def promtool_test(
    sloth: SlothSLO,
    slo: SLO,
    stackgen_alert_rules: Sequence[AlertingRule],
    rule_files: Sequence[str],
) -> dict[str, Any]:
    """A promtool test document: identical error-ratio series for both rule sets, and at
    every evaluation step the alerts the burn-rate definition says are firing, for
    Sloth's alerts and stackgen's alike. The rule files hold only the alerts (without
    annotations, which do not decide firing)."""
    budget = slo.error_budget
    ratio = _incidents(budget)
    windows = sorted(set(SLO_WINDOWS), key=duration_seconds)
    means = {window: _window_means(ratio, window) for window in windows}
    series = []
    for window in windows:
        # Sampled (and evaluated) every step: the burn alerts have no `for`, so each
        # evaluation stands alone and only the asserted ones need computing.
        values = _expanding(means[window][::EVALUATION_STEP_MINUTES])
        sloth_labels = {**sloth.record_labels, "sloth_window": window}
        for labels in (sloth_labels, dict(slo.labels)):
            series.append(
                {
                    "series": _selector_text(f"slo:sli_error:ratio_rate{window}", labels),
                    "values": values,
                }
            )
    _, sloth_budgets = sloth_tiers(sloth)
    sloth_budget = next(iter(sloth_budgets))
    alert_tests = []
    for minute in range(EVALUATION_STEP_MINUTES, HISTORY_MINUTES, EVALUATION_STEP_MINUTES):
        eval_time = f"{minute}m"
        # The sample promtool reads at this time is means[window][minute].
        for alert in sloth.alerts:
            tiers, _ = alert_tiers(alert)
            firing = any(_fires(t, sloth_budget, means, minute) for t in tiers)
            expected = [{"exp_labels": {**sloth.record_labels, **alert.labels}}] if firing else []
            alert_tests.append(
                {"eval_time": eval_time, "alertname": alert.name, "exp_alerts": expected}
            )
        for rule in stackgen_alert_rules:
            tier = next(
                Tier(t.tier, t.short_window, t.long_window, t.factor)
                for t in slo.burn_tiers()
                if t.alert_name == rule.alert
            )
            firing = _fires(tier, budget, means, minute)
            expected = [{"exp_labels": {**slo.labels, **rule.labels}}] if firing else []
            alert_tests.append(
                {"eval_time": eval_time, "alertname": rule.alert, "exp_alerts": expected}
            )
    return {
        "rule_files": list(rule_files),
        "evaluation_interval": f"{EVALUATION_STEP_MINUTES}m",
        "tests": [
            {
                "interval": f"{EVALUATION_STEP_MINUTES}m",
                "input_series": series,
                "alert_rule_test": _merged(alert_tests),
            }
        ],
    }


def _merged(tests: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One entry per (time, alert name): Sloth's page and ticket alerts share a name."""
    merged: dict[tuple[str, str], dict[str, Any]] = {}
    for test in tests:
        key = (test["eval_time"], test["alertname"])
        if key in merged:
            merged[key]["exp_alerts"] += test["exp_alerts"]
        else:
            merged[key] = test
    return list(merged.values())
