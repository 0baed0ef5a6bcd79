"""The generated PostgreSQL init script, run by bash against the real PostgreSQL on
127.0.0.1:5432, the way the postgres image runs it (POSTGRES_USER, POSTGRES_DB and the
password variables in the environment).

Each test renders the script for a fresh scratch database and role names with a random
suffix (roles are cluster-wide and other tests use the cluster concurrently), and drops
them afterwards. The local cluster trusts 127.0.0.1, so passwords are not verified at
login here: these tests prove privileges, not authentication.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import asyncpg
import pytest

from agent_service.store.migrate import MIGRATIONS_DIR, migrate_postgres
from agent_service.store.partitions import Month
from stackgen.output import regenerated_by
from stackgen.render.postgres_init import script
from stackgen.spec import Stack
from stackgen.spec.compose import AuditDatabase

HOST = "127.0.0.1"
ADMIN_DSN = f"postgresql://postgres@{HOST}:5432/postgres"


@dataclass(frozen=True)
class Scratch:
    db: AuditDatabase
    path: Path

    def dsn(self, user: str) -> str:
        return f"postgresql://{user}@{HOST}:5432/{self.db.database}"

    def run(self, **overrides: str) -> subprocess.CompletedProcess[str]:
        environment = {
            **os.environ,
            "PGHOST": HOST,
            "PGPORT": "5432",
            "POSTGRES_USER": "postgres",
            "POSTGRES_DB": self.db.database,
            "AUDIT_MIGRATIONS_DIR": str(MIGRATIONS_DIR / "postgres"),
            self.db.owner_password_env: "owner-secret",
            self.db.reader_password_env: "reader-secret",
            **overrides,
        }
        environment = {k: v for k, v in environment.items() if v != "<unset>"}
        return subprocess.run(
            ["bash", str(self.path)],
            env=environment,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )


async def _admin(*statements: str) -> None:
    connection = await asyncpg.connect(ADMIN_DSN, timeout=5)
    try:
        for statement in statements:
            await connection.execute(statement)
    finally:
        await connection.close()


async def _fetch(dsn: str, sql: str) -> list[asyncpg.Record]:
    connection = await asyncpg.connect(dsn, timeout=5)
    try:
        return list(await connection.fetch(sql))
    finally:
        await connection.close()


async def _write(dsn: str, sql: str) -> None:
    """In an explicitly read-write transaction (overriding a read-only default)."""
    connection = await asyncpg.connect(dsn, timeout=5)
    try:
        async with connection.transaction():
            await connection.execute("SET TRANSACTION READ WRITE")
            await connection.execute(sql)
    finally:
        await connection.close()


def fetch(dsn: str, sql: str) -> list[asyncpg.Record]:
    return asyncio.run(_fetch(dsn, sql))


@pytest.fixture
def scratch(stack: Stack, tmp_path: Path) -> Iterator[Scratch]:
    if shutil.which("psql") is None:
        pytest.fail("psql is missing: run `make test` (it installs PostgreSQL)")
    assert stack.compose is not None and stack.compose.database is not None
    suffix = uuid.uuid4().hex[:10]
    db = stack.compose.database.model_copy(
        update={
            "database": f"init_{suffix}",
            "owner": f"agent_{suffix}",
            "reader": f"reader_{suffix}",
        }
    )
    path = tmp_path / "init.sh"
    path.write_text(script(db))
    asyncio.run(_admin(f"CREATE DATABASE {db.database}"))
    try:
        yield Scratch(db, path)
    finally:
        asyncio.run(
            _admin(
                f"DROP DATABASE IF EXISTS {db.database} WITH (FORCE)",
                f"DROP ROLE IF EXISTS {db.owner}",
                f"DROP ROLE IF EXISTS {db.reader}",
            )
        )


def test_the_committed_script_is_the_stack_render(stack: Stack) -> None:
    from tests.conftest import GENERATED

    assert stack.compose is not None and stack.compose.database is not None
    database = stack.compose.database
    committed = (GENERATED / f"postgres/init/{database.init_script}").read_text()
    with regenerated_by(stack.regenerate_command):
        assert committed == script(database)
    assert "owner-secret" not in committed and "PASSWORD '" not in committed


def test_init_creates_the_audit_tables_owned_by_the_agent(scratch: Scratch) -> None:
    result = scratch.run()
    assert result.returncode == 0, result.stderr
    rows = fetch(
        scratch.dsn("postgres"),
        "SELECT tablename, tableowner FROM pg_tables WHERE schemaname = 'public' ORDER BY 1",
    )
    # Every migration of the service (the admin audit, sign-outs and the alert log too), owned by
    # the agent's role; the log's partitions of this month and the next too.
    months = Month.of(datetime.now(UTC)).ahead(1)
    assert [(r["tablename"], r["tableowner"]) for r in rows] == sorted(
        [
            ("admin_audit", scratch.db.owner),
            ("admin_session_revocations", scratch.db.owner),
            ("alert_notifications", scratch.db.owner),
            ("audit_dead_letters", scratch.db.owner),
            ("conversation_log", scratch.db.owner),
            *((month.name, scratch.db.owner) for month in months),
            ("user_sessions", scratch.db.owner),
        ]
    )


def test_the_reader_selects_the_audit_tables_and_nothing_else(scratch: Scratch) -> None:
    assert scratch.run().returncode == 0
    # The agent service starts: its migrator adds schema_migrations, a table Grafana
    # was never granted.
    owner = scratch.dsn(scratch.db.owner)

    async def agent_starts() -> None:
        connection = await asyncpg.connect(owner, timeout=5)
        try:
            await migrate_postgres(connection)
            await connection.execute(
                "INSERT INTO user_sessions (session_id, user_id) VALUES ('s1', 'u1')"
            )
        finally:
            await connection.close()

    asyncio.run(agent_starts())
    reader = scratch.dsn(scratch.db.reader)
    assert fetch(reader, "SELECT session_id FROM user_sessions")[0]["session_id"] == "s1"
    assert fetch(reader, "SELECT count(*) AS n FROM conversation_log")[0]["n"] == 0
    assert fetch(reader, "SELECT user_id, latency_ms, trace_id FROM conversation_log") == []
    # Message text is read in /admin by its admin role, never by Grafana's users.
    for column in ("user_message", "agent_response", "feedback_comment", "*"):
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            fetch(reader, f"SELECT {column} FROM conversation_log")
    # Neither the migrator's bookkeeping nor who-did-what in /admin is Grafana's to read.
    for table in ("schema_migrations", "admin_audit", "admin_session_revocations"):
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            fetch(reader, f"SELECT * FROM {table}")
    # Writes fail twice over: the session is read-only by default, and even a
    # read-write transaction has no INSERT privilege.
    with pytest.raises(asyncpg.ReadOnlySQLTransactionError):
        fetch(reader, "INSERT INTO user_sessions (session_id, user_id) VALUES ('s2', 'u')")

    for statement in (
        "INSERT INTO user_sessions (session_id, user_id) VALUES ('s2', 'u')",
        "UPDATE conversation_log SET user_feedback = 'positive'",
        "CREATE TABLE grafana_was_here (id int)",
    ):
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            asyncio.run(_write(reader, statement))
    privileges = fetch(
        scratch.dsn("postgres"),
        f"SELECT has_table_privilege('{scratch.db.reader}', 'user_sessions', 'UPDATE') AS u, "
        f"has_table_privilege('{scratch.db.reader}', 'conversation_log', 'DELETE') AS d",
    )[0]
    assert (privileges["u"], privileges["d"]) == (False, False)


async def _as(dsn: str, *statements: str) -> list[asyncpg.Record]:
    """Run statements in order on one session; the last one's rows."""
    connection = await asyncpg.connect(dsn, timeout=5)
    try:
        found: list[asyncpg.Record] = []
        for statement in statements:
            found = list(await connection.fetch(statement))
        return found
    finally:
        await connection.close()


