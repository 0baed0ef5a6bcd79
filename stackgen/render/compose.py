"""generated/docker-compose.yml: the stack as compose runs it.

Each compose service is its spec (image, ports, health check, start-up order...) plus
what the rest of the stack already says: Prometheus' command and retention, the
collector's, Jaeger's and Grafana's images, the mounts of the generated files, Grafana's login
settings and the audit database's roles and connection. Secrets are never written: a
container variable holding one reads ``${VAR:?...}``, which compose substitutes from the
env file (``stackgen secrets`` writes it; ``stackgen apply`` passes it as --env-file) and
refuses to start without.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from stackgen.conventions import (
    ALERTMANAGER_CONFIG_PATH,
    ALERTMANAGER_CONTAINER_DIR,
    COMPOSE_FILE,
    GRAFANA_CONTAINER_DASHBOARDS,
    GRAFANA_CONTAINER_PROVISIONING,
    GRAFANA_DASHBOARDS_DIR,
    JAEGER_CONFIG_PATH,
    JAEGER_CONTAINER_CONFIG,
    OTEL_COLLECTOR_CONFIG_PATH,
    OTEL_COLLECTOR_CONTAINER_CONFIG,
    POSTGRES_CONTAINER_INITDB,
    POSTGRES_INIT_DIR,
    PROMETHEUS_CONFIG_PATH,
    PROMETHEUS_CONTAINER_DIR,
)
from stackgen.output import dump_yaml
from stackgen.spec import HOST_GATEWAY, Compose, ComposeService, Mount, Stack

__all__ = ["Derived", "derived", "env_file_variables", "render", "secret_reference"]

GRAFANA_PROVISIONING_DIR = "grafana/provisioning"


@dataclass
class Derived:
    """What a compose service gets from the rest of the stack."""

    image: str | None = None
    command: list[str] = field(default_factory=list)
    mounts: list[Mount] = field(default_factory=list)
    environment: dict[str, str] = field(default_factory=dict)
    secrets: dict[str, str] = field(default_factory=dict)


def _bind(generated_path: str, target: str) -> Mount:
    return Mount(source=f"./{generated_path}", target=target, read_only=True)


def _prometheus(stack: Stack, out: Derived) -> None:
    config = f"{PROMETHEUS_CONTAINER_DIR}/{PROMETHEUS_CONFIG_PATH.split('/', 1)[1]}"
    out.command = [
        f"--config.file={config}",
        "--storage.tsdb.path=/prometheus",
        f"--storage.tsdb.retention.time={stack.prometheus.retention}",
    ]
    # The whole directory: prometheus.yml reads rules/*.yml relative to itself.
    out.mounts.append(_bind(PROMETHEUS_CONFIG_PATH.split("/", 1)[0], PROMETHEUS_CONTAINER_DIR))


def _alertmanager(out: Derived) -> None:
    config = f"{ALERTMANAGER_CONTAINER_DIR}/{ALERTMANAGER_CONFIG_PATH.split('/', 1)[1]}"
    out.command = [
        f"--config.file={config}",
        "--storage.path=/alertmanager",
        # One instance: no gossip cluster listening on 0.0.0.0:9094.
        "--cluster.listen-address=",
    ]
    out.mounts.append(_bind(ALERTMANAGER_CONFIG_PATH, config))


def _collector(stack: Stack, out: Derived) -> None:
    assert stack.collector is not None
    out.image = stack.collector.image
    out.command = [f"--config={OTEL_COLLECTOR_CONTAINER_CONFIG}"]
    out.mounts.append(_bind(OTEL_COLLECTOR_CONFIG_PATH, OTEL_COLLECTOR_CONTAINER_CONFIG))


def _jaeger(stack: Stack, out: Derived) -> None:
    assert stack.jaeger is not None
    out.image = stack.jaeger.image
    out.command = [f"--config={JAEGER_CONTAINER_CONFIG}"]
    out.mounts.append(_bind(JAEGER_CONFIG_PATH, JAEGER_CONTAINER_CONFIG))


def _grafana(stack: Stack, out: Derived) -> None:
    grafana = stack.grafana
    assert grafana is not None
    out.image = grafana.image
    out.mounts += [
        _bind(GRAFANA_PROVISIONING_DIR, GRAFANA_CONTAINER_PROVISIONING),
        _bind(GRAFANA_DASHBOARDS_DIR, GRAFANA_CONTAINER_DASHBOARDS),
    ]
    out.environment.update(
        {
            "GF_SERVER_ROOT_URL": stack.grafana_url,
            "GF_SECURITY_ADMIN_USER": grafana.admin_user,
            # The audit dashboards show conversations: nobody reads them without a login
            # (an anonymous Viewer role would show them to anyone who can reach Grafana).
            "GF_AUTH_ANONYMOUS_ENABLED": "false",
            "GF_USERS_ALLOW_SIGN_UP": "false",
            # Embedding (an admin UI showing panels in an iframe) only works with
            # Grafana's session cookie, i.e. for signed-in users. The cookie stays
            # SameSite=Lax: the admin UI is on the same site (another port of the same
            # host), so the iframe gets the cookie, while pages of other sites do not
            # (SameSite=None would hand the session to any site that frames Grafana).
            "GF_SECURITY_ALLOW_EMBEDDING": "true",
            "GF_SECURITY_COOKIE_SAMESITE": "lax",
            "GF_SECURITY_COOKIE_SECURE": str(stack.grafana_url.startswith("https")).lower(),
            "GF_ANALYTICS_REPORTING_ENABLED": "false",
        }
    )
    out.secrets["GF_SECURITY_ADMIN_PASSWORD"] = grafana.admin_password_env
    for datasource in grafana.datasources:
        if datasource.password_env:
            # datasources.yaml reads it with Grafana's $VAR expansion.
            out.secrets[datasource.password_env] = datasource.password_env


def _database(compose: Compose, out: Derived) -> None:
    db = compose.database
    assert db is not None
    out.environment.update(
        {
            "POSTGRES_DB": db.database,
            "POSTGRES_USER": db.superuser,
            "AUDIT_MIGRATIONS_DIR": db.migrations_dir,
        }
    )
    out.secrets.update(
        {
            "POSTGRES_PASSWORD": db.superuser_password_env,
            db.owner_password_env: db.owner_password_env,
            db.reader_password_env: db.reader_password_env,
        }
    )
    out.mounts += [
        _bind(POSTGRES_INIT_DIR, POSTGRES_CONTAINER_INITDB),
        Mount(source=db.migrations_source, target=db.migrations_dir, read_only=True),
    ]


def _database_client(stack: Stack, compose: Compose, out: Derived) -> None:
    db = compose.database
    assert db is not None
    service = stack.service(db.service)
    port = service.port if service is not None else 5432
    # No password in the URL: asyncpg (and libpq) read PGPASSWORD.
    out.environment["DATABASE_URL"] = f"postgresql://{db.owner}@{db.service}:{port}/{db.database}"
    out.secrets["PGPASSWORD"] = db.owner_password_env


def derived(stack: Stack, service: ComposeService) -> Derived:
    compose = stack.compose
    assert compose is not None
    out = Derived()
    if service.name == compose.prometheus:
        _prometheus(stack, out)
    if stack.alerting is not None and service.name == stack.prometheus.alertmanager:
        _alertmanager(out)
    if stack.collector is not None and service.name == stack.collector.host:
        _collector(stack, out)
    if stack.jaeger is not None and service.name == stack.jaeger.host:
        _jaeger(stack, out)
    if stack.grafana is not None and service.name == stack.grafana.service:
        _grafana(stack, out)
    if compose.database is not None and service.name == compose.database.service:
        _database(compose, out)
    if compose.database is not None and service.name == compose.database.client:
        _database_client(stack, compose, out)
    return out


def secret_reference(variable: str) -> str:
    """Compose interpolation that fails with a clear message when the variable is unset."""
    return f"${{{variable}:?{variable} is not set: run stackgen secrets}}"


def environment_of(stack: Stack, service: ComposeService) -> dict[str, str]:
    """The container's environment as written in the compose file (sorted)."""
    extra = derived(stack, service)
    environment = {**extra.environment, **service.environment}
    for variable, source in {**extra.secrets, **service.secrets}.items():
        environment[variable] = secret_reference(source)
    return dict(sorted(environment.items()))


