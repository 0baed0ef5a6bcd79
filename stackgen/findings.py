"""Findings: what a check reports. Checks return them; only the CLI picks an exit code."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    # The codes module builds findings; the type is only needed for annotations here.
    from stackgen.check.codes import FindingCode

__all__ = ["Finding", "Level", "format_finding", "has_errors"]


class Level(StrEnum):
    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True, order=True)
class Finding:
    """One problem: a stable code, a level, where it is, what is wrong and how to fix it.

    ``where`` names the artifact (alert, rule, dashboard panel and target, file),
    ``spec`` the spec object it comes from and ``location`` the file:line of the spec
    code that built that object, so the reader can go straight to the line to change.
    ``expr`` is the expression as the spec (or the external file) writes it.
    """

    code: FindingCode
    level: Level
    where: str
    message: str
    hint: str = ""
    spec: str = ""
    location: str = ""
    expr: str = ""


def format_finding(finding: Finding) -> str:
    """``file:line: level[code] where: message``, then the expression and the hint; the
    spec object is named instead when its line is unknown (an object copied in code)."""
    text, origin = f"{finding.location}: " if finding.location else "", ""
    if not finding.location and finding.spec and finding.spec != finding.where:
        origin = f" (spec: {finding.spec})"
    text += f"{finding.level}[{finding.code}] {finding.where}{origin}: {finding.message}"
    if finding.expr:
        text += f"\n    expr: {finding.expr}"
    if finding.hint:
        text += f"\n    hint: {finding.hint}"
    return text


def has_errors(findings: Iterable[Finding]) -> bool:
    return any(f.level is Level.ERROR for f in findings)
