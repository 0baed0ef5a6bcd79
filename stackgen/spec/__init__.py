"""Spec models: the declarative source every generated file comes from."""

from stackgen.spec.base import Duration, SpecError, SpecIssue, SpecModel, duration_seconds
from stackgen.spec.metrics import Label, Metric, MetricSource, MetricType
from stackgen.spec.rules import Alert, AlertTest, RecordingRule, RecordingTest, Sample, Severity
from stackgen.spec.services import MetricsFormat, Scrape, Service
from stackgen.spec.slo import SLO, BurnTier, LatencySLI, RatioSLI, SLORule
from stackgen.spec.stack import PrometheusSettings, Stack

__all__ = [
    "SLO",
    "Alert",
    "AlertTest",
    "BurnTier",
    "Duration",
    "Label",
    "LatencySLI",
    "Metric",
    "MetricSource",
    "MetricType",
    "MetricsFormat",
    "PrometheusSettings",
    "RatioSLI",
    "RecordingRule",
    "RecordingTest",
    "SLORule",
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
