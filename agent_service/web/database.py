"""Read access to the audit database for the web pages, on either backend, plus the
admin audit table. SQL is written once with ``?`` placeholders; PostgreSQL gets
``$1..$n``. Times go in as aware datetimes and come out as aware UTC datetimes. Text
goes in and comes out as users wrote it: parameters are escaped and rows decoded
(agent_service.store.escaping), so NUL or a lone surrogate is stored and read back."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal, Protocol

import asyncpg

from agent_service.store import AuditStore, PostgresStore, SqliteStore
from agent_service.store.base import StoreUnavailable, utc
from agent_service.store.escaping import escape_args, unescape_row
from agent_service.store.sqlite import iso

__all__ = [
    "AdminAuditEntry",
    "Database",
    "Dialect",
    "PostgresDatabase",
    "SqliteDatabase",
    "database_for",
    "recent_admin_actions",
    "record_admin_action",
]

Dialect = Literal["postgres", "sqlite"]
Row = dict[str, Any]

# What "PostgreSQL is down or unreachable" looks like through asyncpg.
_PG_DOWN = (
    OSError,
    TimeoutError,
    asyncpg.PostgresConnectionError,
    asyncpg.CannotConnectNowError,
    asyncpg.InterfaceError,
)


class Database(Protocol):
    dialect: Dialect

    async def fetch(self, sql: str, args: Sequence[Any] = ()) -> list[Row]: ...

    async def execute(self, sql: str, args: Sequence[Any] = ()) -> None: ...

    def batches(self, sql: str, args: Sequence[Any], size: int) -> AsyncIterator[list[Row]]:
        """The rows of one query, ``size`` at a time from a server-side cursor: one pass
        over the data, one batch in memory."""

    def param_time(self, moment: datetime) -> Any:
        """A datetime as this backend compares it."""

    def read_time(self, value: Any) -> datetime | None: ...


def _numbered(sql: str) -> str:
    """``?`` -> ``$1``, ``$2``... (our SQL has no ``?`` inside literals)."""
    pieces = sql.split("?")
    out = [pieces[0]]
    for index, piece in enumerate(pieces[1:], start=1):
        out.append(f"${index}{piece}")
    return "".join(out)


class PostgresDatabase:
    dialect: Dialect = "postgres"

    def __init__(self, store: PostgresStore) -> None:
        self.store = store

    async def fetch(self, sql: str, args: Sequence[Any] = ()) -> list[Row]:
        pool = await self.store.open()
        try:
            async with pool.acquire(timeout=self.store.connect_timeout_s) as connection:
                records = await connection.fetch(_numbered(sql), *escape_args(args))
        except _PG_DOWN as error:
            raise StoreUnavailable(f"PostgreSQL unavailable: {error!r}") from error
        return [unescape_row(dict(record)) for record in records]

    async def execute(self, sql: str, args: Sequence[Any] = ()) -> None:
        pool = await self.store.open()
        try:
            async with pool.acquire(timeout=self.store.connect_timeout_s) as connection:
                await connection.execute(_numbered(sql), *escape_args(args))
        except _PG_DOWN as error:
            raise StoreUnavailable(f"PostgreSQL unavailable: {error!r}") from error

    async def batches(self, sql: str, args: Sequence[Any], size: int) -> AsyncIterator[list[Row]]:
        pool = await self.store.open()
        # A cursor lives in a transaction; the connection is held until the last batch.
        async with pool.acquire(timeout=self.store.connect_timeout_s) as connection:
            async with connection.transaction(readonly=True):
                cursor = await connection.cursor(_numbered(sql), *escape_args(args))
                while True:
                    records = await cursor.fetch(size)
                    if not records:
                        return
                    yield [unescape_row(dict(record)) for record in records]
                    if len(records) < size:
                        return

    def param_time(self, moment: datetime) -> Any:
        return utc(moment)

    def read_time(self, value: Any) -> datetime | None:
        return utc(value) if isinstance(value, datetime) else None


class SqliteDatabase:
    """Its own short-lived connections (WAL: readers never block the audit writer)."""

    dialect: Dialect = "sqlite"

    def __init__(self, path: Path, busy_timeout_s: float = 5.0) -> None:
        self.path = path
        self.busy_timeout_s = busy_timeout_s

    def _run(self, sql: str, args: Sequence[Any], *, write: bool) -> list[Row]:
        connection = sqlite3.connect(self.path, timeout=self.busy_timeout_s)
        try:
            connection.row_factory = sqlite3.Row
            cursor = connection.execute(sql, escape_args(args))
            rows = [unescape_row(dict(row)) for row in cursor.fetchall()]
            if write:
                connection.commit()
            return rows
        except sqlite3.OperationalError as error:
            raise StoreUnavailable(f"SQLite unavailable: {error}") from error
        finally:
            connection.close()

    async def fetch(self, sql: str, args: Sequence[Any] = ()) -> list[Row]:
        return await asyncio.to_thread(self._run, sql, args, write=False)

    async def execute(self, sql: str, args: Sequence[Any] = ()) -> None:
        await asyncio.to_thread(self._run, sql, args, write=True)

    async def batches(self, sql: str, args: Sequence[Any], size: int) -> AsyncIterator[list[Row]]:
        connection = await asyncio.to_thread(
            sqlite3.connect, self.path, timeout=self.busy_timeout_s, check_same_thread=False
        )
        try:
            connection.row_factory = sqlite3.Row
            cursor = await asyncio.to_thread(connection.execute, sql, escape_args(args))
            while True:
                rows = await asyncio.to_thread(cursor.fetchmany, size)
                if not rows:
                    return
                yield [unescape_row(dict(row)) for row in rows]
                if len(rows) < size:
                    return
        except sqlite3.OperationalError as error:
            raise StoreUnavailable(f"SQLite unavailable: {error}") from error
        finally:
            await asyncio.to_thread(connection.close)

    def param_time(self, moment: datetime) -> Any:
        return iso(moment)

    def read_time(self, value: Any) -> datetime | None:
        if not isinstance(value, str) or not value:
            return None
        return datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(UTC)


def database_for(store: AuditStore) -> Database:
    if isinstance(store, PostgresStore):
        return PostgresDatabase(store)
    if isinstance(store, SqliteStore):
        return SqliteDatabase(store.path)
    raise TypeError(f"no web database for {type(store).__name__}")


# -- the admin audit table ---------------------------------------------------------------


@dataclass(frozen=True)
class AdminAuditEntry:
    at: datetime | None
    username: str
    role: str | None
    action: str
    target: str | None
    ip: str | None


async def record_admin_action(
    db: Database,
    *,
    username: str,
    role: str | None,
    action: str,
    target: str | None,
    ip: str | None,
    at: datetime | None = None,
) -> None:
    """Raise StoreUnavailable when it cannot be written: callers refuse the action then."""
    await db.execute(
        "INSERT INTO admin_audit (at, username, role, action, target, ip) "
        "VALUES (?, ?, ?, ?, ?, ?)",
        (
            db.param_time(at or datetime.now(UTC)),
            username[:64],
            role,
            action,
            target,
            (ip or "")[:64] or None,
        ),
    )


async def recent_admin_actions(db: Database, limit: int = 200) -> list[AdminAuditEntry]:
    rows = await db.fetch(
        "SELECT at, username, role, action, target, ip FROM admin_audit "
        "ORDER BY at DESC, id DESC LIMIT ?",
        (limit,),
    )
    return [
        AdminAuditEntry(
            db.read_time(r["at"]), r["username"], r["role"], r["action"], r["target"], r["ip"]
        )
        for r in rows
    ]
