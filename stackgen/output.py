"""Deterministic serialisation, and writing or comparing the generated tree.

Only this module (with the loader and the live checks) touches the file system.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

import yaml

from stackgen.conventions import DEFAULT_REGENERATE_COMMAND, GENERATED_NOTICE_PREFIX

__all__ = [
    "Drift",
    "DriftKind",
    "diff_tree",
    "dump_json",
    "dump_yaml",
    "generated_notice",
    "regenerated_by",
    "write_tree",
]

# The command the notice tells readers to run: the stack's own (Stack.regenerate_command),
# set around its rendering so every renderer stamps the same header without each one
# threading the stack's setting through to the serialiser.
_regenerate_command: ContextVar[str] = ContextVar(
    "stackgen_regenerate_command", default=DEFAULT_REGENERATE_COMMAND
)


@contextmanager
def regenerated_by(command: str) -> Iterator[None]:
    """Files rendered meanwhile tell their readers to run ``command``."""
    token = _regenerate_command.set(command)
    try:
        yield
    finally:
        _regenerate_command.reset(token)


def generated_notice() -> str:
    """The do-not-edit line stamped on every generated file."""
    return f"{GENERATED_NOTICE_PREFIX}; run `{_regenerate_command.get()}`"


# libyaml's C emitter where PyYAML has it (it writes the same text as the pure-Python
# one for everything rendered here, several times faster); the Python one otherwise.
_BaseDumper: type[yaml.SafeDumper] = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


class _Dumper(_BaseDumper):  # type: ignore[valid-type,misc]
    """Block style, literal blocks for multi-line text, no anchors: stable and readable."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


def _represent_str(dumper: yaml.BaseDumper, value: str) -> yaml.ScalarNode:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _represent_str)


def dump_yaml(data: Any, *, comment: str = "") -> str:
    """YAML text with the generated-file header; keys keep the order renderers chose."""
    header = f"# {generated_notice()}\n"
    if comment:
        header += "".join(f"# {line}\n" if line else "#\n" for line in comment.splitlines())
    body = yaml.dump(data, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=100, indent=2)
    return header + body


def dump_json(data: Any) -> str:
    """JSON with sorted keys and a trailing newline (JSON has no comments: renderers put
    the notice in a field of the document)."""
    return json.dumps(data, sort_keys=True, indent=2, ensure_ascii=False) + "\n"


class DriftKind(StrEnum):
    MISSING = "missing"
    CHANGED = "changed"
    STALE = "stale"  # written by stackgen before, no longer produced


@dataclass(frozen=True, order=True)
class Drift:
    path: str
    kind: DriftKind


def _generated_files(root: Path) -> set[str]:
    """Files under root that stackgen wrote (they carry its notice, whatever command it
    names)."""
    found = set()
    if root.is_dir():
        for path in root.rglob("*"):
            if (
                path.is_file()
                and GENERATED_NOTICE_PREFIX in path.read_text(errors="replace")[:2000]
            ):
                found.add(path.relative_to(root).as_posix())
    return found


def diff_tree(root: Path, files: Mapping[str, str]) -> list[Drift]:
    drifts = []
    for relative, text in files.items():
        path = root / relative
        if not path.is_file():
            drifts.append(Drift(relative, DriftKind.MISSING))
        elif path.read_text() != text:
            drifts.append(Drift(relative, DriftKind.CHANGED))
    for relative in _generated_files(root) - set(files):
        drifts.append(Drift(relative, DriftKind.STALE))
    return sorted(drifts)


def write_tree(root: Path, files: Mapping[str, str]) -> list[Drift]:
    """Bring root in line with files; returns what changed. Stale files stackgen wrote
    are removed; files it did not write are never touched."""
    drifts = diff_tree(root, files)
    for drift in drifts:
        path = root / drift.path
        if drift.kind is DriftKind.STALE:
            path.unlink()
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(files[drift.path])
    return drifts
