"""The docker-compose deployment: what the Service models cannot say.

A ``ComposeService`` adds to a stack Service (same name) the container details: image
pinned by version (or a build of this repository), command, published ports, mounts,
health check, start-up order and environment. What the rest of the spec already says is
derived by the renderer, never restated here: the collector's, Jaeger's and Grafana's images,
Prometheus' retention, the configuration mounts of the generated files, Grafana's
login settings and the audit database's connection.

Secrets never appear in the spec nor in the generated file: a service names the
variables of the env file (``.env``, written by ``stackgen secrets``) it receives, and
compose substitutes them when it starts the stack.
"""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Annotated, Self

from pydantic import Field, model_validator

from stackgen.spec.base import Duration, SpecModel
from stackgen.spec.collector import PINNED_IMAGE
from stackgen.spec.grafana import ENV_VAR
from stackgen.spec.services import SERVICE_NAME

__all__ = [
    "HOST_GATEWAY",
    "MEMORY_SIZE",
    "AuditDatabase",
    "Build",
    "Compose",
    "ComposeService",
    "Condition",
    "Healthcheck",
    "Mount",
    "PublishedPort",
    "memory_bytes",
]

# The name Docker Desktop gives the host; on Linux it exists only with
# `extra_hosts: ["host.docker.internal:host-gateway"]` (without it the name does not resolve).
HOST_GATEWAY = "host.docker.internal"
# A PostgreSQL identifier the init script may use unquoted.
_SQL_NAME = r"^[a-z_][a-z0-9_]*$"
VOLUME_NAME = r"^[a-z][a-z0-9_-]*$"
# A compose byte size with its unit: 512m, 2g.
MEMORY_SIZE = r"^[1-9][0-9]*[kmg]$"
_UNIT_BYTES = {"k": 1024, "m": 1024**2, "g": 1024**3}


def memory_bytes(size: str) -> int:
    """A MEMORY_SIZE in bytes."""
    return int(size[:-1]) * _UNIT_BYTES[size[-1]]


# A bind-mount source, relative to generated/ (where docker-compose.yml lives).
_BIND_SOURCE = re.compile(r"^\.\.?/")


class Condition(StrEnum):
    STARTED = "service_started"
    HEALTHY = "service_healthy"
    COMPLETED = "service_completed_successfully"


class PublishedPort(SpecModel):
    """A container port published on the host; on loopback unless said otherwise."""

    spec_key = "container"

    container: int = Field(ge=1, le=65535)
    host: int | None = Field(default=None, ge=1, le=65535)  # None: the container port
    # "0.0.0.0" publishes on every interface (reported as `public-port`).
    host_ip: str = Field(default="127.0.0.1", pattern=r"^[0-9.]+$|^[0-9a-fA-F:]+$")

    @property
    def host_port(self) -> int:
        return self.host or self.container


class Mount(SpecModel):
    """A named volume (``source`` is a name), a bind mount (``./`` or ``../``, relative
    to generated/), or a host path (absolute, read-only only: an exporter reading the
    host's /proc or /sys must never be able to write there)."""

    spec_key = "target"

    source: str = Field(min_length=1)
    target: str = Field(pattern=r"^/")
    read_only: bool = False

    @model_validator(mode="after")
    def _source_kind(self) -> Self:
        if self.is_host_path:
            if not self.read_only:
                raise ValueError(f"host path {self.source!r} must be mounted read_only=True")
            return self
        if not (self.is_bind or re.match(VOLUME_NAME, self.source)):
            raise ValueError(
                f"source {self.source!r}: a volume name ([a-z0-9_-]), a path starting "
                "with ./ or ../ (relative to generated/) or an absolute host path"
            )
        return self

    @property
    def is_bind(self) -> bool:
        return bool(_BIND_SOURCE.match(self.source))

    @property
    def is_host_path(self) -> bool:
        return self.source.startswith("/")


class Healthcheck(SpecModel):
    """A command run inside the container (exec form: the image needs the binary)."""

    spec_key = "test"

    test: tuple[str, ...] = Field(min_length=1)
    interval: Duration = "10s"
    timeout: Duration = "5s"
    retries: int = Field(default=5, ge=1)
    start_period: Duration = "10s"


