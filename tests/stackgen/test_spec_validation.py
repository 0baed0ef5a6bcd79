"""Spec models reject invalid objects with a SpecError naming the object, the field and
the line that built it; valid models are frozen and strict about unknown fields."""

from __future__ import annotations

import math
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from stackgen.load import load_stack
from stackgen.spec import (
    Alert,
    AlertTest,
    FaultScenario,
    Label,
    Metric,
    MetricSource,
    MetricType,
    PrometheusSettings,
    RecordingRule,
    RecordingTest,
    Sample,
    Scrape,
    Service,
    SpecError,
    SpecModel,
    Stack,
    StopProgram,
    StopService,
    TrafficMix,
    VerifySettings,
)
from tests.conftest import REPO_ROOT

UP = 'up{job="agent-api",instance="agent-api:8000"}'


# Builders of valid objects; each case overrides the one field it breaks.
def label(**overrides: Any) -> Label:
    data: dict[str, Any] = {
        "name": "agent_type",
        "description": "The domain agent that handled the turn.",
        "values": ("erp", "crm", "it_ops"),
    }
    return Label(**{**data, **overrides})


def metric(**overrides: Any) -> Metric:
    data: dict[str, Any] = {
        "name": "agent_requests",
        "type": MetricType.COUNTER,
        "help": "Chat turns handled.",
        "service": "agent-api",
    }
    return Metric(**{**data, **overrides})


def histogram_metric(**overrides: Any) -> Metric:
    data: dict[str, Any] = {
        "name": "agent_latency_seconds",
        "type": MetricType.HISTOGRAM,
        "unit": "seconds",
        "help": "End-to-end latency of a turn.",
        "buckets": (0.5, 1.0, 2.0),
        "service": "agent-api",
    }
    return Metric(**{**data, **overrides})


def scrape(**overrides: Any) -> Scrape:
    return Scrape(**{"path": "/metrics", **overrides})


def service(**overrides: Any) -> Service:
    data: dict[str, Any] = {
        "name": "agent-api",
        "description": "The agent API.",
        "host": "agent-api",
        "port": 8000,
        "scrape": Scrape(path="/metrics"),
    }
    return Service(**{**data, **overrides})


def alert_test(**overrides: Any) -> AlertTest:
    data: dict[str, Any] = {
        "series": {UP: "1x10 0x10"},
        "fault_at": "2m45s",
        "fires_within": "1m30s",
        "labels": {"job": "agent-api", "instance": "agent-api:8000"},
        "value": 0,
        "near_miss": {UP: "1x20"},
    }
    return AlertTest(**{**data, **overrides})


def alert(**overrides: Any) -> Alert:
    data: dict[str, Any] = {
        "name": "ServiceDown",
        "group": "infra",
        "expr": "up == 0",
        "for_": "1m",
        "severity": "critical",
        "summary": "{{ $labels.job }} is down",
        "description": "{{ $labels.instance }} has not answered a scrape.",
        "runbook": "service-down",
        "test": alert_test(),
    }
    return Alert(**{**data, **overrides})


def mini_stack(**overrides: Any) -> Stack:
    data: dict[str, Any] = {
        "name": "mini",
        "metrics": (metric(),),
        "alerts": (alert(),),
        "services": (
            service(),
            service(name="alertmanager", host="alertmanager", port=9093),
        ),
        "runbook_url": "http://localhost:8000/runbooks",
    }
    return Stack(**{**data, **overrides})


@dataclass(frozen=True)
class Invalid:
    build: Callable[[], object]
    # The object and field the issue names (field "" for a whole-object check).
    obj: str
    field: str
    fragment: str


