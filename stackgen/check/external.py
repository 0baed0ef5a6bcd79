"""Lint files the stack did not generate (hand-written rule files, Grafana dashboards)
against the catalog, so operators can check what they already have."""

from __future__ import annotations

import json
from pathlib import Path

import yaml

from stackgen.artifacts import read_rule_groups
from stackgen.check.codes import FindingCode, finding
from stackgen.check.context import build_index
from stackgen.check.dashboards import check_dashboard, grafana_to_promql
from stackgen.check.promql import Subject, check_expression, infer_labels
from stackgen.findings import Finding
from stackgen.spec import Stack

__all__ = ["check_dashboard_file", "check_rule_file", "grafana_to_promql"]


def _unreadable(path: Path, reason: str) -> list[Finding]:
    return [finding(FindingCode.UNREADABLE_FILE, str(path), reason, "fix or remove the file")]


def check_rule_file(stack: Stack, path: Path) -> list[Finding]:
    """A Prometheus rule file: every rule's expr, with its own recording rules known."""
    try:
        document = yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError) as error:
        return _unreadable(path, f"cannot read a rule file: {error}")
    if not isinstance(document, dict) or not isinstance(document.get("groups"), list):
        return _unreadable(path, "not a Prometheus rule file (no top-level `groups` list)")
    rules = read_rule_groups(document, str(path))
    index = build_index(stack)
    for rule in rules:
        if rule.kind == "record":
            labels = infer_labels(rule.expr, index)
            if labels is not None:
                labels = labels | set(rule.labels)
            index.add_rule(rule.name, labels)
    findings: list[Finding] = []
    for rule in rules:
        kind = "alert" if rule.kind == "alert" else "recording rule"
        subject = Subject(f"{path}: group {rule.group}, {kind} {rule.name}", str(path))
        findings += check_expression(rule.expr, index, subject)
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
