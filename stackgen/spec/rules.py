"""Recording rules and alerts, each carrying the synthetic data that tests it."""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Self

from pydantic import Field, field_validator, model_validator

from stackgen.promql_trees import parsed
from stackgen.spec.base import Duration, SpecModel, duration_seconds, is_valid
from stackgen.templating import template_problems

__all__ = [
    "Alert",
    "AlertTest",
    "RecordingRule",
    "RecordingTest",
    "Sample",
    "Severity",
    "check_promql",
]

GROUP_NAME = r"^[a-z][a-z0-9_]*$"
LABEL_KEY = r"^[a-zA-Z_][a-zA-Z0-9_]*$"


class Severity(StrEnum):
    CRITICAL = "critical"
    WARNING = "warning"
    INFO = "info"


def check_promql(expr: str) -> str:
    try:
        parsed(expr)
    except ValueError as error:
        raise ValueError(f"PromQL does not parse: {error}") from None
    return expr


def _check_series(series: dict[str, str]) -> dict[str, str]:
    if not series:
        raise ValueError("at least one input series is needed")
    for selector in series:
        check_promql(selector)
    return series


class Sample(SpecModel):
    """An expected result sample of an expression."""

    spec_key = "value"

    labels: dict[str, str] = Field(default_factory=dict)
    value: float


class RecordingTest(SpecModel):
    """Input series (promtool expanding notation) and the samples expected at ``at``."""

    spec_key = "at"

    interval: Duration = "15s"
    series: dict[str, str]
    at: Duration
    expect: tuple[Sample, ...] = Field(min_length=1)

    _series = field_validator("series")(_check_series)


class RecordingRule(SpecModel):
    """``record`` follows the level:metric:operations convention."""

    stack_field = "recording_rules"

    spec_key = "record"

    record: str = Field(pattern=r"^[a-zA-Z_][a-zA-Z0-9_]*(:[a-zA-Z0-9_]+){2}$")
    expr: str = Field(min_length=1)
    group: str = Field(pattern=GROUP_NAME)
    labels: dict[str, str] = Field(default_factory=dict)
    test: RecordingTest

    _expr = field_validator("expr")(check_promql)


class AlertTest(SpecModel):
    """A synthetic fault for one alert.

    ``series`` is healthy until ``fault_at`` (the time of the first faulty sample) and
    faulty after it; the alert must be silent just before the fault and firing at
    ``fault_at + fires_within`` with ``labels`` (the expression's output labels) and the
    expression at ``value`` (used to expand the annotations). ``near_miss`` is the same
    scenario just under the threshold: the alert must stay silent.
    """

    spec_key = "fault_at"

    interval: Duration = "15s"
    series: dict[str, str]
    fault_at: Duration
    fires_within: Duration
    labels: dict[str, str] = Field(default_factory=dict)
    value: float
    near_miss: dict[str, str]

    _series = field_validator("series", "near_miss")(_check_series)


class Alert(SpecModel):
    stack_field = "alerts"
    name: str = Field(pattern=r"^[A-Z][A-Za-z0-9]*$")
    group: str = Field(pattern=GROUP_NAME)
    expr: str = Field(min_length=1)
    for_: Duration | None = None
    severity: Severity
    summary: str = Field(min_length=1)
    description: str = Field(min_length=1)
    # Anchor of the alert's section in the runbooks.
    runbook: str = Field(pattern=r"^[a-z0-9-]+$")
    # UID of the Grafana dashboard to open when it fires.
    dashboard: str | None = Field(default=None, pattern=r"^[a-z0-9-]+$")
    labels: dict[str, str] = Field(default_factory=dict)
    test: AlertTest

    _expr = field_validator("expr")(check_promql)

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        problems = template_problems(self.summary) + template_problems(self.description)
        reserved = {"severity", "alertname"} & set(self.labels)
        if reserved:
            problems.append(f"labels {sorted(reserved)} are set by stackgen, not in `labels`")
        for key in self.labels:
            if not promql_label_ok(key):
                problems.append(f"label name {key!r} is not a valid Prometheus label name")
        if is_valid(self.test) and duration_seconds(self.test.fires_within) < self.for_seconds:
            problems.append(
                f"test.fires_within ({self.test.fires_within}) is shorter than `for_` "
                f"({self.for_}): the alert cannot fire that early"
            )
        if problems:
            raise ValueError("; ".join(problems))
        return self

    @property
    def for_seconds(self) -> float:
        return duration_seconds(self.for_) if self.for_ else 0.0


def promql_label_ok(name: str) -> bool:
    return re.match(LABEL_KEY, name) is not None and not name.startswith("__")
