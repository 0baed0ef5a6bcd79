"""The checks registry: one signature over one context, ids unique, every check run by
``check_stack``, and the stack rendered once however many checks read it."""

from __future__ import annotations

import inspect
from collections import Counter
from collections.abc import Iterable, Mapping

import pytest

from stackgen import render as render_module
from stackgen.check import context as context_module
from stackgen.check.context import CheckContext
from stackgen.check.registry import CHECKS
from stackgen.check.static import check_stack, run_checks
from stackgen.findings import Finding
from stackgen.render import RENDERERS, Renderer
from stackgen.spec import Stack
from tests.stackgen.test_finding_codes import with_llm_health_scrape, with_user_id

IDS = [check_id for check_id, _ in CHECKS]


def test_check_ids_are_unique_names() -> None:
    assert len(IDS) == len(set(IDS))
    assert all(
        check_id and check_id == check_id.lower() and " " not in check_id for check_id in IDS
    )


@pytest.mark.parametrize(("check_id", "check"), CHECKS, ids=IDS)
def test_every_check_takes_the_context_alone(check_id: str, check: context_module.Check) -> None:
    parameters = list(inspect.signature(check).parameters.values())
    assert [p.annotation for p in parameters] in (["CheckContext"], [CheckContext])


@pytest.mark.parametrize(("check_id", "check"), CHECKS, ids=IDS)
def test_every_check_passes_on_the_bestbox_stack(
    check_id: str, check: context_module.Check, stack: Stack
) -> None:
    assert list(check(CheckContext.of(stack))) == []


def test_check_stack_runs_every_registered_check_over_one_context(stack: Stack) -> None:
    seen: dict[str, CheckContext] = {}

    def spy(check_id: str) -> context_module.Check:
        def check(context: CheckContext) -> Iterable[Finding]:
            seen[check_id] = context
            return []

        return check

    context = CheckContext.of(stack)
    assert run_checks(context, [(check_id, spy(check_id)) for check_id in IDS]) == []
    assert list(seen) == IDS
    assert all(c is context for c in seen.values())


def test_check_stack_is_the_union_of_the_checks(stack: Stack) -> None:
    variant = stack.model_copy(update={**with_user_id(stack), **with_llm_health_scrape(stack)})
    context = CheckContext.of(variant)
    each = {f for _, check in CHECKS for f in check(context)}
    assert {f.code for f in each} == {"unbounded-label", "non-prometheus-scrape"}
    assert check_stack(variant) == sorted(each)


def test_the_stack_is_rendered_once(stack: Stack, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every renderer runs once per check_stack, whichever checks read its files."""
    calls: Counter[str] = Counter()

    def counting(target: str, render: Renderer) -> Renderer:
        def counted(stack: Stack) -> Mapping[str, str]:
            calls[target] += 1
            return render(stack)

        return counted

    counted = tuple((target, counting(target, render)) for target, render in RENDERERS)
    monkeypatch.setattr(render_module, "RENDERERS", counted)
    assert check_stack(stack) == []
    assert calls == Counter({target: 1 for target, _ in RENDERERS})