def test_admin_audit_is_append_only_even_for_the_agent(scratch: Scratch) -> None:
    assert scratch.run().returncode == 0
    owner = scratch.dsn(scratch.db.owner)
    insert = (
        "INSERT INTO admin_audit (username, role, action, target) "
        "VALUES ('admin', 'admin', 'login', NULL)"
    )
    asyncio.run(_as(owner, insert))
    assert fetch(owner, "SELECT count(*) AS n FROM admin_audit")[0]["n"] == 1
    # The agent's role has no UPDATE, DELETE or TRUNCATE on it...
    for statement in (
        "UPDATE admin_audit SET target = 'rewritten'",
        "DELETE FROM admin_audit",
        "TRUNCATE admin_audit",
    ):
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            asyncio.run(_as(owner, statement))
    privileges = fetch(
        scratch.dsn("postgres"),
        f"SELECT has_table_privilege('{scratch.db.owner}', 'admin_audit', 'UPDATE') AS u, "
        f"has_table_privilege('{scratch.db.owner}', 'admin_audit', 'DELETE') AS d, "
        f"has_table_privilege('{scratch.db.owner}', 'admin_audit', 'TRUNCATE') AS t, "
        f"has_table_privilege('{scratch.db.owner}', 'admin_audit', 'INSERT') AS i",
    )[0]
    assert (privileges["u"], privileges["d"], privileges["t"], privileges["i"]) == (
        False,
        False,
        False,
        True,
    )
    # ...and the trigger refuses even a role that bypasses privileges (the superuser).
    for statement in (
        "UPDATE admin_audit SET target = 'rewritten'",
        "DELETE FROM admin_audit",
        "TRUNCATE admin_audit",
    ):
        with pytest.raises(asyncpg.InsufficientPrivilegeError, match="append-only"):
            asyncio.run(_as(scratch.dsn("postgres"), statement))
    assert fetch(owner, "SELECT target FROM admin_audit")[0]["target"] is None
    # The service starting (its migrator re-applies every migration) keeps it so.
    asyncio.run(_migrate_as(owner))
    with pytest.raises(asyncpg.InsufficientPrivilegeError):
        asyncio.run(_as(owner, "DELETE FROM admin_audit"))


