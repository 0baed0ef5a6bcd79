"""Grafana dashboards: every Prometheus target's expression, checked against the stack.

Shared by the dashboards stackgen renders and the dashboard files operators bring.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from stackgen.check.catalog import CatalogIndex
from stackgen.check.promql import GRAFANA_VARIABLE, Subject, check_expression
from stackgen.conventions import MIN_SCRAPES_PER_RANGE
from stackgen.findings import Finding
from stackgen.spec import Stack, duration_seconds

__all__ = ["check_dashboard", "grafana_to_promql"]

# Grafana's interval variables are at least 4 scrape intervals by construction
# ($__rate_interval) or chosen by the viewer; they are replaced by a window that passes.
_INTERVAL_VARIABLE = re.compile(r"\$\{?__(rate_interval|interval|range)(_ms|_s)?\}?")
_VARIABLE = re.compile(r"\$\{[^}]+\}|\$[A-Za-z_][A-Za-z0-9_]*|\[\[[A-Za-z0-9_:]+\]\]")


def grafana_to_promql(expr: str, stack: Stack) -> str:
    """A Grafana target expression with its template variables replaced, so it parses."""
    slowest = max(
        (duration_seconds(stack.scrape_interval_of(s)) for s in stack.scraped_services()),
        default=duration_seconds(stack.prometheus.scrape_interval),
    )
    window = f"{int(MIN_SCRAPES_PER_RANGE * slowest)}s"
    expr = _INTERVAL_VARIABLE.sub(window, expr)
    return _VARIABLE.sub(GRAFANA_VARIABLE, expr)


def _panels(panels: list[Any]) -> Iterator[dict[str, Any]]:
    for panel in panels:
        if isinstance(panel, dict):
            yield panel
            yield from _panels(panel.get("panels") or [])


def _is_prometheus(datasource: Any) -> bool:
    if datasource is None:
        return True  # the default datasource (a Prometheus one, the stack's rule)
    if isinstance(datasource, dict):
        return bool(datasource.get("type", "prometheus") == "prometheus")
    return "prom" in str(datasource).lower()


def check_dashboard(
    stack: Stack, index: CatalogIndex, document: dict[str, Any], where: str
) -> list[Finding]:
    """Every Prometheus target of a dashboard document (or an API export wrapping one)."""
    dashboard = document.get("dashboard", document)
    findings: list[Finding] = []
    for panel in _panels(dashboard.get("panels") or []):
        panel_source = panel.get("datasource")
        for target in panel.get("targets") or []:
            if not isinstance(target, dict) or not isinstance(target.get("expr"), str):
                continue
            if not _is_prometheus(target.get("datasource", panel_source)):
                continue
            title = panel.get("title") or f"panel {panel.get('id', '?')}"
            subject = Subject(f"{where}: panel {title!r}, target {target.get('refId', '?')}", where)
            findings += check_expression(grafana_to_promql(target["expr"], stack), index, subject)
    return sorted(set(findings))
