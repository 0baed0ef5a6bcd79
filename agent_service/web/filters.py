"""The conversation filters of the admin's search and export, from query or form fields."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from agent_service.web.conversations import FEEDBACK_CHOICES, Filters
from agent_service.web.inputs import clean_text, parse_time

__all__ = ["filter_fields", "parse_filters"]

FIELDS = ("user", "agent", "feedback", "since", "until", "text")


def parse_filters(fields: dict[str, str], agent_types: Sequence[str]) -> tuple[Filters, str | None]:
    """Filters from query or form fields, and an error message for a bad one. An agent
    must be one the stack's catalog declares."""
    cleaned = {name: clean_text(fields.get(name, "")) for name in FIELDS}
    bad = [name for name, value in cleaned.items() if value is None]
    if bad:
        return Filters(), f"{', '.join(bad)}: NUL and unpaired surrogates are not allowed"
    values = {name: value or "" for name, value in cleaned.items()}
    feedback = values["feedback"]
    agent = values["agent"]
    try:
        since = parse_time(values["since"])
        until = parse_time(values["until"])
    except ValueError:
        return Filters(), "since/until must be dates like 2026-11-26T01:00 (UTC)"
    if feedback not in FEEDBACK_CHOICES:
        return Filters(), f"feedback must be one of {', '.join(c for c in FEEDBACK_CHOICES if c)}"
    if agent and agent not in agent_types:
        return Filters(), f"agent must be one of {', '.join(agent_types)}"
    return (
        Filters(
            user=values["user"].strip()[:255],
            agent=agent,
            feedback=feedback,
            since=since,
            until=until,
            text=values["text"].strip()[:200],
        ),
        None,
    )


def filter_fields(filters: Filters) -> dict[str, str]:
    """The filters as form values (to repeat them in the export form and links)."""

    def local(moment: datetime | None) -> str:
        return moment.strftime("%Y-%m-%dT%H:%M") if moment else ""

    return {
        "user": filters.user,
        "agent": filters.agent,
        "feedback": filters.feedback,
        "since": local(filters.since),
        "until": local(filters.until),
        "text": filters.text,
    }
