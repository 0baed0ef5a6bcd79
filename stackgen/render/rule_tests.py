"""generated/prometheus/tests/*.yml: the promtool test files of the stack's rules model,
one per rule group of the spec and one per SLO (``promtool test rules <file>``)."""

from __future__ import annotations

from stackgen.render.rule_yaml import rule_yaml
from stackgen.rules_model import build_rules
from stackgen.spec import Stack

__all__ = ["render"]


def render(stack: Stack) -> dict[str, str]:
    return {file.path: rule_yaml(stack, file) for file in build_rules(stack).test_files}
