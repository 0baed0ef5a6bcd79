"""Read-only access to the audit database for reports: PostgreSQL (asyncpg) or SQLite
(the stdlib driver, opened read-only). Queries are written once with ``:name``
parameters; each reader turns them into its driver's placeholders. Rows come back with
their text decoded (agent_service.store.escaping). Nothing here prints a database URL
with its password."""

from __future__ import annotations

import asyncio
import re
import sqlite3
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from datetime import datetime
from pathlib import Path
from typing import Any, Literal, Protocol
from urllib.parse import urlsplit

import asyncpg

from agent_service.store import AuditStore, PostgresStore, SqliteStore
from agent_service.store.escaping import escape_args, unescape_row
from agent_service.store.sqlite import iso

__all__ = [
    "AuditReader",
    "Dialect",
    "ReportSource",
    "ReportSourceError",
    "open_reader",
    "redact_url",
]

Dialect = Literal["postgres", "sqlite"]
# What build_report reads from: the service's store, a postgresql:// URL or a SQLite path.
ReportSource = AuditStore | str | Path
_PARAM = re.compile(r"(?<![:\w]):([a-z_][a-z0-9_]*)\b")


class ReportSourceError(Exception):
    """The audit database cannot be read (unreachable, missing, or not migrated)."""


def redact_url(url: str) -> str:
    """The URL without its password (and without query parameters, which may hold one)."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        return "<unparseable URL>"
    user = f"{parts.username}@" if parts.username else ""
    return f"{parts.scheme}://{user}{host}{port}{parts.path}"


def _scrub(message: str, url: str) -> str:
    """An error message with any password of ``url`` removed, whatever the driver said."""
    try:
        password = urlsplit(url).password
    except ValueError:
        password = None
    return message.replace(password, "***") if password else message


class AuditReader(Protocol):
    dialect: Dialect
    # How the source is named in messages (never with a password).
    where: str

    def bound(self, moment: datetime) -> object:
        """A period bound as the driver compares it with conversation_log.timestamp."""

    async def rows(self, sql: str, params: Mapping[str, object]) -> list[dict[str, Any]]: ...


class PostgresReader:
    dialect: Dialect = "postgres"

    def __init__(self, connection: Any, where: str) -> None:
        self._connection = connection
        self.where = where

    def bound(self, moment: datetime) -> object:
        return moment

    async def rows(self, sql: str, params: Mapping[str, object]) -> list[dict[str, Any]]:
        names: list[str] = []

        def number(match: re.Match[str]) -> str:
            if match[1] not in names:
                names.append(match[1])
            return f"${names.index(match[1]) + 1}"

        text = _PARAM.sub(number, sql)
        values = escape_args([params[n] for n in names])
        records = await self._connection.fetch(text, *values)
        return [unescape_row(dict(record)) for record in records]


class SqliteReader:
    dialect: Dialect = "sqlite"

    def __init__(self, connection: sqlite3.Connection, where: str) -> None:
        self._connection = connection
        self._lock = asyncio.Lock()
        self.where = where

    def bound(self, moment: datetime) -> object:
        return iso(moment)  # the stored text form, which sorts as time

    async def rows(self, sql: str, params: Mapping[str, object]) -> list[dict[str, Any]]:
        def run() -> list[dict[str, Any]]:
            values = dict(zip(params, escape_args(list(params.values())), strict=True))
            cursor = self._connection.execute(sql, values)
            names = [column[0] for column in cursor.description]
            return [unescape_row(dict(zip(names, row, strict=True))) for row in cursor.fetchall()]

        async with self._lock:
            return await asyncio.to_thread(run)


_PG_DOWN = (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError)


@asynccontextmanager
async def _postgres(url: str) -> AsyncIterator[AuditReader]:
    where = f"PostgreSQL {redact_url(url)}"
    try:
        connection = await asyncpg.connect(url, timeout=5, command_timeout=120)
    except (*_PG_DOWN, ValueError) as error:
        reason = _scrub(f"{type(error).__name__}: {error}", url)
        raise ReportSourceError(f"cannot connect to {where}: {reason}") from None
    try:
        reader = PostgresReader(connection, where)
        await _check_schema(reader, url)
        yield reader
    finally:
        await connection.close(timeout=5)


@asynccontextmanager
async def _sqlite(path: Path) -> AsyncIterator[AuditReader]:
    where = f"SQLite {path}"
    if not path.is_file():
        raise ReportSourceError(f"no audit database at {where} (set DATABASE_URL or the path)")
    try:
        connection = await asyncio.to_thread(
            sqlite3.connect, f"{path.resolve().as_uri()}?mode=ro", uri=True, check_same_thread=False
        )
    except sqlite3.Error as error:
        raise ReportSourceError(f"cannot open {where}: {error}") from None
    try:
        reader = SqliteReader(connection, where)
        await _check_schema(reader, "")
        yield reader
    finally:
        await asyncio.to_thread(connection.close)


async def _check_schema(reader: AuditReader, url: str) -> None:
    try:
        await reader.rows("SELECT id FROM conversation_log LIMIT 1", {})
    except (sqlite3.Error, asyncpg.UndefinedTableError) as error:
        raise ReportSourceError(
            f"{reader.where} has no audit tables ({_scrub(str(error), url)}): "
            "run `agent-service migrate` first"
        ) from None


@asynccontextmanager
async def open_reader(source: ReportSource) -> AsyncIterator[AuditReader]:
    """A reader on the store's database, closed on exit; ReportSourceError when the
    database cannot be read."""
    if isinstance(source, PostgresStore):
        source = source.dsn
    elif isinstance(source, SqliteStore):
        source = source.path
    elif not isinstance(source, str | Path):
        raise ReportSourceError(
            f"cannot read reports from a {type(source).__name__}: pass the database URL or "
            "the SQLite path"
        )
    if isinstance(source, str) and "://" in source:
        scheme = source.split("://", 1)[0].lower()
        if scheme not in ("postgres", "postgresql"):
            raise ReportSourceError(
                f"unsupported database URL scheme {scheme!r} (use postgresql://)"
            )
        async with _postgres(source) as reader:
            yield reader
        return
    async with _sqlite(Path(source)) as reader:
        yield reader
