"""The YAML text of a rule file or a promtool test file of the rules model."""

from __future__ import annotations

from stackgen.output import dump_yaml
from stackgen.rules_model import RuleFile, RuleTestFile
from stackgen.spec import Stack

__all__ = ["rule_yaml"]


def rule_yaml(stack: Stack, file: RuleFile | RuleTestFile) -> str:
    """Every rule and test file is serialised here and given the stack, so a stack-wide
    choice about the text (such as its header) reaches all of them in one place."""
    return dump_yaml(file.document(), comment=file.comment)
