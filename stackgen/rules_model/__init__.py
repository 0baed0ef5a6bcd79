"""The typed Prometheus rules of a stack, built once from its alerts, recording rules and
SLOs: the rule files with their groups, and the promtool test files of those rules.

Every target only serialises this model: the rule files, their promtool tests, the
runbooks, prometheus.yml's ``rule_files`` (and a Kubernetes PrometheusRule would reuse
the groups as they are). Nothing parses rendered rules back.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping

from stackgen.conventions import (
    ALERT_RULES_DIR,
    RECORDING_RULES_DIR,
    RULE_TESTS_DIR,
    SLO_RULES_DIR,
)
from stackgen.memo import per_stack
from stackgen.promql_trees import metric_names
from stackgen.rules_model.groups import (
    alert_rule,
    critical_group_intervals,
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
    "SLO {slo} of the {stack} stack: SLI error ratios, objective and error budget,\n"
    "and multi-window multi-burn-rate alerts (Google SRE workbook)."
)


def _group_files(directory: str, comment: str, groups: Iterable[RuleGroup]) -> dict[str, RuleFile]:
    """One rule file per group, by group name."""
    return {
        group.name: RuleFile(f"{directory}/{group.name}.yml", comment, (group,)) for group in groups
    }


def _records(file: RuleFile) -> set[str]:
    return {
        rule.record
        for group in file.groups
        for rule in group.rules
        if isinstance(rule, RecordingRuleEntry)
    }


def _read_names(file: RuleFile) -> set[str]:
    return {
        name for group in file.groups for rule in group.rules for name in metric_names(rule.expr)
    }


def _providers(recording_files: Iterable[RuleFile]) -> dict[str, RuleFile]:
    """The spec's recording-rule file that records each name."""
    return {name: f for f in recording_files for name in _records(f)}


def _loaded_with(file: RuleFile, providers: Mapping[str, RuleFile]) -> tuple[str, ...]:
    """The rule files a test of ``file`` loads: ``file`` and the spec's recording-rule
    files (``providers``, by recorded name) that define what it reads, and what those
    read in turn. A name ``file`` records itself is its own, never another file's: every
    SLO records the same names, and one SLO's test must not evaluate another SLO's
    rules."""
    loaded = {file.path: file}
    wanted = _read_names(file) - _records(file)
    while wanted:
        name = wanted.pop()
        provider = providers.get(name)
        if provider is None or provider.path in loaded:
            continue
        loaded[provider.path] = provider
        wanted |= _read_names(provider) - _records(provider)
    return tuple(sorted(loaded))


def _spec_test_files(
    stack: Stack,
    alerts: tuple[AlertingRule, ...],
    records: tuple[RecordingRuleEntry, ...],
    files: Mapping[str, tuple[RuleFile, ...]],
    providers: Mapping[str, RuleFile],
) -> list[RuleTestFile]:
    """One test file per rule group of the spec's alerts and recording rules (``alerts``
    and ``records`` are their rules, in spec order; ``files`` the rule files of each
    group). Each is evaluated at its group's own interval, as Prometheus will."""
    tests: dict[str, list[RuleTest]] = {}
    for alert, rule in zip(stack.alerts, alerts, strict=True):
        tests.setdefault(alert.group, []).extend(alert_tests(alert, rule))
    for spec, record in zip(stack.recording_rules, records, strict=True):
        tests.setdefault(spec.group, []).append(recording_test(spec, record))
    test_files = []
    for group, group_tests in tests.items():
        loaded = sorted({path for file in files[group] for path in _loaded_with(file, providers)})
        interval = next(
            (g.interval for file in files[group] for g in file.groups if g.interval),
            stack.prometheus.evaluation_interval,
        )
        test_files.append(
            RuleTestFile(
                path=f"{RULE_TESTS_DIR}/{group}.yml",
                comment=(
                    f"promtool unit tests of rule group {group}: promtool test rules <this file>"
                ),
                rule_files=tuple(loaded),
                evaluation_interval=interval,
                tests=tuple(group_tests),
            )
        )
    return test_files


def _slo_test_files(
    stack: Stack,
    slo_alerts: dict[str, tuple[AlertingRule, ...]],
    slo_files: Mapping[str, RuleFile],
    providers: Mapping[str, RuleFile],
) -> list[RuleTestFile]:
    """One test file per SLO: a firing and a silent test per burn tier, loading that
    SLO's rules only (SLOs on the same SLI would otherwise fire in each other's tests)."""
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
                rule_files=_loaded_with(slo_files[slo.name], providers),
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


@per_stack
def build_rules(stack: Stack) -> PrometheusRules:
    """The rule files, one per rule group: the spec's alert groups under alerts/, its
    recording-rule groups under recording/, each SLO's group under slo/; and their
    promtool tests, one file per group of the spec and one per SLO, each loading only
    the rule files of what it tests. Rule groups are in order of first appearance,
    rules in spec order; groups holding a critical alert carry the stack's
    ``critical_evaluation_interval``."""
    alerts = tuple(alert_rule(stack, alert) for alert in stack.alerts)
    records = tuple(recording_rule(rule) for rule in stack.recording_rules)
    slo_alerts = {
        slo.name: tuple(slo_alert_rule(stack, slo, tier) for tier in slo.burn_tiers())
        for slo in stack.slos
    }
    alert_files = _group_files(
        ALERT_RULES_DIR,
        f"Alerting rules of the {stack.name} stack.",
        grouped(
            ((a.group, rule) for a, rule in zip(stack.alerts, alerts, strict=True)),
            critical_group_intervals(stack),
        ),
    )
    recording_files = _group_files(
        RECORDING_RULES_DIR,
        f"Recording rules of the {stack.name} stack.",
        grouped(
            (r.group, record) for r, record in zip(stack.recording_rules, records, strict=True)
        ),
    )
    slo_files = {
        slo.name: RuleFile(
            f"{SLO_RULES_DIR}/{slo.group}.yml",
            SLO_RULES_COMMENT.format(slo=slo.name, stack=stack.name),
            (slo_group(slo, slo_alerts[slo.name]),),
        )
        for slo in stack.slos
    }
    files_of_group: dict[str, tuple[RuleFile, ...]] = {}
    for group, file in (*alert_files.items(), *recording_files.items()):
        files_of_group[group] = (*files_of_group.get(group, ()), file)
    recordings = tuple(recording_files.values())
    providers = _providers(recordings)
    test_files = [
        *_spec_test_files(stack, alerts, records, files_of_group, providers),
        *_slo_test_files(stack, slo_alerts, slo_files, providers),
    ]
    _no_shared_paths(test_files)
    return PrometheusRules(
        rule_files=(*alert_files.values(), *recordings, *slo_files.values()),
        test_files=tuple(test_files),
        alerts=(*alerts, *(rule for rules in slo_alerts.values() for rule in rules)),
    )