def env_file_variables(stack: Stack) -> tuple[str, ...]:
    """Every env-file variable the compose file reads, sorted."""
    compose = stack.compose
    if compose is None:
        return ()
    found = set()
    for service in compose.services:
        found |= set(derived(stack, service).secrets.values()) | set(service.secrets.values())
    return tuple(sorted(found))


def mounts_of(stack: Stack, service: ComposeService) -> list[Mount]:
    return [*derived(stack, service).mounts, *service.mounts]


def _volume(mount: Mount) -> str:
    return f"{mount.source}:{mount.target}" + (":ro" if mount.read_only else "")


def _service(stack: Stack, service: ComposeService) -> dict[str, Any]:
    extra = derived(stack, service)
    entry: dict[str, Any] = {}
    image = service.image or extra.image
    if image:
        entry["image"] = image
    if service.build:
        entry["build"] = {"context": service.build.context, "dockerfile": service.build.dockerfile}
    command = [*extra.command, *service.command]
    if command:
        entry["command"] = command
    environment = environment_of(stack, service)
    if environment:
        entry["environment"] = environment
    if service.ports:
        entry["ports"] = [
            f"{p.host_ip}:{p.host_port}:{p.container}"
            for p in sorted(service.ports, key=lambda p: p.container)
        ]
    mounts = mounts_of(stack, service)
    if mounts:
        entry["volumes"] = [_volume(m) for m in mounts]
    if service.devices:
        entry["devices"] = list(service.devices)
    if service.host_gateway:
        entry["extra_hosts"] = [f"{HOST_GATEWAY}:host-gateway"]
    if service.healthcheck:
        check = service.healthcheck
        entry["healthcheck"] = {
            "test": ["CMD", *check.test],
            "interval": check.interval,
            "timeout": check.timeout,
            "retries": check.retries,
            "start_period": check.start_period,
        }
    if service.depends_on:
        entry["depends_on"] = {
            name: {"condition": str(condition)}
            for name, condition in sorted(service.depends_on.items())
        }
    if service.memory_limit:
        entry["deploy"] = {"resources": {"limits": {"memory": service.memory_limit}}}
    entry["restart"] = service.restart
    return entry


def compose_document(stack: Stack) -> dict[str, Any]:
    compose = stack.compose
    assert compose is not None
    document: dict[str, Any] = {
        "name": compose.project,
        "services": {s.name: _service(stack, s) for s in compose.services},
    }
    volumes = compose.named_volumes()
    if volumes:
        document["volumes"] = {name: {} for name in volumes}
    return document


def render(stack: Stack) -> dict[str, str]:
    compose = stack.compose
    if compose is None:
        return {}
    comment = (
        f"docker compose for the {stack.name} stack. Secrets come from the env file\n"
        f"({compose.env_file} at the repository root, written by `stackgen secrets`):\n"
        "  stackgen apply | status | down        (or, from the repository root:\n"
        f"  docker compose -f generated/{COMPOSE_FILE} --env-file {compose.env_file} up -d)\n"
        "Published ports listen on 127.0.0.1 only unless the spec says otherwise."
    )
    return {COMPOSE_FILE: dump_yaml(compose_document(stack), comment=comment)}