class Build(SpecModel):
    """An image built from this repository (paths relative to generated/)."""

    spec_key = "context"

    context: str = ".."
    dockerfile: str = "Dockerfile"


class AuditDatabase(SpecModel):
    """The PostgreSQL audit log as compose runs it, and the roles its init creates.

    The init script (generated/postgres/init/) creates ``owner`` (the ``client`` service's
    role: it owns the audit tables) and ``reader`` (Grafana's: SELECT on
    ``reader_tables`` and nothing else). Passwords come from the env file.
    """

    spec_key = "service"

    service: str = Field(default="postgres", pattern=SERVICE_NAME)
    database: str = Field(pattern=_SQL_NAME)
    superuser: str = Field(default="postgres", pattern=_SQL_NAME)
    superuser_password_env: str = Field(default="POSTGRES_PASSWORD", pattern=ENV_VAR)
    owner: str = Field(pattern=_SQL_NAME)
    owner_password_env: str = Field(default="DB_OWNER_PASSWORD", pattern=ENV_VAR)
    reader: str = Field(default="grafana_reader", pattern=_SQL_NAME)
    reader_password_env: str = Field(default="GRAFANA_DB_PASSWORD", pattern=ENV_VAR)
    reader_tables: tuple[Annotated[str, Field(pattern=_SQL_NAME)], ...] = Field(min_length=1)
    # Columns of reader_tables the reader may not read (message text, say): Grafana's
    # users are not all entitled to what only an administrator sees elsewhere.
    reader_hidden_columns: dict[
        Annotated[str, Field(pattern=_SQL_NAME)],
        tuple[Annotated[str, Field(pattern=_SQL_NAME)], ...],
    ] = Field(default_factory=dict)
    # Longest statement the reader may run (a runaway dashboard query is cancelled).
    reader_statement_timeout_s: int = Field(default=30, ge=1, le=3600)
    # Tables even the owner may only append to (the service's migrations add a trigger;
    # the init script takes the owner's UPDATE, DELETE and TRUNCATE away).
    append_only_tables: tuple[Annotated[str, Field(pattern=_SQL_NAME)], ...] = ()
    # The compose service that writes the audit log (gets DATABASE_URL and its password).
    client: str = Field(pattern=SERVICE_NAME)
    # The init script's file name in generated/postgres/init/ (the image runs them in
    # name order).
    init_script: str = Field(default="10-roles.sh", pattern=r"^[0-9a-z][0-9a-z_.-]*\.sh$")
    # The client's SQL migrations (relative to generated/), mounted read-only at
    # ``migrations_dir`` in the database container; the init script applies them.
    migrations_source: str = Field(pattern=r"^\.\.?/")
    migrations_dir: str = Field(default="/opt/migrations", pattern=r"^/[^\s]*$")

    @model_validator(mode="after")
    def _distinct_roles(self) -> Self:
        roles = [self.superuser, self.owner, self.reader]
        if len(set(roles)) != len(roles):
            raise ValueError(f"superuser, owner and reader must differ: {roles}")
        envs = [self.superuser_password_env, self.owner_password_env, self.reader_password_env]
        if len(set(envs)) != len(envs):
            raise ValueError(f"each role needs its own password variable: {envs}")
        strays = sorted(set(self.reader_hidden_columns) - set(self.reader_tables))
        if strays:
            raise ValueError(
                f"reader_hidden_columns: {strays} are not reader_tables {list(self.reader_tables)}"
            )
        return self

    def reader_schema(self, schema: dict[str, tuple[str, ...]]) -> dict[str, tuple[str, ...]]:
        """What the reader sees of ``schema``: its tables, without the hidden columns."""
        return {
            table: tuple(c for c in columns if c not in self.reader_hidden_columns.get(table, ()))
            for table, columns in schema.items()
            if table in self.reader_tables
        }


