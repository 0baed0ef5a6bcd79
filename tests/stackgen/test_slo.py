"""SLO specs: validation tables, the rules and tests built from them, the dashboard."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from stackgen.check import check_stack
from stackgen.conventions import GRAFANA_SCHEMA_VERSION, SLO_DASHBOARD_FILE, SLO_RULES_DIR
from stackgen.output import write_tree
from stackgen.render import render_all
from stackgen.render.slo_dashboard import dashboard
from stackgen.rules_model import burn_ratios
from stackgen.spec import SLO, LatencySLI, RatioSLI, SpecError, Stack
from stackgen.spec.slo import le_regex
from tests.conftest import run_tool, shared_schema


def slo(**overrides: Any) -> SLO:
    data: dict[str, Any] = {
        "name": "availability",
        "description": "Turns without an error.",
        "objective": 99.0,
        "sli": RatioSLI(metric="agent_requests", bad={"status": "error"}),
    }
    return SLO(**{**data, **overrides})


def ttft(threshold: float, **overrides: Any) -> SLO:
    return slo(
        name="ttft", sli=LatencySLI(metric="agent_ttft_seconds", threshold=threshold), **overrides
    )


def with_slos(stack: Stack, *slos: SLO) -> Stack:
    fields = {name: getattr(stack, name) for name in Stack.model_fields if name != "slos"}
    return Stack(**fields, slos=slos)


@dataclass(frozen=True)
class Invalid:
    build: Callable[[], object]
    field: str
    fragment: str


INVALID = {
    "objective-100": Invalid(lambda: slo(objective=100), "objective", "strictly between 0"),
    "objective-0": Invalid(lambda: slo(objective=0), "objective", "strictly between 0"),
    "objective-101": Invalid(lambda: slo(objective=101), "objective", "strictly between 0"),
    "objective-negative": Invalid(lambda: slo(objective=-5), "objective", "strictly between"),
    "objective-as-ratio-is-fine-but-nan-is-not": Invalid(
        lambda: slo(objective=float("nan")), "objective", "strictly between 0"
    ),
    "period-7d": Invalid(lambda: slo(period="7d"), "period", "'28d' or '30d'"),
    "name-uppercase": Invalid(lambda: slo(name="Availability"), "name", "pattern"),
    "impossible-page-tier": Invalid(
        lambda: slo(objective=80.0),
        "",
        "page: the 1h/5m tier of SLO 'availability' needs an error ratio of 14.4 x 0.2 = "
        "2.88 >= 1, so it could never fire",
    ),
    "impossible-1h-tier-only": Invalid(
        lambda: slo(objective=85.0),
        "",
        "1h/5m tier of SLO 'availability' needs an error ratio of 14.4 x 0.15 = 2.16 >= 1",
    ),
    "impossible-ticket-tier": Invalid(
        lambda: slo(objective=60.0, page=False),
        "",
        "ticket: the 1d/2h tier of SLO 'availability' needs an error ratio of 3 x 0.4 = 1.2",
    ),
    "no-tier-at-all": Invalid(lambda: slo(page=False, ticket=False), "", "never alert"),
    "ratio-with-bad-and-good": Invalid(
        lambda: RatioSLI(metric="agent_requests", bad={"status": "error"}, good={"x": "y"}),
        "",
        "exactly one of `bad`",
    ),
    "ratio-without-events": Invalid(
        lambda: RatioSLI(metric="agent_requests"), "", "exactly one of `bad`"
    ),
    "latency-with-le-matcher": Invalid(
        lambda: LatencySLI(metric="agent_ttft_seconds", threshold=2, matchers={"le": "2"}),
        "",
        "'le' is set from `threshold`",
    ),
}


@pytest.mark.parametrize("case", INVALID.values(), ids=INVALID.keys())
def test_invalid_slo_is_rejected_naming_the_field(case: Invalid) -> None:
    with pytest.raises(SpecError) as raised:
        case.build()
    messages = [(issue.field, issue.message) for issue in raised.value.issues]
    assert any(field == case.field and case.fragment in msg for field, msg in messages), messages


STACK_INVALID = {
    "bucket-mismatch": (
        lambda: ttft(2.5),
        "slos[ttft].sli.threshold: 2.5 is not a bucket boundary of agent_ttft_seconds "
        "(buckets: [0.1, 0.25, 0.5, 1.0, 1.5, 2.0, 3.0, 5.0, 10.0, 30.0])",
    ),
    "unknown-metric": (
        lambda: slo(sli=RatioSLI(metric="agent_turns", bad={"status": "error"})),
        "slos[availability].sli.metric: 'agent_turns' is not a metric of the catalog",
    ),
    "latency-over-a-counter": (
        lambda: slo(sli=LatencySLI(metric="agent_requests", threshold=1)),
        "slos[availability].sli.metric: agent_requests is a counter; a latency SLI needs a "
        "histogram",
    ),
    "ratio-over-a-histogram": (
        lambda: slo(sli=RatioSLI(metric="agent_ttft_seconds", bad={"agent_type": "erp"})),
        "a ratio SLI needs a counter",
    ),
    "undeclared-label": (
        lambda: slo(sli=RatioSLI(metric="agent_requests", bad={"outcome": "error"})),
        "slos[availability].sli.bad: agent_requests has no label 'outcome'",
    ),
    "undeclared-value": (
        lambda: slo(sli=RatioSLI(metric="agent_requests", bad={"status": "failed"})),
        "slos[availability].sli.bad: status='failed' never matches",
    ),
    "undeclared-matcher-label": (
        lambda: ttft(2.0).model_copy(
            update={
                "sli": LatencySLI(
                    metric="agent_ttft_seconds", threshold=2.0, matchers={"complexity": "simple"}
                )
            }
        ),
        "slos[ttft].sli.matchers: agent_ttft_seconds has no label 'complexity'",
    ),
}


@pytest.mark.parametrize(("build", "fragment"), STACK_INVALID.values(), ids=STACK_INVALID.keys())
def test_slo_is_checked_against_the_catalog(
    stack: Stack, build: Callable[[], SLO], fragment: str
) -> None:
    with pytest.raises(SpecError) as raised:
        with_slos(stack, build())
    assert fragment in str(raised.value)


def test_duplicate_slo_names_are_rejected(stack: Stack) -> None:
    with pytest.raises(SpecError, match="slos: 'availability' is defined 2 times"):
        with_slos(stack, slo(), slo())


@pytest.mark.parametrize("threshold", [2, 2.0], ids=["int-2", "float-2.0"])
def test_bucket_boundary_written_either_way_is_accepted(stack: Stack, threshold: float) -> None:
    assert with_slos(stack, ttft(threshold)).slos[0].sli.threshold == 2.0


@pytest.mark.parametrize(
    ("bound", "matches", "misses"),
    [
        (2.0, ["2", "2.0"], ["20", "2.05", "2.00", "12"]),
        (10.0, ["10", "10.0"], ["1", "100"]),
        (0.5, ["0.5"], ["0.50", "5", "0x5"]),
        (0.25, ["0.25"], ["0.2", "0x25"]),
    ],
)
def test_le_regex_matches_both_spellings(
    bound: float, matches: list[str], misses: list[str]
) -> None:
    # Prometheus anchors label regexes: ^(?:...)$
    pattern = re.compile(f"^(?:{le_regex(bound)})$")
    assert all(pattern.match(text) for text in matches)
    assert not any(pattern.match(text) for text in misses)


@pytest.mark.parametrize(
    ("period", "factors"),
    [
        ("30d", [14.4, 6.0, 3.0, 1.0]),
        ("28d", [13.44, 5.6, 2.8, 0.933333]),
    ],
)
def test_burn_factors_scale_with_the_period(period: str, factors: list[float]) -> None:
    tiers = slo(period=period).burn_tiers()
    assert [t.factor for t in tiers] == factors
    assert [t.window for t in tiers] == ["1h/5m", "6h/30m", "1d/2h", "3d/6h"]
    assert [t.severity for t in tiers] == ["critical", "critical", "warning", "warning"]


def test_a_28_day_period_makes_a_tier_possible_that_30_days_rejects() -> None:
    # 93 %: 14.4 x 7 % = 1.008 (impossible) but 13.44 x 7 % = 0.9408.
    with pytest.raises(SpecError, match="1h/5m tier"):
        slo(objective=93.0, period="30d")
    assert slo(objective=93.0, period="28d").threshold(slo(period="28d").burn_tiers()[0]) == 0.9408


def test_ticket_only_slo_has_no_page_alerts() -> None:
    tiers = slo(objective=80.0, page=False).burn_tiers()
    assert [t.tier for t in tiers] == ["ticket", "ticket"]


def test_rules_of_a_latency_slo() -> None:
    rules = {r.record: r.expr for r in ttft(2.0).recording_rules()}
    assert rules["slo:sli_error:ratio_rate5m"] == (
        "(sum(rate(agent_ttft_seconds_count[5m])) - "
        'sum(rate(agent_ttft_seconds_bucket{le=~"2|2[.]0"}[5m]))) / '
        "sum(rate(agent_ttft_seconds_count[5m]))"
    )
    assert set(rules) == {
        *(f"slo:sli_error:ratio_rate{w}" for w in ("5m", "30m", "1h", "2h", "6h", "1d", "3d")),
        "slo:sli_error:ratio_rate30d",
        "slo:objective:ratio",
        "slo:error_budget:ratio",
        "slo:period_error_budget_remaining:ratio",
    }
    assert rules["slo:objective:ratio"] == "vector(0.99)"
    assert rules["slo:error_budget:ratio"] == "vector(0.01)"


def test_rules_of_a_good_events_slo() -> None:
    sli = RatioSLI(metric="tool_executions", good={"status": "success"})
    assert sli.error_ratio_expr("1h") == (
        "(sum(rate(tool_executions_total[1h])) - "
        'sum(rate(tool_executions_total{status="success"}[1h]))) / '
        "sum(rate(tool_executions_total[1h]))"
    )


def test_alert_expression_needs_both_windows() -> None:
    availability = slo()
    page = availability.burn_tiers()[0]
    assert availability.alert_expr(page) == (
        '(slo:sli_error:ratio_rate1h{slo="availability"} > 0.144) and '
        '(slo:sli_error:ratio_rate5m{slo="availability"} > 0.144)'
    )


@pytest.mark.parametrize("threshold", [0.0005, 0.05, 0.144, 0.72, 0.95])
def test_synthetic_burns_straddle_the_threshold(threshold: float) -> None:
    firing, near_miss = burn_ratios(threshold)
    assert near_miss < threshold < firing <= 1


def test_bestbox_slos_cover_the_seed_tables(stack: Stack) -> None:
    assert {s.name: s.objective for s in stack.slos} == {
        "ttft-under-2s": 95.0,
        "simple-turn-latency": 95.0,
        "complex-turn-latency": 95.0,
        "request-availability": 99.0,
        "tool-success": 95.0,
        "user-satisfaction": 80.0,
    }


def test_slo_rule_file_has_one_group_per_slo_with_routable_alerts(
    stack: Stack, rendered: dict[str, str]
) -> None:
    groups = [
        group
        for slo in stack.slos
        for group in yaml.safe_load(rendered[f"{SLO_RULES_DIR}/{slo.group}.yml"])["groups"]
    ]
    assert [g["name"] for g in groups] == [s.group for s in stack.slos]
    for group in groups:
        alerts = [r for r in group["rules"] if "alert" in r]
        assert alerts
        for alert in alerts:
            labels = alert["labels"]
            assert set(labels) == {"severity", "slo", "tier", "window"}
            assert labels["severity"] == {"page": "critical", "ticket": "warning"}[labels["tier"]]
            assert alert["annotations"]["dashboard"] == "http://localhost:3001/d/bestbox-slo"
            assert "{{" not in alert["annotations"]["description"]


def test_every_slo_tier_has_a_firing_and_a_silent_test(
    stack: Stack, rendered: dict[str, str]
) -> None:
    for spec in stack.slos:
        tests = yaml.safe_load(rendered[f"prometheus/tests/{spec.group}.yml"])["tests"]
        for tier in spec.burn_tiers():
            cases = [t for t in tests if t["alert_rule_test"][0]["alertname"] == tier.alert_name]
            outcomes = sorted(bool(c["alert_rule_test"][0]["exp_alerts"]) for c in cases)
            assert outcomes == [False, True], (spec.name, tier.alert_name)


def test_checker_reads_slo_rules_and_the_dashboard(stack: Stack) -> None:
    assert check_stack(stack) == []
    # An SLO over a metric that is not in the catalog (bypassing validation).
    broken = stack.slos[3].model_copy(
        update={"sli": RatioSLI(metric="agent_turns", bad={"status": "error"})}
    )
    findings = check_stack(stack.model_copy(update={"slos": (broken,)}))
    places = {f.where for f in findings if f.code == "unknown-metric"}
    assert any(p.startswith("SLO request-availability: recording rule") for p in places)
    assert not any(p.startswith("dashboard ") for p in places)  # it reads the rules only
    # Without SLOs their runbooks are unlinked; everything else stays clean.
    alert_runbooks = tuple(
        r for r in stack.runbooks if r.anchor in {a.runbook for a in stack.alerts}
    )
    assert check_stack(stack.model_copy(update={"slos": (), "runbooks": alert_runbooks})) == []


def test_dashboard_queries_are_checked(stack: Stack) -> None:
    # Without SLOs there are no SLO recording rules: a dashboard reading them is caught.
    from stackgen.check.dashboards import check_dashboard
    from stackgen.check.static import build_index

    index = build_index(stack.model_copy(update={"slos": ()}))
    findings = check_dashboard(stack, index, dashboard(stack), SLO_DASHBOARD_FILE)
    assert findings and all(f.code == "unknown-metric" for f in findings)
    assert all(f.where.startswith(f"{SLO_DASHBOARD_FILE}: panel ") for f in findings)


def test_slo_dashboard_findings_point_at_the_slo_of_their_row(stack: Stack) -> None:
    """The SLO dashboard is built from the SLOs, one row each: a finding on a panel of a
    row names that row's SLO and its spec line."""
    from dataclasses import replace

    from stackgen.check.context import CheckContext, build_index
    from stackgen.check.dashboards import check_dashboard_queries

    context = CheckContext.of(stack)
    without_rules = replace(context, index=build_index(stack.model_copy(update={"slos": ()})))
    findings = check_dashboard_queries(without_rules)
    assert {f.spec for f in findings} == {slo.spec_name() for slo in stack.slos}
    for slo in stack.slos:
        mine = [f for f in findings if f.spec == slo.spec_name()]
        assert mine and all(f.location == slo.spec_location() != "" for f in mine)
        assert all(f.where.startswith("dashboard bestbox-slo: panel ") for f in mine)
        assert all(f'{{slo="{slo.name}"}}' in f.expr for f in mine)


