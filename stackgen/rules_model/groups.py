"""Rules from the specs: an alerting rule per alert, a recording rule per recording rule,
and per SLO one group with its SLI error ratios, metadata rules and burn-rate alerts."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from stackgen.conventions import SLO_DASHBOARD_UID_SUFFIX, SLO_LABEL
from stackgen.rules_model.model import AlertingRule, RecordingRuleEntry, Rule, RuleGroup
from stackgen.spec import SLO, Alert, BurnTier, RecordingRule, Severity, Stack

__all__ = [
    "alert_rule",
    "critical_group_intervals",
    "grouped",
    "recording_rule",
    "slo_alert_rule",
    "slo_dashboard_uid",
    "slo_group",
]

# The labels that tell one SLO's burn alert from another's of the same name.
_SLO_ALERT_IDENTITY = (SLO_LABEL, "tier")


def slo_dashboard_uid(stack: Stack) -> str:
    """UID of the SLO dashboard, which every burn-rate alert links."""
    return stack.name + SLO_DASHBOARD_UID_SUFFIX


def alert_rule(stack: Stack, alert: Alert) -> AlertingRule:
    annotations = {
        "summary": alert.summary,
        "description": alert.description,
        "runbook_url": f"{stack.runbook_url}#{alert.runbook}",
    }
    if alert.dashboard:
        annotations["dashboard"] = f"{stack.grafana_url}/d/{alert.dashboard}"
    return AlertingRule(
        alert=alert.name,
        expr=alert.expr,
        for_=alert.for_,
        # Severity first: Alertmanager routes on it.
        labels={"severity": str(alert.severity), **dict(sorted(alert.labels.items()))},
        annotations=annotations,
        runbook=alert.runbook,
        spec=alert.spec_name(),
        location=alert.spec_location(),
    )


def recording_rule(rule: RecordingRule) -> RecordingRuleEntry:
    return RecordingRuleEntry(
        record=rule.record,
        expr=rule.expr,
        labels=dict(sorted(rule.labels.items())),
        spec=rule.spec_name(),
        location=rule.spec_location(),
    )


def grouped(
    items: Iterable[tuple[str, Rule]], intervals: Mapping[str, str] | None = None
) -> tuple[RuleGroup, ...]:
    """Rule groups in order of first appearance; rules keep the order given. A group
    named in ``intervals`` is evaluated at that interval instead of the global one."""
    groups: dict[str, list[Rule]] = {}
    for group, rule in items:
        groups.setdefault(group, []).append(rule)
    intervals = intervals or {}
    return tuple(
        RuleGroup(name, tuple(rules), intervals.get(name)) for name, rules in groups.items()
    )


def critical_group_intervals(stack: Stack) -> dict[str, str]:
    """The evaluation interval of every rule group of the spec that holds a critical
    alert, when the stack evaluates those faster (``critical_evaluation_interval``)."""
    interval = stack.prometheus.critical_evaluation_interval
    if interval is None:
        return {}
    return {a.group: interval for a in stack.alerts if a.severity is Severity.CRITICAL}


def _percent(value: float) -> str:
    return f"{value:g}%"


def slo_alert_rule(stack: Stack, slo: SLO, tier: BurnTier) -> AlertingRule:
    """A multi-window burn-rate alert. Severity routes it (page: critical, ticket:
    warning); slo and window let Alertmanager group by SLO and inhibit the slower tiers
    of a paging SLO."""
    threshold = slo.threshold(tier)
    description = (
        f"{slo.description} Objective {_percent(slo.objective)} over {slo.period}. "
        f"The error ratio over both {tier.long_window} and {tier.short_window} is above "
        f"{_percent(threshold * 100)} ({tier.factor:g}x the "
        f"{_percent(round(slo.error_budget * 100, 10))} error budget): at this rate the "
        f"{slo.period} budget is gone in {slo.exhaustion(tier)}."
    )
    return AlertingRule(
        alert=tier.alert_name,
        expr=slo.alert_expr(tier),
        labels={"severity": tier.severity, **slo.labels, "tier": tier.tier, "window": tier.window},
        annotations={
            "summary": (
                f"SLO {slo.name}: error budget burning {tier.factor:g}x too fast over {tier.window}"
            ),
            "description": description,
            "runbook_url": f"{stack.runbook_url}#{slo.runbook_anchor}",
            "dashboard": f"{stack.grafana_url}/d/{slo_dashboard_uid(stack)}",
        },
        runbook=slo.runbook_anchor,
        distinguishing_labels=_SLO_ALERT_IDENTITY,
        spec=slo.spec_name(),
        location=slo.spec_location(),
    )


def slo_group(slo: SLO, alerts: Iterable[AlertingRule]) -> RuleGroup:
    """The SLO's recording rules (error ratio per window, then metadata), then its
    burn-rate ``alerts``."""
    records = tuple(
        RecordingRuleEntry(
            record=rule.record,
            expr=rule.expr,
            labels=slo.labels,
            spec=slo.spec_name(),
            location=slo.spec_location(),
        )
        for rule in slo.recording_rules()
    )
    return RuleGroup(slo.group, (*records, *alerts))
