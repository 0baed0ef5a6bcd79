"""The conversation audit store: PostgreSQL when a database URL is given, else SQLite,
and the background writer that batches records into it."""

from __future__ import annotations

from pathlib import Path

from agent_service.store.base import AuditItem, AuditStore, StoreUnavailable
from agent_service.store.migrate import load_migrations, migrate_postgres, migrate_sqlite
from agent_service.store.postgres import PostgresStore
from agent_service.store.sqlite import SqliteStore
from agent_service.store.writer import AuditWriter

__all__ = [
    "AuditItem",
    "AuditStore",
    "AuditWriter",
    "PostgresStore",
    "SqliteStore",
    "StoreUnavailable",
    "load_migrations",
    "migrate_postgres",
    "migrate_sqlite",
    "open_store",
]


def open_store(database_url: str | None, sqlite_path: str | Path) -> AuditStore:
    """PostgresStore for a postgres:// or postgresql:// URL; SqliteStore when none is set."""
    url = (database_url or "").strip()
    if not url:
        return SqliteStore(sqlite_path)
    scheme = url.split("://", 1)[0].lower()
    if scheme in ("postgres", "postgresql"):
        return PostgresStore(url)
    raise ValueError(f"unsupported database URL scheme {scheme!r} (use postgresql://)")
