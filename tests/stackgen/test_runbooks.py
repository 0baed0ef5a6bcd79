"""Runbooks: every alert's runbook_url opens a written section of docs/runbooks.md
that names the alert, and runbook queries are checked like every other expression."""

from __future__ import annotations

import re
from urllib.parse import urldefrag

import pytest
import yaml

from stackgen.check.static import check_stack
from stackgen.conventions import ALERT_RULES_DIR, RUNBOOKS_FILE, SLO_RULES_DIR
from stackgen.render import runbooks
from stackgen.spec import Runbook, RunbookQuery, SpecError, Stack
from stackgen.templating import placeholders_named

ANCHOR = re.compile(r'<a id="([a-z0-9-]+)"></a>\n\n## (.+)\n')


def sections(text: str) -> dict[str, str]:
    """anchor -> the section's text, up to the next anchor."""
    parts = ANCHOR.split(text)
    # split gives [preamble, anchor, title, body, anchor, title, body, ...]
    return {parts[i]: parts[i + 1] + "\n" + parts[i + 2] for i in range(1, len(parts), 3)}


def alert_rules(rendered: dict[str, str]) -> list[dict[str, object]]:
    rules = []
    paths = [
        p for p in sorted(rendered) if p.startswith((f"{ALERT_RULES_DIR}/", f"{SLO_RULES_DIR}/"))
    ]
    for path in paths:
        for group in yaml.safe_load(rendered[path])["groups"]:
            rules += [r for r in group["rules"] if "alert" in r]
    return rules


def test_every_generated_alert_opens_a_written_section_naming_it(
    stack: Stack, rendered: dict[str, str]
) -> None:
    found = sections(rendered[RUNBOOKS_FILE])
    rules = alert_rules(rendered)
    assert len(rules) == len(stack.alerts) + sum(len(s.burn_tiers()) for s in stack.slos)
    for rule in rules:
        base, anchor = urldefrag(rule["annotations"]["runbook_url"])  # type: ignore[index]
        assert base == stack.runbook_url
        assert anchor in found, f"{rule['alert']}: no section #{anchor}"
        section = found[anchor]
        assert f"**{rule['alert']}**" in section
        assert rule["expr"] in section
        assert "### What to do" in section and "No runbook is written" not in section


def test_each_runbook_renders_its_steps_in_order_and_its_queries(
    stack: Stack, rendered: dict[str, str]
) -> None:
    found = sections(rendered[RUNBOOKS_FILE])
    assert set(found) == {r.anchor for r in stack.runbooks}
    for runbook in stack.runbooks:
        section = found[runbook.anchor]
        assert section.startswith(runbook.title)
        positions = [
            section.index(f"{i}. {step.splitlines()[0]}") for i, step in enumerate(runbook.steps, 1)
        ]
        assert positions == sorted(positions)
        for query in runbook.queries:
            assert f"{query.title}:\n\n```promql\n{query.promql}\n```" in section


def test_an_alert_without_runbook_gets_a_visible_placeholder(stack: Stack) -> None:
    variant = stack.model_copy(
        update={"runbooks": tuple(r for r in stack.runbooks if r.anchor != "service-down")}
    )
    text = runbooks.render(variant)[RUNBOOKS_FILE]
    section = sections(text)["service-down"]
    assert "**ServiceDown**" in section
    assert "No runbook is written for `service-down` yet" in section


def test_label_placeholders_are_shown_by_name() -> None:
    summary = "{{ $labels.job }} is down at {{ $value | humanizePercentage }}"
    assert placeholders_named(summary) == "<job> is down at <value>"
    assert placeholders_named(summary, "`<{}>`") == "`<job>` is down at `<value>`"


def test_a_runbook_query_is_checked_against_the_catalog(stack: Stack) -> None:
    bad = RunbookQuery(title="Queue depth", promql="sum(vector_index_queue_depth)")
    runbook = stack.runbooks[0].model_copy(update={"queries": (bad,)})
    variant = stack.model_copy(update={"runbooks": (runbook, *stack.runbooks[1:])})
    findings = check_stack(variant)
    assert [(f.code, f.where) for f in findings] == [
        ("unknown-metric", f"runbook {runbook.anchor}: query 'Queue depth'")
    ]


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        pytest.param({"causes": ()}, "causes", id="no-causes"),
        pytest.param({"steps": ()}, "steps", id="no-steps"),
        pytest.param({"anchor": "Service Down"}, "anchor", id="bad-anchor"),
        pytest.param(
            {"queries": ({"title": "bad", "promql": "rate(up[5m]"},)}, "promql", id="bad-promql"
        ),
    ],
)
def test_invalid_runbooks_name_the_field(fields: dict[str, object], message: str) -> None:
    good: dict[str, object] = {
        "anchor": "service-down",
        "title": "Down",
        "meaning": "No answers.",
        "causes": ("crash",),
        "steps": ("restart",),
        "escalation": "page",
    }
    with pytest.raises(SpecError) as error:
        Runbook(**{**good, **fields})
    assert message in str(error.value)


def test_duplicate_runbook_anchors_are_rejected(stack: Stack) -> None:
    with pytest.raises(SpecError, match="runbooks: 'service-down' is defined 2 times"):
        Stack(**{**dict(stack), "runbooks": (*stack.runbooks, stack.runbook("service-down"))})