def test_dashboard_has_a_stable_uid_and_pinned_schema_version(stack: Stack) -> None:
    board = dashboard(stack)
    assert board["uid"] == "bestbox-slo"
    assert board["schemaVersion"] == GRAFANA_SCHEMA_VERSION
    titles = [p["title"] for p in board["panels"] if p["type"] == "row"]
    assert len(titles) == len(stack.slos)
    kinds = [p["title"] for p in board["panels"] if p["type"] != "row"]
    assert kinds == ["Objective", "Error budget remaining", "Burn rate by window", "SLI"] * len(
        stack.slos
    )


def _schema(name: str) -> dict[str, Any]:
    return shared_schema(f"grafana/{name}.jsonschema.json")


def test_dashboard_matches_the_grafana_dashboard_schema(rendered: dict[str, str]) -> None:
    schema = _schema("dashboard")
    jsonschema.Draft7Validator(schema).validate(json.loads(rendered[SLO_DASHBOARD_FILE]))


@pytest.mark.parametrize(
    ("panel_type", "schema_name"), [("stat", "stat"), ("timeseries", "timeseries")]
)
def test_panel_options_match_their_panel_schema(
    rendered: dict[str, str], panel_type: str, schema_name: str
) -> None:
    schema = _schema(schema_name)
    definitions = schema.get("definitions", {})
    if "Options" not in definitions:
        pytest.skip(f"{schema_name} schema has no Options definition")
    options = {**schema, "$ref": "#/definitions/Options"}
    panels = [
        p for p in json.loads(rendered[SLO_DASHBOARD_FILE])["panels"] if p["type"] == panel_type
    ]
    assert panels
    problems = []
    for panel in panels:
        problems += [
            e.message for e in jsonschema.Draft7Validator(options).iter_errors(panel["options"])
        ]
    assert problems == []


