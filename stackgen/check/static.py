"""Static checks of a stack: its catalog, its scrape jobs and every expression it
generates (alerts, recording rules, the input series of their tests, the SLO rules and
the queries of the rendered dashboards), that every port the collector serves metrics
on is scraped, and the Grafana cross-checks (datasources, SQL against the audit schema,
alert dashboard links)."""

from __future__ import annotations

import json
from collections.abc import Mapping

from stackgen.check.catalog import CatalogIndex
from stackgen.check.codes import finding
from stackgen.check.compose import check_compose
from stackgen.check.dashboards import check_dashboard
from stackgen.check.grafana import (
    check_alert_dashboard_links,
    check_datasources,
    check_sql_queries,
    check_trace_links,
)
from stackgen.check.promql import Subject, check_expression, infer_labels
from stackgen.conventions import GRAFANA_DASHBOARDS_DIR
from stackgen.findings import Finding
from stackgen.render import render_all
from stackgen.render.runbooks import runbook_links
from stackgen.spec import MetricsFormat, MetricSource, Stack

__all__ = ["build_index", "check_stack"]


def build_index(stack: Stack) -> CatalogIndex:
    """The catalog plus every recording rule (the spec's, then each SLO's), with the
    labels each rule's result has. Rules may read earlier rules, so labels are inferred
    in order. SLO rules record the same names for every SLO (told apart by ``slo``)."""
    index = CatalogIndex(stack)
    rules = [(r.record, r.expr, set(r.labels)) for r in stack.recording_rules]
    for slo in stack.slos:
        rules += [(r.record, r.expr, set(slo.labels)) for r in slo.recording_rules()]
    for record, expr, rule_labels in rules:
        labels = infer_labels(expr, index)
        if labels is not None:
            previous = index.resolve(record)
            labels = labels | rule_labels
            if previous is not None and previous.is_rule and previous.labels is not None:
                labels = labels | previous.labels
        index.add_rule(record, labels)
    return index


def check_catalog(stack: Stack) -> list[Finding]:
    findings = []
    unbounded = set(stack.unbounded_labels)
    for metric in stack.metrics:
        where = f"metric {metric.name}"
        for label in metric.labels:
            if label.name in unbounded:
                findings.append(
                    finding(
                        "unbounded-label",
                        where,
                        f"label {label.name!r} is an unbounded identity: every user or "
                        "session would create new series",
                        "drop the label; per-user data belongs in the audit log",
                        metric.spec_name(),
                    )
                )
        if metric.source is MetricSource.SCRAPE or metric.service is None:
            continue
        service = stack.service(metric.service)
        if service is None:
            findings.append(
                finding(
                    "unknown-service",
                    where,
                    f"service {metric.service!r} is not defined in the stack",
                    f"services: {sorted(s.name for s in stack.services)}",
                    metric.spec_name(),
                )
            )
        elif service.scrape is None:
            findings.append(
                finding(
                    "unscraped-metric",
                    where,
                    f"service {service.name!r} is not scraped, so this metric never "
                    "reaches Prometheus",
                    f"give Service[{service.name}] a `scrape`",
                    metric.spec_name(),
                )
            )
    return findings


def check_scrape_jobs(stack: Stack) -> list[Finding]:
    findings = []
    for service in stack.scraped_services():
        assert service.scrape is not None
        if service.scrape.format is not MetricsFormat.PROMETHEUS:
            findings.append(
                finding(
                    "non-prometheus-scrape",
                    f"scrape job {service.name}",
                    f"{service.address}{service.scrape.path} serves {service.scrape.format}, "
                    "not the Prometheus format: the target would always be down",
                    "scrape the server's real /metrics (llama-server --metrics) or probe "
                    "the health endpoint with a blackbox exporter",
                    service.spec_name(),
                )
            )
    return findings


def check_collector_scraped(stack: Stack) -> list[Finding]:
    """Every port the collector exposes metrics on is a scrape target (the seed scraped
    8888 and never the prometheus exporter on 8889, so OTLP metrics went nowhere)."""
    collector = stack.collector
    if collector is None:
        return []
    scraped = {
        s.port
        for s in stack.scraped_services()
        if s.host == collector.host
        and s.scrape is not None
        and s.scrape.format is MetricsFormat.PROMETHEUS
    }
    findings = []
    for what, port in collector.metrics_ports().items():
        if port in scraped:
            continue
        findings.append(
            finding(
                "unscraped-exporter",
                f"otel collector {what} {collector.host}:{port}",
                f"the collector serves metrics on {collector.host}:{port} but no scrape job "
                "targets it: they never reach Prometheus",
                f"add a scraped Service with host={collector.host!r}, port={port}",
                collector.spec_name(),
            )
        )
    return findings


