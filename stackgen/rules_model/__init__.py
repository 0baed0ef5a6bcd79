"""The typed Prometheus rules of a stack, built once from its alerts, recording rules and
SLOs: the rule files with their groups, and the promtool test files of those rules.

Every target only serialises this model: the rule files, their promtool tests, the
runbooks, prometheus.yml's ``rule_files`` (and a Kubernetes PrometheusRule would reuse
the groups as they are). Nothing parses rendered rules back.
"""

from __future__ import annotations

from collections import Counter

from stackgen.conventions import (
    ALERT_RULES_FILE,
    RECORDING_RULES_FILE,
    RULE_TESTS_DIR,
    SLO_RULES_FILE,
)
from stackgen.rules_model.groups import (
    alert_rule,
    grouped,
    recording_rule,
    slo_alert_rule,
    slo_dashboard_uid,
    slo_group,
)
from stackgen.rules_model.model import (
    AlertingRule,
    AlertRuleTest,
    ExpectedAlert,
    ExpectedSample,
    InputSeries,
    PrometheusRules,
    PromqlExprTest,
    RecordingRuleEntry,
    Rule,
    RuleFile,
    RuleGroup,
    RuleTest,
    RuleTestFile,
)
from stackgen.rules_model.slo_tests import EVALUATION_INTERVAL as SLO_EVALUATION_INTERVAL
from stackgen.rules_model.slo_tests import burn_ratios, tier_tests
from stackgen.rules_model.spec_tests import alert_tests, recording_test
from stackgen.spec import QuerySLI, Stack

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
    "build_rules",
    "burn_ratios",
    "slo_dashboard_uid",
]

SLO_RULES_COMMENT = (
    "SLOs of the {stack} stack: SLI error ratios, objectives and error budgets,\n"
    "and multi-window multi-burn-rate alerts (Google SRE workbook)."
)


def _spec_test_files(
    stack: Stack,
    alerts: tuple[AlertingRule, ...],
    records: tuple[RecordingRuleEntry, ...],
    rule_files: tuple[str, ...],
) -> list[RuleTestFile]:
    """One test file per rule group of the spec's alerts and recording rules (``alerts``
    and ``records`` are their rules, in spec order)."""
    tests: dict[str, list[RuleTest]] = {}
    for alert, rule in zip(stack.alerts, alerts, strict=True):
        tests.setdefault(alert.group, []).extend(alert_tests(alert, rule))
    for spec, record in zip(stack.recording_rules, records, strict=True):
        tests.setdefault(spec.group, []).append(recording_test(spec, record))
    return [
        RuleTestFile(
            path=f"{RULE_TESTS_DIR}/{group}.yml",
            comment=f"promtool unit tests of rule group {group}: promtool test rules <this file>",
            rule_files=rule_files,
            evaluation_interval=stack.prometheus.evaluation_interval,
            tests=tuple(group_tests),
        )
        for group, group_tests in tests.items()
    ]


def _slo_test_files(
    stack: Stack, slo_alerts: dict[str, tuple[AlertingRule, ...]], rule_files: tuple[str, ...]
) -> list[RuleTestFile]:
    """One test file per SLO: a firing and a silent test per burn tier."""
    metrics = {m.name: m for m in stack.metrics}
    files = []
    for slo in stack.slos:
        if isinstance(slo.sli, QuerySLI):
            continue  # arbitrary queries: no synthetic series to derive from a catalog metric
        metric = metrics.get(slo.sli.metric)
        if metric is None:  # only in a stack built without validation; the checker reports it
            continue
        tiers = zip(slo.burn_tiers(), slo_alerts[slo.name], strict=True)
        files.append(
            RuleTestFile(
                path=f"{RULE_TESTS_DIR}/{slo.group}.yml",
                comment=f"promtool unit tests of the burn-rate alerts of SLO {slo.name}",
                rule_files=rule_files,
                evaluation_interval=SLO_EVALUATION_INTERVAL,
                tests=tuple(
                    test
                    for tier, rule in tiers
                    for test in tier_tests(stack, slo, metric, tier, rule)
                ),
            )
        )
    return files


def _no_shared_paths(test_files: list[RuleTestFile]) -> None:
    """A spec rule group named like an SLO's group would get the SLO's test file."""
    shared = [path for path, n in Counter(f.path for f in test_files).items() if n > 1]
    if shared:
        raise ValueError(
            f"rule tests {shared} are wanted both by a rule group of the spec and by an SLO: "
            "rename the group (SLO groups are slo_<name>)"
        )


def build_rules(stack: Stack) -> PrometheusRules:
    """The rule files (alerts.yml, recording.yml, slo.yml; only those with rules) and
    their promtool tests. Rule groups are in order of first appearance, rules in spec
    order; each SLO has a group of its own."""
    alerts = tuple(alert_rule(stack, alert) for alert in stack.alerts)
    records = tuple(recording_rule(rule) for rule in stack.recording_rules)
    slo_alerts = {
        slo.name: tuple(slo_alert_rule(stack, slo, tier) for tier in slo.burn_tiers())
        for slo in stack.slos
    }
    spec_files = []
    if alerts:
        groups = grouped((a.group, rule) for a, rule in zip(stack.alerts, alerts, strict=True))
        spec_files.append(
            RuleFile(ALERT_RULES_FILE, f"Alerting rules of the {stack.name} stack.", groups)
        )
    if records:
        groups = grouped(
            (r.group, record) for r, record in zip(stack.recording_rules, records, strict=True)
        )
        spec_files.append(
            RuleFile(RECORDING_RULES_FILE, f"Recording rules of the {stack.name} stack.", groups)
        )
    rule_files = list(spec_files)
    if stack.slos:
        groups = tuple(slo_group(slo, slo_alerts[slo.name]) for slo in stack.slos)
        rule_files.append(
            RuleFile(SLO_RULES_FILE, SLO_RULES_COMMENT.format(stack=stack.name), groups)
        )
    # Tests of the spec's rules load the spec's rule files (an alert may read a recording
    # rule) but not the SLO rules, which promtool would otherwise evaluate at every step
    # of those tests' fine evaluation interval. SLO tests load every rule file: slo.yml
    # gives every SLO's burn alert the same name, and each test proves that only its own
    # SLO's alert fires.
    test_files = [
        *_spec_test_files(stack, alerts, records, tuple(sorted(f.path for f in spec_files))),
        *_slo_test_files(stack, slo_alerts, tuple(sorted(f.path for f in rule_files))),
    ]
    _no_shared_paths(test_files)
    return PrometheusRules(
        rule_files=tuple(rule_files),
        test_files=tuple(test_files),
        alerts=(*alerts, *(rule for rules in slo_alerts.values() for rule in rules)),
    )
