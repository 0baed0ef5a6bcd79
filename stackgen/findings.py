"""Findings: what a check reports. Checks return them; only the CLI picks an exit code."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

__all__ = ["Finding", "Level", "format_finding", "has_errors"]


class Level(StrEnum):
    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True, order=True)
class Finding:
    """One problem: a stable code, a level, where it is, what is wrong and how to fix it.

    ``where`` names the artifact (alert, rule, panel, file) and ``spec`` the spec object
    it comes from, so the reader can go straight to the line to change.
    """

    code: str
    level: Level
    where: str
    message: str
    hint: str = ""
    spec: str = ""


def format_finding(finding: Finding) -> str:
    origin = f" (spec: {finding.spec})" if finding.spec and finding.spec != finding.where else ""
    text = f"{finding.level}[{finding.code}] {finding.where}{origin}: {finding.message}"
    if finding.hint:
        text += f"\n    hint: {finding.hint}"
    return text


def has_errors(findings: Iterable[Finding]) -> bool:
    return any(f.level is Level.ERROR for f in findings)
