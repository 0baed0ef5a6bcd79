"""Stored text: what users send, in a form both audit databases accept, and back.

PostgreSQL ``text`` and ``jsonb`` cannot hold U+0000 (NUL), and neither PostgreSQL nor
SQLite (both store UTF-8) can hold a lone surrogate (U+D800..U+DFFF), which a JSON
request body can carry (``"\\ud800"``). The audit log keeps what users sent, so those
code points are escaped at the store boundary, the same on both backends:

- the escape character is U+2400 SYMBOL FOR NULL (``␀``), rare in real text and, for
  NUL, readable in psql or Grafana;
- each of U+0000, U+D800..U+DFFF and U+2400 itself is written as ``␀`` followed by its
  code point in four upper-case hex digits: NUL is ``␀0000``, a lone ``\\ud800`` is
  ``␀D800``, a ``␀`` typed by a user is ``␀2400``; every other character is unchanged.

Stored text therefore holds no NUL and no surrogate, and every ``␀`` in it starts an
escape: decoding is exact (``unescape(escape(s)) == s`` for every ``s``), and text
without those code points is stored as it is. A ``␀`` followed by anything else
(only possible in rows written before this escape existed) is read unchanged.

In JSON columns the escape applies to every string (keys and values); decoding a JSON
column's text turns each escape back into a JSON escape (``\\u0000``), so the decoded
text parses to the original value.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from agent_service.store.jsontext import dumps_bytes, dumps_text

__all__ = [
    "ESCAPE",
    "JSON_COLUMNS",
    "dumps_stored",
    "escape",
    "escape_args",
    "escape_value",
    "needs_escape",
    "stored_json_text",
    "unescape",
    "unescape_json",
    "unescape_row",
]

ESCAPE = "\u2400"
# The columns of the audit tables that hold JSON text (decoded with unescape_json).
JSON_COLUMNS = frozenset({"tool_calls", "agents_used", "metadata", "labels", "record"})

_NEEDS_ESCAPE = re.compile("[\x00\u2400\ud800-\udfff]")
_ESCAPED = re.compile("\u2400(0000|2400|D[89A-F][0-9A-F]{2})")
# JSON text that may hold something to escape: a NUL or surrogate written as a JSON
# escape (orjson writes NUL as \u0000; the standard library's ASCII fallback writes
# surrogates and U+2400 as \uXXXX), or a raw U+2400.
_JSON_NEEDS_ESCAPE = re.compile(r"\\u(?:0000|2400|[dD][89a-fA-F])|\u2400")


def _escape_one(match: re.Match[str]) -> str:
    return f"{ESCAPE}{ord(match[0]):04X}"


def _unescape_one(match: re.Match[str]) -> str:
    return chr(int(match[1], 16))


def _unescape_json_one(match: re.Match[str]) -> str:
    code = match[1]
    # U+2400 is a plain character inside a JSON string; NUL and surrogates are not
    # (NUL is a control character, a surrogate is not UTF-8): JSON escapes.
    return ESCAPE if code == "2400" else f"\\u{code.lower()}"


def needs_escape(text: str) -> bool:
    """Whether ``text`` holds a code point to escape. Every row's text is checked, so
    the common case is fast: ASCII text (a C scan) can only hold NUL (another)."""
    if text.isascii():
        return "\x00" in text
    return _NEEDS_ESCAPE.search(text) is not None


def escape(text: str) -> str:
    """``text`` as stored: NUL, lone surrogates and U+2400 escaped."""
    if not needs_escape(text):
        return text
    return _NEEDS_ESCAPE.sub(_escape_one, text)


def unescape(text: str) -> str:
    """The text a stored value stands for."""
    if ESCAPE not in text:
        return text
    return _ESCAPED.sub(_unescape_one, text)


def unescape_json(text: str) -> str:
    """The JSON text a stored JSON value stands for (it parses to the original)."""
    if ESCAPE not in text:
        return text
    return _ESCAPED.sub(_unescape_json_one, text)


def escape_value(value: Any) -> Any:
    """A JSON-able value with every string (keys included) escaped. Anything that is
    not a JSON type becomes its escaped ``str``, as ``dumps_text`` would write it."""
    if isinstance(value, str):
        return escape(value)
    if value is None or isinstance(value, bool | int | float):
        return value
    if isinstance(value, Mapping):
        return {
            escape(key) if isinstance(key, str) else key: escape_value(item)
            for key, item in value.items()
        }
    if isinstance(value, list | tuple):
        return [escape_value(item) for item in value]
    return escape(str(value))


def dumps_stored(value: Any) -> str:
    """JSON text of ``value`` for a JSON column, its strings escaped. Most values hold
    nothing to escape: they are encoded once, and walked only when the text says so."""
    return stored_json_text(value, dumps_text(value))


def stored_json_text(value: Any, text: str) -> str:
    """``dumps_stored(value)`` for a caller that holds ``dumps_text(value)`` already
    (``text``): that text itself when nothing in it needs escaping."""
    # orjson writes only control characters as \u escapes; the standard library's
    # ASCII fallback writes every non-ASCII character so. Without one, and without a
    # raw U+2400, there is nothing to escape.
    if ("\\u" not in text and ESCAPE not in text) or _JSON_NEEDS_ESCAPE.search(text) is None:
        return text
    # Not ASCII-escaped: each escape's U+2400 must stay a plain character in the text
    # (the escaped value holds no surrogate, so UTF-8 always takes it).
    return dumps_bytes(escape_value(value)).decode()


def escape_args(args: Sequence[Any]) -> tuple[Any, ...]:
    """Query parameters as stored (strings escaped), so they compare with stored text."""
    return tuple(escape(a) if isinstance(a, str) else a for a in args)


def unescape_row(row: dict[str, Any]) -> dict[str, Any]:
    """A row as read from the audit database with its text decoded (JSON columns as
    JSON text that parses to the original value)."""
    decoded: dict[str, Any] | None = None
    for key, value in row.items():
        if isinstance(value, str) and ESCAPE in value:
            if decoded is None:
                decoded = dict(row)
            decoded[key] = unescape_json(value) if key in JSON_COLUMNS else unescape(value)
    return row if decoded is None else decoded