INVALID: dict[str, Invalid] = {
    "metric-colon-in-app-metric": Invalid(
        lambda: metric(name="agent:requests"),
        "Metric[agent:requests]",
        "",
        "colons are for recording rules; only an external server's own metric may carry one",
    ),
    "metric-type-summary": Invalid(
        lambda: metric(type="summary"),
        "Metric[agent_requests]",
        "type",
        "Input should be 'counter', 'gauge' or 'histogram'",
    ),
    "label-neither-values-nor-bound": Invalid(
        lambda: label(values=None),
        "Label[agent_type]",
        "",
        "needs exactly one of `values` (the allowed values) or `max_cardinality`",
    ),
    "label-both-values-and-bound": Invalid(
        lambda: label(max_cardinality=5),
        "Label[agent_type]",
        "",
        "needs exactly one of `values` (the allowed values) or `max_cardinality`",
    ),
    "label-empty-values": Invalid(
        lambda: label(values=()), "Label[agent_type]", "", "`values` may not be empty"
    ),
    "label-duplicate-values": Invalid(
        lambda: label(values=("erp", "erp")), "Label[agent_type]", "", "`values` has duplicates"
    ),
    "label-bound-zero": Invalid(
        lambda: label(values=None, max_cardinality=0),
        "Label[agent_type]",
        "max_cardinality",
        "greater than or equal to 1",
    ),
    "label-reserved-le": Invalid(
        lambda: label(name="le"), "Label[le]", "", "label name 'le' is reserved by Prometheus"
    ),
    "label-reserved-quantile": Invalid(
        lambda: label(name="quantile"),
        "Label[quantile]",
        "",
        "label name 'quantile' is reserved by Prometheus",
    ),
    "label-reserved-job": Invalid(
        lambda: label(name="job"), "Label[job]", "", "label name 'job' is reserved by Prometheus"
    ),
    "label-reserved-instance": Invalid(
        lambda: label(name="instance"),
        "Label[instance]",
        "",
        "label name 'instance' is reserved by Prometheus",
    ),
    "label-reserved-double-underscore": Invalid(
        lambda: label(name="__x"), "Label[__x]", "", "label name '__x' is reserved by Prometheus"
    ),
    "label-name-not-a-prometheus-name": Invalid(
        lambda: label(name="agent-type"),
        "Label[agent-type]",
        "name",
        "String should match pattern",
    ),
    "counter-family-ends-in-total": Invalid(
        lambda: metric(name="agent_requests_total"),
        "Metric[agent_requests_total]",
        "",
        "counter family name 'agent_requests_total' must not end in '_total'",
    ),
    "name-ends-in-reserved-suffix": Invalid(
        lambda: metric(name="agent_requests_bucket", type=MetricType.GAUGE),
        "Metric[agent_requests_bucket]",
        "",
        "'agent_requests_bucket' ends in a suffix the exposition reserves",
    ),
    "name-not-ending-in-unit": Invalid(
        lambda: histogram_metric(name="agent_latency_ms"),
        "Metric[agent_latency_ms]",
        "",
        "name 'agent_latency_ms' must end in its unit '_seconds'",
    ),
    "histogram-without-buckets": Invalid(
        lambda: histogram_metric(buckets=None),
        "Metric[agent_latency_seconds]",
        "",
        "a histogram needs `buckets`",
    ),
    "histogram-empty-buckets": Invalid(
        lambda: histogram_metric(buckets=()),
        "Metric[agent_latency_seconds]",
        "",
        "a histogram needs `buckets`",
    ),
    "buckets-not-increasing": Invalid(
        lambda: histogram_metric(buckets=(0.5, 2.0, 1.0)),
        "Metric[agent_latency_seconds]",
        "",
        "buckets must be strictly increasing, got [0.5, 2.0, 1.0]",
    ),
    "buckets-repeated": Invalid(
        lambda: histogram_metric(buckets=(0.5, 1.0, 1.0)),
        "Metric[agent_latency_seconds]",
        "",
        "buckets must be strictly increasing",
    ),
    "bucket-infinite": Invalid(
        lambda: histogram_metric(buckets=(0.5, 1.0, math.inf)),
        "Metric[agent_latency_seconds]",
        "",
        "buckets must be finite (+Inf is added by the client)",
    ),
    "bucket-nan": Invalid(
        lambda: histogram_metric(buckets=(0.5, math.nan)),
        "Metric[agent_latency_seconds]",
        "",
        "buckets must be finite",
    ),
    "buckets-on-a-gauge": Invalid(
        lambda: metric(name="active_sessions", type=MetricType.GAUGE, buckets=(1.0, 2.0)),
        "Metric[active_sessions]",
        "",
        "buckets only apply to histograms, not to a gauge",
    ),
    "buckets-on-a-counter": Invalid(
        lambda: metric(buckets=(1.0, 2.0)),
        "Metric[agent_requests]",
        "",
        "buckets only apply to histograms, not to a counter",
    ),
    "duplicate-label-names": Invalid(
        lambda: metric(labels=(label(), label(values=None, max_cardinality=5))),
        "Metric[agent_requests]",
        "",
        "duplicate label names in ['agent_type', 'agent_type']",
    ),
    "scrape-metric-with-a-service": Invalid(
        lambda: metric(name="up", type=MetricType.GAUGE, source=MetricSource.SCRAPE),
        "Metric[up]",
        "",
        "a scrape-synthetic series belongs to every job: no `service`",
    ),
    "app-metric-without-a-service": Invalid(
        lambda: metric(service=None),
        "Metric[agent_requests]",
        "",
        "`service` is required: the scrape job (a Service name) that exposes it",
    ),
    "alert-for-bare-number": Invalid(
        lambda: alert(for_="5"),
        "Alert[ServiceDown]",
        "for_",
        "'5' is not a Prometheus duration",
    ),
    "alert-for-words": Invalid(
        lambda: alert(for_="five minutes"),
        "Alert[ServiceDown]",
        "for_",
        "'five minutes' is not a Prometheus duration",
    ),
    "alert-for-zero": Invalid(
        lambda: alert(for_="0s"), "Alert[ServiceDown]", "for_", "greater than 0"
    ),
    "alert-for-fraction": Invalid(
        lambda: alert(for_="1.5m"),
        "Alert[ServiceDown]",
        "for_",
        "'1.5m' is not a Prometheus duration",
    ),
    "scrape-interval-bare-number": Invalid(
        lambda: scrape(interval="5"),
        "Scrape[/metrics]",
        "interval",
        "'5' is not a Prometheus duration",
    ),
    "scrape-interval-words": Invalid(
        lambda: scrape(interval="five minutes"),
        "Scrape[/metrics]",
        "interval",
        "'five minutes' is not a Prometheus duration",
    ),
    "scrape-interval-zero": Invalid(
        lambda: scrape(interval="0s"), "Scrape[/metrics]", "interval", "greater than 0"
    ),
    "scrape-interval-negative": Invalid(
        lambda: scrape(interval="-15s"),
        "Scrape[/metrics]",
        "interval",
        "'-15s' is not a Prometheus duration",
    ),
    "alert-test-fires-within-words": Invalid(
        lambda: alert_test(fires_within="soon"),
        "AlertTest[2m45s]",
        "fires_within",
        "'soon' is not a Prometheus duration",
    ),
    "alert-test-series-not-promql": Invalid(
        lambda: alert_test(series={'up{job="agent-api"': "1x10"}),
        "AlertTest[2m45s]",
        "series",
        "PromQL does not parse",
    ),
    "alert-test-no-near-miss-series": Invalid(
        lambda: alert_test(near_miss={}),
        "AlertTest[2m45s]",
        "near_miss",
        "at least one input series is needed",
    ),
    "alert-expr-unclosed-paren": Invalid(
        lambda: alert(expr="sum(rate(agent_requests_total[5m]) > 1"),
        "Alert[ServiceDown]",
        "expr",
        "PromQL does not parse",
    ),
    "alert-expr-dangling-operator": Invalid(
        lambda: alert(expr="up =="), "Alert[ServiceDown]", "expr", "PromQL does not parse"
    ),
    "recording-expr-not-promql": Invalid(
        lambda: RecordingRule(
            record="job:agent_requests:rate5m",
            expr="sum by (job) (rate(agent_requests_total[5m])",
            group="recording",
            test=RecordingTest(
                series={'agent_requests_total{job="agent-api"}': "0+1x10"},
                at="2m",
                expect=(Sample(value=1.0),),
            ),
        ),
        "RecordingRule[job:agent_requests:rate5m]",
        "expr",
        "PromQL does not parse",
    ),
    "template-raw-value": Invalid(
        lambda: alert(description="The value is {{ $value }}."),
        "Alert[ServiceDown]",
        "",
        "unsupported template {{ $value }}",
    ),
    "template-go-field": Invalid(
        lambda: alert(summary="{{ .Foo }} is down"),
        "Alert[ServiceDown]",
        "",
        "unsupported template {{ .Foo }}",
    ),
    "template-other-function": Invalid(
        lambda: alert(summary="{{ $labels.job | toUpper }} is down"),
        "Alert[ServiceDown]",
        "",
        "unsupported template {{ $labels.job | toUpper }}",
    ),
    "template-function-call-form": Invalid(
        lambda: alert(description="{{ humanize $value }} errors"),
        "Alert[ServiceDown]",
        "",
        "unsupported template {{ humanize $value }}",
    ),
    "fires-within-shorter-than-for": Invalid(
        lambda: alert(for_="5m", test=alert_test(fires_within="2m")),
        "Alert[ServiceDown]",
        "",
        "test.fires_within (2m) is shorter than `for_` (5m)",
    ),
    "alert-sets-severity-label": Invalid(
        lambda: alert(labels={"severity": "page"}),
        "Alert[ServiceDown]",
        "",
        "labels ['severity'] are set by stackgen",
    ),
    "alert-unknown-severity": Invalid(
        lambda: alert(severity="page"),
        "Alert[ServiceDown]",
        "severity",
        "Input should be 'critical', 'warning' or 'info'",
    ),
    "critical-service-without-scrape": Invalid(
        lambda: service(critical=True, scrape=None),
        "Service[agent-api]",
        "",
        "a critical service must be scraped",
    ),
    "service-port-zero": Invalid(
        lambda: service(port=0),
        "Service[agent-api]",
        "port",
        "greater than or equal to 1",
    ),
    "stack-duplicate-metric-names": Invalid(
        lambda: mini_stack(metrics=(metric(), metric(help="The same family again."))),
        "Stack[mini]",
        "",
        "metrics: 'agent_requests' is defined 2 times",
    ),
    "stack-duplicate-service-names": Invalid(
        lambda: mini_stack(
            services=(
                service(),
                service(),
                service(name="alertmanager", host="alertmanager", port=9093),
            )
        ),
        "Stack[mini]",
        "",
        "services: 'agent-api' is defined 2 times",
    ),
    "stack-critical-alert-over-detection-budget": Invalid(
        lambda: mini_stack(alerts=(alert(test=alert_test(fires_within="3m")),)),
        "Stack[mini]",
        "",
        "alerts[ServiceDown].test.fires_within: 3m exceeds the critical detection budget 2m",
    ),
    "stack-alertmanager-is-not-a-service": Invalid(
        lambda: mini_stack(prometheus=PrometheusSettings(alertmanager="mailer")),
        "Stack[mini]",
        "",
        "prometheus.alertmanager: 'mailer' is not a service",
    ),
    "stack-metric-of-an-unknown-service": Invalid(
        lambda: mini_stack(metrics=(metric(service="payments-api"),)),
        "Stack[mini]",
        "",
        "metrics[agent_requests].service: 'payments-api' is not a service",
    ),
    "stack-declares-a-scrape-series": Invalid(
        lambda: mini_stack(
            metrics=(
                metric(),
                Metric(name="up", type=MetricType.GAUGE, help="Up.", source=MetricSource.SCRAPE),
            )
        ),
        "Stack[mini]",
        "",
        "metrics[up]: Prometheus writes it for every scrape job and the stack adds it",
    ),
    "stack-local-port-of-an-unknown-service": Invalid(
        lambda: mini_stack(local_ports={"payments-api": 19000}),
        "Stack[mini]",
        "",
        "local_ports[payments-api]: not a service of the stack",
    ),
    "stack-local-ports-shared": Invalid(
        lambda: mini_stack(local_ports={"agent-api": 19000, "alertmanager": 19000}),
        "Stack[mini]",
        "",
        "local_ports[alertmanager]: port 19000 is also agent-api's",
    ),
    "stack-verify-service-unknown": Invalid(
        lambda: mini_stack(verify=VerifySettings(service="payments-api")),
        "Stack[mini]",
        "",
        "verify.service: 'payments-api' is not a service",
    ),
    "stack-scenario-alert-unknown": Invalid(
        lambda: mini_stack(
            verify=VerifySettings(
                service="agent-api",
                scenarios=(
                    FaultScenario(
                        name="down", title="Down", alert="NoSuchAlert", fault=StopService()
                    ),
                ),
            )
        ),
        "Stack[mini]",
        "",
        "verify.scenarios[down]: ['NoSuchAlert'] are not alerts of the stack",
    ),
    "scenario-at-scale-stops-a-program": Invalid(
        lambda: FaultScenario(
            name="jaeger-down",
            title="Jaeger down",
            alert="TraceExportFailing",
            fault=StopProgram(program="jaeger"),
            at_scale=True,
        ),
        "FaultScenario[jaeger-down]",
        "",
        "at_scale: the scale-out run starts no 'jaeger' to stop",
    ),
    "scenario-at-scale-quiet": Invalid(
        lambda: FaultScenario(
            name="noisy",
            title="Noisy",
            fault=TrafficMix(mix="tool-errors"),
            max_wait_s=60,
            at_scale=True,
        ),
        "FaultScenario[noisy]",
        "",
        "at_scale: the scale-out run counts an alert's notifications",
    ),
    "stack-runbook-url-missing": Invalid(
        lambda: Stack(name="mini", metrics=(metric(),), services=(service(),)),
        "Stack[mini]",
        "runbook_url",
        "Field required",
    ),
}


