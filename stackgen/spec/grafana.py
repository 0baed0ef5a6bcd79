"""Grafana: its image, how it is reached, and the datasources dashboards query.

Every datasource has an explicit UID: dashboard panels reference datasources by UID, so
a renamed datasource cannot silently break a panel (the UID is what `stackgen check`
resolves). Credentials are never part of the spec: a datasource names the environment
variable its password comes from, and `stackgen secrets` writes that variable's value.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Self

from pydantic import Field, model_validator

from stackgen.spec.base import Duration, SpecModel
from stackgen.spec.collector import PINNED_IMAGE

__all__ = ["Datasource", "DatasourceType", "Grafana"]

ENV_VAR = r"^[A-Z][A-Z0-9_]*$"


class DatasourceType(StrEnum):
    PROMETHEUS = "prometheus"
    JAEGER = "jaeger"
    # Grafana 10.4 / 11 still accept the classic plugin id `postgres` (an alias of
    # grafana-postgresql-datasource), which keeps the file valid for both.
    POSTGRES = "postgres"


class Datasource(SpecModel):
    """A provisioned datasource. ``service`` names the stack Service it reaches."""

    spec_key = "uid"

    uid: str = Field(pattern=r"^[a-zA-Z0-9_-]{1,40}$")
    name: str = Field(min_length=1)
    type: DatasourceType
    service: str = Field(min_length=1)
    default: bool = False
    # PostgreSQL only: the database and the (read-only) role Grafana logs in as, and the
    # environment variable that holds that role's password.
    database: str | None = None
    user: str | None = None
    password_env: str | None = Field(default=None, pattern=ENV_VAR)
    # Prometheus only: the scrape interval Grafana assumes for $__rate_interval.
    time_interval: Duration | None = None

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        postgres_fields = {
            "database": self.database,
            "user": self.user,
            "password_env": self.password_env,
        }
        if self.type is DatasourceType.POSTGRES:
            missing = [name for name, value in postgres_fields.items() if value is None]
            if missing:
                raise ValueError(f"a postgres datasource needs {', '.join(missing)}")
        else:
            given = [name for name, value in postgres_fields.items() if value is not None]
            if given:
                raise ValueError(f"{', '.join(given)}: only for a postgres datasource")
        if self.time_interval is not None and self.type is not DatasourceType.PROMETHEUS:
            raise ValueError("time_interval: only for a prometheus datasource")
        return self


class Grafana(SpecModel):
    """Grafana in the stack: image, service name, datasources, login settings."""

    spec_key = "service"

    image: str = Field(pattern=PINNED_IMAGE)
    # The stack Service that is Grafana (host and container port come from it).
    service: str = "grafana"
    datasources: tuple[Datasource, ...] = Field(min_length=1)
    # Folder the provisioned dashboards land in.
    folder: str = Field(default="Dashboards", min_length=1)
    admin_user: str = Field(default="admin", min_length=1)
    # Environment variable holding the admin password (written by `stackgen secrets`).
    admin_password_env: str = Field(default="GRAFANA_ADMIN_PASSWORD", pattern=ENV_VAR)

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        problems = []
        uids = [d.uid for d in self.datasources]
        for uid in sorted({u for u in uids if uids.count(u) > 1}):
            problems.append(f"datasources: uid {uid!r} is defined {uids.count(uid)} times")
        defaults = [d.uid for d in self.datasources if d.default]
        if len(defaults) > 1:
            problems.append(f"datasources: more than one default ({', '.join(defaults)})")
        if problems:
            raise ValueError("; ".join(problems))
        return self

    def datasource(self, uid: str) -> Datasource | None:
        return next((d for d in self.datasources if d.uid == uid), None)
