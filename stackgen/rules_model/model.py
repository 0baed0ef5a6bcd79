"""The types of the rules model: rule files of groups of alerting and recording rules,
and promtool unit-test files, each able to give its document in Prometheus' own format.

``document()`` returns plain dicts and lists with keys in the order Prometheus documents
them; renderers only serialise those (to a rule file, a test file, or the ``groups`` of a
Kubernetes PrometheusRule).
"""

from __future__ import annotations

import posixpath
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

__all__ = [
    "AlertRuleTest",
    "AlertingRule",
    "ExpectedAlert",
    "ExpectedSample",
    "InputSeries",
    "PrometheusRules",
    "PromqlExprTest",
    "RecordingRuleEntry",
    "Rule",
    "RuleFile",
    "RuleGroup",
    "RuleTest",
    "RuleTestFile",
]


@dataclass(frozen=True)
class AlertingRule:
    """An alerting rule, with what the runbooks need beside the Prometheus fields."""

    alert: str
    expr: str
    labels: Mapping[str, str]
    annotations: Mapping[str, str]
    for_: str | None = None
    # Anchor of the runbook section the rule's runbook_url opens.
    runbook: str = ""
    # Labels that tell this rule from others with the same alert name (every SLO has
    # its own SLOBurnRatePage1h): the runbooks show them next to the name.
    distinguishing_labels: tuple[str, ...] = ()
    # The spec object the rule comes from and the file:line that built it, for findings.
    spec: str = ""
    location: str = ""

    def document(self) -> dict[str, Any]:
        rule: dict[str, Any] = {"alert": self.alert, "expr": self.expr}
        if self.for_:
            rule["for"] = self.for_
        if self.labels:
            rule["labels"] = dict(self.labels)
        if self.annotations:
            rule["annotations"] = dict(self.annotations)
        return rule


@dataclass(frozen=True)
class RecordingRuleEntry:
    record: str
    expr: str
    labels: Mapping[str, str]
    spec: str = ""
    location: str = ""

    def document(self) -> dict[str, Any]:
        rule: dict[str, Any] = {"record": self.record, "expr": self.expr}
        if self.labels:
            rule["labels"] = dict(self.labels)
        return rule


Rule = AlertingRule | RecordingRuleEntry


@dataclass(frozen=True)
class RuleGroup:
    name: str
    rules: tuple[Rule, ...]
    # None: Prometheus' global evaluation interval.
    interval: str | None = None

    def document(self) -> dict[str, Any]:
        group: dict[str, Any] = {"name": self.name}
        if self.interval:
            group["interval"] = self.interval
        group["rules"] = [rule.document() for rule in self.rules]
        return group


@dataclass(frozen=True)
class RuleFile:
    """A rule file at ``path`` in the generated tree; ``comment`` heads it."""

    path: str
    comment: str
    groups: tuple[RuleGroup, ...]

    def document(self) -> dict[str, Any]:
        return {"groups": [group.document() for group in self.groups]}


@dataclass(frozen=True)
class InputSeries:
    """A series in promtool's expanding notation (``0+10x39 400+10x29``)."""

    series: str
    values: str

    def document(self) -> dict[str, Any]:
        return {"series": self.series, "values": self.values}


@dataclass(frozen=True)
class ExpectedAlert:
    exp_labels: Mapping[str, str]
    exp_annotations: Mapping[str, str]

    def document(self) -> dict[str, Any]:
        return {"exp_labels": dict(self.exp_labels), "exp_annotations": dict(self.exp_annotations)}


@dataclass(frozen=True)
class AlertRuleTest:
    """At ``eval_time`` exactly ``exp_alerts`` of ``alertname`` fire (none: silent)."""

    eval_time: str
    alertname: str
    exp_alerts: tuple[ExpectedAlert, ...] = ()

    def document(self) -> dict[str, Any]:
        return {
            "eval_time": self.eval_time,
            "alertname": self.alertname,
            "exp_alerts": [alert.document() for alert in self.exp_alerts],
        }


@dataclass(frozen=True)
class ExpectedSample:
    # A label set as promtool wants it: ``{agent_type="erp"}``.
    labels: str
    value: float

    def document(self) -> dict[str, Any]:
        return {"labels": self.labels, "value": self.value}


@dataclass(frozen=True)
class PromqlExprTest:
    expr: str
    eval_time: str
    exp_samples: tuple[ExpectedSample, ...]

    def document(self) -> dict[str, Any]:
        return {
            "expr": self.expr,
            "eval_time": self.eval_time,
            "exp_samples": [sample.document() for sample in self.exp_samples],
        }


@dataclass(frozen=True)
class RuleTest:
    """One promtool test case: input series sampled every ``interval``, then assertions."""

    name: str
    interval: str
    input_series: tuple[InputSeries, ...]
    alert_rule_tests: tuple[AlertRuleTest, ...] = ()
    promql_expr_tests: tuple[PromqlExprTest, ...] = ()

    def document(self) -> dict[str, Any]:
        test: dict[str, Any] = {
            "name": self.name,
            "interval": self.interval,
            "input_series": [series.document() for series in self.input_series],
        }
        if self.alert_rule_tests:
            test["alert_rule_test"] = [check.document() for check in self.alert_rule_tests]
        if self.promql_expr_tests:
            test["promql_expr_test"] = [check.document() for check in self.promql_expr_tests]
        return test


@dataclass(frozen=True)
class RuleTestFile:
    """A promtool test file at ``path``; ``rule_files`` are the paths (in the generated
    tree, as RuleFile.path) of the rule files it loads."""

    path: str
    comment: str
    rule_files: tuple[str, ...]
    evaluation_interval: str
    tests: tuple[RuleTest, ...]

    def document(self) -> dict[str, Any]:
        # promtool resolves rule files relative to the test file.
        here = posixpath.dirname(self.path)
        return {
            "rule_files": [posixpath.relpath(path, here) for path in self.rule_files],
            "evaluation_interval": self.evaluation_interval,
            "tests": [test.document() for test in self.tests],
        }


@dataclass(frozen=True)
class PrometheusRules:
    """Every rule file and promtool test file of a stack, built once from its specs."""

    rule_files: tuple[RuleFile, ...]
    test_files: tuple[RuleTestFile, ...]
    # The alerting rules of the rule files in the order the specs define them (the
    # stack's alerts, then each SLO's burn tiers), whatever group each is in.
    alerts: tuple[AlertingRule, ...]

    @property
    def rule_file_paths(self) -> tuple[str, ...]:
        return tuple(file.path for file in self.rule_files)

    def groups(self) -> Iterator[RuleGroup]:
        """Every rule group, file by file."""
        for file in self.rule_files:
            yield from file.groups
