"""SQL of Grafana panels against the audit schema: parsed with sqlglot (PostgreSQL
dialect), every table must be a table of the schema and every column must resolve in
the query's scope (a table's columns, a subquery's outputs, a function's alias, or an
alias of the select list in ORDER BY / GROUP BY)."""

from __future__ import annotations

from collections.abc import Mapping

import sqlglot
from sqlglot import exp
from sqlglot.errors import SqlglotError
from sqlglot.optimizer.scope import Scope, traverse_scope

from stackgen.check.codes import FindingCode, finding
from stackgen.findings import Finding
from stackgen.spec.sql_schema import SQL_DIALECT

__all__ = ["check_sql"]

Schema = Mapping[str, tuple[str, ...]]


def _outputs(source: exp.Expression | Scope, schema: Schema) -> set[str] | None:
    """Column names a FROM source offers; None when they cannot be known."""
    if isinstance(source, exp.Table):
        known = schema.get(source.name)
        return set(known) if known is not None else None
    expression = source.expression
    if isinstance(expression, exp.Query):
        selects = expression.selects
        if any(isinstance(s, exp.Star) for s in selects):
            return None
        return {s.alias_or_name for s in selects}
    # A table function (jsonb_array_elements(...) AS call): its alias names its value,
    # or its column aliases name its columns.
    alias = expression.args.get("alias") if isinstance(expression, exp.Expression) else None
    if isinstance(alias, exp.TableAlias):
        columns = [c.name for c in alias.columns]
        return set(columns) if columns else {alias.name}
    return None


def _scope_names(scope: Scope, schema: Schema) -> tuple[set[str], bool]:
    """Unqualified names valid in a scope (outer scopes included, for correlated
    subqueries), and whether some source's columns are unknown."""
    names: set[str] = set()
    unknown = False
    current: Scope | None = scope
    while current is not None:
        for alias, source in current.sources.items():
            outputs = _outputs(source, schema)
            names.add(alias)  # a whole-row reference (`call` of a table function)
            if outputs is None:  # an unknown table (reported) or a function
                unknown = True
            else:
                names |= outputs
        if isinstance(current.expression, exp.Select):
            names |= {s.alias for s in current.expression.selects if s.alias}
        current = current.parent
    return names, unknown


def check_sql(
    sql: str, schema: Schema, where: str, spec: str = "", *, location: str = "", written: str = ""
) -> list[Finding]:
    """Findings for one (macro-expanded) SQL query; ``written`` is the query as the spec
    writes it (before Grafana's macros), ``location`` the spec's file:line."""

    def report(code: FindingCode, message: str, hint: str) -> Finding:
        return finding(code, where, message, hint, spec=spec, location=location, expr=written)

    try:
        tree = sqlglot.parse_one(sql, read=SQL_DIALECT)
    except SqlglotError as error:
        message = str(error).splitlines()[0]
        return [
            report(
                FindingCode.SQL_SYNTAX,
                f"the SQL does not parse: {message}",
                "fix the query; Grafana macros are $__timeFilter(col) and friends",
            )
        ]
    findings: list[Finding] = []
    ctes = {cte.alias for cte in tree.find_all(exp.CTE)}
    tables = sorted(schema)
    for table in tree.find_all(exp.Table):
        if not isinstance(table.this, exp.Identifier) or table.name in ctes:
            continue
        if table.name not in schema:
            findings.append(
                report(
                    FindingCode.SQL_UNKNOWN_TABLE,
                    f"table {table.name!r} is not in the audit schema",
                    f"tables: {tables}" if tables else "the stack declares no audit_schema",
                )
            )
    for scope in traverse_scope(tree):
        names, unknown = _scope_names(scope, schema)
        for column in scope.columns:
            problem = _column_problem(column, scope, schema, names, unknown)
            if problem:
                findings.append(
                    report(FindingCode.SQL_UNKNOWN_COLUMN, problem, _hint(column, scope, schema))
                )
    return sorted(set(findings))


def _column_problem(
    column: exp.Column, scope: Scope, schema: Schema, names: set[str], unknown: bool
) -> str:
    if column.table:
        source = scope.sources.get(column.table)
        if source is None:
            parent = scope.parent
            while parent is not None and source is None:
                source = parent.sources.get(column.table)
                parent = parent.parent
        if source is None:
            return f"{column.sql(dialect=SQL_DIALECT)}: no table or alias {column.table!r}"
        outputs = _outputs(source, schema)
        if outputs is not None and column.name not in outputs:
            owner = source.name if isinstance(source, exp.Table) else column.table
            return f"column {column.name!r} is not a column of {owner}"
        return ""
    if column.name in names or unknown:
        return ""
    return f"column {column.name!r} is in no table of the query"


def _hint(column: exp.Column, scope: Scope, schema: Schema) -> str:
    tables = [s.name for s in scope.sources.values() if isinstance(s, exp.Table)]
    columns = sorted({c for t in tables for c in schema.get(t, ())})
    return f"columns of {', '.join(tables)}: {columns}" if columns else "check the audit schema"
