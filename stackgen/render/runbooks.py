"""generated/docs/runbooks.md: one section per runbook anchor, with the alerts that link
it (their expression and timing, as generated), the runbook's meaning, causes, steps,
queries and escalation, and the dashboards to open.

The agent service serves this file at ``Stack.runbook_url``; the anchors are explicit
``<a id>`` elements, so a link works whatever heading slugs a Markdown renderer makes.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import jinja2

from stackgen.conventions import RUNBOOKS_FILE
from stackgen.output import generated_notice
from stackgen.rules_model import AlertingRule, build_rules
from stackgen.spec import Runbook, Stack
from stackgen.templating import placeholders_named

__all__ = ["RunbookLink", "render", "runbook_links"]

_TEMPLATES = jinja2.Environment(
    loader=jinja2.PackageLoader("stackgen.render", "templates"),
    undefined=jinja2.StrictUndefined,
    keep_trailing_newline=True,
    autoescape=False,  # Markdown, not HTML: expressions must stay as written
)


@dataclass(frozen=True)
class RunbookLink:
    """An alert (or an SLO burn-rate alert) that opens a runbook section."""

    anchor: str
    name: str
    severity: str
    expr: str
    for_: str | None
    summary: str
    labels: str = ""
    dashboard: str | None = None
    # The spec object that makes the link, for findings.
    spec: str = ""


@dataclass
class _Section:
    anchor: str
    runbook: Runbook | None
    alerts: list[RunbookLink] = field(default_factory=list)

    @property
    def title(self) -> str:
        return self.runbook.title if self.runbook else self.anchor

    @property
    def alert_names(self) -> list[str]:
        return list(dict.fromkeys(a.name for a in self.alerts))

    @property
    def dashboards(self) -> list[str]:
        return list(dict.fromkeys(a.dashboard for a in self.alerts if a.dashboard))


def _link(rule: AlertingRule) -> RunbookLink:
    return RunbookLink(
        anchor=rule.runbook,
        name=rule.alert,
        severity=rule.labels["severity"],
        expr=rule.expr,
        for_=rule.for_,
        # A code span: a bare <job> would be read as an HTML tag and vanish.
        summary=placeholders_named(rule.annotations["summary"], "`<{}>`").rstrip("."),
        labels=", ".join(f"{key}={rule.labels[key]}" for key in rule.distinguishing_labels),
        dashboard=rule.annotations.get("dashboard"),
        spec=rule.spec,
    )


def runbook_links(stack: Stack) -> list[RunbookLink]:
    """Every alerting rule the stack generates, with the runbook anchor it links, in spec
    order (the stack's alerts, then each SLO's burn tiers)."""
    return [_link(rule) for rule in build_rules(stack).alerts]


def _sections(stack: Stack) -> list[_Section]:
    sections: dict[str, _Section] = {}
    for link in runbook_links(stack):
        if link.anchor not in sections:
            sections[link.anchor] = _Section(link.anchor, stack.runbook(link.anchor))
        sections[link.anchor].alerts.append(link)
    # Runbooks no alert links yet are kept (nothing written is lost); the check warns.
    for runbook in stack.runbooks:
        sections.setdefault(runbook.anchor, _Section(runbook.anchor, runbook))
    return list(sections.values())


def render(stack: Stack) -> dict[str, str]:
    if not (stack.alerts or stack.slos or stack.runbooks):
        return {}
    text = _TEMPLATES.get_template("runbooks.md.j2").render(
        notice=generated_notice(),
        stack_name=stack.name,
        runbook_url=stack.runbook_url,
        sections=_sections(stack),
    )
    # One blank line between blocks, whatever the template's whitespace control left.
    while "\n\n\n" in text:
        text = text.replace("\n\n\n", "\n\n")
    return {RUNBOOKS_FILE: text.rstrip("\n") + "\n"}
