"""The audit database's tables and columns, read from its CREATE TABLE statements.

Parsed with sqlglot (PostgreSQL dialect), never with regular expressions; shared by the
Stack validator and the SQL panel checks.
"""

from __future__ import annotations

import logging

import sqlglot
from sqlglot import exp
from sqlglot.errors import SqlglotError

__all__ = ["SQL_DIALECT", "parse_schema"]

SQL_DIALECT = "postgres"


def parse_schema(text: str) -> dict[str, tuple[str, ...]]:
    """Table name -> column names, in declaration order. Raises ValueError when the text
    does not parse or creates no table."""
    # sqlglot warns that it keeps what it cannot model (a PL/pgSQL function body, a
    # trigger) as an opaque command; only CREATE TABLE matters here.
    sqlglot_log = logging.getLogger("sqlglot")
    level = sqlglot_log.level
    sqlglot_log.setLevel(logging.ERROR)
    try:
        statements = sqlglot.parse(text, read=SQL_DIALECT)
    except SqlglotError as error:
        raise ValueError(f"does not parse as PostgreSQL: {error}") from None
    finally:
        sqlglot_log.setLevel(level)
    tables: dict[str, tuple[str, ...]] = {}
    for statement in statements:
        if not isinstance(statement, exp.Create) or statement.args.get("kind") != "TABLE":
            continue
        schema = statement.this
        if not isinstance(schema, exp.Schema) or not isinstance(schema.this, exp.Table):
            continue
        columns = tuple(c.name for c in schema.expressions if isinstance(c, exp.ColumnDef))
        tables[schema.this.name] = columns
    if not tables:
        raise ValueError("creates no table (expected CREATE TABLE statements)")
    return tables
