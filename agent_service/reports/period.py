"""Report periods: a week or a calendar month ending (exclusively) at a UTC instant, and
the period just before it, for growth figures."""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Literal, get_args

__all__ = ["KINDS", "Kind", "Period", "default_end", "parse_end", "report_period"]

Kind = Literal["weekly", "monthly"]
KINDS: tuple[Kind, ...] = get_args(Kind)


@dataclass(frozen=True)
class Period:
    kind: Kind
    start: datetime  # inclusive, aware UTC
    end: datetime  # exclusive, aware UTC

    @property
    def seconds(self) -> int:
        return int((self.end - self.start).total_seconds())

    @property
    def last_day(self) -> date:
        """The last calendar day the period touches."""
        return (self.end - timedelta(microseconds=1)).date()

    def days(self) -> list[date]:
        first, last = self.start.date(), self.last_day
        return [first + timedelta(days=n) for n in range((last - first).days + 1)]

    def previous(self) -> Period:
        return report_period(self.kind, self.start)

    @property
    def label(self) -> str:
        return f"{self.start:%Y-%m-%d} to {self.last_day:%Y-%m-%d}"


def _month_before(moment: datetime) -> datetime:
    """The same day and time one calendar month earlier (the day clamped to the month)."""
    year, month = (moment.year, moment.month - 1) if moment.month > 1 else (moment.year - 1, 12)
    day = min(moment.day, calendar.monthrange(year, month)[1])
    return moment.replace(year=year, month=month, day=day)


def _utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def report_period(kind: Kind, end: datetime) -> Period:
    """Weekly: the 7 days before ``end``; monthly: the calendar month before ``end``."""
    if kind not in KINDS:
        raise ValueError(f"unknown report period {kind!r} (use one of {', '.join(KINDS)})")
    try:
        end = _utc(end)
        start = end - timedelta(days=7) if kind == "weekly" else _month_before(end)
    except (OverflowError, ValueError):  # before year 1 or after year 9999
        raise ValueError(f"a {kind} period ending {end:%Y-%m-%d} is outside the calendar") from None
    return Period(kind, start, end)


def default_end(kind: Kind, now: datetime) -> datetime:
    """The end of the last complete period: this Monday 00:00 UTC for a week (ISO weeks
    run Monday to Sunday), the first of this month 00:00 UTC for a month."""
    today = datetime.combine(_utc(now).date(), datetime.min.time(), tzinfo=UTC)
    if kind == "weekly":
        return today - timedelta(days=today.weekday())
    return today.replace(day=1)


def parse_end(text: str) -> datetime:
    """``YYYY-MM-DD`` (midnight UTC) or an ISO-8601 date-time (naive taken as UTC)."""
    value = text.strip()
    try:
        if len(value) == 10:
            return datetime.combine(date.fromisoformat(value), datetime.min.time(), tzinfo=UTC)
        return _utc(datetime.fromisoformat(value))
    except (ValueError, OverflowError):
        raise ValueError(
            f"{text!r} is not a date: use YYYY-MM-DD (midnight UTC) or an ISO-8601 "
            "date-time such as 2026-11-16T00:00:00+00:00"
        ) from None
