"""The base of every spec model: frozen, strict about unknown fields, and errors that
name the spec object, the field and the line of the spec file that built it."""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import timedelta
from typing import Annotated, Any, ClassVar

import promql_parser
from pydantic import AfterValidator, BaseModel, ConfigDict, ValidationError

__all__ = [
    "Duration",
    "SpecError",
    "SpecIssue",
    "SpecModel",
    "collecting_issues",
    "duration_seconds",
]


@dataclass(frozen=True)
class SpecIssue:
    """One validation error: ``location`` is ``file:line`` of the constructor call."""

    location: str
    obj: str
    field: str
    message: str

    def __str__(self) -> str:
        field = f".{self.field}" if self.field else ""
        prefix = f"{self.location}: " if self.location else ""
        return f"{prefix}{self.obj}{field}: {self.message}"


class SpecError(Exception):
    """Raised when a spec object is invalid (outside collection mode)."""

    def __init__(self, issues: list[SpecIssue]) -> None:
        self.issues = issues
        super().__init__("\n".join(str(issue) for issue in issues))


# When set, invalid objects record their issues here instead of raising, so a spec
# module imports to the end and the loader reports every broken object at once.
_collector: ContextVar[list[SpecIssue] | None] = ContextVar("stackgen_spec_issues", default=None)


@contextmanager
def collecting_issues() -> Iterator[list[SpecIssue]]:
    issues: list[SpecIssue] = []
    token = _collector.set(issues)
    try:
        yield issues
    finally:
        _collector.reset(token)


def _caller_location() -> str:
    # Frame 0 is this function, 1 SpecModel.__init__, 2 the spec line calling Model(...).
    frame = sys._getframe(2)
    while frame.f_back is not None and frame.f_code.co_filename == __file__:
        frame = frame.f_back
    path = frame.f_code.co_filename
    try:
        path = os.path.relpath(path)
    except ValueError:  # another drive on Windows
        pass
    return f"{path}:{frame.f_lineno}"


def _field_path(loc: tuple[int | str, ...]) -> str:
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


class SpecModel(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", validate_default=True)

    # The field whose value names an object in messages: Metric[agent_requests].
    spec_key: ClassVar[str] = "name"

    def __init__(self, /, **data: Any) -> None:
        try:
            super().__init__(**data)
        except ValidationError as error:
            label = f"{type(self).__name__}[{data.get(self.spec_key, '?')}]"
            location = _caller_location()
            issues = [
                SpecIssue(location, label, _field_path(e["loc"]), _clean(e["msg"]))
                for e in error.errors()
            ]
            collector = _collector.get()
            if collector is None:
                raise SpecError(issues) from None
            collector.extend(issues)
            # A stand-in holding the raw data lets the spec module import to the end;
            # the loader discards the whole stack because issues were collected.
            object.__setattr__(self, "__dict__", dict(data))
            object.__setattr__(self, "__pydantic_fields_set__", set(data))
            object.__setattr__(self, "__pydantic_extra__", None)
            object.__setattr__(self, "__pydantic_private__", None)

    def spec_name(self) -> str:
        return f"{type(self).__name__}[{getattr(self, self.spec_key)}]"


def _clean(message: str) -> str:
    return message.removeprefix("Value error, ").removeprefix("Assertion failed, ")


_DURATION = re.compile(r"^((\d+)(ms|s|m|h|d|w|y))+$")


def _check_duration(value: str) -> str:
    if not _DURATION.match(value) or duration_seconds(value) <= 0:
        raise ValueError(
            f"{value!r} is not a Prometheus duration (a positive number with a unit, "
            "e.g. '30s', '5m', '1h30m')"
        )
    return value


def duration_seconds(value: str) -> float:
    parsed: timedelta = promql_parser.parse_duration(value)
    return parsed.total_seconds()


# A Prometheus duration kept as written ("5m"), validated on construction.
Duration = Annotated[str, AfterValidator(_check_duration)]