@pytest.mark.parametrize("case", INVALID.values(), ids=INVALID.keys())
def test_invalid_object_names_object_field_and_caller_line(case: Invalid) -> None:
    with pytest.raises(SpecError) as raised:
        case.build()
    issues = raised.value.issues
    assert [(i.obj, i.field) for i in issues] == [(case.obj, case.field)]
    issue = issues[0]
    assert case.fragment in issue.message
    named = f"{case.obj}.{case.field}: " if case.field else f"{case.obj}: "
    assert named in str(raised.value)
    # The location is the line of this test module that called the constructor.
    path, line = issue.location.rsplit(":", 1)
    assert Path(os.path.abspath(path)) == Path(__file__)
    assert int(line) > 0
    assert str(raised.value).startswith(f"{issue.location}: {named}")


def test_every_problem_of_one_object_is_reported_together() -> None:
    with pytest.raises(SpecError) as raised:
        metric(name="agent_latency_ms_total", unit="seconds", buckets=(1.0,))
    message = raised.value.issues[0].message
    assert "must not end in '_total'" in message
    assert "must end in its unit '_seconds'" in message
    assert "buckets only apply to histograms, not to a counter" in message


def test_field_errors_are_one_issue_per_field() -> None:
    with pytest.raises(SpecError) as raised:
        alert(for_="5", severity="page", runbook="Not An Anchor")
    assert sorted(i.field for i in raised.value.issues) == ["for_", "runbook", "severity"]
    assert {i.obj for i in raised.value.issues} == {"Alert[ServiceDown]"}


