"""Exports of the conversation audit as CSV or JSON, produced batch by batch so a
response of any size streams in bounded memory."""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any

from agent_service.web.conversations import EXPORT_COLUMNS

__all__ = ["csv_stream", "json_stream"]

# A cell starting with these runs as a formula in spreadsheets: prefix it with '.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
# UTF-8 cannot carry a lone surrogate: the CSV writes it as its escape (\ud800); the
# JSON export is exact (JSON escapes it).
_SURROGATE = re.compile("[\ud800-\udfff]")


def _surrogate_escape(match: re.Match[str]) -> str:
    return f"\\u{ord(match[0]):04x}"


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, list | dict):
        return json.dumps(value, sort_keys=True)
    text = _SURROGATE.sub(_surrogate_escape, str(value))
    if text.startswith(_FORMULA_START) and not isinstance(value, int | float):
        return "'" + text
    return text


def _json_value(column: str, value: Any) -> Any:
    if column == "tool_calls" and isinstance(value, str):
        return json.loads(value or "[]")
    if isinstance(value, datetime):
        return value.isoformat()
    return value


async def csv_stream(batches: AsyncIterator[list[dict[str, Any]]]) -> AsyncIterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(EXPORT_COLUMNS)
    yield buffer.getvalue()
    async for batch in batches:
        buffer.seek(0)
        buffer.truncate()
        writer.writerows([_cell(row[c]) for c in EXPORT_COLUMNS] for row in batch)
        yield buffer.getvalue()


async def json_stream(batches: AsyncIterator[list[dict[str, Any]]]) -> AsyncIterator[str]:
    """One JSON array; each element an object with EXPORT_COLUMNS as keys."""
    yield "["
    first = True
    async for batch in batches:
        parts = []
        for row in batch:
            item = {c: _json_value(c, row[c]) for c in EXPORT_COLUMNS}
            parts.append(("\n" if first else ",\n") + json.dumps(item, default=str))
            first = False
        yield "".join(parts)
    yield "\n]\n"
