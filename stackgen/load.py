"""Find the project's stackgen settings and load its stack spec.

A spec reference is ``module:attribute`` (``payments_stack:stack``) or
``path/to/file.py:attribute``. Importing a spec runs in collection mode, so every
invalid object is reported at once, each with its file and line.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import sys
import tomllib
import traceback
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

from stackgen.spec import Stack
from stackgen.spec.base import SpecModel, collecting_issues, recording_members

__all__ = ["DEFAULT_OUTPUT", "LoadError", "ProjectSettings", "find_settings", "load_stack"]

DEFAULT_OUTPUT = "generated"


class LoadError(Exception):
    """The spec could not be loaded; ``problems`` are ready to print, one per line."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("\n".join(problems))


@dataclass(frozen=True)
class ProjectSettings:
    root: Path
    spec: str
    output: Path


def find_settings(start: Path) -> ProjectSettings:
    """``[tool.stackgen]`` of the nearest pyproject.toml at or above ``start``."""
    for directory in (start, *start.parents):
        pyproject = directory / "pyproject.toml"
        if not pyproject.is_file():
            continue
        try:
            data = tomllib.loads(pyproject.read_text())
        except tomllib.TOMLDecodeError as error:
            raise LoadError([f"{pyproject}: not valid TOML: {error}"]) from None
        section = data.get("tool", {}).get("stackgen")
        if section is None:
            continue
        spec = section.get("spec")
        if not isinstance(spec, str) or ":" not in spec:
            raise LoadError(
                [f'{pyproject}: [tool.stackgen].spec must be "module:attribute", got {spec!r}']
            )
        output = section.get("output", DEFAULT_OUTPUT)
        return ProjectSettings(directory, spec, directory / str(output))
    raise LoadError(
        [
            f"no pyproject.toml with a [tool.stackgen] section at or above {start}; "
            "pass --spec MODULE:ATTRIBUTE"
        ]
    )


def _import(target: str, root: Path) -> ModuleType:
    if target.endswith(".py"):
        path = (root / target).resolve()
        if not path.is_file():
            raise LoadError([f"spec file {target} does not exist"])
        name = f"_stackgen_spec_{abs(hash(path))}"
        module_spec = importlib.util.spec_from_file_location(name, path)
        assert module_spec is not None and module_spec.loader is not None
        module = importlib.util.module_from_spec(module_spec)
        module_spec.loader.exec_module(module)
        return module
    return importlib.import_module(target)


def _where(error: BaseException) -> str:
    """The innermost frame of the spec's own code, for errors that are not validation."""
    stackgen_dir = str(Path(__file__).resolve().parent)
    frames = [
        f
        for f in traceback.extract_tb(error.__traceback__)
        if "site-packages" not in f.filename
        and "importlib" not in f.filename
        and not str(Path(f.filename).resolve()).startswith(stackgen_dir)
    ]
    if not frames:
        return ""
    frame = frames[-1]
    return f"{os.path.relpath(frame.filename)}:{frame.lineno}: "


def load_stack(reference: str, root: Path) -> Stack:
    """Import the spec and return its Stack, or raise LoadError naming every problem."""
    imported_before = set(sys.modules)
    try:
        return _load_stack(reference, root)
    except LoadError:
        # Forget modules of a failed load: a cached broken module would otherwise load
        # "successfully" the next time, with no issues collected.
        for name in set(sys.modules) - imported_before:
            del sys.modules[name]
        raise


def _load_stack(reference: str, root: Path) -> Stack:
    target, _, attribute = reference.rpartition(":")
    if not target or not attribute:
        raise LoadError([f'spec reference {reference!r} is not "module:attribute"'])
    if str(root) not in sys.path:
        sys.path.insert(0, str(root))
    with collecting_issues() as issues, recording_members() as created:
        try:
            module = _import(target, root)
        except LoadError:
            raise
        except ModuleNotFoundError as error:
            if issues:
                raise LoadError([str(i) for i in issues]) from None
            raise LoadError([f"cannot import spec module {target!r}: {error}"]) from None
        except Exception as error:
            # A broken object makes later code trip over its stand-in: its own
            # validation errors are the real report.
            if issues:
                raise LoadError([str(i) for i in issues]) from None
            raise LoadError(
                [f"{_where(error)}spec module {target} failed: {type(error).__name__}: {error}"]
            ) from None
    if issues:
        raise LoadError([str(i) for i in issues])
    stack = getattr(module, attribute, None)
    if not isinstance(stack, Stack):
        raise LoadError(
            [f"{target}:{attribute} is {type(stack).__name__}, not a stackgen.spec.Stack"]
        )
    orphans = _left_out(stack, created)
    if orphans:
        raise LoadError(orphans)
    return stack


def _left_out(stack: Stack, created: list[tuple[SpecModel, str]]) -> list[str]:
    """Every stack member the spec created but did not put in the stack: an alert left
    out of ALERTS would otherwise vanish from the rule files without a word."""
    stackgen_dir = str(Path(__file__).resolve().parent)
    problems = []
    for member, location in created:
        field = member.stack_field
        assert field is not None
        if os.path.abspath(location.rsplit(":", 1)[0]).startswith(stackgen_dir):
            continue  # made by stackgen itself (defaults, derived objects)
        if any(item is member for item in getattr(stack, field)):
            continue
        problems.append(
            f"{location}: {member.spec_name()}: defined but not in the stack: add it to "
            f"Stack.{field} (or remove it)"
        )
    return problems