@pytest.mark.parametrize("value", ["15s", "5m", "1h30m", "1d", "2w", "500ms"])
def test_prometheus_durations_are_accepted(value: str) -> None:
    assert scrape(interval=value).interval == value
    assert alert(for_=value, test=alert_test(fires_within="3w")).for_ == value


def test_fires_within_equal_to_for_is_accepted() -> None:
    built = alert(for_="2m", test=alert_test(fires_within="2m"))
    assert built.for_seconds == 120.0


def test_critical_alert_exactly_at_the_detection_budget_is_accepted() -> None:
    built = mini_stack(alerts=(alert(test=alert_test(fires_within="2m")),))
    assert built.alerts[0].test.fires_within == "2m"


def test_warning_alert_may_exceed_the_critical_budget() -> None:
    slow = alert(severity="warning", test=alert_test(fires_within="30m"))
    assert mini_stack(alerts=(slow,)).alerts == (slow,)


def test_stack_without_alertmanager_needs_no_alertmanager_service() -> None:
    built = mini_stack(services=(service(),), prometheus=PrometheusSettings(alertmanager=None))
    assert built.prometheus.alertmanager is None


def test_non_critical_service_may_go_unscraped() -> None:
    assert service(scrape=None).scrape is None


# --- valid models -------------------------------------------------------------------


