"""Runbooks: what an operator reads when an alert fires.

Alerts and SLOs link a runbook by anchor (``Alert.runbook``, ``SLO.runbook``); the
rendered ``docs/runbooks.md`` has one section per anchor, and each alert's
``runbook_url`` annotation points at it. A runbook's queries are PromQL like every
other expression of the stack, so `stackgen check` proves they ask for real series.
"""

from __future__ import annotations

from pydantic import Field, field_validator

from stackgen.spec.base import SpecModel
from stackgen.spec.rules import check_promql

__all__ = ["Runbook", "RunbookQuery"]

ANCHOR = r"^[a-z0-9-]+$"


class RunbookQuery(SpecModel):
    """A query to run while investigating, shown with what it tells."""

    spec_key = "title"

    title: str = Field(min_length=1)
    promql: str = Field(min_length=1)

    _promql = field_validator("promql")(check_promql)


class Runbook(SpecModel):
    stack_field = "runbooks"
    spec_key = "anchor"

    anchor: str = Field(pattern=ANCHOR)
    title: str = Field(min_length=1)
    # What the alert says about the users' experience.
    meaning: str = Field(min_length=1)
    causes: tuple[str, ...] = Field(min_length=1)
    # In order; Markdown (code spans, fenced commands) is kept as written.
    steps: tuple[str, ...] = Field(min_length=1)
    queries: tuple[RunbookQuery, ...] = ()
    escalation: str = Field(min_length=1)
