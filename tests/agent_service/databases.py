"""Fresh audit databases for service tests: a real PostgreSQL database on 127.0.0.1
(created and dropped per use) or a SQLite file, and plain reads of their rows."""

from __future__ import annotations

import asyncio
import json
import sqlite3
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg

ADMIN_DSN = "postgresql://postgres@127.0.0.1:5432/postgres"


@dataclass(frozen=True)
class AuditDatabase:
    backend: str
    database_url: str | None  # None: SQLite
    sqlite_path: Path

    def rows(self, sql: str) -> list[dict[str, Any]]:
        if self.database_url is None:
            with sqlite3.connect(self.sqlite_path) as connection:
                connection.row_factory = sqlite3.Row
                return [_decoded(dict(row)) for row in connection.execute(sql)]
        return asyncio.run(_pg_rows(self.database_url, sql))


async def _pg_rows(dsn: str, sql: str) -> list[dict[str, Any]]:
    connection = await asyncpg.connect(dsn, timeout=5)
    try:
        records = await connection.fetch(sql)
    finally:
        await connection.close()
    return [_decoded(dict(r)) for r in records]


JSON_COLUMNS = {"tool_calls", "agents_used", "metadata"}


def _decoded(row: dict[str, Any]) -> dict[str, Any]:
    """JSON columns as Python values (SQLite stores TEXT, asyncpg returns JSONB text)."""
    return {
        key: json.loads(value) if key in JSON_COLUMNS and isinstance(value, str) else value
        for key, value in row.items()
    }


async def _admin(statement: str) -> None:
    connection = await asyncpg.connect(ADMIN_DSN, timeout=5)
    try:
        await connection.execute(statement)
    finally:
        await connection.close()


def _run_admin(statement: str) -> None:
    """On a fresh event loop in a thread: callers may already be inside an event loop."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(asyncio.run, _admin(statement)).result(timeout=30)


@contextmanager
def scratch_postgres(prefix: str) -> Iterator[str]:
    """The URL of a fresh, empty PostgreSQL database named ``prefix`` and a random
    suffix, dropped afterwards."""
    name = f"{prefix}{uuid.uuid4().hex[:12]}"
    _run_admin(f'CREATE DATABASE "{name}"')
    try:
        yield f"postgresql://postgres@127.0.0.1:5432/{name}"
    finally:
        _run_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextmanager
def audit_database(backend: str, tmp_path: Path) -> Iterator[AuditDatabase]:
    sqlite_path = tmp_path / "audit.sqlite3"
    if backend == "sqlite":
        yield AuditDatabase(backend, None, sqlite_path)
        return
    with scratch_postgres("bestbox_test_") as url:
        yield AuditDatabase(backend, url, sqlite_path)
