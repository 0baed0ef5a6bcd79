"""Every SQL query of the generated dashboards, run in the real PostgreSQL on 127.0.0.1.

A fresh database gets the service's audit migration; a login role named after the
audit datasource's user (plus a random suffix: roles are cluster-wide and the cluster
is shared) gets SELECT on the audit tables and nothing else, as in production. Each
query, with Grafana's macros and variables expanded by the same code the checks use,
is EXPLAINed as that role; two queries also run over seeded rows.
"""

from __future__ import annotations

import asyncio
import json
import re
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from agent_service.store.migrate import migrate_postgres
from agent_service.store.partitions import Month, create_partitions
from stackgen.artifacts import read_artifacts
from stackgen.check.grafana import sql_queries
from stackgen.check.grafana_sql import expand_sql
from stackgen.spec import DatasourceType, Stack
from stackgen.spec.sql_schema import parse_schema
from tests.agent_service.databases import ADMIN_DSN, audit_database

# One seeded turn inside the stand-in time range (2026-01-01 .. 2026-01-02), with a
# failed tool call and a trace id.
SEED = """
INSERT INTO user_sessions (session_id, user_id, started_at, last_active_at, total_messages)
VALUES ('s1', 'alice', '2026-01-01T11:00:00Z', '2026-01-01T12:00:00Z', 2);
INSERT INTO conversation_log (message_id, session_id, user_id, timestamp, user_message,
    agent_response, agent_type, tool_calls, latency_ms, confidence, user_feedback, trace_id)
VALUES ('m1', 's1', 'alice', '2026-01-01T12:00:00Z', 'Where is invoice 42?', 'Paid.',
    'erp', '[{"name": "search_invoices", "arguments": {}, "latency_ms": 12,
              "error": "timeout"}]', 850, 0.92, 'positive', '4bf92f3577b34da6a3ce929d0e0e4736');
"""


def _queries(rendered: dict[str, str]) -> list[tuple[str, str]]:
    """(where, SQL as Grafana sends it) of every SQL target and SQL variable."""
    out = []
    for dashboard in read_artifacts(rendered).dashboards:
        for query in sql_queries(dashboard):
            where = f"{dashboard.path}: {query.label}"
            out.append((where, expand_sql(query.sql, dashboard.variables)))
    return out


