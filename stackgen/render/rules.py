"""generated/prometheus/rules/*.yml: the rule files of the stack's rules model (alerts,
recording rules, SLOs)."""

from __future__ import annotations

from stackgen.render.rule_yaml import rule_yaml
from stackgen.rules_model import build_rules
from stackgen.spec import Stack

__all__ = ["render"]


def render(stack: Stack) -> dict[str, str]:
    return {file.path: rule_yaml(stack, file) for file in build_rules(stack).rule_files}
