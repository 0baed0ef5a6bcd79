"""Every PromQL expression the spec writes or builds: alerts, recording rules, the input
series of their tests, and each SLO's recording rules and burn-rate alerts."""

from __future__ import annotations

from stackgen.check.context import CheckContext
from stackgen.check.promql import Subject, check_expression
from stackgen.findings import Finding

__all__ = ["check_rule_expressions"]


def check_rule_expressions(context: CheckContext) -> list[Finding]:
    stack, index = context.stack, context.index
    findings: list[Finding] = []
    for rule in stack.recording_rules:
        findings += check_expression(
            rule.expr, index, Subject.of(f"recording rule {rule.record}", rule)
        )
        for selector in rule.test.series:
            subject = Subject.of(f"test series of {rule.record}: {selector}", rule)
            findings += check_expression(selector, index, subject)
    for alert in stack.alerts:
        findings += check_expression(alert.expr, index, Subject.of(f"alert {alert.name}", alert))
        for selector in {**alert.test.series, **alert.test.near_miss}:
            subject = Subject.of(f"test series of {alert.name}: {selector}", alert)
            findings += check_expression(selector, index, subject)
    for slo in stack.slos:
        for slo_rule in slo.recording_rules():
            subject = Subject.of(f"SLO {slo.name}: recording rule {slo_rule.record}", slo)
            findings += check_expression(slo_rule.expr, index, subject)
        for tier in slo.burn_tiers():
            subject = Subject.of(f"SLO {slo.name}: alert {tier.alert_name}", slo)
            findings += check_expression(slo.alert_expr(tier), index, subject)
    return findings
