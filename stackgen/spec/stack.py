"""The whole stack: catalog, rules, alerts, services, Prometheus and collector settings."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Self

from pydantic import Field, model_validator

from stackgen.conventions import (
    DEFAULT_REGENERATE_COMMAND,
    DEFAULT_UNBOUNDED_LABELS,
    SCRAPE_SERIES,
    SLO_DASHBOARD_NAME,
    SLO_DASHBOARD_UID_SUFFIX,
)
from stackgen.spec.alerting import AlertRouting
from stackgen.spec.base import (
    Duration,
    Problem,
    SpecModel,
    SpecProblems,
    duration_seconds,
    is_valid,
)
from stackgen.spec.collector import Collector
from stackgen.spec.compose import Compose
from stackgen.spec.dashboards import Dashboard
from stackgen.spec.grafana import Grafana
from stackgen.spec.jaeger import Jaeger
from stackgen.spec.metrics import Metric, MetricSource, MetricType
from stackgen.spec.rules import Alert, RecordingRule, Severity
from stackgen.spec.runbooks import Runbook
from stackgen.spec.scale_out import ScaleOut, scale_out_problems
from stackgen.spec.services import Service
from stackgen.spec.slo import SLO, LatencySLI, QuerySLI
from stackgen.spec.sql_schema import parse_schema
from stackgen.spec.verify import STACK_PROGRAMS, StopProgram, VerifySettings

__all__ = ["PrometheusSettings", "Stack"]


class PrometheusSettings(SpecModel):
    spec_key = "scrape_interval"

    scrape_interval: Duration = "15s"
    evaluation_interval: Duration = "15s"
    # How often the rule groups holding a critical alert are evaluated (None: every
    # group at evaluation_interval). Pages wait on it twice (the evaluation that sees
    # the fault, the one that ends `for`); slower alerts keep the cheaper global pace.
    critical_evaluation_interval: Duration | None = None
    retention: Duration = "30d"
    external_labels: dict[str, str] = Field(default_factory=dict)
    # Where Prometheus finds Alertmanager (a Service name); None: it sends alerts nowhere.
    alertmanager: str | None = None


def scrape_series() -> tuple[Metric, ...]:
    """The series Prometheus writes for every scrape target (labels job and instance)."""
    return tuple(
        Metric(name=name, type=MetricType.GAUGE, unit=unit, help=text, source=MetricSource.SCRAPE)
        for name, unit, text in SCRAPE_SERIES
    )


_SCRAPE_SERIES = scrape_series()


class Stack(SpecModel):
    name: str = Field(pattern=r"^[a-z][a-z0-9-]*$")
    # The catalog as the spec writes it; the stack adds the series Prometheus writes
    # for every scrape target (`up`, `scrape_duration_seconds`...) when it scrapes any.
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
    # The command that regenerates the output, named in every generated file's header.
    regenerate_command: str = Field(default=DEFAULT_REGENERATE_COMMAND, pattern=r"^[^`\n]+$")
    # Service name -> its port on 127.0.0.1 in the local profile (`stackgen generate
    # --profile local`; --port overrides one). Only these services are scraped there.
    local_ports: dict[str, int] = Field(default_factory=dict)
    # The live proof (`stackgen verify`, `stackgen check --live`); None: the stack has none.
    verify: VerifySettings | None = None
    # Replicas, HA Prometheus and Alertmanager, remote_write, the Kubernetes target;
    # None: everything runs once, on one host.
    scale_out: ScaleOut | None = None

    @model_validator(mode="before")
    @classmethod
    def _with_scrape_series(cls, data: Any) -> Any:
        """The scrape series come from the scrape jobs: a spec never writes them."""
        if not isinstance(data, dict):
            return data
        services, metrics = data.get("services", ()), data.get("metrics")
        if not isinstance(metrics, tuple | list):
            return data
        if any(getattr(s, "scrape", None) is not None for s in services):
            written = {getattr(m, "name", None) for m in metrics}
            derived = tuple(m for m in _SCRAPE_SERIES if m.name not in written)
            data = {**data, "metrics": (*metrics, *derived)}
        return data

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        problems = [
            *self._scrape_series_problems(),
            *_duplicates("metrics", ((m.name, m) for m in self.metrics)),
            *_duplicates("services", ((s.name, s) for s in self.services)),
            *_duplicates("alerts", ((a.name, a) for a in self.alerts)),
            *_duplicates("recording_rules", ((r.record, r) for r in self.recording_rules)),
            *_duplicates("slos", ((s.name, s) for s in self.slos)),
            *_duplicates("runbooks", ((r.anchor, r) for r in self.runbooks)),
        ]
        budget = duration_seconds(self.critical_detection_budget)
        for alert in self.alerts:
            if alert.severity is not Severity.CRITICAL or not is_valid(alert.test):
                continue
            if duration_seconds(alert.test.fires_within) > budget:
                problems.append(
                    Problem(
                        f"alerts[{alert.name}].test.fires_within: {alert.test.fires_within} "
                        f"exceeds the critical detection budget {self.critical_detection_budget}",
                        alert,
                    )
                )
        for slo in self.slos:
            problems += [Problem(message, slo) for message in self._slo_problems(slo)]
        services = {s.name for s in self.services}
        problems += [
            Problem(f"metrics[{m.name}].service: {m.service!r} is not a service", m)
            for m in self.metrics
            if m.service is not None and m.service not in services
        ]
        if self.prometheus.alertmanager and self.prometheus.alertmanager not in services:
            problems.append(
                Problem(
                    f"prometheus.alertmanager: {self.prometheus.alertmanager!r} is not a service",
                    self.prometheus,
                )
            )
        problems += self._grafana_problems(services)
        problems += self._trace_problems()
        problems += self._compose_problems()
        problems += self._dashboard_problems()
        problems += self._local_problems(services)
        problems += self._verify_problems(services)
        if self.scale_out is not None and is_valid(self.scale_out):
            uids = [d.uid for d in self.grafana.datasources] if self.grafana else []
            problems += [
                Problem(message, self.scale_out)
                for message in scale_out_problems(self.scale_out, services, uids)
            ]
        if problems:
            raise SpecProblems(problems)
        return self

    def _scrape_series_problems(self) -> list[Problem]:
        derived = {m.name for m in _SCRAPE_SERIES}
        return [
            Problem(
                f"metrics[{m.name}]: Prometheus writes it for every scrape job and the stack "
                "adds it to the catalog itself: remove it from the spec",
                m,
            )
            for m in self.metrics
            if m.name in derived and not any(m is d for d in _SCRAPE_SERIES)
        ]

    def _grafana_problems(self, services: set[str]) -> list[Problem]:
        if self.grafana is None or not is_valid(self.grafana):
            return []
        problems = []
        if self.grafana.service not in services:
            problems.append(
                Problem(f"grafana.service: {self.grafana.service!r} is not a service", self.grafana)
            )
        for ds in self.grafana.datasources:
            if ds.service not in services:
                problems.append(
                    Problem(
                        f"grafana.datasources[{ds.uid}].service: {ds.service!r} is not a service",
                        ds,
                    )
                )
        return problems

    def _trace_problems(self) -> list[Problem]:
        if self.collector is None or self.jaeger is None:
            return []
        if not (is_valid(self.collector) and is_valid(self.jaeger)):
            return []
        if self.collector.traces_endpoint != self.jaeger.otlp_address:
            return [
                Problem(
                    f"collector.traces_endpoint: {self.collector.traces_endpoint!r} is not "
                    f"Jaeger's OTLP gRPC address {self.jaeger.otlp_address!r}",
                    self.collector,
                )
            ]
        return []

    def _local_problems(self, services: set[str]) -> list[Problem]:
        problems = [
            Problem(f"local_ports[{name}]: not a service of the stack")
            for name in self.local_ports
            if name not in services
        ]
        seen: dict[int, str] = {}
        for name, port in self.local_ports.items():
            if not 1 <= port <= 65535:
                problems.append(Problem(f"local_ports[{name}]: {port} is not a TCP port"))
            elif port in seen:
                problems.append(Problem(f"local_ports[{name}]: port {port} is also {seen[port]}'s"))
            seen.setdefault(port, name)
        return problems

    def _verify_problems(self, services: set[str]) -> list[Problem]:
        verify = self.verify
        if verify is None or not is_valid(verify):
            return []
        problems = []
        if verify.service not in services:
            problems.append(Problem(f"verify.service: {verify.service!r} is not a service", verify))
        # The SLOs a scenario names are only labels it allows to fire; its alerts must
        # exist, or the scenario could never pass.
        alerts = {a.name for a in self.alerts}
        for scenario in verify.scenarios:
            named = [a for a in (scenario.alert, *scenario.also_allowed) if a is not None]
            unknown = [a for a in named if a not in alerts]
            if unknown:
                problems.append(
                    Problem(
                        f"verify.scenarios[{scenario.name}]: {unknown} are not alerts of the stack",
                        scenario,
                    )
                )
        problems += _duplicates("verify.scenarios", ((s.name, s) for s in verify.scenarios))
        scraped = {s.name for s in self.services if s.scrape is not None}
        for program in verify.programs:
            if program.service not in scraped:
                problems.append(
                    Problem(
                        f"verify.programs[{program.service}]: not a scraped service",
                        program,
                    )
                )
        problems += _duplicates("verify.programs", ((p.service, p) for p in verify.programs))
        stoppable = {*STACK_PROGRAMS, *(p.service for p in verify.programs)}
        for scenario in verify.scenarios:
            fault = scenario.fault
            if isinstance(fault, StopProgram) and fault.program not in stoppable:
                problems.append(
                    Problem(
                        f"verify.scenarios[{scenario.name}]: stops {fault.program!r}, which "
                        f"the live run does not start (it starts {sorted(stoppable)})",
                        scenario,
                    )
                )
        return problems

    def _compose_problems(self) -> list[Problem]:
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
            Problem(
                f"compose.services[{s.name}].image: needed (only the collector's, Jaeger's "
                "and Grafana's images come from their own spec)",
                s,
            )
            for s in self.compose.services
            if s.image is None and s.build is None and s.name not in derived
        ]

    def _dashboard_problems(self) -> list[Problem]:
        problems = [
            *_duplicates("dashboards", ((d.uid, d) for d in self.dashboards)),
            *_duplicates("dashboards (name)", ((d.name, d) for d in self.dashboards)),
        ]
        if self.slos:
            slo_uid = f"{self.name}{SLO_DASHBOARD_UID_SUFFIX}"
            problems += [
                Problem(f"dashboards[{d.uid}]: uid or name taken by the SLO dashboard", d)
                for d in self.dashboards
                if d.uid == slo_uid or d.name == SLO_DASHBOARD_NAME
            ]
        if self.audit_schema is not None:
            try:
                parse_schema(self.audit_schema)
            except ValueError as error:
                problems.append(Problem(f"audit_schema: {error}"))
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

    def app_service(self) -> str | None:
        """The application service the live proof drives (``verify.service``), the
        default of the library's live helpers."""
        return self.verify.service if self.verify is not None else None

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


def _duplicates(field: str, named: Iterable[tuple[str, SpecModel]]) -> list[Problem]:
    """One problem per name defined more than once, at its second definition."""
    counts: dict[str, int] = {}
    again: dict[str, SpecModel] = {}
    for name, model in named:
        counts[name] = counts.get(name, 0) + 1
        if counts[name] == 2:
            again[name] = model
    return [
        Problem(f"{field}: {name!r} is defined {counts[name]} times", model)
        for name, model in again.items()
    ]
