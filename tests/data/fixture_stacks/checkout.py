"""A stack with every rules-side part, each once: a counter and a histogram, a recording
rule, an alert with its fault test, an SLO, a runbook for each, a dashboard panel,
Alertmanager routing and Grafana, and the Kubernetes target (two checkout replicas,
without a per-pod volume).

No collector, Jaeger or compose: those renderers write nothing for it.
"""

from __future__ import annotations

from stackgen.spec import (
    SLO,
    Alert,
    AlertTest,
    Dashboard,
    Datasource,
    DatasourceType,
    Grafana,
    Label,
    LatencySLI,
    Metric,
    MetricType,
    Panel,
    PanelKind,
    PrometheusSettings,
    PromQuery,
    RecordingRule,
    RecordingTest,
    Runbook,
    RunbookQuery,
    Sample,
    Scrape,
    Service,
    Severity,
    Stack,
    Threshold,
    alert_threshold,
)
from stackgen.spec.alerting import AlertRouting, Inhibition, Receiver
from stackgen.spec.scale_out import KubernetesTarget, RemoteWrite, ScaleOut, Workload
from stackgen.spec.scenarios import counter

ERROR_RATIO_LIMIT = 0.1
FAULT = 20  # at 15 s a sample: the fault begins 5 minutes in
JOB = {"job": "checkout", "instance": "checkout:8080"}


def _selector(name: str, **labels: str) -> str:
    text = ",".join(f'{key}="{value}"' for key, value in {**JOB, **labels}.items())
    return f"{name}{{{text}}}"


checkout = Service(
    name="checkout",
    description="The checkout service.",
    host="checkout",
    port=8080,
    scrape=Scrape(path="/metrics", interval="15s"),
    critical=True,
)
prometheus = Service(
    name="prometheus",
    description="Prometheus.",
    host="prometheus",
    port=9090,
    scrape=Scrape(path="/metrics"),
)
alertmanager = Service(
    name="alertmanager",
    description="Alertmanager.",
    host="alertmanager",
    port=9093,
)
grafana = Service(name="grafana", description="Grafana.", host="grafana", port=3000)

status = Label(name="status", description="How the checkout ended.", values=("ok", "error"))
orders = Metric(
    name="checkout_orders",
    type=MetricType.COUNTER,
    help="Checkouts attempted, by outcome.",
    labels=(status,),
    service=checkout.name,
)
duration = Metric(
    name="checkout_duration_seconds",
    type=MetricType.HISTOGRAM,
    unit="seconds",
    help="Time from the pay button to the confirmation.",
    buckets=(0.25, 0.5, 1.0, 2.5),
    service=checkout.name,
)

order_rate = RecordingRule(
    record="status:checkout_orders:rate5m",
    expr="sum by (status) (rate(checkout_orders_total[5m]))",
    group="checkout_recording",
    test=RecordingTest(
        interval="1m",
        series={_selector("checkout_orders_total", status="ok"): "0+60x10"},
        at="10m",
        expect=(Sample(labels={"status": "ok"}, value=1.0),),
    ),
)

high_error_ratio = Alert(
    name="CheckoutErrors",
    group="checkout_alerts",
    expr=(
        'sum(rate(checkout_orders_total{status="error"}[1m]))'
        f" / sum(rate(checkout_orders_total[1m])) > {ERROR_RATIO_LIMIT:g}"
    ),
    for_="1m",
    severity=Severity.CRITICAL,
    summary="More than 10% of checkouts fail",
    description="{{ $value | humanizePercentage }} of checkouts failed over the last minute.",
    runbook="checkout-errors",
    dashboard="checkout-overview",
    labels={"component": "checkout"},
    test=AlertTest(
        interval="15s",
        series={
            _selector("checkout_orders_total", status="ok"): counter(9, 9, FAULT, FAULT + 12),
            _selector("checkout_orders_total", status="error"): counter(0, 3, FAULT, FAULT + 12),
        },
        fault_at="5m",
        fires_within="2m",
        value=0.25,
        # 1 failure in 11: 9%, under the 10% line.
        near_miss={
            _selector("checkout_orders_total", status="ok"): counter(10, 10, FAULT, FAULT + 12),
            _selector("checkout_orders_total", status="error"): counter(0, 1, FAULT, FAULT + 12),
        },
    ),
)

