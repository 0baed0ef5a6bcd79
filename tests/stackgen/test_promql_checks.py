"""The PromQL analyser against the BestBox catalog: which codes an expression yields, and
the labels it infers through aggregations, vector matching and relabelling.

Every case names the exact set of codes expected, so a check that goes quiet, or one that
starts reporting valid PromQL, fails here.
"""

from __future__ import annotations

import pytest

from stackgen.check.catalog import CatalogIndex
from stackgen.check.codes import FindingCode
from stackgen.check.promql import Subject, check_expression, infer_labels
from stackgen.check.static import build_index
from stackgen.spec import Stack

SCRAPE = {"job", "instance"}
REQUESTS = {"agent_type", "status", *SCRAPE}  # agent_requests_total's labels


@pytest.fixture
def index(stack: Stack) -> CatalogIndex:
    return build_index(stack)


def codes_of(expr: str, index: CatalogIndex) -> set[str]:
    findings = check_expression(expr, index, Subject("t"))
    assert all(f.where == "t" for f in findings)
    assert all(isinstance(f.code, FindingCode) and f.level is f.code.level for f in findings)
    return {f.code for f in findings}


# -- valid PromQL: must produce no finding --------------------------------------------

VALID: list[object] = [
    pytest.param("sum by (agent_type) (rate(agent_requests_total[5m]))", id="sum-by-rate"),
    pytest.param("count(agent_requests_total) > 0", id="count-of-raw-counter"),
    pytest.param("timestamp(agent_requests_total) > 0", id="timestamp-of-raw-counter"),
    pytest.param('absent(up{job="agent-api"})', id="absent"),
    pytest.param('up{job="agent-api"} == 0', id="up-by-job"),
    pytest.param('up{job=~"agent-api|llm-server"} == 0', id="up-job-alternation"),
    pytest.param('{__name__="up"}', id="name-matcher"),
    pytest.param(
        "histogram_quantile(0.95, sum by (le, agent_type) (rate(agent_ttft_seconds_bucket[5m])))",
        id="quantile-by-le-and-label",
    ),
    pytest.param(
        "histogram_quantile(0.95, sum by (le) "
        '(rate(agent_latency_seconds_bucket{complexity="simple"}[5m]))) > 10',
        id="quantile-with-matcher",
    ),
    pytest.param("sum without (instance) (rate(agent_requests_total[5m]))", id="sum-without"),
    pytest.param(
        'sum(rate(agent_requests_total{status="error"}[1m]))'
        " / sum(rate(agent_requests_total[1m])) > 0.05",
        id="error-ratio",
    ),
    pytest.param(
        'sum(increase(user_feedback_total{rating="positive"}[1h]))'
        " / sum(increase(user_feedback_total[1h])) < 0.7"
        " and sum(increase(user_feedback_total[1h])) >= 10",
        id="satisfaction-ratio-and-volume",
    ),
    pytest.param("rate(agent_requests_total[40s])", id="range-exactly-4-scrapes"),
    pytest.param('deriv(up{job="agent-api"}[40s])', id="range-4-scrapes-of-named-job"),
    pytest.param("avg_over_time(active_sessions[10m]) > 8", id="gauge-over-time"),
    pytest.param('process_resident_memory_bytes{job="agent-api"} / 4294967296 > 0.9', id="gauge"),
    pytest.param("changes(agent_requests_total[5m]) > 0", id="changes-on-counter"),
    pytest.param(
        'agent_type:agent_requests:rate5m{agent_type="erp"} > 1', id="rule-with-its-label"
    ),
    pytest.param("sum by (agent_type) (agent_type:agent_requests:rate5m)", id="rule-grouped"),
    pytest.param("bestbox:agent_requests_errors:ratio_rate5m > 0.05", id="rule-no-labels"),
    pytest.param(
        "agent_type:agent_ttft_seconds:p95_5m > 2"
        " and on (agent_type) agent_type:agent_requests:rate5m > 0.1",
        id="rules-joined-on-their-label",
    ),
    pytest.param(
        'sum by (service) (label_replace(up, "service", "$1", "job", "(.*)"))',
        id="label-replace-destination",
    ),
    pytest.param(
        'label_replace(up{job="agent-api"}, "service", "$1", "job", "(.*)") == 0',
        id="label-replace",
    ),
    pytest.param('sum by (addr) (label_join(up, "addr", ":", "job", "instance"))', id="label-join"),
    pytest.param(
        "sum by (job, instance) (rate(process_cpu_seconds_total[5m]))"
        " * on (job, instance) group_left (model)"
        " sum by (job, instance, model) (rate(llm_requests_total[5m]))",
        id="on-group-left",
    ),
    pytest.param(
        "sum by (agent_type, status) (rate(agent_requests_total[5m]))"
        " / ignoring (status) sum by (agent_type, status) (rate(agent_requests_total[5m]))",
        id="ignoring-one-to-one",
    ),
    pytest.param(
        "sum by (status) (topk(3, rate(agent_requests_total[5m])))", id="topk-keeps-labels"
    ),
    pytest.param(
        'count by (status_class) (count_values("status_class", up))',
        id="count-values-adds-label",
    ),
    pytest.param(
        "sum by (model) (rate(agent_requests_total[5m]) or rate(llm_requests_total[5m]))",
        id="or-unions-labels",
    ),
    pytest.param(
        "clamp_max(sum by (agent_type) (rate(agent_requests_total[5m])), 10)",
        id="function-with-scalar-argument",
    ),
    pytest.param(
        "max_over_time(sum(rate(agent_requests_total[5m]))[1h:1m]) > 1",
        id="subquery-of-rate",
    ),
    pytest.param(
        'sum by (agent_type, status) (rate(agent_requests_total{status="error"}[5m]))'
        " / ignoring (status) group_left"
        " sum by (agent_type) (rate(agent_requests_total[5m])) > 0.05",
        id="ignoring-group-left-per-agent-ratio",
    ),
    pytest.param(
        "rate(agent_requests_total[5m:1m]) > 1",
        id="rate-over-subquery-of-counter",
    ),
]


