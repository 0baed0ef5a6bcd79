"""Spec models: the declarative source every generated file comes from."""

from stackgen.spec.base import Duration, SpecError, SpecIssue, SpecModel, duration_seconds
from stackgen.spec.metrics import Label, Metric, MetricSource, MetricType
from stackgen.spec.rules import Alert, AlertTest, RecordingRule, RecordingTest, Sample, Severity
from stackgen.spec.services import MetricsFormat, Scrape, Service
from stackgen.spec.stack import PrometheusSettings, Stack

__all__ = [
    "Alert",
    "AlertTest",
    "Duration",
    "Label",
    "Metric",
    "MetricSource",
    "MetricType",
    "MetricsFormat",
    "PrometheusSettings",
    "RecordingRule",
    "RecordingTest",
    "Sample",
    "Scrape",
    "Service",
    "Severity",
    "SpecError",
    "SpecIssue",
    "SpecModel",
    "Stack",
    "duration_seconds",
]