class ComposeService(SpecModel):
    """One compose service. ``name`` is also its host name on the compose network."""

    name: str = Field(pattern=SERVICE_NAME)
    # Pinned by version; None: derived (collector, Grafana) or built (``build``).
    image: str | None = Field(default=None, pattern=PINNED_IMAGE)
    build: Build | None = None
    command: tuple[str, ...] = ()
    ports: tuple[PublishedPort, ...] = ()
    mounts: tuple[Mount, ...] = ()
    healthcheck: Healthcheck | None = None
    depends_on: dict[str, Condition] = Field(default_factory=dict)
    # Non-secret settings only (`inline-secret` reports a password-like name here).
    environment: dict[str, str] = Field(default_factory=dict)
    # Container variable -> env-file variable holding a secret.
    secrets: dict[str, str] = Field(default_factory=dict)
    # Adds extra_hosts host.docker.internal:host-gateway (needed to reach host services
    # on Linux; `missing-host-gateway` reports a service that reaches one without it).
    host_gateway: bool = False
    restart: str = Field(
        default="unless-stopped", pattern=r"^(no|always|on-failure|unless-stopped)$"
    )
    # The uid the image's process runs as, when not root: secret files mounted into it
    # (mode 0600) are given to this uid by `stackgen secrets`, or it could not read them.
    runs_as_uid: int | None = Field(default=None, ge=1)
    # The most memory the container may use ("512m", "2g"): one runaway service must not
    # take the host's memory from the others (`no-memory-limit` reports a missing one).
    memory_limit: str | None = Field(default=None, pattern=MEMORY_SIZE)
    # Host devices the container needs (a GPU exporter reads /dev/kfd and /dev/dri).
    devices: tuple[str, ...] = ()

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        problems = []
        problems += [
            f"device {d!r} is not a path under /dev/"
            for d in self.devices
            if not d.startswith("/dev/")
        ]
        if self.image is not None and self.build is not None:
            problems.append("image and build: give one")
        for variable, source in self.secrets.items():
            if not re.match(ENV_VAR, variable) or not re.match(ENV_VAR, source):
                problems.append(f"secrets[{variable}]: names must match {ENV_VAR}")
            if variable in self.environment:
                problems.append(f"secrets[{variable}]: also set in environment")
        if self.name in self.depends_on:
            problems.append("depends_on: a service cannot depend on itself")
        if problems:
            raise ValueError("; ".join(problems))
        return self


class Compose(SpecModel):
    """generated/docker-compose.yml: the services compose runs, and their database."""

    spec_key = "project"

    project: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]*$")
    services: tuple[ComposeService, ...] = Field(min_length=1)
    # The compose service running Prometheus (its command comes from Stack.prometheus).
    prometheus: str = Field(default="prometheus", pattern=SERVICE_NAME)
    database: AuditDatabase | None = None
    # The env file holding the secrets, relative to the repository root (git-ignored).
    env_file: str = ".env"

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        problems = []
        names = [s.name for s in self.services]
        for name in sorted({n for n in names if names.count(n) > 1}):
            problems.append(f"services: {name!r} is defined {names.count(name)} times")
        by_name = {s.name: s for s in self.services}
        for service in self.services:
            for other, condition in service.depends_on.items():
                target = by_name.get(other)
                where = f"services[{service.name}].depends_on[{other}]"
                if target is None:
                    problems.append(f"{where}: no compose service {other!r}")
                elif condition is Condition.HEALTHY and target.healthcheck is None:
                    problems.append(
                        f"{where}: service_healthy, but {other} has no healthcheck "
                        "(compose would wait forever)"
                    )
        if self.prometheus not in by_name:
            problems.append(f"prometheus: {self.prometheus!r} is not a compose service")
        if self.database is not None:
            for field, name in (
                ("service", self.database.service),
                ("client", self.database.client),
            ):
                if name not in by_name:
                    problems.append(f"database.{field}: {name!r} is not a compose service")
        if problems:
            raise ValueError("; ".join(problems))
        return self

    def service(self, name: str) -> ComposeService | None:
        return next((s for s in self.services if s.name == name), None)

    def named_volumes(self) -> tuple[str, ...]:
        return tuple(
            sorted(
                {
                    m.source
                    for s in self.services
                    for m in s.mounts
                    if not (m.is_bind or m.is_host_path)
                }
            )
        )
