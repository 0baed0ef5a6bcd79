"""The compose models reject what docker compose would choke on, naming the field."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from stackgen.spec import (
    AuditDatabase,
    Build,
    Compose,
    ComposeService,
    Mount,
    PublishedPort,
    SpecError,
    Stack,
)


def database(**overrides: Any) -> AuditDatabase:
    data: dict[str, Any] = {
        "database": "payments",
        "owner": "payments_app",
        "client": "payments-api",
        "reader_tables": ("payments",),
        "migrations_source": "../migrations",
    }
    return AuditDatabase(**{**data, **overrides})


def service(**overrides: Any) -> ComposeService:
    return ComposeService(**{"name": "prometheus", "image": "prom/prometheus:v3.16.0", **overrides})


def compose(*services: ComposeService, **overrides: Any) -> Compose:
    data: dict[str, Any] = {"project": "bestbox", "services": services or (service(),)}
    return Compose(**{"database": None, **data, **overrides})


INVALID: dict[str, tuple[Callable[[], object], str]] = {
    "image-latest": (lambda: service(image="prom/prometheus:latest"), "image"),
    "image-unpinned": (lambda: service(image="prom/prometheus"), "image"),
    "image-and-build": (lambda: service(build=Build()), "image and build: give one"),
    "mount-not-a-path-or-volume": (
        lambda: Mount(source="Data Dir", target="/x"),
        "a volume name ([a-z0-9_-]), a path starting with ./ or ../",
    ),
    "mount-relative-target": (lambda: Mount(source="data", target="data"), "target"),
    "secret-also-in-environment": (
        lambda: service(environment={"X_PASSWORD": "a"}, secrets={"X_PASSWORD": "X_PASSWORD"}),
        "secrets[X_PASSWORD]: also set in environment",
    ),
    "secret-bad-variable": (
        lambda: service(secrets={"PGPASSWORD": "db password"}),
        "secrets[PGPASSWORD]: names must match",
    ),
    "depends-on-itself": (
        lambda: service(depends_on={"prometheus": "service_started"}),
        "depends_on: a service cannot depend on itself",
    ),
    "depends-on-unknown": (
        lambda: compose(service(depends_on={"alertmanager": "service_started"})),
        "services[prometheus].depends_on[alertmanager]: no compose service 'alertmanager'",
    ),
    "healthy-without-healthcheck": (
        lambda: compose(
            service(depends_on={"alertmanager": "service_healthy"}),
            service(name="alertmanager", image="prom/alertmanager:v0.35.0"),
        ),
        "service_healthy, but alertmanager has no healthcheck",
    ),
    "duplicate-service": (
        lambda: compose(service(), service()),
        "services: 'prometheus' is defined 2 times",
    ),
    "no-prometheus-service": (
        lambda: compose(service(name="grafana")),
        "prometheus: 'prometheus' is not a compose service",
    ),
    "database-not-a-service": (
        lambda: compose(service(), database=database()),
        "database.service: 'postgres' is not a compose service",
    ),
    "database-shared-role": (
        lambda: database(owner="grafana_reader"),
        "superuser, owner and reader must differ",
    ),
    "database-shared-password": (
        lambda: database(reader_password_env="DB_OWNER_PASSWORD"),
        "each role needs its own password variable",
    ),
    "database-bad-table": (lambda: database(reader_tables=("users; drop",)), "reader_tables"),
    "database-migrations-not-relative": (
        lambda: database(migrations_source="/srv/migrations"),
        "migrations_source",
    ),
    "port-out-of-range": (lambda: PublishedPort(container=70000), "container"),
    "writable-host-path": (
        lambda: Mount(source="/etc/passwd", target="/x"),
        "host path '/etc/passwd' must be mounted read_only=True",
    ),
    "device-outside-dev": (
        lambda: service(devices=("/tmp/kfd",)),
        "device '/tmp/kfd' is not a path under /dev/",
    ),
}


@pytest.mark.parametrize(("build", "message"), INVALID.values(), ids=INVALID.keys())
def test_invalid_compose_spec(build: Callable[[], object], message: str) -> None:
    with pytest.raises(SpecError) as error:
        build()
    assert message in str(error.value)


def test_a_service_needs_an_image_unless_the_stack_has_one(stack: Stack) -> None:
    assert stack.compose is not None
    services = tuple(
        s.model_copy(update={"image": None}) if s.name == "alertmanager" else s
        for s in stack.compose.services
    )
    data = stack.model_dump()
    data["compose"]["services"] = [s.model_dump() for s in services]
    with pytest.raises(SpecError) as error:
        Stack.model_validate(data)
    assert "compose.services[alertmanager].image: needed" in str(error.value)


def test_ports_default_to_loopback() -> None:
    port = PublishedPort(container=3000, host=3001)
    assert (port.host_ip, port.host_port) == ("127.0.0.1", 3001)
    assert PublishedPort(container=9090).host_port == 9090


def test_named_volumes_are_collected_from_mounts() -> None:
    prometheus = service(
        mounts=(
            Mount(source="prometheus-data", target="/prometheus"),
            Mount(source="./p", target="/p"),
            Mount(source="/proc", target="/host/proc", read_only=True),
        )
    )
    grafana = service(name="grafana", mounts=(Mount(source="grafana-data", target="/g"),))
    assert compose(prometheus, grafana).named_volumes() == ("grafana-data", "prometheus-data")
