"""generated/postgres/init/<AuditDatabase.init_script>: the audit database's roles and schema.

The postgres image runs it once, on an empty data directory, from
/docker-entrypoint-initdb.d (it sources ``.sh`` files that are not executable, so the
script changes no shell options). It creates the client service's role (it owns the audit
tables) and Grafana's read-only role (SELECT on the audit tables only), then applies the
client's migrations as the owner (they are idempotent; the service records them
in schema_migrations when it starts), and takes UPDATE, DELETE and TRUNCATE on the
append-only tables (admin_audit) away from the owner. Passwords come from the
environment, never from this file. Running it again changes nothing but the passwords.

What keeps Grafana from writing is its privileges: SELECT on the granted tables, no
CREATE on the schema, no TEMPORARY on the database. Its read-only default
(``default_transaction_read_only``) and its ``statement_timeout`` are role defaults a
session can change (``SET ... = off``): they guard against accidents, not against a
client that means to write.
"""

from __future__ import annotations

from stackgen.conventions import POSTGRES_INIT_DIR
from stackgen.output import generated_notice
from stackgen.spec import Stack
from stackgen.spec.compose import AuditDatabase

__all__ = ["render", "script"]

_SQL_ROLES = """\
SELECT format('CREATE ROLE %I', :'owner')
WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = :'owner')
\\gexec
SELECT format('CREATE ROLE %I', :'reader')
WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = :'reader')
\\gexec
ALTER ROLE :"owner" WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD :'owner_password';
ALTER ROLE :"reader" WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD :'reader_password';
-- Defaults, not barriers (a session may SET them otherwise): Grafana cannot write
-- because it holds SELECT only (below), no CREATE on the schema, no TEMPORARY.
ALTER ROLE :"reader" SET default_transaction_read_only = on;
ALTER ROLE :"reader" SET statement_timeout = :'reader_timeout';
-- Only these roles connect; nobody else gets temporary tables.
SELECT format('REVOKE ALL ON DATABASE %I FROM PUBLIC', current_database())
\\gexec
SELECT format('GRANT CONNECT, TEMPORARY ON DATABASE %I TO %I', current_database(), :'owner')
\\gexec
SELECT format('GRANT CONNECT ON DATABASE %I TO %I', current_database(), :'reader')
\\gexec
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
GRANT USAGE, CREATE ON SCHEMA public TO :"owner";
GRANT USAGE ON SCHEMA public TO :"reader";
"""


def _column_grant(table: str, hidden: tuple[str, ...]) -> str:
    """SELECT on every column of ``table`` but the hidden ones, as the migrations made
    it (a column added later is not granted until the script runs again)."""
    excluded = ", ".join(f"'{column}'" for column in hidden)
    return (
        "SELECT format('GRANT SELECT (%s) ON TABLE public.%I TO %I',\n"
        "  string_agg(quote_ident(column_name), ', ' ORDER BY ordinal_position),\n"
        f"  '{table}', :'reader')\n"
        "FROM information_schema.columns\n"
        f"WHERE table_schema = 'public' AND table_name = '{table}'\n"
        f"  AND column_name NOT IN ({excluded})\n"
        "\\gexec\n"
    )


def _grants(db: AuditDatabase) -> str:
    whole = [t for t in db.reader_tables if not db.reader_hidden_columns.get(t)]
    grants = ""
    if whole:
        tables = ", ".join(f"public.{table}" for table in whole)
        grants = f'GRANT SELECT ON TABLE {tables} TO :"reader";\n'
    for table in db.reader_tables:
        hidden = db.reader_hidden_columns.get(table)
        if hidden:
            grants += _column_grant(table, hidden)
    if not db.append_only_tables:
        return grants
    append_only = ", ".join(f"public.{table}" for table in db.append_only_tables)
    return (
        grants + "-- Append-only even for the owner: its migrations add a trigger refusing\n"
        "-- UPDATE and DELETE; its role keeps INSERT and SELECT only.\n"
        f'REVOKE UPDATE, DELETE, TRUNCATE ON TABLE {append_only} FROM :"owner";\n'
    )


def _hidden_note(db: AuditDatabase) -> str:
    hidden = [f"{t}.{c}" for t, columns in db.reader_hidden_columns.items() for c in columns]
    return f" (not {', '.join(hidden)})" if hidden else ""


def script(db: AuditDatabase) -> str:
    owner_pw, reader_pw = db.owner_password_env, db.reader_password_env
    # The psql command line as a bash array named after the database (a valid name:
    # database names are lower-case identifiers).
    psql = f"{db.database}_psql"
    append_only = (
        f"# {', '.join(db.append_only_tables)}: append-only, for {db.owner} too.\n"
        if db.append_only_tables
        else ""
    )
    return f"""#!/bin/bash
# {generated_notice()}
# Roles and schema of the {db.database} audit database (run once by the postgres image).
# {db.owner}: {db.client}'s role; owns the audit tables.
# {db.reader}: Grafana; SELECT on {", ".join(db.reader_tables)} and nothing
#   else{_hidden_note(db)}; statements cancelled after {db.reader_statement_timeout_s}s.
{append_only}# Passwords come from ${owner_pw} and ${reader_pw} (the env file), never from here.

: "${{{owner_pw}:?{owner_pw} is not set: run stackgen secrets}}"
: "${{{reader_pw}:?{reader_pw} is not set: run stackgen secrets}}"
{psql}=(psql -v ON_ERROR_STOP=1 --no-psqlrc --quiet
  --username "$POSTGRES_USER" --dbname "$POSTGRES_DB"
  -v owner={db.owner} -v reader={db.reader} -v reader_timeout={db.reader_statement_timeout_s}s)

"${{{psql}[@]}}" -v owner_password="${owner_pw}" \
  -v reader_password="${reader_pw}" <<'SQL' || exit 1
{_SQL_ROLES}SQL

# The migrations of {db.client}, as the owner: the tables belong to the service.
for migration in "${{AUDIT_MIGRATIONS_DIR:-{db.migrations_dir}}}"/*.sql; do
  "${{{psql}[@]}}" -c 'SET ROLE {db.owner}' -f "$migration" || exit 1
done

"${{{psql}[@]}}" <<'SQL' || exit 1
{_grants(db)}SQL
"""


def render(stack: Stack) -> dict[str, str]:
    compose = stack.compose
    if compose is None or compose.database is None:
        return {}
    db = compose.database
    return {f"{POSTGRES_INIT_DIR}/{db.init_script}": script(db)}