@pytest.mark.parametrize("expr", VALID)
def test_valid_expression_has_no_findings(expr: str, index: CatalogIndex) -> None:
    assert codes_of(expr, index) == set()


# -- mistakes: the exact codes ---------------------------------------------------------

MISTAKES: list[object] = [
    pytest.param("rate(agent_requests_total[5m]", {"promql-syntax"}, id="syntax"),
    pytest.param("gpu_memory_usage_percent > 90", {"unknown-metric"}, id="unknown-metric"),
    pytest.param("rate(agent_requests[5m])", {"metric-suffix"}, id="counter-without-total"),
    pytest.param("agent_latency_seconds > 2", {"metric-suffix"}, id="histogram-family-name"),
    pytest.param("rate(active_sessions_total[5m])", {"metric-suffix"}, id="gauge-with-total"),
    pytest.param(
        'rate(agent_requests_total{model="x"}[5m])', {"undeclared-label"}, id="matcher-label"
    ),
    pytest.param(
        'rate(agent_requests_total{user_id="u1"}[5m])', {"unbounded-label"}, id="matcher-user-id"
    ),
    pytest.param(
        'rate(agent_requests_total{status="failed"}[5m]) > 0',
        {"unknown-label-value"},
        id="label-value",
    ),
    pytest.param('up{job="bestbox-api"} == 0', {"unknown-job"}, id="job"),
    pytest.param('up{job=~"agent-api|llm"} == 0', {"unknown-job"}, id="job-in-alternation"),
    pytest.param("rate(active_sessions[5m])", {"rate-on-gauge"}, id="rate-on-gauge"),
    pytest.param("increase(up[5m])", {"rate-on-gauge"}, id="increase-on-up"),
    pytest.param("delta(agent_requests_total[10m])", {"delta-on-counter"}, id="delta-on-counter"),
    pytest.param(
        "deriv(agent_latency_seconds_count[10m])", {"delta-on-counter"}, id="deriv-on-count"
    ),
    pytest.param(
        'sum(user_feedback_total{rating="positive"}) / sum(user_feedback_total) < 0.7',
        {"raw-counter"},
        id="raw-counter-ratio",
    ),
    pytest.param("sum(agent_latency_seconds_sum) > 100", {"raw-counter"}, id="raw-histogram-sum"),
    pytest.param("-agent_requests_total", {"raw-counter"}, id="raw-counter-negated"),
    pytest.param(
        "histogram_quantile(0.95, sum(rate(agent_latency_seconds_count[5m]))) > 2",
        {"quantile-not-bucket"},
        id="quantile-over-count",
    ),
    pytest.param(
        "histogram_quantile(0.9, agent_type:agent_requests:rate5m)",
        {"quantile-not-bucket"},
        id="quantile-over-rule",
    ),
    pytest.param(
        "histogram_quantile(0.9, bestbox:agent_requests_errors:ratio_rate5m)",
        {"quantile-not-bucket"},
        id="quantile-over-label-less-rule",
    ),
    pytest.param(
        "histogram_quantile(0.95, sum by (agent_type) (rate(agent_ttft_seconds_bucket[5m])))",
        {"quantile-le-dropped"},
        id="quantile-by-without-le",
    ),
    pytest.param(
        "histogram_quantile(0.95, sum without (le) (rate(agent_ttft_seconds_bucket[5m])))",
        {"quantile-le-dropped"},
        id="quantile-without-le",
    ),
    pytest.param(
        "histogram_quantile(0.95, rate(agent_latency_seconds_bucket[5m])) > 2",
        {"quantile-unaggregated"},
        id="quantile-raw-buckets",
    ),
    pytest.param("rate(agent_requests_total[15s])", {"short-range"}, id="short-range-app"),
    pytest.param('deriv(up{job="llm-server"}[15s])', {"short-range"}, id="short-range-job"),
    pytest.param(
        "avg_over_time(agent_type:agent_requests:rate5m[45s])",
        {"short-range"},
        id="short-range-rule",
    ),
    pytest.param(
        'deriv(up{job!="agent-api"}[50s])',
        {"short-range"},
        id="short-range-negated-job",
    ),
    pytest.param(
        "rate(active_sessions[5m:1m])",
        {"rate-on-gauge"},
        id="rate-over-subquery-of-gauge",
    ),
    pytest.param(
        "rate(agent_requests_total[15s]) > sum(user_feedback_total)",
        {"short-range", "raw-counter"},
        id="two-mistakes",
    ),
    # Label inference: a label dropped or never present is reported where it is used.
    pytest.param(
        "sum by (status) (sum by (agent_type) (rate(agent_requests_total[5m])))",
        {"undeclared-label"},
        id="by-drops-labels",
    ),
    pytest.param(
        "sum by (agent_type) (sum without (agent_type) (rate(agent_requests_total[5m])))",
        {"undeclared-label"},
        id="without-drops-label",
    ),
    pytest.param(
        "sum by (status) (sum(rate(agent_requests_total[5m])))",
        {"undeclared-label"},
        id="sum-drops-all",
    ),
    pytest.param(
        "sum by (agent_type) (rate(tool_executions_total[5m])) > 1",
        {"undeclared-label"},
        id="by-label-of-another-metric",
    ),
    pytest.param(
        "sum by (user_id) (rate(agent_requests_total[5m]))",
        {"unbounded-label"},
        id="by-user-id",
    ),
    pytest.param(
        "sum by (status) ("
        "sum by (agent_type) (rate(agent_requests_total[5m]))"
        " / on (agent_type) sum by (agent_type, status) (rate(agent_requests_total[5m])))",
        {"undeclared-label"},
        id="on-keeps-only-its-labels",
    ),
    pytest.param(
        "sum by (status) ("
        "sum by (agent_type, status) (rate(agent_requests_total[5m]))"
        " / ignoring (status) sum by (agent_type, status) (rate(agent_requests_total[5m])))",
        {"undeclared-label"},
        id="ignoring-drops-its-labels",
    ),
    pytest.param(
        "rate(agent_requests_total[5m]) / on (model) rate(llm_requests_total[5m])",
        {"undeclared-label"},
        id="on-label-missing-one-side",
    ),
    pytest.param(
        "rate(agent_requests_total[5m]) * on (job, instance) group_left (model) up",
        {"undeclared-label"},
        id="group-left-label-not-on-one-side",
    ),
    pytest.param(
        "rate(agent_requests_total[5m]) * on (job, instance) group_right (model)"
        " rate(llm_requests_total[5m])",
        {"undeclared-label"},
        id="group-right-label-not-on-one-side",
    ),
    pytest.param(
        "sum by (tool_name) ("
        "rate(agent_requests_total[5m]) * on (job, instance) group_left (model)"
        " sum by (job, instance, model) (rate(llm_requests_total[5m])))",
        {"undeclared-label"},
        id="group-left-adds-only-its-labels",
    ),
    pytest.param(
        'label_replace(up, "service", "$1", "model", "(.*)")',
        {"undeclared-label"},
        id="label-replace-missing-source",
    ),
    pytest.param(
        'sum by (outcome) (label_replace(up, "service", "$1", "job", "(.*)"))',
        {"undeclared-label"},
        id="label-replace-adds-only-destination",
    ),
    pytest.param(
        "sum by (le) (histogram_quantile(0.9, sum by (le) (rate(agent_ttft_seconds_bucket[5m]))))",
        {"undeclared-label"},
        id="quantile-removes-le",
    ),
    pytest.param(
        "sum by (model) (rate(agent_requests_total[5m]) and rate(llm_requests_total[5m]))",
        {"undeclared-label"},
        id="and-keeps-left-labels",
    ),
    pytest.param(
        'agent_type:agent_requests:rate5m{job="agent-api"}',
        {"undeclared-label"},
        id="rule-lacks-job",
    ),
    pytest.param(
        'bestbox:agent_requests_errors:ratio_rate5m{agent_type="erp"} > 0.05',
        {"undeclared-label"},
        id="rule-aggregated-away",
    ),
    pytest.param(
        'absent(up{job="agent-api"}) * on (instance) up',
        {"undeclared-label"},
        id="absent-keeps-equality-labels",
    ),
]


