"""A valid spec whose dashboard query the checks refuse: a TTFT p95 panel with
histogram_quantile over an aggregation that drops the le label."""

from specs.bestbox import stack as bestbox
from stackgen.spec import Dashboard, Panel, PanelKind, PromQuery

TTFT_P95 = "histogram_quantile(0.95, sum(rate(agent_ttft_seconds_bucket[$__rate_interval])))"

seed_ttft = Dashboard(
    uid="seed-ttft",
    name="seed-ttft",
    title="Seed: time to first token",
    description="A TTFT panel.",
    panels=(
        Panel(
            title="Requests",
            kind=PanelKind.STAT,
            description="Turns per second.",
            datasource="prometheus",
            queries=(PromQuery(expr="sum(rate(agent_requests_total[$__rate_interval]))"),),
        ),
        Panel(
            title="TTFT p95",
            kind=PanelKind.TIMESERIES,
            description="95th percentile of the time to first token.",
            datasource="prometheus",
            queries=(
                PromQuery(expr="sum(rate(agent_ttft_seconds_count[$__rate_interval]))"),
                PromQuery(expr=TTFT_P95, legend="p95"),
            ),
        ),
    ),
)
stack = bestbox.model_copy(update={"dashboards": (*bestbox.dashboards, seed_ttft)})
