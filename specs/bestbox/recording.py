"""Recording rules: the aggregations dashboards read on every refresh."""

from __future__ import annotations

from specs.bestbox.metrics import TTFT_BUCKETS
from stackgen.spec import RecordingRule, RecordingTest, Sample
from stackgen.spec.scenarios import counter, histogram

GROUP = "bestbox_recording"
API = {"job": "agent-api", "instance": "agent-api:8000"}

requests_by_agent = RecordingRule(
    record="agent_type:agent_requests:rate5m",
    expr="sum by (agent_type) (rate(agent_requests_total[5m]))",
    group=GROUP,
    test=RecordingTest(
        interval="15s",
        series={
            'agent_requests_total{job="agent-api",instance="agent-api:8000",'
            'agent_type="erp",status="success"}': counter(3, 3, 20, 40),
            'agent_requests_total{job="agent-api",instance="agent-api:8000",'
            'agent_type="erp",status="error"}': counter(0, 0, 20, 40),
            'agent_requests_total{job="agent-api",instance="agent-api:8000",'
            'agent_type="crm",status="success"}': counter(6, 6, 20, 40),
        },
        at="9m",
        expect=(
            Sample(labels={"agent_type": "erp"}, value=0.2),
            Sample(labels={"agent_type": "crm"}, value=0.4),
        ),
    ),
)

turn_error_ratio = RecordingRule(
    record="bestbox:agent_requests_errors:ratio_rate5m",
    expr=(
        'sum(rate(agent_requests_total{status="error"}[5m])) / sum(rate(agent_requests_total[5m]))'
    ),
    group=GROUP,
    test=RecordingTest(
        interval="15s",
        series={
            'agent_requests_total{job="agent-api",instance="agent-api:8000",'
            'agent_type="oa",status="success"}': counter(9, 9, 20, 40),
            'agent_requests_total{job="agent-api",instance="agent-api:8000",'
            'agent_type="oa",status="error"}': counter(1, 1, 20, 40),
        },
        at="9m",
        expect=(Sample(value=0.1),),
    ),
)

ttft_p95_by_agent = RecordingRule(
    record="agent_type:agent_ttft_seconds:p95_5m",
    expr=(
        "histogram_quantile(0.95, sum by (le, agent_type) (rate(agent_ttft_seconds_bucket[5m])))"
    ),
    group=GROUP,
    test=RecordingTest(
        interval="15s",
        # Every first token between 1 s and 1.5 s: P95 interpolates to 1 + 0.95 * 0.5.
        series=histogram(
            "agent_ttft_seconds",
            TTFT_BUCKETS,
            {**API, "agent_type": "it_ops"},
            before={1.5: 4},
            after={1.5: 4},
            fault_step=20,
            steps=40,
        ),
        at="9m",
        expect=(Sample(labels={"agent_type": "it_ops"}, value=1.475),),
    ),
)

RECORDING_RULES = (requests_by_agent, turn_error_ratio, ttft_p95_by_agent)
