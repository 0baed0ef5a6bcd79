"""The base of every spec model: frozen, strict about unknown fields, and errors that
name the spec object, the field and the line of the spec file that built it."""

from __future__ import annotations

import os
import re
import sys
import weakref
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import timedelta
from typing import Annotated, Any, ClassVar

import promql_parser
from pydantic import AfterValidator, BaseModel, ConfigDict, ValidationError

__all__ = [
    "Duration",
    "Problem",
    "SpecError",
    "SpecIssue",
    "SpecModel",
    "SpecProblems",
    "collecting_issues",
    "distinct_ports",
    "duration_seconds",
    "duration_text",
    "is_valid",
    "recording_members",
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


@dataclass(frozen=True)
class Problem:
    """One problem a validator found, and the spec object it is about: reported at that
    object's own file:line (an SLO's, an alert's) instead of the validated object's."""

    message: str
    about: SpecModel | None = None


class SpecProblems(ValueError):
    """Raised by a validator with every problem it found, each located on its own."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("; ".join(p.message for p in problems))


# When set, invalid objects record their issues here instead of raising, so a spec
# module imports to the end and the loader reports every broken object at once.
_collector: ContextVar[list[SpecIssue] | None] = ContextVar("stackgen_spec_issues", default=None)
# While a spec loads: every stack member it creates, with the line that created it, so an
# object defined but never put in the stack is an error instead of silently missing.
_created: ContextVar[list[tuple[SpecModel, str]] | None] = ContextVar(
    "stackgen_spec_created", default=None
)


# file:line of the spec code that built each object, by id (models are frozen and compare
# by value, so the location cannot be a field; the entry goes when the object does).
_locations: dict[int, str] = {}


def _remember_location(obj: object, location: str) -> None:
    key = id(obj)
    _locations[key] = location
    weakref.finalize(obj, _locations.pop, key, None)


@contextmanager
def collecting_issues() -> Iterator[list[SpecIssue]]:
    issues: list[SpecIssue] = []
    token = _collector.set(issues)
    try:
        yield issues
    finally:
        _collector.reset(token)


@contextmanager
def recording_members() -> Iterator[list[tuple[SpecModel, str]]]:
    """The stack members (models with a ``stack_field``) created meanwhile, each with the
    file:line that created it."""
    created: list[tuple[SpecModel, str]] = []
    token = _created.set(created)
    try:
        yield created
    finally:
        _created.reset(token)


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


def distinct_ports(ports: Mapping[str, int]) -> None:
    """ValueError naming the first two fields (field -> port) that share a port."""
    seen: dict[int, str] = {}
    for field, port in ports.items():
        if port in seen:
            raise ValueError(f"{field} and {seen[port]} both use port {port}")
        seen[port] = field


def _issues(error: Any, location: str, label: str) -> list[SpecIssue]:
    """The issues of one pydantic error; a SpecProblems is one issue per problem, each
    at the file:line of the object it is about when that object has one."""
    raised = (error.get("ctx") or {}).get("error")
    field = _field_path(error["loc"])
    if not isinstance(raised, SpecProblems):
        return [SpecIssue(location, label, field, _clean(error["msg"]))]
    return [
        SpecIssue(
            (problem.about.spec_location() if problem.about is not None else "") or location,
            label,
            field,
            problem.message,
        )
        for problem in raised.problems
    ]


def _field_path(loc: tuple[int | str, ...]) -> str:
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


class SpecModel(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", validate_default=True)

    # The field whose value names an object in messages: Metric[agent_requests].
    spec_key: ClassVar[str] = "name"
    # The Stack field that must hold every object of this kind a spec defines.
    stack_field: ClassVar[str | None] = None

    def __init__(self, /, **data: Any) -> None:
        collector = _collector.get()
        try:
            super().__init__(**data)
        except ValidationError as error:
            label = f"{type(self).__name__}[{data.get(self.spec_key, '?')}]"
            location = _caller_location()
            issues = [
                issue
                for e in error.errors()
                # Errors inside a broken child repeat what the child reported itself.
                if not _inside_stand_in(data, e["loc"])
                for issue in _issues(e, location, label)
            ]
            if collector is None:
                raise SpecError(issues) from None
            collector.extend(issues)
            self._become_stand_in(data)
        except Exception:
            # A validator tripping over a broken child: the child's own issues were
            # collected already, so this object only stands in for the rest of the import.
            if collector is None or not _holds_stand_in(data):
                raise
            self._become_stand_in(data)
        else:
            location = _caller_location()
            _remember_location(self, location)
            created = _created.get()
            if created is not None and self.stack_field is not None:
                created.append((self, location))

    def _become_stand_in(self, data: dict[str, Any]) -> None:
        """Hold the raw data (plus defaults) so the spec module imports to the end; the
        loader discards the whole stack because issues were collected."""
        values = {
            name: field.get_default(call_default_factory=True)
            for name, field in type(self).model_fields.items()
            if not field.is_required()
        }
        values.update(data)
        values[_STAND_IN] = True
        object.__setattr__(self, "__dict__", values)
        object.__setattr__(self, "__pydantic_fields_set__", set(data))
        object.__setattr__(self, "__pydantic_extra__", None)
        object.__setattr__(self, "__pydantic_private__", None)

    def spec_name(self) -> str:
        return f"{type(self).__name__}[{getattr(self, self.spec_key)}]"

    def spec_location(self) -> str:
        """``file:line`` of the spec code that built this object ("" for copies)."""
        return _locations.get(id(self), "")


_STAND_IN = "__stackgen_stand_in__"


def is_valid(obj: object) -> bool:
    """False for the stand-in of an object whose validation failed (collection mode):
    validators skip cross-checks on it instead of reporting follow-on errors."""
    return not (isinstance(obj, SpecModel) and obj.__dict__.get(_STAND_IN, False))


def _holds_stand_in(value: object) -> bool:
    if isinstance(value, SpecModel):
        return not is_valid(value)
    if isinstance(value, dict):
        return any(_holds_stand_in(v) for v in value.values())
    if isinstance(value, list | tuple):
        return any(_holds_stand_in(v) for v in value)
    return False


def _inside_stand_in(data: object, loc: tuple[int | str, ...]) -> bool:
    value = data
    for part in loc:
        if isinstance(value, dict) and part in value:
            value = value[part]
        elif isinstance(value, list | tuple) and isinstance(part, int) and part < len(value):
            value = value[part]
        elif isinstance(value, SpecModel) and isinstance(part, str):
            value = value.__dict__.get(part)
        else:
            return False
        if isinstance(value, SpecModel) and not is_valid(value):
            return True
    return False


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


def duration_text(seconds: float) -> str:
    """Seconds as a Prometheus duration, the way Prometheus prints one (90 -> "1m30s")."""
    text: str = promql_parser.display_duration(timedelta(seconds=seconds))
    return text


# A Prometheus duration kept as written ("5m"), validated on construction.
Duration = Annotated[str, AfterValidator(_check_duration)]
