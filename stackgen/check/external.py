"""Lint files the stack did not generate (hand-written rule files, Grafana dashboards)
against the catalog, so operators can check what they already have."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

from stackgen.check.codes import CODES
from stackgen.check.promql import GRAFANA_VARIABLE, Subject, check_expression, infer_labels
from stackgen.check.static import build_index
from stackgen.conventions import MIN_SCRAPES_PER_RANGE
from stackgen.findings import Finding
from stackgen.spec import Stack, duration_seconds

__all__ = ["check_dashboard_file", "check_rule_file", "grafana_to_promql"]


def _unreadable(path: Path, reason: str) -> list[Finding]:
    level, _ = CODES["unreadable-file"]
    return [Finding("unreadable-file", level, str(path), reason, "fix or remove the file")]


def check_rule_file(stack: Stack, path: Path) -> list[Finding]:
    """A Prometheus rule file: every rule's expr, with its own recording rules known."""
    try:
        document = yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError) as error:
        return _unreadable(path, f"cannot read a rule file: {error}")
    if not isinstance(document, dict) or not isinstance(document.get("groups"), list):
        return _unreadable(path, "not a Prometheus rule file (no top-level `groups` list)")
    rules = [
        (group.get("name", "?"), rule)
        for group in document["groups"]
        if isinstance(group, dict)
        for rule in group.get("rules") or []
        if isinstance(rule, dict) and isinstance(rule.get("expr"), str | int | float)
    ]
    index = build_index(stack)
    for _, rule in rules:
        if "record" in rule:
            labels = infer_labels(str(rule["expr"]), index)
            extra = rule.get("labels")
            if labels is not None and isinstance(extra, dict):
                labels = labels | {str(key) for key in extra}
            index.add_rule(str(rule["record"]), labels)
    findings: list[Finding] = []
    for group, rule in rules:
        name = rule.get("alert") or rule.get("record") or "?"
        kind = "alert" if "alert" in rule else "recording rule"
        subject = Subject(f"{path}: group {group}, {kind} {name}", f"{path}")
        findings += check_expression(str(rule["expr"]), index, subject)
    return sorted(set(findings))


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
        return True  # the default datasource; BestBox's is Prometheus
    if isinstance(datasource, dict):
        return bool(datasource.get("type", "prometheus") == "prometheus")
    return "prom" in str(datasource).lower()


def check_dashboard_file(stack: Stack, path: Path) -> list[Finding]:
    """A Grafana dashboard JSON: every Prometheus target's expr."""
    try:
        document = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as error:
        return _unreadable(path, f"cannot read a dashboard: {error}")
    if not isinstance(document, dict):
        return _unreadable(path, "not a Grafana dashboard (expected a JSON object)")
    dashboard = document.get("dashboard", document)  # API exports wrap it
    index = build_index(stack)
    findings: list[Finding] = []
    for panel in _panels(dashboard.get("panels") or []):
        panel_source = panel.get("datasource")
        for target in panel.get("targets") or []:
            if not isinstance(target, dict) or not isinstance(target.get("expr"), str):
                continue
            if not _is_prometheus(target.get("datasource", panel_source)):
                continue
            title = panel.get("title") or f"panel {panel.get('id', '?')}"
            subject = Subject(
                f"{path}: panel {title!r}, target {target.get('refId', '?')}", str(path)
            )
            findings += check_expression(grafana_to_promql(target["expr"], stack), index, subject)
    return sorted(set(findings))