fast_checkout = SLO(
    name="checkout-under-1s",
    description="Checkouts confirmed within 1 s.",
    objective=99.0,
    period="30d",
    sli=LatencySLI(metric="checkout_duration_seconds", threshold=1.0),
    runbook="slo-checkout-latency",
)

runbooks = (
    Runbook(
        anchor="checkout-errors",
        title="Checkouts failing",
        meaning="Customers cannot pay: one checkout in ten fails.",
        causes=("The payment provider is down.",),
        steps=("Check the payment provider's status page.",),
        queries=(
            RunbookQuery(
                title="Failing checkouts per second",
                promql='sum(rate(checkout_orders_total{status="error"}[5m]))',
            ),
        ),
        escalation="Page the payments team if it lasts 15 minutes.",
    ),
    Runbook(
        anchor="slo-checkout-latency",
        title="Checkouts slower than 1 s",
        meaning="The latency error budget is burning.",
        causes=("The database is slow.",),
        steps=("Look at the slowest checkouts' traces.",),
        escalation="Ticket the checkout team.",
    ),
)

overview = Dashboard(
    uid="checkout-overview",
    name="checkout-overview",
    title="Checkout overview",
    description="How checkouts are going.",
    tags=("checkout",),
    panels=(
        Panel(
            title="Error ratio",
            kind=PanelKind.TIMESERIES,
            description="Share of checkouts that failed.",
            datasource="prometheus",
            queries=(
                PromQuery(
                    expr='sum(rate(checkout_orders_total{status="error"}[$__rate_interval]))'
                    " / sum(rate(checkout_orders_total[$__rate_interval]))",
                    legend="failed",
                ),
            ),
            unit="percentunit",
            thresholds=(
                Threshold(color="green"),
                Threshold(color="red", value=alert_threshold(high_error_ratio)),
            ),
            threshold_line=True,
            width=12,
            height=8,
        ),
    ),
    time_from="6h",
    refresh="1m",
)

stack = Stack(
    name="checkout",
    metrics=(orders, duration),
    recording_rules=(order_rate,),
    alerts=(high_error_ratio,),
    slos=(fast_checkout,),
    services=(checkout, prometheus, alertmanager, grafana),
    prometheus=PrometheusSettings(
        scrape_interval="15s",
        evaluation_interval="15s",
        retention="15d",
        external_labels={"cluster": "fixture"},
        alertmanager=alertmanager.name,
    ),
    alerting=AlertRouting(
        receivers=(
            Receiver(name="pager", webhook_url="http://checkout:8080/alerts/critical"),
            Receiver(name="tickets", webhook_url="http://checkout:8080/alerts/warning"),
        ),
        default_receiver="tickets",
        by_severity={Severity.CRITICAL: "pager", Severity.WARNING: "tickets"},
        inhibitions=(Inhibition(equal=("component",)),),
    ),
    grafana=Grafana(
        image="grafana/grafana:12.4.0",
        service=grafana.name,
        folder="Checkout",
        datasources=(
            Datasource(
                uid="prometheus",
                name="Prometheus",
                type=DatasourceType.PROMETHEUS,
                service=prometheus.name,
                default=True,
                time_interval="15s",
            ),
        ),
    ),
    runbooks=runbooks,
    dashboards=(overview,),
    grafana_url="http://localhost:3000",
    runbook_url="http://localhost:8080/runbooks",
    jaeger_url="http://localhost:16686",
    scale_out=ScaleOut(
        replicas={checkout.name: 2},
        prometheus_replicas=2,
        replica_label="replica",
        alertmanager_replicas=3,
        remote_write=(
            RemoteWrite(name="thanos", url="http://thanos-receive:19291/api/v1/receive"),
        ),
        deduplication_window="15s",
        kubernetes=KubernetesTarget(
            namespace="shop",
            labels={"team": "checkout"},
            workloads=(
                Workload(
                    service=checkout.name,
                    image="shop/checkout:1.2.0",
                    environment={"PORT": "8080"},
                    secret_environment=("PAYMENT_API_KEY",),
                    health_path="/ready",
                    memory_limit="256Mi",
                    max_unavailable=1,
                ),
            ),
            datasource_urls={"prometheus": "http://thanos-query:9090"},
        ),
    ),
)
