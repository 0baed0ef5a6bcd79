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
from pathlib import Path

import asyncpg
import pytest

from agent_service.store.migrate import MIGRATIONS_DIR, migrate_postgres
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


def test_the_committed_script_is_the_bestbox_render(stack: Stack) -> None:
    from tests.conftest import GENERATED

    assert stack.compose is not None and stack.compose.database is not None
    committed = (GENERATED / "postgres/init/10-bestbox-roles.sh").read_text()
    assert committed == script(stack.compose.database)
    assert "owner-secret" not in committed and "PASSWORD '" not in committed


def test_init_creates_the_audit_tables_owned_by_the_agent(scratch: Scratch) -> None:
    result = scratch.run()
    assert result.returncode == 0, result.stderr
    rows = fetch(
        scratch.dsn("postgres"),
        "SELECT tablename, tableowner FROM pg_tables WHERE schemaname = 'public' ORDER BY 1",
    )
    # Every migration of the service (the admin audit and the alert log too), owned by
    # the agent's role.
    assert [(r["tablename"], r["tableowner"]) for r in rows] == [
        ("admin_audit", scratch.db.owner),
        ("alert_notifications", scratch.db.owner),
        ("conversation_log", scratch.db.owner),
        ("user_sessions", scratch.db.owner),
    ]


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
    for table in ("schema_migrations", "admin_audit"):
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
