"""What the admin accepts from a query string, a form or a path: text a database can
store (no NUL, which PostgreSQL refuses in text; no unpaired surrogate, which no
encoding can write) and times inside the calendar."""

from __future__ import annotations

from datetime import UTC, datetime

from agent_service.domain import SESSION_ID

__all__ = ["SESSION_ID", "clean_text", "parse_time"]


def clean_text(value: str) -> str | None:
    """``value`` when it is storable text, else None."""
    if "\x00" in value:
        return None
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return None
    return value


def parse_time(value: str) -> datetime | None:
    """A datetime-local value (taken as UTC) or full ISO-8601; ValueError if neither, or
    if it lies outside the calendar once in UTC (``0001-01-01T00:00+14:00``)."""
    value = value.strip()
    if not value:
        return None
    moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    try:
        return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    except OverflowError:
        raise ValueError(f"{value!r} is outside the calendar in UTC") from None