@pytest.mark.parametrize(("expr", "expected"), MISTAKES)
def test_mistake_yields_exact_codes(expr: str, expected: set[str], index: CatalogIndex) -> None:
    assert codes_of(expr, index) == expected


def test_findings_name_the_spec_object(index: CatalogIndex) -> None:
    (finding,) = check_expression(
        'rate(agent_requests_total{status="failed"}[5m])', index, Subject("t", "Alert[X]")
    )
    assert finding.spec == "Metric[agent_requests]"
    assert "failed" in finding.message and "error" in finding.hint
    (finding,) = check_expression("rate(agent_requests[5m])", index, Subject("t", "Alert[X]"))
    assert "agent_requests_total" in finding.hint
    (finding,) = check_expression('up{job="nope"}', index, Subject("t", "Alert[X]"))
    assert finding.spec == "Alert[X]"


# -- label inference ------------------------------------------------------------------

INFERENCE: list[object] = [
    pytest.param("agent_requests_total", REQUESTS, id="counter-series"),
    pytest.param(
        "agent_ttft_seconds_bucket", {"agent_type", "le", *SCRAPE}, id="bucket-carries-le"
    ),
    pytest.param("agent_ttft_seconds_count", {"agent_type", *SCRAPE}, id="count-has-no-le"),
    pytest.param("sum by (agent_type) (rate(agent_requests_total[5m]))", {"agent_type"}, id="by"),
    pytest.param("sum(rate(agent_requests_total[5m]))", set(), id="sum"),
    pytest.param(
        "sum without (instance, status) (rate(agent_requests_total[5m]))",
        {"agent_type", "job"},
        id="without",
    ),
    pytest.param(
        "topk(3, sum by (agent_type) (rate(agent_requests_total[5m])))", {"agent_type"}, id="topk"
    ),
    pytest.param('count_values("v", up)', {"v"}, id="count-values"),
    pytest.param("rate(agent_requests_total[5m]) > 1", REQUESTS, id="comparison"),
    pytest.param("2 * rate(agent_requests_total[5m])", REQUESTS, id="scalar-left"),
    pytest.param(
        "rate(agent_requests_total[5m]) / on (job, instance) up", SCRAPE, id="on-one-to-one"
    ),
    pytest.param(
        "rate(agent_requests_total[5m]) / ignoring (status) rate(agent_requests_total[5m])",
        {"agent_type", *SCRAPE},
        id="ignoring-one-to-one",
    ),
    pytest.param(
        "rate(agent_requests_total[5m]) * on (job, instance) group_left (model)"
        " sum by (job, instance, model) (rate(llm_requests_total[5m]))",
        {*REQUESTS, "model"},
        id="group-left",
    ),
    pytest.param(
        "sum by (job, instance, model) (rate(llm_requests_total[5m]))"
        " * on (job, instance) group_right rate(agent_requests_total[5m])",
        REQUESTS,
        id="group-right-keeps-many-side",
    ),
    pytest.param(
        "rate(agent_requests_total[5m]) or rate(llm_requests_total[5m])",
        {*REQUESTS, "model"},
        id="or",
    ),
    pytest.param(
        "rate(agent_requests_total[5m]) unless rate(llm_requests_total[5m])", REQUESTS, id="unless"
    ),
    pytest.param(
        'label_replace(up, "service", "$1", "job", "(.*)")', {"service", *SCRAPE}, id="replace"
    ),
    pytest.param('label_join(up, "addr", ":", "job", "instance")', {"addr", *SCRAPE}, id="join"),
    pytest.param('absent(up{job="agent-api", instance=~".+"})', {"job"}, id="absent"),
    pytest.param("vector(1)", set(), id="vector"),
    pytest.param(
        "histogram_quantile(0.95, sum by (le, agent_type) (rate(agent_ttft_seconds_bucket[5m])))",
        {"agent_type"},
        id="quantile-drops-le",
    ),
    pytest.param("agent_type:agent_ttft_seconds:p95_5m", {"agent_type"}, id="recording-rule"),
    pytest.param("bestbox:agent_requests_errors:ratio_rate5m", set(), id="rule-without-labels"),
    pytest.param("no_such_metric", None, id="unknown-metric"),
    pytest.param('sum by (job) ({__name__=~"agent_.+"})', {"job"}, id="by-over-unknown"),
    pytest.param('sum without (job) ({__name__=~"agent_.+"})', None, id="without-over-unknown"),
    pytest.param("rate(agent_requests_total[5m]", None, id="unparseable"),
]


@pytest.mark.parametrize(("expr", "expected"), INFERENCE)
def test_infer_labels(expr: str, expected: set[str] | None, index: CatalogIndex) -> None:
    result = infer_labels(expr, index)
    assert result == (None if expected is None else frozenset(expected))


def test_recording_rules_are_indexed_with_inferred_labels(index: CatalogIndex) -> None:
    rules = {name: ref.labels for name, ref in index.series.items() if ref.is_rule}
    slo_rules = {name: rules.pop(name) for name in list(rules) if name.startswith("slo:")}
    assert rules == {
        "agent_type:agent_requests:rate5m": frozenset({"agent_type"}),
        "bestbox:agent_requests_errors:ratio_rate5m": frozenset(),
        "agent_type:agent_ttft_seconds:p95_5m": frozenset({"agent_type"}),
    }
    # The SLO rules (error ratios per window, metadata) carry only the slo label.
    assert len(slo_rules) == 11
    assert set(slo_rules.values()) == {frozenset({"slo"})}
