"""The services of the payments stack and how Prometheus reaches them."""

from __future__ import annotations

from stackgen.spec import Scrape, Service

app = Service(
    name="payments-api",
    description="The payments application: it serves /metrics with the catalog's metrics.",
    host="payments-api",
    port=8000,
    scrape=Scrape(path="/metrics"),
    # Watched by ServiceDown-style alerts on its `up` series.
    critical=True,
)
prometheus = Service(
    name="prometheus",
    description="Prometheus: metrics storage, rule evaluation, alerting.",
    host="prometheus",
    port=9090,
    scrape=Scrape(path="/metrics"),
)
alertmanager = Service(
    name="alertmanager",
    description="Alertmanager: routes the alerts to their receivers.",
    host="alertmanager",
    port=9093,
    scrape=Scrape(path="/metrics"),
)
grafana = Service(
    name="grafana",
    description="Grafana: the dashboards.",
    host="grafana",
    port=3000,
)

SERVICES = (app, prometheus, alertmanager, grafana)
