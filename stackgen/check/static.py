"""Static checks of a stack: every registered check (``stackgen.check.registry``) over
one context, so the stack is indexed and rendered once and each rendered file parsed
once, whatever the number of checks."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from stackgen.check.context import Check, CheckContext, build_index
from stackgen.check.registry import CHECKS
from stackgen.findings import Finding
from stackgen.spec import Stack

__all__ = ["build_index", "check_stack", "run_checks"]


def run_checks(
    context: CheckContext, checks: Sequence[tuple[str, Check]] = CHECKS
) -> list[Finding]:
    """The findings of every check over ``context``, deduplicated and sorted."""
    findings: set[Finding] = set()
    for _, check in checks:
        findings.update(check(context))
    return sorted(findings)


def check_stack(stack: Stack, files: Mapping[str, str] | None = None) -> list[Finding]:
    """Every static finding of a stack, sorted; ``files`` are its rendered files when the
    caller has rendered them already."""
    return run_checks(CheckContext.of(stack, files))