def check_expressions(stack: Stack, index: CatalogIndex) -> list[Finding]:
    findings: list[Finding] = []
    for rule in stack.recording_rules:
        subject = Subject(f"recording rule {rule.record}", rule.spec_name())
        findings += check_expression(rule.expr, index, subject)
        for selector in rule.test.series:
            test_subject = Subject(f"test series of {rule.record}: {selector}", rule.spec_name())
            findings += check_expression(selector, index, test_subject)
    for alert in stack.alerts:
        subject = Subject(f"alert {alert.name}", alert.spec_name())
        findings += check_expression(alert.expr, index, subject)
        for selector in {**alert.test.series, **alert.test.near_miss}:
            test_subject = Subject(f"test series of {alert.name}: {selector}", alert.spec_name())
            findings += check_expression(selector, index, test_subject)
    for slo in stack.slos:
        for slo_rule in slo.recording_rules():
            subject = Subject(f"SLO {slo.name}: recording rule {slo_rule.record}", slo.spec_name())
            findings += check_expression(slo_rule.expr, index, subject)
        for tier in slo.burn_tiers():
            subject = Subject(f"SLO {slo.name}: alert {tier.alert_name}", slo.spec_name())
            findings += check_expression(slo.alert_expr(tier), index, subject)
    return findings


def check_dashboards(
    stack: Stack, index: CatalogIndex, files: Mapping[str, str] | None = None
) -> list[Finding]:
    """The PromQL queries of every dashboard the stack renders."""
    findings: list[Finding] = []
    for path, text in (render_all(stack) if files is None else files).items():
        if path.startswith(f"{GRAFANA_DASHBOARDS_DIR}/") and path.endswith(".json"):
            findings += check_dashboard(stack, index, json.loads(text), path)
    return findings


def check_runbooks(stack: Stack, index: CatalogIndex) -> list[Finding]:
    """Every alert links a written runbook, every runbook is linked, and every runbook
    query asks for series the stack has."""
    findings: list[Finding] = []
    linked: set[str] = set()
    for link in runbook_links(stack):
        if link.anchor in linked:
            continue
        linked.add(link.anchor)
        if stack.runbook(link.anchor) is None:
            findings.append(
                finding(
                    "missing-runbook",
                    f"alert {link.name}",
                    f"links runbook {link.anchor!r}, which no Runbook in the stack defines: "
                    "the on-call engineer would open an empty section",
                    f"add Runbook(anchor={link.anchor!r}, ...) to Stack.runbooks",
                    link.spec,
                )
            )
    for runbook in stack.runbooks:
        if runbook.anchor not in linked:
            findings.append(
                finding(
                    "unused-runbook",
                    f"runbook {runbook.anchor}",
                    "no alert or SLO links this runbook",
                    "link it from an Alert.runbook / SLO.runbook, or remove it",
                    runbook.spec_name(),
                )
            )
        for query in runbook.queries:
            subject = Subject(f"runbook {runbook.anchor}: query {query.title!r}", query.spec_name())
            findings += check_expression(query.promql, index, subject)
    return findings


def check_stack(stack: Stack, files: Mapping[str, str] | None = None) -> list[Finding]:
    """Every static finding of a stack, sorted; ``files`` are its rendered files when the
    caller has them already (rendering is the costly part)."""
    index = build_index(stack)
    files = render_all(stack) if files is None else files
    findings = [
        *check_catalog(stack),
        *check_scrape_jobs(stack),
        *check_collector_scraped(stack),
        *check_expressions(stack, index),
        *check_dashboards(stack, index, files),
        # Grafana: datasources, SQL against the audit schema, alert dashboard links.
        *check_datasources(stack, files),
        *check_trace_links(stack),
        *check_sql_queries(stack, files),
        *check_alert_dashboard_links(stack, files),
        *check_runbooks(stack, index),
        *check_compose(stack),
    ]
    return sorted(set(findings))
