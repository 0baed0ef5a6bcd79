"""generated/.env.example: every variable the compose file reads from the env file.

Values stay empty: `stackgen secrets` writes the real file (.env at the repository
root, mode 0600, git-ignored) with a random value for each.
"""

from __future__ import annotations

from stackgen.conventions import ENV_EXAMPLE_FILE
from stackgen.output import generated_notice
from stackgen.render.compose import derived, env_file_variables
from stackgen.secrets import PASSWORD_HASH_SUFFIX
from stackgen.spec import Stack
from stackgen.spec.alerting import token_variable

__all__ = ["render", "variable_descriptions"]


def variable_descriptions(stack: Stack) -> dict[str, str]:
    """What each env-file variable is, and which compose services read it."""
    compose = stack.compose
    if compose is None:
        return {}
    readers: dict[str, list[str]] = {}
    for service in compose.services:
        for variable, source in {**derived(stack, service).secrets, **service.secrets}.items():
            readers.setdefault(source, []).append(f"{service.name} ({variable})")
    known: dict[str, str] = {}
    if compose.database is not None:
        db = compose.database
        known[db.superuser_password_env] = (
            f"password of PostgreSQL's superuser {db.superuser} (the postgres image only)"
        )
        known[db.owner_password_env] = (
            f"password of {db.owner}, the role of {db.client} (owns the audit tables)"
        )
        known[db.reader_password_env] = (
            f"password of {db.reader}, Grafana's read-only role "
            f"(SELECT on {', '.join(db.reader_tables)} only)"
        )
    if stack.grafana is not None:
        known[stack.grafana.admin_password_env] = (
            f"password of Grafana's {stack.grafana.admin_user} user"
        )
    for variable in env_file_variables(stack):
        if variable.endswith(PASSWORD_HASH_SUFFIX):
            password = variable.removesuffix("_HASH")
            known[variable] = (
                f"scrypt hash of {password}, which `stackgen secrets` writes beside it for "
                "you to sign in with (the service only ever sees the hash)"
            )
    if stack.alerting is not None:
        for secret in stack.alerting.token_secrets():
            known[token_variable(secret)] = (
                "bearer token of Alertmanager's webhook calls: `stackgen secrets` writes the "
                f"same value to Alertmanager's secret file {secret}"
            )
    known.setdefault("ADMIN_SESSION_SECRET", "signs /admin session cookies and CSRF tokens")
    return {
        variable: f"{known.get(variable, 'a secret')}; read by {', '.join(readers[variable])}"
        for variable in env_file_variables(stack)
    }


def render(stack: Stack) -> dict[str, str]:
    if stack.compose is None:
        return {}
    lines = [
        f"# {generated_notice()}",
        "# The variables docker-compose.yml reads from the env file. Do not fill in this",
        f"# file: `stackgen secrets` writes {stack.compose.env_file} at the repository root",
        "# (mode 0600, git-ignored, never overwritten) with a random value for each.",
    ]
    for variable, description in variable_descriptions(stack).items():
        lines += ["", f"# {description}", f"{variable}="]
    return {ENV_EXAMPLE_FILE: "\n".join(lines) + "\n"}
