"""The least a stack can be: one counter of one scraped service, no optional part.

No alerts, SLOs, dashboards, runbooks, Alertmanager, Grafana, collector, Jaeger or
compose: every renderer of an optional part must write nothing for it.
"""

from __future__ import annotations

from stackgen.spec import Metric, MetricType, PrometheusSettings, Scrape, Service, Stack

app = Service(
    name="app",
    description="The one application.",
    host="app",
    port=8080,
    scrape=Scrape(path="/metrics"),
)

jobs_total = Metric(
    name="app_jobs",
    type=MetricType.COUNTER,
    help="Jobs the application finished.",
    service=app.name,
)

stack = Stack(
    name="minimal",
    metrics=(jobs_total,),
    services=(app,),
    prometheus=PrometheusSettings(
        scrape_interval="15s",
        evaluation_interval="15s",
        retention="15d",
        external_labels={},
        alertmanager=None,
    ),
    runbook_url="http://localhost:8080/runbooks",
)