_run = run_tool


def test_latency_sli_counts_go_style_le_spelling(
    promtool: str, stack: Stack, tmp_path: Path
) -> None:
    # client_golang writes le="2", prometheus_client le="2.0": the same tests pass with both.
    write_tree(tmp_path, render_all(stack))
    test_file = tmp_path / "prometheus/tests/slo_ttft_under_2s.yml"
    text = test_file.read_text()
    assert 'le="2.0"' in text
    test_file.write_text(text.replace('le="2.0"', 'le="2"'))
    result = _run(promtool, "test", "rules", str(test_file))
    assert result.returncode == 0, result.stdout + result.stderr


def test_generated_slo_tests_catch_a_wrong_burn_factor(
    promtool: str, stack: Stack, tmp_path: Path
) -> None:
    # The 1h/5m page threshold of request-availability raised from 14.4x (0.144) to 20x.
    write_tree(tmp_path, render_all(stack))
    rules = tmp_path / SLO_RULES_DIR / "slo_request_availability.yml"
    text = rules.read_text()
    assert text.count("> 0.144") == 2
    rules.write_text(text.replace("> 0.144", "> 0.2"))
    result = _run(
        promtool, "test", "rules", str(tmp_path / "prometheus/tests/slo_request_availability.yml")
    )
    assert result.returncode != 0
    assert "SLOBurnRatePage1h" in result.stdout + result.stderr
