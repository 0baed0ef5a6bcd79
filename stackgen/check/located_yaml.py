"""YAML documents read with the line of every mapping, the way Prometheus' Go YAML reads
them: every document of a stream, duplicate keys refused, bytes that are not UTF-8
refused. The readers of external files report problems at these lines."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import yaml

__all__ = [
    "DecodeProblem",
    "LocatedMapping",
    "LocatedSequence",
    "decode",
    "item_line",
    "line_of",
    "load_documents",
]


class LocatedMapping(dict[Any, Any]):
    """A YAML mapping that knows the line it starts on and the keys it repeats."""

    line: int = 0
    duplicates: tuple[str, ...] = ()


class LocatedSequence(list[Any]):
    """A YAML sequence that knows the line of each of its items."""

    line: int = 0
    item_lines: tuple[int, ...] = ()


def line_of(value: object, default: int = 0) -> int:
    if isinstance(value, LocatedMapping | LocatedSequence):
        return value.line
    return default


def item_line(sequence: object, index: int, default: int = 0) -> int:
    """The line of ``sequence[index]`` (0-based), whatever its type (a scalar too)."""
    if isinstance(sequence, LocatedSequence) and index < len(sequence.item_lines):
        return sequence.item_lines[index]
    return default


@dataclass(frozen=True)
class DecodeProblem:
    """Why a file's bytes are not text: the line and byte offset of the first bad byte."""

    line: int
    offset: int
    reason: str


def decode(data: bytes) -> str | DecodeProblem:
    """The text of a file, or where its first byte that is not UTF-8 sits (Prometheus and
    Grafana read UTF-8 only: a Latin-1 file is refused, not guessed at)."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        return DecodeProblem(line, error.start, f"byte 0x{data[error.start]:02x} is not UTF-8")


class _Loader(yaml.CSafeLoader if yaml.__with_libyaml__ else yaml.SafeLoader):  # type: ignore[misc]
    """The safe loader (libyaml's when available, for speed) with located mappings."""


def _construct_mapping(loader: yaml.SafeLoader, node: yaml.MappingNode) -> LocatedMapping:
    loader.flatten_mapping(node)
    mapping = LocatedMapping()
    mapping.line = node.start_mark.line + 1
    repeated: list[str] = []
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        try:
            hash(key)
        except TypeError as error:
            raise yaml.constructor.ConstructorError(
                "while constructing a mapping",
                node.start_mark,
                "found an unhashable key",
                key_node.start_mark,
            ) from error
        if key in mapping:
            repeated.append(str(key))
        mapping[key] = loader.construct_object(value_node, deep=True)
    mapping.duplicates = tuple(repeated)
    return mapping


def _construct_sequence(loader: yaml.SafeLoader, node: yaml.SequenceNode) -> LocatedSequence:
    sequence = LocatedSequence(loader.construct_object(child, deep=True) for child in node.value)
    sequence.line = node.start_mark.line + 1
    sequence.item_lines = tuple(child.start_mark.line + 1 for child in node.value)
    return sequence


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)
_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, _construct_sequence)


def load_documents(text: str) -> list[Any]:
    """Every document of a YAML stream (empty ones dropped); raises ``yaml.YAMLError``."""
    return [document for document in yaml.load_all(text, Loader=_Loader) if document is not None]
