"""The rules model: built once from a stack's alerts, recording rules and SLOs, and only
serialised by the rule files, the promtool tests, the runbooks and prometheus.yml.

A tiny stack built here (not only the production spec) keeps each property visible."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from stackgen.conventions import (
    ALERT_RULES_DIR,
    PROMETHEUS_CONFIG_PATH,
    RECORDING_RULES_DIR,
    RULE_TESTS_DIR,
    SLO_RULES_DIR,
)
from stackgen.output import write_tree
from stackgen.render import prometheus_config, render_all, rule_tests, rules, runbooks
from stackgen.rules_model import (
    AlertingRule,
    RecordingRuleEntry,
    Rule,
    RuleGroup,
    RuleTestFile,
    build_rules,
)
from stackgen.spec import (
    SLO,
    Alert,
    AlertTest,
    Label,
    Metric,
    MetricType,
    PrometheusSettings,
    RatioSLI,
    RecordingRule,
    RecordingTest,
    Sample,
    Scrape,
    Service,
    Severity,
    Stack,
)
from tests.conftest import run_tool

ERRORS = 'tiny_requests_total{instance="api:8000",job="api",status="error"}'
SERIES_LABELS = {"instance": "api:8000", "job": "api", "status": "error"}


def alert(name: str, group: str, threshold: int) -> Alert:
    """Error rate above ``threshold`` per second; the fault is 8/s from 5m on."""
    return Alert(
        name=name,
        group=group,
        expr=f'rate(tiny_requests_total{{status="error"}}[1m]) > {threshold}',
        for_="1m",
        severity="warning",
        summary="Errors on {{ $labels.job }}.",
        description="{{ $value | humanize }} errors per second.",
        runbook="errors",
        labels={"team": "tiny"},
        test=AlertTest(
            series={ERRORS: "0+0x19 0+120x20"},
            fault_at="5m",
            fires_within="2m",
            labels=SERIES_LABELS,
            value=8,
            near_miss={ERRORS: "0+0x19 0+10x20"},
        ),
    )


RECORDING = RecordingRule(
    record="status:tiny_requests:rate1m",
    expr="sum by (status) (rate(tiny_requests_total[1m]))",
    group="tiny_recording",
    labels={"team": "tiny"},
    test=RecordingTest(
        series={ERRORS: "0+60x10"}, at="2m", expect=(Sample(labels={"status": "error"}, value=4),)
    ),
)

AVAILABILITY = SLO(
    name="tiny-availability",
    description="Requests without an error.",
    objective=99.0,
    sli=RatioSLI(metric="tiny_requests", bad={"status": "error"}),
)
# The same SLI with a stricter objective: the two SLOs' burn alerts share names and
# series, and each SLO's tests must see only its own.
STRICT_AVAILABILITY = AVAILABILITY.model_copy(update={"name": "tiny-strict", "objective": 99.9})


def tiny_stack(**members: Any) -> Stack:
    """One counter scraped from one service; ``members`` are alerts, recording_rules, slos."""
    return Stack(
        name="tiny",
        metrics=(
            Metric(
                name="tiny_requests",
                type=MetricType.COUNTER,
                help="Requests by outcome.",
                labels=(Label(name="status", description="Outcome.", values=("ok", "error")),),
                service="api",
            ),
        ),
        services=(
            Service(name="api", description="The API.", host="api", port=8000, scrape=Scrape()),
        ),
        prometheus=PrometheusSettings(alertmanager=None),
        runbook_url="http://tiny/runbooks",
        **members,
    )


G_ONE = f"{ALERT_RULES_DIR}/g_one.yml"
G_TWO = f"{ALERT_RULES_DIR}/g_two.yml"
TINY_RECORDING = f"{RECORDING_RULES_DIR}/tiny_recording.yml"
TINY_SLO = f"{SLO_RULES_DIR}/slo_tiny_availability.yml"


def rule_name(rule: Rule) -> str:
    return rule.alert if isinstance(rule, AlertingRule) else rule.record


# An alert on the recording rule: its tests need the recording rule's file too.
READS_RECORDING = alert("ErrorsRecorded", "g_reads", 1).model_copy(
    update={"expr": 'status:tiny_requests:rate1m{status="error"} > 1'}
)

# Groups interleave: g_one, g_two, g_one.
ALERTS = (alert("ErrorsAbove1", "g_one", 1), alert("ErrorsAbove4", "g_two", 4))
ALERTS += (alert("ErrorsAbove2", "g_one", 2),)
FULL = tiny_stack(alerts=ALERTS, recording_rules=(RECORDING,), slos=(AVAILABILITY,))


def test_groups_are_in_order_of_first_appearance_and_rules_in_spec_order() -> None:
    (one, two, _, _) = build_rules(FULL).rule_files
    assert (one.path, two.path) == (G_ONE, G_TWO)  # a file per group
    assert [(g.name, [rule_name(r) for r in g.rules]) for f in (one, two) for g in f.groups] == [
        ("g_one", ["ErrorsAbove1", "ErrorsAbove2"]),
        ("g_two", ["ErrorsAbove4"]),
    ]


def test_alerts_keep_spec_order_then_each_slo_tier() -> None:
    model = build_rules(FULL)
    names = [rule.alert for rule in model.alerts]
    assert names == [
        "ErrorsAbove1",
        "ErrorsAbove4",
        "ErrorsAbove2",
        *(tier.alert_name for tier in AVAILABILITY.burn_tiers()),
    ]
    # The same rule objects the groups hold.
    in_groups = [r for g in model.groups() for r in g.rules if isinstance(r, AlertingRule)]
    assert sorted(map(id, in_groups)) == sorted(map(id, model.alerts))


def test_an_alert_rule_carries_routing_labels_links_and_its_spec() -> None:
    rule = build_rules(FULL).alerts[0]
    assert rule.labels == {"severity": "warning", "team": "tiny"}
    assert list(rule.labels) == ["severity", "team"]  # severity first: Alertmanager routes on it
    assert rule.annotations["runbook_url"] == "http://tiny/runbooks#errors"
    assert "dashboard" not in rule.annotations  # the alert names none
    assert (rule.for_, rule.runbook, rule.spec) == ("1m", "errors", "Alert[ErrorsAbove1]")
    assert "test_rules_model.py:" in rule.location  # the line that built the Alert


def test_each_slo_has_its_group_of_records_then_burn_alerts() -> None:
    slo_file = build_rules(FULL).rule_files[-1]
    assert slo_file.path == TINY_SLO
    (group,) = slo_file.groups
    assert group.name == "slo_tiny_availability"
    records = [r for r in group.rules if isinstance(r, RecordingRuleEntry)]
    alerts = [r for r in group.rules if isinstance(r, AlertingRule)]
    assert group.rules == (*records, *alerts)
    assert [r.record for r in records] == [r.record for r in AVAILABILITY.recording_rules()]
    assert all(r.labels == {"slo": "tiny-availability"} for r in records)
    page = alerts[0]
    assert page.labels == {
        "severity": "critical",
        "slo": "tiny-availability",
        "tier": "page",
        "window": "1h/5m",
    }
    assert page.distinguishing_labels == ("slo", "tier")
    assert page.annotations["dashboard"] == "http://localhost:3001/d/tiny-slo"
    assert page.runbook == "slo-tiny-availability"


@pytest.mark.parametrize(
    ("members", "rule_files", "test_rule_files"),
    [
        pytest.param(
            {"alerts": ALERTS, "recording_rules": (RECORDING,), "slos": (AVAILABILITY,)},
            [G_ONE, G_TWO, TINY_RECORDING, TINY_SLO],
            {
                "g_one": [G_ONE],
                "g_two": [G_TWO],
                "tiny_recording": [TINY_RECORDING],
                "slo_tiny_availability": [TINY_SLO],
            },
            id="all",
        ),
        pytest.param(
            {"alerts": (READS_RECORDING,), "recording_rules": (RECORDING,)},
            [f"{ALERT_RULES_DIR}/g_reads.yml", TINY_RECORDING],
            {
                "g_reads": [f"{ALERT_RULES_DIR}/g_reads.yml", TINY_RECORDING],
                "tiny_recording": [TINY_RECORDING],
            },
            id="alert-reading-a-recording-rule",
        ),
        pytest.param(
            {"alerts": ALERTS[:1]},
            [G_ONE],
            {"g_one": [G_ONE]},
            id="alerts-only",
        ),
        pytest.param(
            {"recording_rules": (RECORDING,)},
            [TINY_RECORDING],
            {"tiny_recording": [TINY_RECORDING]},
            id="recording-only",
        ),
        pytest.param(
            {"slos": (AVAILABILITY, STRICT_AVAILABILITY)},
            [TINY_SLO, f"{SLO_RULES_DIR}/slo_tiny_strict.yml"],
            {
                "slo_tiny_availability": [TINY_SLO],
                "slo_tiny_strict": [f"{SLO_RULES_DIR}/slo_tiny_strict.yml"],
            },
            id="slos-sharing-an-sli",
        ),
        pytest.param({}, [], {}, id="nothing"),
    ],
)
def test_test_files_load_exactly_the_rule_files_they_need(
    members: dict[str, Any], rule_files: list[str], test_rule_files: dict[str, list[str]]
) -> None:
    model = build_rules(tiny_stack(**members))
    assert list(model.rule_file_paths) == rule_files
    assert {
        f.path.removeprefix(f"{RULE_TESTS_DIR}/").removesuffix(".yml"): list(f.rule_files)
        for f in model.test_files
    } == test_rule_files


def test_test_expectations_are_the_rules_labels_and_expanded_annotations() -> None:
    model = build_rules(FULL)
    (g_one, *_) = model.test_files
    fault, near_miss, *_ = g_one.tests
    assert fault.name == "ErrorsAbove1: silent before the fault, firing 2m after it"
    before, firing = fault.alert_rule_tests
    assert (before.eval_time, before.exp_alerts) == ("4m45s", ())
    (expected,) = firing.exp_alerts
    assert firing.eval_time == "7m"
    assert expected.exp_labels == {**model.alerts[0].labels, **SERIES_LABELS}
    assert expected.exp_annotations["summary"] == "Errors on api."
    assert expected.exp_annotations["description"] == "8 errors per second."
    assert [t.exp_alerts for t in near_miss.alert_rule_tests] == [()]


def test_slo_tests_expect_the_burn_alerts_exactly_as_the_rules_have_them() -> None:
    model = build_rules(FULL)
    slo_tests = model.test_files[-1]
    assert slo_tests.evaluation_interval == "6h"
    burn_rules = {(r.alert, r.labels["slo"]): r for r in model.alerts if "slo" in r.labels}
    expected = [
        (check.alertname, alert)
        for test in slo_tests.tests
        for check in test.alert_rule_tests
        for alert in check.exp_alerts
    ]
    assert len(expected) == len(AVAILABILITY.burn_tiers())  # one firing test per tier
    for name, alert in expected:
        rule = burn_rules[(name, "tiny-availability")]
        assert (alert.exp_labels, alert.exp_annotations) == (rule.labels, rule.annotations)


def test_a_spec_group_named_like_an_slo_group_is_refused() -> None:
    clash = alert("ErrorsAbove1", "slo_tiny_availability", 1)
    with pytest.raises(ValueError, match=r"prometheus/tests/slo_tiny_availability\.yml"):
        build_rules(tiny_stack(alerts=(clash,), slos=(AVAILABILITY,)))


def test_documents_follow_prometheus_formats() -> None:
    group = RuleGroup("g", (RecordingRuleEntry("a:b:c", "up", {}),), interval="1m")
    assert group.document() == {
        "name": "g",
        "interval": "1m",
        "rules": [{"record": "a:b:c", "expr": "up"}],
    }
    test_file = RuleTestFile("prometheus/tests/g.yml", "", (TINY_RECORDING,), "15s", ())
    assert test_file.document()["rule_files"] == ["../rules/recording/tiny_recording.yml"]


def test_renderers_only_serialise_the_model() -> None:
    model = build_rules(FULL)
    rendered_rules = rules.render(FULL)
    assert list(rendered_rules) == list(model.rule_file_paths)
    for file in model.rule_files:
        assert yaml.safe_load(rendered_rules[file.path]) == file.document()
    rendered_tests = rule_tests.render(FULL)
    assert list(rendered_tests) == [f.path for f in model.test_files]
    for test_file in model.test_files:
        assert yaml.safe_load(rendered_tests[test_file.path]) == test_file.document()


def test_prometheus_loads_the_rule_directories_of_the_model() -> None:
    def rule_globs(stack: Stack) -> object:
        config = prometheus_config.render(stack)[PROMETHEUS_CONFIG_PATH]
        return yaml.safe_load(config)["rule_files"]

    assert rule_globs(FULL) == ["rules/alerts/*.yml", "rules/recording/*.yml", "rules/slo/*.yml"]
    assert rule_globs(tiny_stack()) == []


def test_runbook_links_come_from_the_alerting_rules() -> None:
    links = runbooks.runbook_links(FULL)
    assert [link.name for link in links] == [rule.alert for rule in build_rules(FULL).alerts]
    assert (links[0].summary, links[0].labels, links[0].spec) == (
        "Errors on `<job>`",
        "",
        "Alert[ErrorsAbove1]",
    )
    assert links[-1].labels == "slo=tiny-availability, tier=ticket"
    assert links[-1].dashboard == "http://localhost:3001/d/tiny-slo"


def test_the_tiny_stacks_rule_tests_pass_promtool(promtool: str, tmp_path: Path) -> None:
    files = render_all(FULL)
    write_tree(tmp_path, files)
    tests = [str(tmp_path / path) for path in sorted(files) if path.startswith(RULE_TESTS_DIR)]
    assert len(tests) == 4
    result = run_tool(promtool, "test", "rules", *tests)
    assert result.returncode == 0, result.stdout + result.stderr


def test_slos_sharing_an_sli_pass_each_others_tests(promtool: str, tmp_path: Path) -> None:
    """Both SLOs' burn alerts read the same series under the same names: were their
    rules in one file, each SLO's firing test would also see the other's alert."""
    files = render_all(tiny_stack(slos=(AVAILABILITY, STRICT_AVAILABILITY)))
    write_tree(tmp_path, files)
    tests = [str(tmp_path / path) for path in sorted(files) if path.startswith(RULE_TESTS_DIR)]
    assert len(tests) == 2
    result = run_tool(promtool, "test", "rules", *tests)
    assert result.returncode == 0, result.stdout + result.stderr


def test_groups_with_a_critical_alert_evaluate_at_the_critical_interval() -> None:
    page = alert("ErrorsPage", "g_page", 4).model_copy(update={"severity": Severity.CRITICAL})
    stack = tiny_stack(alerts=(*ALERTS, page)).model_copy(
        update={"prometheus": PrometheusSettings(critical_evaluation_interval="5s")}
    )
    model = build_rules(stack)
    assert {g.name: g.interval for g in model.groups()} == {
        "g_one": None,
        "g_two": None,
        "g_page": "5s",
    }
    intervals = {f.path: f.evaluation_interval for f in model.test_files}
    assert intervals[f"{RULE_TESTS_DIR}/g_page.yml"] == "5s"  # tested at the pace it runs
    assert intervals[f"{RULE_TESTS_DIR}/g_one.yml"] == "15s"
