"""Lint files the stack did not generate (hand-written rule files, Grafana dashboards)
against the catalog, so operators can check what they already have."""

from __future__ import annotations

import json
from pathlib import Path

import yaml

from stackgen.check.codes import finding
from stackgen.check.dashboards import check_dashboard, grafana_to_promql
from stackgen.check.promql import Subject, check_expression, infer_labels
from stackgen.check.static import build_index
from stackgen.findings import Finding
from stackgen.spec import Stack

__all__ = ["check_dashboard_file", "check_rule_file", "grafana_to_promql"]


def _unreadable(path: Path, reason: str) -> list[Finding]:
    return [finding("unreadable-file", str(path), reason, "fix or remove the file")]


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


def check_dashboard_file(stack: Stack, path: Path) -> list[Finding]:
    """A Grafana dashboard JSON: every Prometheus target's expr."""
    try:
        document = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as error:
        return _unreadable(path, f"cannot read a dashboard: {error}")
    if not isinstance(document, dict):
        return _unreadable(path, "not a Grafana dashboard (expected a JSON object)")
    return check_dashboard(stack, build_index(stack), document, str(path))
