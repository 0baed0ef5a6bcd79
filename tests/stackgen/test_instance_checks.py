"""The instance-safety checks, expression by expression: each mistake that only shows
with several instances of a job is reported, and the right way of writing it is not."""

from __future__ import annotations

import pytest

from specs.bestbox import stack as bestbox
from stackgen.check.codes import FindingCode
from stackgen.check.context import CheckContext, build_index
from stackgen.check.instances import (
    check_alert_instances,
    check_expression_instances,
    check_panel_instances,
)
from stackgen.check.promql import Subject
from stackgen.spec import Severity

INDEX = build_index(bestbox)

WRONG = [
    pytest.param(
        'sum(rate(agent_requests_total{status="error"}[5m])) / rate(agent_requests_total[5m])',
        FindingCode.UNMATCHED_OPERANDS,
        id="ratio-of-summed-and-per-instance",
    ),
    pytest.param(
        "sum by (agent_type) (rate(agent_requests_total[5m]))"
        " / sum by (job) (rate(agent_requests_total[5m]))",
        FindingCode.UNMATCHED_OPERANDS,
        id="ratio-by-different-labels",
    ),
    pytest.param(
        "sum by (instance) (active_sessions) > sum(active_sessions)",
        FindingCode.UNMATCHED_OPERANDS,
        id="comparison-of-different-label-sets",
    ),
    pytest.param(
        "sum(rate(agent_requests_total[5m])) > 1 and sum by (job) (up) == 0",
        FindingCode.UNMATCHED_OPERANDS,
        id="and-never-matching",
    ),
    pytest.param(
        "sum by (job) (rate(agent_requests_total[5m]))"
        " / on(job) sum by (job, instance) (rate(agent_requests_total[5m]))",
        FindingCode.PER_INSTANCE_OPERAND,
        id="on-job-one-side-per-instance",
    ),
    pytest.param(
        "sum by (job, instance) (rate(agent_requests_total[5m]))"
        " / on(job) group_left sum by (job, instance) (rate(agent_requests_total[5m]))",
        FindingCode.PER_INSTANCE_OPERAND,
        id="group-left-one-side-per-instance",
    ),
    pytest.param(
        "avg(histogram_quantile(0.95, sum by (le, instance) "
        "(rate(agent_latency_seconds_bucket[5m]))))",
        FindingCode.QUANTILE_MIXES_INSTANCES,
        id="average-of-per-instance-quantiles",
    ),
    pytest.param(
        "histogram_quantile(0.95, max by (le) (rate(agent_latency_seconds_bucket[5m])))",
        FindingCode.QUANTILE_MIXES_INSTANCES,
        id="buckets-merged-by-max",
    ),
]

RIGHT = [
    pytest.param(
        'sum(rate(agent_requests_total{status="error"}[5m])) / sum(rate(agent_requests_total[5m]))',
        id="ratio-of-sums",
    ),
    pytest.param(
        'rate(agent_requests_total{status="error"}[5m]) / ignoring(status) '
        'rate(agent_requests_total{status="success"}[5m])',
        id="ratio-per-instance-ignoring-the-differing-label",
    ),
    pytest.param("audit_spool_bytes / audit_spool_limit_bytes > 0.8", id="per-pod-ratio"),
    pytest.param(
        "sum by (job) (rate(agent_requests_total[5m]))"
        " / on(job) group_left sum by (job) (rate(agent_requests_total[5m]))",
        id="on-job-both-aggregated",
    ),
    pytest.param(
        "sum by (job, instance) (rate(agent_requests_total[5m]))"
        " / on(job) group_left sum by (job) (rate(agent_requests_total[5m]))",
        id="share-of-each-instance",
    ),
    pytest.param(
        "histogram_quantile(0.95, sum by (le) (rate(agent_latency_seconds_bucket[5m])))",
        id="quantile-of-summed-buckets",
    ),
    pytest.param(
        "max(histogram_quantile(0.95, sum by (le, instance) "
        "(rate(agent_latency_seconds_bucket[5m]))))",
        id="slowest-instance-quantile",
    ),
    pytest.param("sum(active_sessions) > 50", id="summed-gauge-over-a-number"),
    pytest.param("max by (job) (up) == 0", id="job-down"),
]


def _codes(expr: str) -> list[FindingCode]:
    return [f.code for f in check_expression_instances(expr, INDEX, Subject("test"))]


@pytest.mark.parametrize(("expr", "code"), WRONG)
def test_an_expression_wrong_with_several_instances_is_reported(
    expr: str, code: FindingCode
) -> None:
    assert _codes(expr) == [code]


@pytest.mark.parametrize("expr", RIGHT)
def test_an_expression_right_with_several_instances_is_not(expr: str) -> None:
    assert _codes(expr) == []


def test_findings_show_the_expression_and_where() -> None:
    (found,) = check_expression_instances(
        "sum(active_sessions) > sum by (instance) (active_sessions)", INDEX, Subject("alert X")
    )
    assert found.where == "alert X"
    assert found.expr == "sum(active_sessions) > sum by (instance) (active_sessions)"
    assert "only the right side keeps {instance}" in found.message


def _with_alert(name: str, expr: str, severity: Severity) -> CheckContext:
    alerts = tuple(
        a.model_copy(update={"expr": expr, "severity": severity}) if a.name == name else a
        for a in bestbox.alerts
    )
    return CheckContext.of(bestbox.model_copy(update={"alerts": alerts}))


def test_a_critical_per_instance_up_alert_pages_once_per_pod() -> None:
    context = _with_alert("ServiceDown", 'up{job="agent-api"} == 0', Severity.CRITICAL)
    (found,) = check_alert_instances(context)
    assert found.code is FindingCode.PER_INSTANCE_PAGE
    assert found.where == "alert ServiceDown"
    assert found.spec == "Alert[ServiceDown]"


def test_a_per_instance_up_warning_is_not_a_page() -> None:
    # CollectorDown warns per instance: a ticket per collector is what is meant.
    context = _with_alert("ServiceDown", 'up{job="agent-api"} == 0', Severity.WARNING)
    assert check_alert_instances(context) == []


def test_the_bestbox_stack_is_instance_safe() -> None:
    context = CheckContext.of(bestbox)
    assert check_alert_instances(context) == []
    assert check_panel_instances(context) == []


def test_a_stat_panel_of_a_per_instance_gauge_is_reported() -> None:
    from stackgen.spec import PromQuery

    dashboards = []
    for dashboard in bestbox.dashboards:
        panels = tuple(
            p.model_copy(update={"queries": (PromQuery(expr="active_sessions", instant=True),)})
            if p.title == "Active sessions"
            else p
            for p in dashboard.panels
        )
        dashboards.append(dashboard.model_copy(update={"panels": panels}))
    context = CheckContext.of(bestbox.model_copy(update={"dashboards": tuple(dashboards)}))
    (found,) = check_panel_instances(context)
    assert found.code is FindingCode.PER_INSTANCE_STAT
    assert "panel 'Active sessions'" in found.where
    assert found.expr == "active_sessions"
    # At the line of the query that was written wrong.
    assert found.location.startswith("tests/stackgen/test_instance_checks.py:")
