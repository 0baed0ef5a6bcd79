"""Grafana dashboards: every Prometheus target's expression, checked against the stack.

The dashboards stackgen renders (``check_dashboard_queries``: findings name the
dashboard, panel and target, at the spec line of the query) and the dashboard documents
operators bring (``check_dashboard``: findings name the file).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from stackgen.artifacts import (
    DashboardArtifact,
    rate_window,
    read_dashboard,
    substitute_grafana_variables,
)
from stackgen.check.catalog import CatalogIndex
from stackgen.check.context import CheckContext
from stackgen.check.origins import target_origin
from stackgen.check.promql import GRAFANA_VARIABLE, Subject, check_expression
from stackgen.findings import Finding
from stackgen.spec import Stack

__all__ = ["check_dashboard", "check_dashboard_queries", "grafana_to_promql"]


def grafana_to_promql(expr: str, stack: Stack) -> str:
    """A Grafana target expression with its template variables replaced, so it parses.
    Interval variables are at least 4 scrape intervals by construction
    ($__rate_interval) or chosen by the viewer: they become a window that passes."""
    return substitute_grafana_variables(expr, window=rate_window(stack), value=GRAFANA_VARIABLE)


def _check_targets(
    stack: Stack, index: CatalogIndex, dashboard: DashboardArtifact, rendered: bool
) -> list[Finding]:
    findings: list[Finding] = []
    for panel in dashboard.panels:
        for target in panel.targets:
            if not target.is_promql:
                continue
            assert target.expr is not None
            if rendered:
                origin = target_origin(stack, dashboard, panel, target)
                subject = Subject(origin.where, origin.spec_name, origin.location, origin.written)
            else:
                where = f"{dashboard.path}: panel {panel.label!r}, target {target.ref_id}"
                subject = Subject(where, dashboard.path, expr=target.expr)
            findings += check_expression(grafana_to_promql(target.expr, stack), index, subject)
    return findings


def check_dashboard_queries(context: CheckContext) -> list[Finding]:
    """The PromQL queries of every dashboard the stack renders."""
    findings: list[Finding] = []
    for dashboard in context.artifacts.dashboards:
        findings += _check_targets(context.stack, context.index, dashboard, rendered=True)
    return findings


def check_dashboard(
    stack: Stack, index: CatalogIndex, document: Mapping[str, Any], where: str
) -> list[Finding]:
    """Every Prometheus target of a dashboard document (or an API export wrapping one)
    that stackgen did not render; ``where`` names the file."""
    dashboard = read_dashboard(document, where)
    return sorted(set(_check_targets(stack, index, dashboard, rendered=False)))
