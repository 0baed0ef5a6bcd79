"""Runbooks: every alert links a written runbook, every runbook is linked, and every
runbook query asks for series the stack has."""

from __future__ import annotations

from stackgen.check.codes import FindingCode, finding
from stackgen.check.context import CheckContext
from stackgen.check.promql import Subject, check_expression
from stackgen.findings import Finding
from stackgen.render.runbooks import runbook_links
from stackgen.spec.base import SpecModel

__all__ = ["check_runbooks"]


def check_runbooks(context: CheckContext) -> list[Finding]:
    stack = context.stack
    findings: list[Finding] = []
    linked: set[str] = set()
    # The alerts and SLOs that link runbooks, by the spec name each link records.
    linking: dict[str, SpecModel] = {o.spec_name(): o for o in (*stack.alerts, *stack.slos)}
    for link in runbook_links(stack):
        if link.anchor in linked:
            continue
        linked.add(link.anchor)
        if stack.runbook(link.anchor) is None:
            findings.append(
                finding(
                    FindingCode.MISSING_RUNBOOK,
                    f"alert {link.name}",
                    f"links runbook {link.anchor!r}, which no Runbook in the stack defines: "
                    "the on-call engineer would open an empty section",
                    f"add Runbook(anchor={link.anchor!r}, ...) to Stack.runbooks",
                    linking.get(link.spec),
                    spec=link.spec,
                )
            )
    for runbook in stack.runbooks:
        if runbook.anchor not in linked:
            findings.append(
                finding(
                    FindingCode.UNUSED_RUNBOOK,
                    f"runbook {runbook.anchor}",
                    "no alert or SLO links this runbook",
                    "link it from an Alert.runbook / SLO.runbook, or remove it",
                    runbook,
                )
            )
        for query in runbook.queries:
            subject = Subject.of(f"runbook {runbook.anchor}: query {query.title!r}", query)
            if not subject.location:  # a query copied in code: the runbook's line
                subject = Subject(subject.where, subject.spec, runbook.spec_location())
            findings += check_expression(query.promql, context.index, subject)
    return findings
