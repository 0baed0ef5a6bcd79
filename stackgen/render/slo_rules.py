"""generated/prometheus/rules/slo.yml: per SLO one rule group with the SLI error ratio
over every window, the metadata rules and the multi-window multi-burn-rate alerts."""

from __future__ import annotations

from typing import Any

from stackgen.conventions import SLO_DASHBOARD_UID_SUFFIX, SLO_RULES_FILE
from stackgen.output import dump_yaml
from stackgen.spec import SLO, BurnTier, Stack

__all__ = ["render", "slo_alert_annotations", "slo_alert_labels", "slo_dashboard_uid"]


def slo_dashboard_uid(stack: Stack) -> str:
    return stack.name + SLO_DASHBOARD_UID_SUFFIX


def _percent(value: float) -> str:
    return f"{value:g}%"


def slo_alert_labels(slo: SLO, tier: BurnTier) -> dict[str, str]:
    """Severity routes (page: critical, ticket: warning); slo and window let
    Alertmanager group by SLO and inhibit the slower tiers of a paging SLO."""
    return {"severity": tier.severity, **slo.labels, "tier": tier.tier, "window": tier.window}


def slo_alert_annotations(stack: Stack, slo: SLO, tier: BurnTier) -> dict[str, str]:
    threshold = slo.threshold(tier)
    return {
        "summary": (
            f"SLO {slo.name}: error budget burning {tier.factor:g}x too fast over {tier.window}"
        ),
        "description": (
            f"{slo.description} Objective {_percent(slo.objective)} over {slo.period}. "
            f"The error ratio over both {tier.long_window} and {tier.short_window} is above "
            f"{_percent(threshold * 100)} ({tier.factor:g}x the "
            f"{_percent(round(slo.error_budget * 100, 10))} error budget): at this rate the "
            f"{slo.period} budget is gone in {slo.exhaustion(tier)}."
        ),
        "runbook_url": f"{stack.runbook_url}#{slo.runbook_anchor}",
        "dashboard": f"{stack.grafana_url}/d/{slo_dashboard_uid(stack)}",
    }


def _group(stack: Stack, slo: SLO) -> dict[str, Any]:
    rules: list[dict[str, Any]] = [
        {"record": rule.record, "expr": rule.expr, "labels": slo.labels}
        for rule in slo.recording_rules()
    ]
    for tier in slo.burn_tiers():
        rules.append(
            {
                "alert": tier.alert_name,
                "expr": slo.alert_expr(tier),
                "labels": slo_alert_labels(slo, tier),
                "annotations": slo_alert_annotations(stack, slo, tier),
            }
        )
    return {"name": slo.group, "rules": rules}


def render(stack: Stack) -> dict[str, str]:
    if not stack.slos:
        return {}
    groups = [_group(stack, slo) for slo in stack.slos]
    comment = (
        f"SLOs of the {stack.name} stack: SLI error ratios, objectives and error budgets,\n"
        "and multi-window multi-burn-rate alerts (Google SRE workbook)."
    )
    return {SLO_RULES_FILE: dump_yaml({"groups": groups}, comment=comment)}
