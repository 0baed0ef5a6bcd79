"""generated/prometheus/rules/{alerts,recording}.yml from the alert and rule specs."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from stackgen.conventions import ALERT_RULES_FILE, RECORDING_RULES_FILE
from stackgen.output import dump_yaml
from stackgen.render import slo_rules
from stackgen.spec import Alert, RecordingRule, Stack

__all__ = ["alert_annotations", "alert_labels", "render", "rule_file_paths"]


def alert_labels(alert: Alert) -> dict[str, str]:
    """Static labels of an alert: severity first (Alertmanager routes on it)."""
    return {"severity": str(alert.severity), **dict(sorted(alert.labels.items()))}


def alert_annotations(stack: Stack, alert: Alert) -> dict[str, str]:
    annotations = {
        "summary": alert.summary,
        "description": alert.description,
        "runbook_url": f"{stack.runbook_url}#{alert.runbook}",
    }
    if alert.dashboard:
        annotations["dashboard"] = f"{stack.grafana_url}/d/{alert.dashboard}"
    return annotations


def _alert_rule(stack: Stack, alert: Alert) -> dict[str, Any]:
    rule: dict[str, Any] = {"alert": alert.name, "expr": alert.expr}
    if alert.for_:
        rule["for"] = alert.for_
    rule["labels"] = alert_labels(alert)
    rule["annotations"] = alert_annotations(stack, alert)
    return rule


def _recording_rule(rule: RecordingRule) -> dict[str, Any]:
    entry: dict[str, Any] = {"record": rule.record, "expr": rule.expr}
    if rule.labels:
        entry["labels"] = dict(sorted(rule.labels.items()))
    return entry


def _groups(items: Iterable[tuple[str, dict[str, Any]]]) -> list[dict[str, Any]]:
    """Rule groups in order of first appearance; rules keep spec order."""
    groups: dict[str, list[dict[str, Any]]] = {}
    for group, rule in items:
        groups.setdefault(group, []).append(rule)
    return [{"name": name, "rules": rules} for name, rules in groups.items()]


def render(stack: Stack) -> dict[str, str]:
    files = {}
    if stack.alerts:
        groups = _groups((a.group, _alert_rule(stack, a)) for a in stack.alerts)
        files[ALERT_RULES_FILE] = dump_yaml(
            {"groups": groups}, comment=f"Alerting rules of the {stack.name} stack."
        )
    if stack.recording_rules:
        groups = _groups((r.group, _recording_rule(r)) for r in stack.recording_rules)
        files[RECORDING_RULES_FILE] = dump_yaml(
            {"groups": groups}, comment=f"Recording rules of the {stack.name} stack."
        )
    return files


def rule_file_paths(stack: Stack) -> list[str]:
    """Every rule file Prometheus loads (this module's and the SLO rules), sorted."""
    return sorted([*render(stack), *slo_rules.render(stack)])
