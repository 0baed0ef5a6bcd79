"""Grafana's SQL macros and template variables, replaced by SQL-valid stand-ins.

Grafana sends a SQL panel's text to PostgreSQL only after its front end has replaced
the dashboard variables ($agent, ${user}, $__interval) and its back end has expanded
the macros ($__timeFilter(col), $__timeGroupAlias(col, 5m)...). This module does both
the way Grafana does, over a fixed time range, so that the text parses (sqlglot, in
the checks) and runs (EXPLAIN in PostgreSQL, in the tests): the one place that knows
Grafana's SQL dialect.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

__all__ = ["MacroError", "expand_sql", "variable_values"]

# The time range every stand-in uses (24 hours).
FROM_ISO, TO_ISO = "2026-01-01T00:00:00Z", "2026-01-02T00:00:00Z"
FROM_EPOCH, TO_EPOCH = 1_767_225_600, 1_767_312_000
INTERVAL = "1m"

# Grafana's global variables, as the front end writes them into the query.
GLOBALS = {
    "__interval": INTERVAL,
    "__interval_ms": "60000",
    "__range": "1d",
    "__range_s": "86400",
    "__range_ms": "86400000",
    "__rate_interval": INTERVAL,
    "__from": str(FROM_EPOCH * 1000),
    "__to": str(TO_EPOCH * 1000),
}
_ALL = "$__all"
_REFERENCE = re.compile(
    r"\$\{(?P<braced>[A-Za-z_][\w.]*)(?::(?P<format>[^}]*))?\}"
    r"|\[\[(?P<bracketed>[A-Za-z_]\w*)(?::(?P<bformat>[^\]]*))?\]\]"
    r"|\$(?P<plain>[A-Za-z_]\w*)"
)
_MACRO = re.compile(r"\$__(\w+)\(")
_DURATION = re.compile(r"^(\d+)(ms|s|m|h|d|w)$")
_SECONDS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


class MacroError(ValueError):
    """A macro Grafana does not know, or one called with the wrong arguments."""


def _quote(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def variable_values(variables: Sequence[Mapping[str, Any]]) -> dict[str, str]:
    """Each dashboard variable (Grafana JSON ``templating.list``) as the text Grafana's
    PostgreSQL datasource writes for it: multi-value and All variables as quoted
    literals, single values raw (the query quotes them). The value is the variable's
    current one, else its first option, else a placeholder."""
    values = {}
    for variable in variables:
        name = variable.get("name")
        if not isinstance(name, str):
            continue
        current = (variable.get("current") or {}).get("value")
        if isinstance(current, list):
            current = current[0] if current else None
        if current in (None, _ALL) or (current == "" and variable.get("type") != "textbox"):
            options = [
                o.get("value") for o in variable.get("options") or [] if o.get("value") != _ALL
            ]
            current = options[0] if options else "stackgen"
        text = str(current)
        listed = bool(variable.get("multi")) or bool(variable.get("includeAll"))
        values[name] = _quote(text) if listed else text.replace("'", "''")
    return values


def _replace_variables(sql: str, values: Mapping[str, str]) -> str:
    def replace(match: re.Match[str]) -> str:
        name = match["braced"] or match["bracketed"] or match["plain"]
        form = match["format"] or match["bformat"]
        if name in GLOBALS:
            return GLOBALS[name]
        if name not in values:
            return match[0]
        value = values[name]
        if form in ("raw", "csv") and value.startswith("'"):
            return value[1:-1].replace("''", "'")
        if form in ("sqlstring", "singlequote") and not value.startswith("'"):
            return _quote(value.replace("''", "'"))
        return value

    return _REFERENCE.sub(replace, sql)


def _arguments(sql: str, start: int) -> tuple[list[str], int]:
    """The comma-separated arguments of a call whose '(' is at ``start``, and the index
    after its ')'."""
    depth, current, args, quoted = 0, "", [], False
    for i in range(start, len(sql)):
        char = sql[i]
        if char == "'":
            quoted = not quoted
        if not quoted and char == "(":
            depth += 1
            if depth == 1:
                continue
        elif not quoted and char == ")":
            depth -= 1
            if depth == 0:
                args.append(current.strip())
                return [a for a in args if a], i + 1
        elif not quoted and char == "," and depth == 1:
            args.append(current.strip())
            current = ""
            continue
        current += char
    raise MacroError("unbalanced parentheses in a macro call")


def _seconds(interval: str) -> int:
    match = _DURATION.match(interval.strip().strip("'\""))
    if match is None:
        raise MacroError(f"{interval!r} is not an interval such as '5m'")
    return max(1, round(int(match[1]) * _SECONDS[match[2]]))


def _macro(name: str, args: list[str]) -> str:
    def need(count: int) -> None:
        if len(args) < count:
            raise MacroError(f"$__{name}() needs {count} argument(s), got {len(args)}")

    match name:
        case "timeFilter":
            need(1)
            return f"{args[0]} BETWEEN '{FROM_ISO}' AND '{TO_ISO}'"
        case "timeFrom":
            return f"'{FROM_ISO}'"
        case "timeTo":
            return f"'{TO_ISO}'"
        case "time":
            need(1)
            return f'{args[0]} AS "time"'
        case "timeEpoch":
            need(1)
            return f'extract(epoch from {args[0]}) AS "time"'
        case "timeGroup" | "timeGroupAlias":
            need(2)
            seconds = _seconds(args[1])
            group = f"floor(extract(epoch from {args[0]})/{seconds})*{seconds}"
            return group + (' AS "time"' if name.endswith("Alias") else "")
        case "unixEpochFilter":
            need(1)
            return f"{args[0]} >= {FROM_EPOCH} AND {args[0]} <= {TO_EPOCH}"
        case "unixEpochFrom":
            return str(FROM_EPOCH)
        case "unixEpochTo":
            return str(TO_EPOCH)
        case "unixEpochGroup" | "unixEpochGroupAlias":
            need(2)
            seconds = _seconds(args[1])
            group = f"floor(({args[0]})/{seconds})*{seconds}"
            return group + (' AS "time"' if name.endswith("Alias") else "")
    raise MacroError(f"$__{name}() is not a Grafana PostgreSQL macro")


def _expand_macros(sql: str) -> str:
    out, position = "", 0
    while (match := _MACRO.search(sql, position)) is not None:
        args, end = _arguments(sql, match.end() - 1)
        out += sql[position : match.start()] + _macro(match[1], [_expand_macros(a) for a in args])
        position = end
    return out + sql[position:]


def expand_sql(sql: str, variables: Sequence[Mapping[str, Any]] = ()) -> str:
    """The SQL Grafana would send for ``sql`` with these dashboard variables (Grafana
    JSON ``templating.list``) over the fixed stand-in time range. Raises MacroError."""
    return _expand_macros(_replace_variables(sql, variable_values(variables)))
