"""``stackgen init``: a new project with a minimal working stack.

The project is its own ``pyproject.toml`` (a ``[tool.stackgen]`` section naming the
spec) and a spec package: one application service with three metrics, an alert with
its fault test, an SLO, a dashboard and the runbooks they link. ``stackgen generate``
and ``stackgen check`` pass on it as written, and promtool passes its rule tests.

The templates are Python and TOML with ``<{ name }>`` placeholders (jinja2 with other
delimiters: the specs are full of braces, from f-strings to PromQL and Grafana legends).
"""

from __future__ import annotations

import keyword
import re
from dataclasses import dataclass
from importlib.resources import files
from importlib.resources.abc import Traversable
from pathlib import Path

import jinja2

__all__ = ["NAME_PATTERN", "InitError", "Project", "plan", "write_project"]

# A stack name (Stack.name), also the start of its package and metric names.
NAME_PATTERN = r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$"
_TEMPLATE_SUFFIX = ".j2"


class InitError(ValueError):
    """The project cannot be created (bad name, directory not empty)."""


@dataclass(frozen=True)
class Project:
    name: str  # the stack's name: payments
    package: str  # the spec package: payments_stack
    service: str  # the application service: payments-api
    prefix: str  # the metric name prefix: payments

    @classmethod
    def named(cls, name: str) -> Project:
        if not re.match(NAME_PATTERN, name):
            raise InitError(
                f"NAME {name!r}: lower-case letters and digits in words joined by '-', "
                "starting with a letter (e.g. payments, order-api)"
            )
        prefix = name.replace("-", "_")
        if keyword.iskeyword(prefix):
            raise InitError(f"NAME {name!r} is a Python keyword")
        return cls(name=name, package=f"{prefix}_stack", service=f"{name}-api", prefix=prefix)


def _templates() -> Traversable:
    return files(__name__) / "templates"


def _walk(directory: Traversable, relative: str = "") -> list[tuple[str, str]]:
    found = []
    for entry in sorted(directory.iterdir(), key=lambda e: e.name):
        path = f"{relative}{entry.name}"
        if entry.is_dir():
            found += _walk(entry, f"{path}/")
        elif entry.name.endswith(_TEMPLATE_SUFFIX):
            found.append((path.removesuffix(_TEMPLATE_SUFFIX), entry.read_text(encoding="utf-8")))
    return found


def plan(project: Project) -> dict[str, str]:
    """Every file of the new project: {path relative to its directory: text}. Pure."""
    environment = jinja2.Environment(
        variable_start_string="<{",
        variable_end_string="}>",
        block_start_string="<%",
        block_end_string="%>",
        comment_start_string="<#",
        comment_end_string="#>",
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        autoescape=False,
    )
    values = {
        "name": project.name,
        "package": project.package,
        "service": project.service,
        "prefix": project.prefix,
    }
    rendered = {}
    for path, text in _walk(_templates()):
        target = path.replace("package/", f"{project.package}/", 1)
        rendered[target] = environment.from_string(text).render(values)
    return rendered


def write_project(directory: Path, project: Project) -> list[Path]:
    """Write the project into ``directory`` (created; it must be empty if it exists)."""
    if directory.exists():
        if not directory.is_dir():
            raise InitError(f"{directory} exists and is not a directory")
        if any(directory.iterdir()):
            raise InitError(f"{directory} is not empty: stackgen init writes into a new directory")
    written = []
    for relative, text in plan(project).items():
        path = directory / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written
