"""The BestBox stack: everything stackgen generates files from."""

from __future__ import annotations

from specs.bestbox.alerts import ALERTS
from specs.bestbox.metrics import CATALOG
from specs.bestbox.recording import RECORDING_RULES
from specs.bestbox.services import SERVICES
from specs.bestbox.slos import SLOS
from stackgen.spec import PrometheusSettings, Stack

stack = Stack(
    name="bestbox",
    metrics=CATALOG,
    recording_rules=RECORDING_RULES,
    alerts=ALERTS,
    slos=SLOS,
    services=SERVICES,
    prometheus=PrometheusSettings(
        scrape_interval="15s",
        evaluation_interval="15s",
        retention="30d",
        external_labels={"cluster": "bestbox-local"},
        alertmanager="alertmanager",
    ),
    grafana_url="http://localhost:3001",
    runbook_url="http://localhost:8000/admin/runbooks",
)