def test_bestbox_stack_loads(stack: Stack) -> None:
    loaded = load_stack("specs.bestbox:stack", REPO_ROOT)
    assert loaded is stack
    assert loaded.name == "bestbox"
    assert {"agent_requests", "agent_ttft_seconds", "up"} <= {m.name for m in loaded.metrics}
    assert {"agent-api", "alertmanager"} <= {s.name for s in loaded.services}
    assert loaded.alerts and loaded.recording_rules


def test_bestbox_stack_loads_from_a_file_path(stack: Stack) -> None:
    loaded = load_stack("specs/bestbox/stack.py:stack", REPO_ROOT)
    assert loaded == stack


FROZEN: dict[str, tuple[Callable[[], SpecModel], str, object]] = {
    "label": (label, "name", "other"),
    "metric": (metric, "help", "changed"),
    "service": (service, "port", 9000),
    "alert": (alert, "for_", "5m"),
    "alert-test": (alert_test, "value", 1.0),
    "stack": (mini_stack, "name", "other"),
}


@pytest.mark.parametrize(("build", "field", "value"), FROZEN.values(), ids=FROZEN.keys())
def test_models_are_frozen(build: Callable[[], SpecModel], field: str, value: object) -> None:
    model = build()
    before = getattr(model, field)
    with pytest.raises(ValidationError, match="frozen"):
        setattr(model, field, value)
    assert getattr(model, field) == before


