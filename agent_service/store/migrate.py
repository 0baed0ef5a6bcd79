"""Numbered SQL migrations (``migrations/<dialect>/NNN_name.sql``), applied once each and
recorded in ``schema_migrations``. Safe at every start; on PostgreSQL two processes
migrating at once serialise on a transaction-scoped advisory lock."""

from __future__ import annotations

import re
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

__all__ = [
    "MIGRATIONS_DIR",
    "MIGRATION_TIMEOUT_S",
    "Dialect",
    "Migration",
    "load_migrations",
    "migrate_postgres",
    "migrate_sqlite",
]

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
Dialect = Literal["postgres", "sqlite"]
# Any fixed 64-bit key: "BestBox audit migrations".
ADVISORY_LOCK_KEY = 0x0BE5_7B0C_A0D1_7001
_NAME = re.compile(r"^(\d+)_([\w-]+)\.sql$")


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    sql: str


def load_migrations(dialect: Dialect, directory: Path | None = None) -> list[Migration]:
    folder = (directory or MIGRATIONS_DIR) / dialect
    found: list[Migration] = []
    for path in folder.glob("*.sql"):
        match = _NAME.match(path.name)
        if match is None:
            continue
        found.append(Migration(int(match[1]), match[2], path.read_text(encoding="utf-8")))
    found.sort(key=lambda m: m.version)
    versions = [m.version for m in found]
    if len(set(versions)) != len(versions):
        raise ValueError(f"duplicate migration versions in {folder}: {versions}")
    return found


_PG_TABLE = """
CREATE TABLE IF NOT EXISTS schema_migrations (
    version    INTEGER     PRIMARY KEY,
    name       TEXT        NOT NULL,
    applied_at TIMESTAMPTZ NOT NULL DEFAULT now()
)"""

_SQLITE_TABLE = """
CREATE TABLE IF NOT EXISTS schema_migrations (
    version    INTEGER PRIMARY KEY,
    name       TEXT    NOT NULL,
    applied_at TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
)"""


# A migration may rewrite a whole table (partitioning the conversation log moves every
# row): it runs for as long as that takes, not the connection's timeout for a query.
MIGRATION_TIMEOUT_S = 6 * 3600.0


async def migrate_postgres(connection: Any, migrations: list[Migration] | None = None) -> list[int]:
    """Apply pending migrations on an asyncpg connection; return the versions applied."""
    pending = load_migrations("postgres") if migrations is None else migrations
    async with connection.transaction():
        await connection.execute(
            "SELECT pg_advisory_xact_lock($1)", ADVISORY_LOCK_KEY, timeout=MIGRATION_TIMEOUT_S
        )
        await connection.execute(_PG_TABLE)
        rows = await connection.fetch("SELECT version FROM schema_migrations")
        done = {int(row["version"]) for row in rows}
        applied: list[int] = []
        for migration in pending:
            if migration.version in done:
                continue
            await connection.execute(migration.sql, timeout=MIGRATION_TIMEOUT_S)
            await connection.execute(
                "INSERT INTO schema_migrations (version, name) VALUES ($1, $2)",
                migration.version,
                migration.name,
            )
            applied.append(migration.version)
    return applied


def _statements(sql: str) -> list[str]:
    """Split a script into complete statements (semicolons inside strings are kept)."""
    statements: list[str] = []
    current = ""
    for piece in sql.split(";"):
        current += piece + ";"
        if sqlite3.complete_statement(current):
            if current.strip() != ";":
                statements.append(current)
            current = ""
    return statements


def migrate_sqlite(
    connection: sqlite3.Connection, migrations: list[Migration] | None = None
) -> list[int]:
    """Apply pending migrations in one IMMEDIATE transaction (the write lock serialises
    concurrent migrators). The connection must be in autocommit mode
    (``isolation_level=None``). Return the versions applied."""
    pending = load_migrations("sqlite") if migrations is None else migrations
    connection.execute("BEGIN IMMEDIATE")
    try:
        connection.execute(_SQLITE_TABLE)
        done = {int(row[0]) for row in connection.execute("SELECT version FROM schema_migrations")}
        applied: list[int] = []
        for migration in pending:
            if migration.version in done:
                continue
            for statement in _statements(migration.sql):
                connection.execute(statement)
            connection.execute(
                "INSERT INTO schema_migrations (version, name) VALUES (?, ?)",
                (migration.version, migration.name),
            )
            applied.append(migration.version)
        connection.execute("COMMIT")
    except BaseException:
        if connection.in_transaction:
            connection.execute("ROLLBACK")
        raise
    return applied
