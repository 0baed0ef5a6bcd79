"""Lint files the stack did not generate (hand-written or third-party rule files, Grafana
dashboards), with or without a stack.

With a stack, the catalog judges the selectors it owns (``stackgen.check.foreign_index``);
without one (``stack=None``: outside a project, or ``--no-catalog``) every structural
check still runs on types inferred from names and use, and unknown names are not
findings. Malformed files, groups, rules, dashboards and bytes are findings too; nothing
here raises for a problem of the file.
"""

from __future__ import annotations

from pathlib import Path

from stackgen.artifacts import read_dashboard, substitute_grafana_variables
from stackgen.check.context import build_index
from stackgen.check.dashboard_files import read_dashboards
from stackgen.check.dashboards import grafana_to_promql
from stackgen.check.foreign_index import ForeignIndex
from stackgen.check.instances import check_expression_instances
from stackgen.check.promql import GRAFANA_VARIABLE, Subject, check_expression, infer_labels
from stackgen.check.rule_files import read_rule_file
from stackgen.check.rule_shape import check_rule_shape
from stackgen.conventions import MIN_SCRAPES_PER_RANGE
from stackgen.findings import Finding
from stackgen.spec import Stack

__all__ = ["check_dashboard_file", "check_rule_file", "grafana_to_promql"]


def check_rule_file(
    stack: Stack | None, path: Path, *, scrape_interval_s: float | None = None
) -> list[Finding]:
    """A Prometheus rule file (any document of it: rule files, PrometheusRule objects,
    Lists, ConfigMaps): its malformed parts, then every rule's expression, with the
    file's own recording rules known. ``scrape_interval_s`` is the interval series are
    assumed to be scraped at (default: the stack's, else 15s)."""
    contents = read_rule_file(path)
    findings = list(contents.findings)
    rules = contents.rules
    index = ForeignIndex.of(
        build_index(stack) if stack is not None else None,
        [rule.expr for rule in rules],
        [rule.name for rule in rules if rule.kind == "record"],
        scrape_interval_s,
    )
    for rule in rules:
        if rule.kind == "record":
            labels = infer_labels(rule.expr, index)
            if labels is not None:
                labels = labels | set(rule.labels)
            index.add_rule(rule.name, labels)
    for rule in rules:
        subject = Subject(rule.where, str(path), rule.location, rule.expr)
        findings += check_expression(rule.expr, index, subject)
        findings += check_rule_shape(rule.expr, subject, alert=rule.kind == "alert", for_=rule.for_)
        # Whether a job's instances are interchangeable replicas (one page per job
        # meant) or distinct servers (one page each) is the stack's to say: a foreign
        # file gets the checks of what breaks with several instances, not of intent.
        findings += check_expression_instances(rule.expr, index, subject)
    return sorted(set(findings))


def check_dashboard_file(
    stack: Stack | None, path: Path, *, scrape_interval_s: float | None = None
) -> list[Finding]:
    """Grafana dashboards (a JSON file, ConfigMaps of them, or a provisioning directory):
    what Grafana cannot load, then every Prometheus target's expression."""
    files = read_dashboards(path)
    findings = list(files.findings)
    catalog = build_index(stack) if stack is not None else None
    for document in files.dashboards:
        dashboard = read_dashboard(document.document, document.where)
        targets = [
            (panel, target)
            for panel in dashboard.panels
            for target in panel.targets
            if target.is_promql and target.expr is not None
        ]
        expressions = [_promql(stack, t.expr or "", scrape_interval_s) for _, t in targets]
        index = ForeignIndex.of(catalog, expressions, (), scrape_interval_s)
        for (panel, target), expr in zip(targets, expressions, strict=True):
            where = f"{document.where}: panel {panel.label!r}, target {target.ref_id}"
            subject = Subject(where, document.where, document.location, target.expr or "")
            findings += check_expression(expr, index, subject)
            findings += check_expression_instances(expr, index, subject)
    return sorted(set(findings))


def _promql(stack: Stack | None, expr: str, scrape_interval_s: float | None) -> str:
    """A target's expression as Prometheus receives it (Grafana's variables replaced)."""
    if stack is not None and scrape_interval_s is None:
        return grafana_to_promql(expr, stack)
    interval = scrape_interval_s or ForeignIndex.of(None, ()).scrape_interval_s
    window = f"{int(MIN_SCRAPES_PER_RANGE * interval)}s"
    return substitute_grafana_variables(expr, window=window, value=GRAFANA_VARIABLE)
