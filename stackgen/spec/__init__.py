"""Spec models: the declarative source every generated file comes from."""

from stackgen.spec.base import Duration, SpecError, SpecIssue, SpecModel, duration_seconds
from stackgen.spec.collector import (
    Batch,
    Collector,
    DebugExporter,
    DebugVerbosity,
    MemoryLimiter,
    PrometheusExporter,
    ResourceAction,
)
from stackgen.spec.compose import (
    HOST_GATEWAY,
    AuditDatabase,
    Build,
    Compose,
    ComposeService,
    Condition,
    Healthcheck,
    Mount,
    PublishedPort,
)
from stackgen.spec.dashboards import (
    Dashboard,
    Panel,
    PanelKind,
    PromQuery,
    SQLFormat,
    SQLQuery,
    Threshold,
    TraceLink,
    Variable,
    VariableKind,
    alert_threshold,
)
from stackgen.spec.grafana import Datasource, DatasourceType, Grafana
from stackgen.spec.jaeger import Jaeger
from stackgen.spec.metrics import Label, Metric, MetricSource, MetricType
from stackgen.spec.rules import Alert, AlertTest, RecordingRule, RecordingTest, Sample, Severity
from stackgen.spec.runbooks import Runbook, RunbookQuery
from stackgen.spec.services import MetricsFormat, Scrape, Service
from stackgen.spec.slo import SLO, BurnTier, LatencySLI, QuerySLI, RatioSLI, SLORule
from stackgen.spec.stack import PrometheusSettings, Stack, scrape_series
from stackgen.spec.verify import (
    FaultScenario,
    LocalProgram,
    RestartService,
    StopProgram,
    StopService,
    TrafficMix,
    VerifySettings,
)

__all__ = [
    "SLO",
    "Alert",
    "AlertTest",
    "Batch",
    "BurnTier",
    "Collector",
    "Dashboard",
    "Datasource",
    "DatasourceType",
    "DebugExporter",
    "DebugVerbosity",
    "Duration",
    "Grafana",
    "Jaeger",
    "Label",
    "LatencySLI",
    "MemoryLimiter",
    "Metric",
    "MetricSource",
    "MetricType",
    "MetricsFormat",
    "Panel",
    "PanelKind",
    "PromQuery",
    "PrometheusExporter",
    "PrometheusSettings",
    "QuerySLI",
    "RatioSLI",
    "RecordingRule",
    "RecordingTest",
    "ResourceAction",
    "Runbook",
    "RunbookQuery",
    "SLORule",
    "SQLFormat",
    "SQLQuery",
    "Sample",
    "Scrape",
    "Service",
    "Severity",
    "SpecError",
    "SpecIssue",
    "SpecModel",
    "Stack",
    "Threshold",
    "TraceLink",
    "Variable",
    "VariableKind",
    "alert_threshold",
    "duration_seconds",
]
__all__ += [
    "FaultScenario",
    "LocalProgram",
    "RestartService",
    "StopProgram",
    "StopService",
    "TrafficMix",
    "VerifySettings",
    "scrape_series",
]
__all__ += [
    "HOST_GATEWAY",
    "AuditDatabase",
    "Build",
    "Compose",
    "ComposeService",
    "Condition",
    "Healthcheck",
    "Mount",
    "PublishedPort",
]
