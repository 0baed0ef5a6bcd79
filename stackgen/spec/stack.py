"""The whole stack: catalog, rules, alerts, services, Prometheus and collector settings."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from typing import Self

from pydantic import Field, model_validator

from stackgen.conventions import (
    DEFAULT_UNBOUNDED_LABELS,
    SLO_DASHBOARD_NAME,
    SLO_DASHBOARD_UID_SUFFIX,
)
from stackgen.spec.alerting import AlertRouting
from stackgen.spec.base import Duration, SpecModel, duration_seconds, is_valid
from stackgen.spec.collector import Collector
from stackgen.spec.compose import Compose
from stackgen.spec.dashboards import Dashboard
from stackgen.spec.grafana import Grafana
from stackgen.spec.jaeger import Jaeger
from stackgen.spec.metrics import Metric, MetricType
from stackgen.spec.rules import Alert, RecordingRule, Severity
from stackgen.spec.runbooks import Runbook
from stackgen.spec.services import Service
from stackgen.spec.slo import SLO, LatencySLI, QuerySLI
from stackgen.spec.sql_schema import parse_schema

__all__ = ["PrometheusSettings", "Stack"]


class PrometheusSettings(SpecModel):
    spec_key = "scrape_interval"

    scrape_interval: Duration = "15s"
    evaluation_interval: Duration = "15s"
    retention: Duration = "30d"
    external_labels: dict[str, str] = Field(default_factory=dict)
    # Where Prometheus finds Alertmanager (a Service name).
    alertmanager: str | None = "alertmanager"


class Stack(SpecModel):
    name: str = Field(pattern=r"^[a-z][a-z0-9-]*$")
    metrics: tuple[Metric, ...]
    recording_rules: tuple[RecordingRule, ...] = ()
    alerts: tuple[Alert, ...] = ()
    slos: tuple[SLO, ...] = ()
    services: tuple[Service, ...]
    prometheus: PrometheusSettings = PrometheusSettings()
    # The OpenTelemetry collector; None: the stack runs none.
    collector: Collector | None = None
    # Jaeger v2, where the collector sends traces; None: the stack runs none.
    jaeger: Jaeger | None = None
    # Alertmanager routing; None: no Alertmanager configuration is generated.
    alerting: AlertRouting | None = None
    # Grafana and its datasources; None: the stack runs no Grafana.
    grafana: Grafana | None = None
    # What to do when an alert fires, by the anchor alerts and SLOs link.
    runbooks: tuple[Runbook, ...] = ()
    # The docker-compose deployment; None: no docker-compose.yml is generated.
    compose: Compose | None = None
    # Label names never allowed on a metric (identities: unbounded and private).
    unbounded_labels: tuple[str, ...] = DEFAULT_UNBOUNDED_LABELS
    # A critical alert must be able to fire within this time of its fault.
    critical_detection_budget: Duration = "2m"
    # Base URLs for alert annotations.
    grafana_url: str = Field(default="http://localhost:3001", pattern=r"^https?://")
    runbook_url: str = Field(min_length=1)
    # Grafana dashboards from panel specs (generated/grafana/dashboards/<name>.json).
    dashboards: tuple[Dashboard, ...] = ()
    # The CREATE TABLE statements of the database the postgres datasources read (the
    # audit log): SQL panels are checked against it. The spec module reads it from the
    # service's migrations, so the checks themselves read no file.
    audit_schema: str | None = None
    # Jaeger's UI as operators reach it: the admin links a conversation to its trace.
    jaeger_url: str = Field(default="http://localhost:16686", pattern=r"^https?://")

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        problems = [
            *_duplicates("metrics", (m.name for m in self.metrics)),
            *_duplicates("services", (s.name for s in self.services)),
            *_duplicates("alerts", (a.name for a in self.alerts)),
            *_duplicates("recording_rules", (r.record for r in self.recording_rules)),
            *_duplicates("slos", (s.name for s in self.slos)),
            *_duplicates("runbooks", (r.anchor for r in self.runbooks)),
        ]
        budget = duration_seconds(self.critical_detection_budget)
        for alert in self.alerts:
            if alert.severity is not Severity.CRITICAL or not is_valid(alert.test):
                continue
            if duration_seconds(alert.test.fires_within) > budget:
                problems.append(
                    f"alerts[{alert.name}].test.fires_within: {alert.test.fires_within} "
                    f"exceeds the critical detection budget {self.critical_detection_budget}"
                )
        for slo in self.slos:
            problems += self._slo_problems(slo)
        services = {s.name for s in self.services}
        if self.prometheus.alertmanager and self.prometheus.alertmanager not in services:
            problems.append(
                f"prometheus.alertmanager: {self.prometheus.alertmanager!r} is not a service"
            )
        problems += self._grafana_problems(services)
        problems += self._trace_problems()
        problems += self._compose_problems()
        problems += self._dashboard_problems()
        if problems:
            raise ValueError("; ".join(problems))
        return self

    def _grafana_problems(self, services: set[str]) -> list[str]:
        if self.grafana is None or not is_valid(self.grafana):
            return []
        problems = []
        if self.grafana.service not in services:
            problems.append(f"grafana.service: {self.grafana.service!r} is not a service")
        for ds in self.grafana.datasources:
            if ds.service not in services:
                problems.append(
                    f"grafana.datasources[{ds.uid}].service: {ds.service!r} is not a service"
                )
        return problems

    def _trace_problems(self) -> list[str]:
        if self.collector is None or self.jaeger is None:
            return []
        if not (is_valid(self.collector) and is_valid(self.jaeger)):
            return []
        if self.collector.traces_endpoint != self.jaeger.otlp_address:
            return [
                f"collector.traces_endpoint: {self.collector.traces_endpoint!r} is not "
                f"Jaeger's OTLP gRPC address {self.jaeger.otlp_address!r}"
            ]
        return []

    def _compose_problems(self) -> list[str]:
        """Compose services without an image must get one from the spec: the collector's
        or Grafana's image, or a build."""
        if self.compose is None or not is_valid(self.compose):
            return []
        derived = set()
        if self.collector is not None:
            derived.add(self.collector.host)
        if self.jaeger is not None:
            derived.add(self.jaeger.host)
        if self.grafana is not None:
            derived.add(self.grafana.service)
        return [
            f"compose.services[{s.name}].image: needed (only the collector's, Jaeger's and "
            "Grafana's images come from their own spec)"
            for s in self.compose.services
            if s.image is None and s.build is None and s.name not in derived
        ]

    def _dashboard_problems(self) -> list[str]:
        problems = [
            *_duplicates("dashboards", (d.uid for d in self.dashboards)),
            *_duplicates("dashboards (name)", (d.name for d in self.dashboards)),
        ]
        if self.slos:
            slo_uid = f"{self.name}{SLO_DASHBOARD_UID_SUFFIX}"
            problems += [
                f"dashboards[{d.uid}]: uid or name taken by the SLO dashboard"
                for d in self.dashboards
                if d.uid == slo_uid or d.name == SLO_DASHBOARD_NAME
            ]
        if self.audit_schema is not None:
            try:
                parse_schema(self.audit_schema)
            except ValueError as error:
                problems.append(f"audit_schema: {error}")
        return problems

    def _slo_problems(self, slo: SLO) -> list[str]:
        """An SLO's SLI against the catalog: the metric, its type, labels and buckets."""
        where = f"slos[{slo.name}].sli"
        sli = slo.sli
        if isinstance(sli, QuerySLI):
            return []  # its queries are rule expressions: the PromQL checker judges them
        metric = next((m for m in self.metrics if m.name == sli.metric), None)
        if metric is None:
            return [f"{where}.metric: {sli.metric!r} is not a metric of the catalog"]
        expected = MetricType.HISTOGRAM if isinstance(sli, LatencySLI) else MetricType.COUNTER
        if metric.type is not expected:
            return [
                f"{where}.metric: {sli.metric} is a {metric.type}; a {sli.kind} SLI needs "
                f"a {expected}"
            ]
        problems = []
        matcher_sets = {"matchers": sli.matchers}
        if not isinstance(sli, LatencySLI):
            matcher_sets["bad" if sli.bad is not None else "good"] = sli.events
        for field, matchers in matcher_sets.items():
            for key, value in matchers.items():
                label = metric.label(key)
                if label is None:
                    problems.append(
                        f"{where}.{field}: {sli.metric} has no label {key!r} "
                        f"(labels: {list(metric.label_names())})"
                    )
                elif label.values is not None and value not in label.values:
                    problems.append(
                        f"{where}.{field}: {key}={value!r} never matches: {key} is one of "
                        f"{list(label.values)}"
                    )
        if isinstance(sli, LatencySLI) and sli.threshold not in (metric.buckets or ()):
            problems.append(
                f"{where}.threshold: {sli.threshold:g} is not a bucket boundary of "
                f"{sli.metric} (buckets: {list(metric.buckets or ())})"
            )
        return problems

    def runbook(self, anchor: str) -> Runbook | None:
        return next((r for r in self.runbooks if r.anchor == anchor), None)

    def service(self, name: str) -> Service | None:
        return next((s for s in self.services if s.name == name), None)

    def scrape_interval_of(self, service: Service) -> str:
        if service.scrape and service.scrape.interval:
            return service.scrape.interval
        return self.prometheus.scrape_interval

    def scraped_services(self) -> tuple[Service, ...]:
        return tuple(s for s in self.services if s.scrape is not None)


def _duplicates(field: str, names: Iterable[str]) -> list[str]:
    counts = Counter(names)
    return [f"{field}: {name!r} is defined {n} times" for name, n in counts.items() if n > 1]
