"""generated/grafana/provisioning/: Grafana's datasources and its dashboards provider.

Datasources carry the spec's explicit UIDs (panels reference them by UID) and cannot be
edited in the UI. The PostgreSQL password is never written: Grafana expands
``$VARIABLE`` in provisioning files from its environment, which compose fills from the
env file. Dashboards come only from generated/grafana/dashboards (no UI edits: the
specs are the source).
"""

from __future__ import annotations

from typing import Any

from stackgen.conventions import (
    GRAFANA_CONTAINER_DASHBOARDS,
    GRAFANA_DASHBOARD_PROVIDERS_FILE,
    GRAFANA_DATASOURCES_FILE,
)
from stackgen.output import dump_yaml
from stackgen.spec import Datasource, DatasourceType, Stack

__all__ = ["datasource_entry", "render"]


def datasource_entry(stack: Stack, datasource: Datasource) -> dict[str, Any]:
    service = stack.service(datasource.service)
    assert service is not None  # the Stack validator guarantees it
    entry: dict[str, Any] = {
        "uid": datasource.uid,
        "name": datasource.name,
        "type": str(datasource.type),
        "access": "proxy",
        "isDefault": datasource.default,
        "editable": False,
    }
    if datasource.type is DatasourceType.POSTGRES:
        # The postgres plugin takes host:port, not a URL.
        entry["url"] = service.address
        entry["user"] = datasource.user
        entry["jsonData"] = {
            "database": datasource.database,
            # On the compose network only; TLS is for a database reached over a network.
            "sslmode": "disable",
            "postgresVersion": 1500,
            "timescaledb": False,
        }
        entry["secureJsonData"] = {"password": f"${{{datasource.password_env}}}"}
    else:
        entry["url"] = f"http://{service.address}"
        if datasource.time_interval:
            entry["jsonData"] = {"timeInterval": datasource.time_interval}
    return entry


def render(stack: Stack) -> dict[str, str]:
    grafana = stack.grafana
    if grafana is None:
        return {}
    datasources = {
        "apiVersion": 1,
        "datasources": [datasource_entry(stack, d) for d in grafana.datasources],
    }
    providers = {
        "apiVersion": 1,
        "providers": [
            {
                "name": stack.name,
                "orgId": 1,
                "folder": grafana.folder,
                "type": "file",
                "disableDeletion": True,
                "allowUiUpdates": False,
                "updateIntervalSeconds": 30,
                "options": {"path": GRAFANA_CONTAINER_DASHBOARDS},
            }
        ],
    }
    return {
        GRAFANA_DATASOURCES_FILE: dump_yaml(
            datasources,
            comment=f"Grafana datasources of the {stack.name} stack (UIDs are what panels "
            "reference).\nPasswords: Grafana expands $VARIABLES from its environment.",
        ),
        GRAFANA_DASHBOARD_PROVIDERS_FILE: dump_yaml(
            providers,
            comment="Dashboards come from generated/grafana/dashboards only: edit the "
            "specs, not the UI.",
        ),
    }
