"""The payments stack: everything stackgen generates files from."""

from __future__ import annotations

from stackgen.spec import (
    Datasource,
    DatasourceType,
    Grafana,
    PrometheusSettings,
    Severity,
    Stack,
)
from stackgen.spec.alerting import AlertRouting, Receiver

from payments_stack.alerts import ALERTS
from payments_stack.dashboards import DASHBOARDS
from payments_stack.metrics import CATALOG
from payments_stack.runbooks import RUNBOOKS
from payments_stack.services import SERVICES, app
from payments_stack.slos import SLOS

# Every alert posts to the application's webhook; add Slack or email receivers here
# (their secrets go in files, never in the spec).
ALERTING = AlertRouting(
    receivers=(Receiver(name="oncall", webhook_url=f"http://{app.address}/alerts"),),
    default_receiver="oncall",
    by_severity={Severity.CRITICAL: "oncall", Severity.WARNING: "oncall"},
    group_by=("alertname", "severity", "slo"),
)

stack = Stack(
    name="payments",
    metrics=CATALOG,
    alerts=ALERTS,
    slos=SLOS,
    services=SERVICES,
    prometheus=PrometheusSettings(scrape_interval="15s", alertmanager="alertmanager"),
    alerting=ALERTING,
    grafana=Grafana(
        image="grafana/grafana:12.4.0",
        service="grafana",
        datasources=(
            Datasource(
                uid="prometheus",
                name="Prometheus",
                type=DatasourceType.PROMETHEUS,
                service="prometheus",
                default=True,
            ),
        ),
    ),
    dashboards=DASHBOARDS,
    runbooks=RUNBOOKS,
    # Alert annotations link the dashboards under Grafana's URL and the runbooks under
    # the page that shows generated/docs/runbooks.md.
    grafana_url="http://localhost:3000",
    runbook_url="https://docs.example.com/payments/runbooks",
    # `stackgen generate --profile local --out DIR`: the services on 127.0.0.1.
    local_ports={app.name: 18100, "prometheus": 19190, "alertmanager": 19193},
)