def test_the_bestbox_stack_is_frozen(stack: Stack) -> None:
    with pytest.raises(ValidationError, match="frozen"):
        stack.metrics[0].name = "renamed"  # type: ignore[misc]
    with pytest.raises(ValidationError, match="frozen"):
        stack.name = "renamed"  # type: ignore[misc]


EXTRA: dict[str, Callable[[], SpecModel]] = {
    "label": lambda: label(colour="red"),
    "metric": lambda: metric(colour="red"),
    "scrape": lambda: scrape(colour="red"),
    "service": lambda: service(colour="red"),
    "alert": lambda: alert(colour="red"),
    "alert-test": lambda: alert_test(colour="red"),
    "stack": lambda: mini_stack(colour="red"),
}


@pytest.mark.parametrize("build", EXTRA.values(), ids=EXTRA.keys())
def test_extra_fields_are_rejected(build: Callable[[], SpecModel]) -> None:
    with pytest.raises(SpecError) as raised:
        build()
    assert [(i.field, i.message) for i in raised.value.issues] == [
        ("colour", "Extra inputs are not permitted")
    ]


def test_alert_for_is_spelled_for_underscore() -> None:
    # `for` is a Python keyword; the model's field is `for_` and nothing else.
    with pytest.raises(SpecError) as raised:
        alert(**{"for": "1m"})
    assert [i.field for i in raised.value.issues] == ["for"]


SERIES_NAMES: dict[str, tuple[Callable[[], Metric], tuple[str, ...]]] = {
    "counter": (metric, ("agent_requests_total",)),
    "gauge": (
        lambda: metric(name="active_sessions", type=MetricType.GAUGE),
        ("active_sessions",),
    ),
    "histogram": (
        histogram_metric,
        (
            "agent_latency_seconds_bucket",
            "agent_latency_seconds_sum",
            "agent_latency_seconds_count",
        ),
    ),
}


@pytest.mark.parametrize(("build", "names"), SERIES_NAMES.values(), ids=SERIES_NAMES.keys())
def test_series_names(build: Callable[[], Metric], names: tuple[str, ...]) -> None:
    assert build().series_names() == names


def test_label_cardinality_counts_values_or_uses_the_bound() -> None:
    assert label().cardinality == 3
    assert label(values=("only",)).cardinality == 1
    assert label(values=None, max_cardinality=40).cardinality == 40


CARDINALITY: dict[str, tuple[Callable[[], Metric], int]] = {
    "counter-without-labels": (metric, 1),
    "counter-3x2": (
        lambda: metric(labels=(label(), label(name="status", values=("success", "error")))),
        6,
    ),
    "gauge-bounded-label": (
        lambda: metric(
            name="active_sessions",
            type=MetricType.GAUGE,
            labels=(label(name="model", values=None, max_cardinality=8),),
        ),
        8,
    ),
    # Three buckets, +Inf, _sum and _count.
    "histogram-without-labels": (histogram_metric, 6),
    "histogram-3-values": (lambda: histogram_metric(labels=(label(),)), 18),
}


@pytest.mark.parametrize(("build", "expected"), CARDINALITY.values(), ids=CARDINALITY.keys())
def test_series_cardinality(build: Callable[[], Metric], expected: int) -> None:
    assert build().series_cardinality() == expected


def test_series_cardinality_of_bestbox_latency_histogram(stack: Stack) -> None:
    latency = next(m for m in stack.metrics if m.name == "agent_latency_seconds")
    # 5 agent types x 2 complexities x (9 buckets + +Inf + _sum + _count).
    assert latency.series_cardinality() == 5 * 2 * (9 + 3)
    assert latency.label_names() == ("agent_type", "complexity")


def test_the_scrape_series_come_from_the_scrape_jobs() -> None:
    scraped = mini_stack()
    names = [m.name for m in scraped.metrics]
    assert names[0] == "agent_requests"
    assert {"up", "scrape_duration_seconds", "scrape_samples_scraped"} <= set(names[1:])
    up = next(m for m in scraped.metrics if m.name == "up")
    assert up.source is MetricSource.SCRAPE and up.service is None and up.labels == ()
    unscraped = mini_stack(
        alerts=(),
        services=(service(scrape=None, critical=False),),
        prometheus=PrometheusSettings(alertmanager=None),
    )
    assert [m.name for m in unscraped.metrics] == ["agent_requests"]


def test_a_stack_rebuilt_from_its_fields_keeps_one_set_of_scrape_series() -> None:
    stack = mini_stack()
    fields = {name: getattr(stack, name) for name in Stack.model_fields}
    assert Stack(**fields).metrics == stack.metrics