async def _migrate_as(dsn: str) -> None:
    connection = await asyncpg.connect(dsn, timeout=5)
    try:
        await migrate_postgres(connection)
    finally:
        await connection.close()


def test_the_reader_cannot_write_even_with_read_only_switched_off(scratch: Scratch) -> None:
    assert scratch.run().returncode == 0
    reader = scratch.dsn(scratch.db.reader)
    # Its statements are bounded (a role default)...
    (row,) = asyncio.run(_as(reader, "SHOW statement_timeout"))
    assert row["statement_timeout"] == f"{scratch.db.reader_statement_timeout_s}s"
    # ...and read-only is only a default: the session switches it off, and writing
    # still fails, for lack of privileges.
    switched_off = "SET default_transaction_read_only = off"
    (row,) = asyncio.run(_as(reader, switched_off, "SHOW default_transaction_read_only"))
    assert row["default_transaction_read_only"] == "off"
    for statement in (
        "UPDATE conversation_log SET user_feedback = 'positive'",
        "DELETE FROM user_sessions",
        "INSERT INTO admin_audit (username, action) VALUES ('grafana', 'login')",
        "UPDATE audit_dead_letters SET error = ''",
        "CREATE TEMPORARY TABLE grafana_scratch (id int)",
        "CREATE TABLE grafana_was_here (id int)",
    ):
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            asyncio.run(_as(reader, switched_off, statement))


def test_init_is_idempotent(scratch: Scratch) -> None:
    assert scratch.run().returncode == 0
    again = scratch.run()
    assert again.returncode == 0, again.stderr


def test_init_refuses_to_run_without_a_password(scratch: Scratch) -> None:
    result = scratch.run(**{scratch.db.reader_password_env: "<unset>"})
    assert result.returncode != 0
    assert f"{scratch.db.reader_password_env} is not set: run stackgen secrets" in result.stderr
    roles = fetch(
        scratch.dsn("postgres"),
        f"SELECT count(*) AS n FROM pg_roles WHERE rolname = '{scratch.db.owner}'",
    )
    assert roles[0]["n"] == 0