@pytest.fixture(scope="module")
def reader_dsn(stack: Stack, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A migrated audit database and a read-only role granted what the init script
    grants Grafana's (its tables, without the hidden columns); yields the role's DSN."""
    assert stack.grafana is not None and stack.audit_schema is not None
    assert stack.compose is not None and stack.compose.database is not None
    (datasource,) = [d for d in stack.grafana.datasources if d.type is DatasourceType.POSTGRES]
    assert datasource.user is not None
    role = f"{datasource.user}_{uuid.uuid4().hex[:8]}"
    readable = stack.compose.database.reader_schema(parse_schema(stack.audit_schema))
    tmp_path: Path = tmp_path_factory.mktemp("audit")
    try:
        with audit_database("postgres", tmp_path) as database:
            assert database.database_url is not None
            asyncio.run(_prepare(database.database_url, role, readable))
            yield database.database_url.replace("postgres@", f"{role}@", 1)
    finally:
        asyncio.run(_drop_role(role))


async def _prepare(dsn: str, role: str, readable: dict[str, tuple[str, ...]]) -> None:
    connection = await asyncpg.connect(dsn, timeout=5)
    try:
        await migrate_postgres(connection)
        # The seed goes in with plain SQL, not through the store: its month's partition
        # first, as the store would create it.
        # The months around it too: a time-bounded query must read only its own.
        await create_partitions(connection, [Month(2025, 12), Month(2026, 1), Month(2026, 2)])
        await connection.execute(SEED)
        await connection.execute(f'CREATE ROLE "{role}" LOGIN')
        for table, columns in readable.items():
            await connection.execute(f'GRANT SELECT ({", ".join(columns)}) ON {table} TO "{role}"')
    finally:
        await connection.close()


async def _drop_role(role: str) -> None:
    connection = await asyncpg.connect(ADMIN_DSN, timeout=5)
    try:
        await connection.execute(f'DROP ROLE IF EXISTS "{role}"')
    finally:
        await connection.close()


async def _explain_all(dsn: str, queries: list[tuple[str, str]]) -> dict[str, str]:
    failures = {}
    connection = await asyncpg.connect(dsn, timeout=5)
    try:
        for where, sql in queries:
            try:
                await connection.fetch(f"EXPLAIN {sql}")
            except asyncpg.PostgresError as error:
                failures[where] = f"{type(error).__name__}: {error}"
    finally:
        await connection.close()
    return failures


async def _rows(dsn: str, sql: str) -> list[dict[str, Any]]:
    connection = await asyncpg.connect(dsn, timeout=5)
    try:
        return [dict(r) for r in await connection.fetch(sql)]
    finally:
        await connection.close()


def test_every_sql_query_explains_as_the_read_only_role(
    reader_dsn: str, rendered: dict[str, str]
) -> None:
    queries = _queries(rendered)
    assert len(queries) == 9
    assert asyncio.run(_explain_all(reader_dsn, queries)) == {}


# A panel bounded by the dashboard's range on the log's own time column.
_LOG_TIME_FILTER = re.compile(r"\$__timeFilter\((\w+\.)?timestamp\)")


async def _relations(dsn: str, sql: str) -> set[str]:
    """The tables a query's plan reads."""
    connection = await asyncpg.connect(dsn, timeout=5)
    try:
        (plan,) = json.loads(await connection.fetchval(f"EXPLAIN (FORMAT JSON) {sql}"))
    finally:
        await connection.close()
    found: set[str] = set()

    def walk(node: dict[str, Any]) -> None:
        if "Relation Name" in node:
            found.add(node["Relation Name"])
        for child in node.get("Plans", ()):
            walk(child)

    walk(plan["Plan"])
    return found


def test_every_time_bounded_query_reads_only_the_months_of_its_range(
    reader_dsn: str, rendered: dict[str, str]
) -> None:
    """conversation_log is partitioned by month: a panel over the dashboard's time
    range (the stand-in range lies in January 2026) reads January's partition only."""
    bounded = 0
    for dashboard in read_artifacts(rendered).dashboards:
        for query in sql_queries(dashboard):
            if _LOG_TIME_FILTER.search(query.sql) is None:
                continue
            bounded += 1
            sql = expand_sql(query.sql, dashboard.variables)
            partitions = {
                name
                for name in asyncio.run(_relations(reader_dsn, sql))
                if name.startswith("conversation_log_")
            }
            assert partitions == {"conversation_log_y2026m01"}, query.label
    assert bounded >= 3  # the panels of the three audit dashboards at least


def test_the_role_reads_nothing_but_the_audit_tables(reader_dsn: str) -> None:
    failures = asyncio.run(
        _explain_all(reader_dsn, [("migrations", "SELECT * FROM schema_migrations")])
    )
    assert "InsufficientPrivilegeError" in failures["migrations"]


def test_the_role_reads_no_message_text(reader_dsn: str) -> None:
    text = [("text", "SELECT left(user_message, 100) FROM conversation_log")]
    assert "InsufficientPrivilegeError" in asyncio.run(_explain_all(reader_dsn, text))["text"]


def test_explain_catches_a_query_the_schema_cannot_answer(reader_dsn: str) -> None:
    bad = [("bad", "SELECT count(DISTINCT username) FROM user_sessions")]
    assert "UndefinedColumnError" in asyncio.run(_explain_all(reader_dsn, bad))["bad"]


def _variables(**values: str) -> list[dict[str, Any]]:
    """Dashboard variables as a viewer sets them (agent: erp; the others as given)."""
    return [
        {"name": "agent", "multi": True, "includeAll": True, "current": {"value": ["erp"]}},
        *({"name": n, "type": "textbox", "current": {"value": v}} for n, v in values.items()),
    ]


def _panel_sql(rendered: dict[str, str], name: str, title: str) -> str:
    document = json.loads(rendered[f"grafana/dashboards/{name}.json"])
    (panel,) = [p for p in document["panels"] if p["title"] == title]
    sql: str = panel["targets"][0]["rawSql"]
    return sql


@pytest.mark.parametrize(
    ("feedback", "user", "rows"),
    [("all", "", 1), ("positive", "alice", 1), ("negative", "", 0), ("unrated", "", 0)],
)
def test_recent_conversations_filters_and_returns_the_trace_id(
    reader_dsn: str, rendered: dict[str, str], feedback: str, user: str, rows: int
) -> None:
    sql = _panel_sql(rendered, "conversation-audit", "Recent conversations")
    result = asyncio.run(
        _rows(reader_dsn, expand_sql(sql, _variables(user=user, feedback=feedback)))
    )
    assert len(result) == rows
    if rows:
        assert result[0]["trace_id"] == "4bf92f3577b34da6a3ce929d0e0e4736"
        assert result[0]["session_id"] == "s1"
        assert "Where is invoice 42?" not in result[0].values()


def test_failed_tool_calls_lists_the_tool_error(reader_dsn: str, rendered: dict[str, str]) -> None:
    sql = _panel_sql(rendered, "agent-performance", "Failed tool calls")
    (row,) = asyncio.run(_rows(reader_dsn, expand_sql(sql, _variables())))
    assert (row["tool"], row["error"], row["latency_ms"]) == ("search_invoices", "timeout", 12)
    assert row["trace_id"] == "4bf92f3577b34da6a3ce929d0e0e4736"
