"""One deliberately bad input per finding code, and nothing else reported.

Expression codes are fed through a hand-written Prometheus rule file (classic mistakes of
hand-written stacks where there are some) and through an alert of the stack, catalog and
scrape codes through a variant of the BestBox stack, and unreadable-file through a broken
file. A new ``FindingCode`` without a case here fails
``test_every_code_has_exactly_one_case``, and one that no registered check reports (nor is
marked external-only) fails
``test_every_code_is_reported_by_a_registered_check_or_is_external_only``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from prometheus_client import CollectorRegistry, generate_latest

from stackgen.check.codes import FindingCode
from stackgen.check.context import CheckContext
from stackgen.check.documentation import DOCUMENT, finding_codes_markdown
from stackgen.check.external import check_dashboard_file, check_rule_file, grafana_to_promql
from stackgen.check.live import check_exposition, check_live
from stackgen.check.registry import CHECKS
from stackgen.check.static import check_stack
from stackgen.findings import Finding
from stackgen.runtime import CatalogMetrics
from stackgen.spec import (
    Label,
    Metric,
    MetricsFormat,
    MetricSource,
    MetricType,
    PromQuery,
    PublishedPort,
    Scrape,
    Service,
    SQLQuery,
    Stack,
)
from stackgen.spec.alerting import Receiver
from tests.conftest import REPO_ROOT
from tests.stackgen.stack_variants import without_jobs

DASHBOARD = REPO_ROOT / "tests/data/external/dashboard.json"

Check = Callable[[Stack, Path], list[Finding]]
Update = Callable[[Stack], dict[str, Any]]


@dataclass(frozen=True)
class Case:
    code: str
    check: Check
    where: str  # a part of every finding's `where`: the artifact the mistake is in
    # The same mistake made in the stack itself (what the registered checks see).
    in_stack: Update | None = None


def assert_well_formed(findings: list[Finding]) -> None:
    for finding in findings:
        assert finding.where and finding.message and finding.hint, finding
        assert isinstance(finding.code, FindingCode), finding
        assert finding.level is finding.code.level, finding


# -- inputs ---------------------------------------------------------------------------


def write_rules(path: Path, rules: list[dict[str, Any]], group: str = "seed") -> Path:
    path.write_text(yaml.safe_dump({"groups": [{"name": group, "rules": rules}]}))
    return path


def alert(code: str, name: str, expr: str) -> Case:
    """A rule file with one alert."""

    def check(stack: Stack, tmp_path: Path) -> list[Finding]:
        path = write_rules(tmp_path / "rules.yml", [{"alert": name, "expr": expr, "for": "5m"}])
        return check_rule_file(stack, path)

    def in_stack(stack: Stack) -> dict[str, Any]:
        # model_copy skips validation: the spec would refuse some of these expressions.
        alerts = tuple(
            a.model_copy(update={"expr": expr}) if a.name == "HighErrorRate" else a
            for a in stack.alerts
        )
        return {"alerts": alerts}

    return Case(code, check, f"group seed, alert {name}", in_stack)


def variant(code: str, where: str, update: Update) -> Case:
    """The BestBox stack with some fields replaced (models are frozen)."""

    def check(stack: Stack, tmp_path: Path) -> list[Finding]:
        return check_stack(stack.model_copy(update=update(stack)))

    return Case(code, check, where, update)


def broken_rule_file(stack: Stack, tmp_path: Path) -> list[Finding]:
    path = tmp_path / "broken.yml"
    path.write_text("groups:\n  - name: seed\n    rules: [{alert: X, expr: up == 0\n")
    return check_rule_file(stack, path)


def latin1_rule_file(stack: Stack, tmp_path: Path) -> list[Finding]:
    path = tmp_path / "latin1.yml"
    path.write_bytes(
        b"groups:\n- name: seed\n  rules:\n  - alert: X\n    expr: up == 0\n"
        b"    annotations: {summary: 'caf\xe9 down'}\n"
    )
    return check_rule_file(stack, path)


def rule_without_expr(stack: Stack, tmp_path: Path) -> list[Finding]:
    return check_rule_file(stack, write_rules(tmp_path / "rules.yml", [{"alert": "NoExpr"}]))


def dashboard_with_panels_object(stack: Stack, tmp_path: Path) -> list[Finding]:
    path = tmp_path / "dash.json"
    path.write_text(json.dumps({"title": "x", "panels": {"id": 1}}))
    return check_dashboard_file(stack, path)


def alert_with_for(code: str, name: str, expr: str, for_: str | None) -> Case:
    """A rule file with one alert, ``for`` as given (None: no ``for``)."""

    def check(stack: Stack, tmp_path: Path) -> list[Finding]:
        rule: dict[str, Any] = {"alert": name, "expr": expr}
        if for_ is not None:
            rule["for"] = for_
        return check_rule_file(stack, write_rules(tmp_path / "rules.yml", [rule]))

    return Case(code, check, f"group seed, alert {name}")


def with_user_id(stack: Stack) -> dict[str, Any]:
    """agent_requests_total{user_id=...}: one series per user."""
    user_id = Label(name="user_id", description="Who asked.", max_cardinality=1000)
    metrics = tuple(
        m.model_copy(update={"labels": (*m.labels, user_id)}) if m.name == "agent_requests" else m
        for m in stack.metrics
    )
    return {"metrics": metrics}


def with_llm_health_scrape(stack: Stack) -> dict[str, Any]:
    """Scraping llama-server's JSON /health as if it were metrics."""
    health = Scrape(path="/health", format=MetricsFormat.JSON)
    services = tuple(
        s.model_copy(update={"scrape": health}) if s.name == "llm-server" else s
        for s in stack.services
    )
    return {"services": services}


def with_metric_of_unknown_service(stack: Stack) -> dict[str, Any]:
    qdrant_queries = Metric(
        name="vector_search_queries",
        type=MetricType.COUNTER,
        help="Searches served by the vector database.",
        source=MetricSource.EXTERNAL,
        service="qdrant",
    )
    return {"metrics": (*stack.metrics, qdrant_queries)}


def with_metric_of_unscraped_service(stack: Stack) -> dict[str, Any]:
    postgres = Service(
        name="postgres", description="The audit log database.", host="postgres", port=5432
    )
    connections = Metric(
        name="pg_connections",
        type=MetricType.GAUGE,
        help="Open connections to the audit log database.",
        source=MetricSource.EXTERNAL,
        service="postgres",
    )
    return {"metrics": (*stack.metrics, connections), "services": (*stack.services, postgres)}


def without_collector_exporter_job(stack: Stack) -> dict[str, Any]:
    """Prometheus scraping the collector's 8888 but never its exporter on 8889."""
    variant = without_jobs(stack, "otel-collector-exporter")
    return {key: getattr(variant, key) for key in ("services", "metrics", "alerts", "runbooks")}


def without_service_down_runbook(stack: Stack) -> dict[str, Any]:
    return {"runbooks": tuple(r for r in stack.runbooks if r.anchor != "service-down")}


def with_unlinked_runbook(stack: Stack) -> dict[str, Any]:
    orphan = stack.runbooks[0].model_copy(update={"anchor": "cache-full"})
    return {"runbooks": (*stack.runbooks, orphan)}


def live(code: str, where: str, update: Callable[[Stack], dict[str, Any]]) -> Case:
    """A real prometheus_client registry built from a variant of the catalog (what a
    service that drifted from the spec would expose), checked against the real one."""

    def check(stack: Stack, tmp_path: Path) -> list[Finding]:
        registry = CollectorRegistry()
        emitted = stack.model_copy(update=update(stack))
        CatalogMetrics(emitted, registry)
        return check_exposition(stack, generate_latest(registry).decode())

    return Case(code, check, where)


def _replace_metric(stack: Stack, name: str, **changes: Any) -> dict[str, Any]:
    metrics = tuple(m.model_copy(update=changes) if m.name == name else m for m in stack.metrics)
    return {"metrics": metrics}


def without_rag_relevance(stack: Stack) -> dict[str, Any]:
    return {"metrics": tuple(m for m in stack.metrics if m.name != "rag_relevance_score")}


def with_extra_metric(stack: Stack) -> dict[str, Any]:
    cache_hits = Metric(
        name="cache_hits", type=MetricType.COUNTER, help="Cache hits.", service="agent-api"
    )
    return {"metrics": (*stack.metrics, cache_hits)}


def requests_as_gauge(stack: Stack) -> dict[str, Any]:
    return _replace_metric(stack, "agent_requests", type=MetricType.GAUGE)


def feedback_with_channel(stack: Stack) -> dict[str, Any]:
    feedback = next(m for m in stack.metrics if m.name == "user_feedback")
    channel = Label(name="channel", description="Where.", values=("web", "api"))
    return _replace_metric(stack, "user_feedback", labels=(*feedback.labels, channel))


def feedback_with_neutral(stack: Stack) -> dict[str, Any]:
    rating = Label(name="rating", description="Thumbs.", values=("positive", "negative", "x"))
    return _replace_metric(stack, "user_feedback", labels=(rating,))


def _replace_panel(stack: Stack, uid: str, title: str, **changes: Any) -> dict[str, Any]:
    """A dashboard of the stack with one panel changed."""
    dashboards = []
    for dashboard in stack.dashboards:
        if dashboard.uid == uid:
            panels = tuple(
                p.model_copy(update=changes) if p.title == title else p for p in dashboard.panels
            )
            dashboard = dashboard.model_copy(update={"panels": panels})
        dashboards.append(dashboard)
    return {"dashboards": tuple(dashboards)}


def memory_panel_on_loki(stack: Stack) -> dict[str, Any]:
    """A panel pointing at a datasource Grafana does not provision."""
    return _replace_panel(stack, "bestbox-system-health", "Memory", datasource="loki")


def alert_linking_a_missing_dashboard(stack: Stack) -> dict[str, Any]:
    alerts = tuple(
        a.model_copy(update={"dashboard": "bestbox-overview"}) if a.name == "HighErrorRate" else a
        for a in stack.alerts
    )
    return {"alerts": alerts}


def sessions_sql(sql: str) -> Callable[[Stack], dict[str, Any]]:
    def update(stack: Stack) -> dict[str, Any]:
        return _replace_panel(
            stack, "bestbox-user-analytics", "Sessions (24h)", queries=(SQLQuery(sql=sql),)
        )

    return update


# -- many instances of a job ----------------------------------------------------------


def _high_error_rate(expr: str) -> Update:
    def update(stack: Stack) -> dict[str, Any]:
        alerts = tuple(
            a.model_copy(update={"expr": expr}) if a.name == "HighErrorRate" else a
            for a in stack.alerts
        )
        return {"alerts": alerts}

    return update


def per_instance_service_down(stack: Stack) -> dict[str, Any]:
    """A per-instance `up == 0` page: one page per pod of a job."""
    alerts = tuple(
        a.model_copy(update={"expr": 'up{job=~"agent-api|embeddings|llm-server"} == 0'})
        if a.name == "ServiceDown"
        else a
        for a in stack.alerts
    )
    return {"alerts": alerts}


def unsummed_active_sessions(stack: Stack) -> dict[str, Any]:
    """An unsummed gauge of active sessions: one needle per replica."""
    query = PromQuery(expr="active_sessions", instant=True)
    return _replace_panel(stack, "bestbox-system-health", "Active sessions", queries=(query,))


def grafana_on_one_prometheus_replica(stack: Stack) -> dict[str, Any]:
    """Grafana in the cluster reading the Prometheus Service of an HA pair."""
    assert stack.scale_out is not None and stack.scale_out.kubernetes is not None
    kubernetes = stack.scale_out.kubernetes.model_copy(update={"datasource_urls": {}})
    return {"scale_out": stack.scale_out.model_copy(update={"kubernetes": kubernetes})}


def unreachable(stack: Stack, tmp_path: Path) -> list[Finding]:
    # Port 1 on loopback: nothing listens there.
    return check_live(stack, "http://127.0.0.1:1/metrics")


# -- docker-compose cross-checks (each a classic mistake) -------------------------


def _compose_service(stack: Stack, name: str, **changes: Any) -> dict[str, Any]:
    assert stack.compose is not None
    services = tuple(
        s.model_copy(update=changes) if s.name == name else s for s in stack.compose.services
    )
    return {"compose": stack.compose.model_copy(update={"services": services})}


def grafana_without_memory_limit(stack: Stack) -> dict[str, Any]:
    return _compose_service(stack, "grafana", memory_limit=None)


def collector_limit_at_its_limiter(stack: Stack) -> dict[str, Any]:
    """512m: exactly the memory_limiter's limit_mib, no room for anything else."""
    return _compose_service(stack, "otel-collector", memory_limit="512m")


def prometheus_scrapes_localhost(stack: Stack) -> dict[str, Any]:
    """A self-scrape at localhost: not a compose service, not external."""
    services = tuple(
        s.model_copy(update={"host": "localhost"}) if s.name == "prometheus" else s
        for s in stack.services
    )
    return {"services": services}


def _receivers(stack: Stack, *receivers: Receiver) -> dict[str, Any]:
    assert stack.alerting is not None
    return {"alerting": stack.alerting.model_copy(update={"receivers": receivers})}


def alerts_to_the_seed_relay(stack: Stack) -> dict[str, Any]:
    """An alert relay that no part of the stack runs: alerts would reach nobody."""
    assert stack.alerting is not None
    pager, tickets = stack.alerting.receivers
    relay = pager.model_copy(update={"webhook_url": "http://alert-relay:5001/alerts/critical"})
    return _receivers(stack, relay, tickets)


def alerts_to_plain_http_outside(stack: Stack) -> dict[str, Any]:
    """An external endpoint without TLS (the token would cross the network in clear)."""
    assert stack.alerting is not None
    pager, tickets = stack.alerting.receivers
    outside = tickets.model_copy(update={"webhook_url": "http://ops.example.org/alerts"})
    return _receivers(stack, pager, outside)


def prometheus_without_host_gateway(stack: Stack) -> dict[str, Any]:
    """host.docker.internal scrape targets without extra_hosts (fails on Linux)."""
    return _compose_service(stack, "prometheus", host_gateway=False)


def grafana_logs_in_as_the_owner(stack: Stack) -> dict[str, Any]:
    """A datasource logged in as the read-write database user."""
    assert stack.grafana is not None
    datasources = tuple(
        d.model_copy(update={"user": "bestbox_agent"}) if d.uid == "audit-postgres" else d
        for d in stack.grafana.datasources
    )
    return {"grafana": stack.grafana.model_copy(update={"datasources": datasources})}


def grafana_on_every_interface(stack: Stack) -> dict[str, Any]:
    """Publishing "3001:3000": every interface."""
    return _compose_service(
        stack, "grafana", ports=(PublishedPort(container=3000, host=3001, host_ip="0.0.0.0"),)
    )


def literal_password_in_environment(stack: Stack) -> dict[str, Any]:
    """A literal password (Grafana's, bestbox2026) in the compose file."""
    return _compose_service(stack, "jaeger", environment={"ADMIN_PASSWORD": "bestbox2026"})


CASES: list[Case] = [
    alert(
        "promql-syntax",
        "ErrorRateUnbalanced",
        'sum(rate(agent_requests_total{status="error"}[5m])'
        " / sum(rate(agent_requests_total[5m])) > 0.05",
    ),
    # Read from a job of the stack: a name of the stack's that the catalog lacks (a file
    # reading only names of other systems is not judged by the catalog's names).
    alert("unknown-metric", "GPUMemoryHigh", 'gpu_memory_usage_percent{job="llm-server"} > 90'),
    alert("metric-suffix", "NoRequests", "rate(agent_requests[5m]) == 0"),
    alert(
        "undeclared-label",
        "ToolErrorsByAgent",
        "sum by (agent_type) (rate(tool_executions_total[5m])) > 1",
    ),
    alert(
        "unknown-label-value", "TurnsFailing", 'rate(agent_requests_total{status="failed"}[5m]) > 0'
    ),
    alert("unknown-job", "APIDown", 'up{job="bestbox-api"} == 0'),
    alert("rate-on-gauge", "SessionSurge", "rate(active_sessions[5m]) > 1"),
    alert("delta-on-counter", "TurnBurst", "delta(agent_requests_total[10m]) > 100"),
    alert(
        "raw-counter",
        "LowUserSatisfaction",
        'sum(user_feedback_total{rating="positive"}) / sum(user_feedback_total) < 0.7',
    ),
    alert(
        "quantile-not-bucket",
        "SlowTurns",
        "histogram_quantile(0.95, sum(rate(agent_latency_seconds_count[5m]))) > 2",
    ),
    alert(
        "quantile-le-dropped",
        "HighTTFT",
        "histogram_quantile(0.95, sum by (agent_type) (rate(agent_ttft_seconds_bucket[5m]))) > 2",
    ),
    alert(
        "quantile-unaggregated",
        "HighLatencyP95",
        "histogram_quantile(0.95, rate(agent_latency_seconds_bucket[5m])) > 2",
    ),
    alert("short-range", "ErrorSpike", 'rate(agent_requests_total{status="error"}[15s]) > 1'),
    variant("unbounded-label", "metric agent_requests", with_user_id),
    variant("non-prometheus-scrape", "scrape job llm-server", with_llm_health_scrape),
    variant("unknown-service", "metric vector_search_queries", with_metric_of_unknown_service),
    variant("unscraped-metric", "metric pg_connections", with_metric_of_unscraped_service),
    variant(
        "unscraped-exporter",
        "otel collector prometheus exporter otel-collector:8889",
        without_collector_exporter_job,
    ),
    variant("missing-runbook", "alert ServiceDown", without_service_down_runbook),
    variant("unused-runbook", "runbook cache-full", with_unlinked_runbook),
    Case("unreadable-file", broken_rule_file, "broken.yml"),
    Case("not-utf8", latin1_rule_file, "latin1.yml"),
    Case("malformed-rule", rule_without_expr, "group seed, alert NoExpr"),
    Case("malformed-dashboard", dashboard_with_panels_object, "dash.json"),
    alert_with_for("absent-regex", "WorkerGone", 'absent(up{job=~"agent-api|embeddings"})', "5m"),
    alert_with_for(
        "ratio-without-for",
        "ErrorsNow",
        'sum(rate(agent_requests_total{status="error"}[5m])) / sum(rate(agent_requests_total[5m]))'
        " > 0.05",
        None,
    ),
    live("live-missing-metric", "rag_relevance_score", without_rag_relevance),
    live("live-uncatalogued-metric", "cache_hits", with_extra_metric),
    live("live-type-mismatch", "agent_requests", requests_as_gauge),
    live("live-label-mismatch", "user_feedback", feedback_with_channel),
    live("live-label-value", "user_feedback", feedback_with_neutral),
    Case("live-unreachable", unreachable, "127.0.0.1:1"),
    variant("unknown-scrape-host", "scrape job prometheus", prometheus_scrapes_localhost),
    variant("unknown-receiver-host", "alertmanager receiver pager", alerts_to_the_seed_relay),
    variant("no-memory-limit", "compose service grafana", grafana_without_memory_limit),
    variant(
        "memory-limit-below-limiter",
        "compose service otel-collector",
        collector_limit_at_its_limiter,
    ),
    variant("missing-host-gateway", "compose service prometheus", prometheus_without_host_gateway),
    variant(
        "grafana-db-mismatch", "grafana datasource audit-postgres", grafana_logs_in_as_the_owner
    ),
    variant("public-port", "compose service grafana port 3001", grafana_on_every_interface),
    variant(
        "inline-secret",
        "compose service jaeger environment ADMIN_PASSWORD",
        literal_password_in_environment,
    ),
    # Grafana dashboards
    variant(
        "unknown-datasource",
        "dashboard bestbox-system-health: panel 'Memory'",
        memory_panel_on_loki,
    ),
    variant("unknown-dashboard", "alert HighErrorRate", alert_linking_a_missing_dashboard),
    variant(
        "sql-syntax",
        "dashboard bestbox-user-analytics: panel 'Sessions (24h)'",
        sessions_sql("SELECT count(* FROM user_sessions"),
    ),
    variant(
        "sql-unknown-table",
        "dashboard bestbox-user-analytics: panel 'Sessions (24h)'",
        # Audit table names that do not exist in the schema.
        sessions_sql("SELECT count(*) AS sessions FROM sessions"),
    ),
    variant(
        "sql-unknown-column",
        "dashboard bestbox-user-analytics: panel 'Sessions (24h)'",
        sessions_sql("SELECT count(DISTINCT username) AS users FROM user_sessions"),
    ),
    variant(
        "unmatched-operands",
        "alert HighErrorRate",
        _high_error_rate(
            'sum(rate(agent_requests_total{status="error"}[5m]))'
            " / rate(agent_requests_total[5m]) > 0.05"
        ),
    ),
    variant(
        "per-instance-operand",
        "alert HighErrorRate",
        _high_error_rate(
            'sum by (job) (rate(agent_requests_total{status="error"}[5m]))'
            " / on(job) sum by (job, instance) (rate(agent_requests_total[5m])) > 0.05"
        ),
    ),
    variant("per-instance-page", "alert ServiceDown", per_instance_service_down),
    variant(
        "single-replica-datasource",
        "grafana datasource prometheus in Kubernetes",
        grafana_on_one_prometheus_replica,
    ),
    variant(
        "per-instance-stat",
        "dashboard bestbox-system-health: panel 'Active sessions'",
        unsummed_active_sessions,
    ),
    variant(
        "quantile-mixes-instances",
        "alert HighErrorRate",
        _high_error_rate(
            "avg(histogram_quantile(0.95, sum by (le, instance) "
            "(rate(agent_latency_seconds_bucket[5m])))) > 2"
        ),
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[c.code for c in CASES])
def test_bad_input_yields_its_code_only(case: Case, stack: Stack, tmp_path: Path) -> None:
    findings = case.check(stack, tmp_path)
    assert {f.code for f in findings} == {case.code}
    assert all(case.where in f.where for f in findings), findings
    assert_well_formed(findings)


def test_every_code_has_exactly_one_case() -> None:
    codes = [c.code for c in CASES]
    assert len(codes) == len(set(codes)), "a code has two cases"
    assert set(codes) == set(FindingCode)


def test_every_code_is_reported_by_a_registered_check_or_is_external_only(
    stack: Stack,
) -> None:
    """Each registered check on its own, over every case made in the stack: together
    they report every code not marked external-only, and never an external-only one."""
    reported: set[FindingCode] = set()
    for case in CASES:
        if case.in_stack is None:
            continue
        context = CheckContext.of(stack.model_copy(update=case.in_stack(stack)))
        for _, check in CHECKS:
            reported |= {f.code for f in check(context)}
    external = {code for code in FindingCode if code.external_only}
    assert reported & external == set()
    assert reported | external == set(FindingCode)


def test_bestbox_stack_has_no_findings(stack: Stack) -> None:
    assert check_stack(stack) == []


def test_plain_http_outside_the_stack_is_refused(stack: Stack) -> None:
    findings = check_stack(stack.model_copy(update=alerts_to_plain_http_outside(stack)))
    assert [(f.code, f.where) for f in findings] == [
        ("unknown-receiver-host", "alertmanager receiver tickets")
    ]
    assert "https with bearer_token_secret" in findings[0].hint
    assert "agent-api" in findings[0].hint  # the services it could post to


def test_an_external_https_endpoint_with_a_token_file_is_allowed(stack: Stack) -> None:
    assert stack.alerting is not None
    pager, tickets = stack.alerting.receivers
    outside = tickets.model_copy(
        update={"webhook_url": "https://ops.example.org/alerts", "bearer_token_secret": "ops"}
    )
    assert check_stack(stack.model_copy(update=_receivers(stack, pager, outside))) == []
    without_token = outside.model_copy(update={"bearer_token_secret": None})
    findings = check_stack(stack.model_copy(update=_receivers(stack, pager, without_token)))
    assert [f.code for f in findings] == ["unknown-receiver-host"]


def test_the_readme_points_at_the_finding_codes_reference() -> None:
    """The codes' documentation is docs/finding-codes.md, generated from FindingCode; the
    README only links it."""
    text = (REPO_ROOT / "README.md").read_text()
    assert "(docs/finding-codes.md)" in text
    assert not re.search(r"^\| `[a-z-]+` \| (error|warning) \|", text, flags=re.MULTILINE)


def test_the_committed_finding_codes_document_is_generated_from_the_enum() -> None:
    """docs/finding-codes.md is the codes' documentation: `make generate` writes it."""
    assert (REPO_ROOT / DOCUMENT).read_text() == finding_codes_markdown(), (
        "docs/finding-codes.md is stale: run `make generate`"
    )


def test_the_finding_codes_document_lists_every_code_with_its_level() -> None:
    text = finding_codes_markdown()
    for code in FindingCode:
        assert f"| `{code}` | {code.level} | {code.meaning} |" in text


# -- external rule files ---------------------------------------------------------------

CLEAN_RULE_FILES: list[object] = [
    pytest.param(
        [
            {
                "record": "job:agent_requests:rate5m",
                "expr": "sum by (job) (rate(agent_requests_total[5m]))",
            },
            {"alert": "NoTurns", "expr": 'job:agent_requests:rate5m{job="agent-api"} == 0'},
        ],
        id="own-recording-rule-with-its-labels",
    ),
    pytest.param(
        [{"alert": "SlowFirstToken", "expr": "agent_type:agent_ttft_seconds:p95_5m > 2"}],
        id="bestbox-recording-rule",
    ),
    pytest.param(
        [{"alert": "Watchdog", "expr": "vector(1)"}, {"alert": "Always", "expr": 1}],
        id="constant-expressions",
    ),
    pytest.param(
        [
            {
                "record": "team:agent_requests:rate5m",
                "expr": "sum(rate(agent_requests_total[5m]))",
                "labels": {"team": "agents"},
            },
            {"alert": "TeamBusy", "expr": 'team:agent_requests:rate5m{team="agents"} > 10'},
        ],
        id="recording-rule-static-labels",
    ),
    pytest.param(
        [
            {
                "record": "job_le:agent_ttft_seconds_bucket:rate5m",
                "expr": "sum by (job, le) (rate(agent_ttft_seconds_bucket[5m]))",
            },
            {
                "alert": "HighTTFT",
                "expr": "histogram_quantile(0.95, job_le:agent_ttft_seconds_bucket:rate5m) > 2",
            },
        ],
        id="quantile-over-aggregated-bucket-rule",
    ),
]


@pytest.mark.parametrize("rules", CLEAN_RULE_FILES)
def test_clean_rule_file_has_no_findings(
    rules: list[dict[str, Any]], stack: Stack, tmp_path: Path
) -> None:
    assert check_rule_file(stack, write_rules(tmp_path / "rules.yml", rules)) == []


UNREADABLE: list[object] = [
    pytest.param("rules.yml", "groups: [", check_rule_file, id="rules-bad-yaml"),
    pytest.param(
        "rules.yml", "- alert: X\n  expr: up == 0\n", check_rule_file, id="rules-no-groups"
    ),
    pytest.param("dash.json", '{"panels": [', check_dashboard_file, id="dashboard-bad-json"),
    pytest.param("dash.json", "[]", check_dashboard_file, id="dashboard-not-an-object"),
    pytest.param("missing.json", None, check_dashboard_file, id="dashboard-missing"),
]


@pytest.mark.parametrize(("name", "text", "check"), UNREADABLE)
def test_unreadable_file(
    name: str, text: str | None, check: Check, stack: Stack, tmp_path: Path
) -> None:
    path = tmp_path / name
    if text is not None:
        path.write_text(text)
    findings = check(stack, path)
    assert [(f.code, f.where) for f in findings] == [("unreadable-file", str(path))]
    assert_well_formed(findings)


# -- Grafana dashboards ----------------------------------------------------------------

# (panel id, refId) of every target with an expr, and whether it is a Prometheus query.
TARGETS = [
    pytest.param(1, "A", True, id="top-level"),
    pytest.param(3, "A", True, id="in-row-default-datasource"),
    pytest.param(3, "B", True, id="in-row-recording-rule"),
    pytest.param(4, "A", True, id="in-row-bad"),
    pytest.param(6, "A", True, id="stat"),
    pytest.param(5, "B", False, id="postgres-panel"),
    pytest.param(6, "B", False, id="postgres-target-in-prometheus-panel"),
]


def load_dashboard() -> dict[str, Any]:
    document: dict[str, Any] = json.loads(DASHBOARD.read_text())
    return document


def all_panels(panels: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [q for p in panels for q in [p, *all_panels(p.get("panels", []))]]


def target_of(dashboard: dict[str, Any], panel_id: int, ref_id: str) -> dict[str, Any]:
    (panel,) = [p for p in all_panels(dashboard["panels"]) if p["id"] == panel_id]
    targets: list[dict[str, Any]] = [t for t in panel["targets"] if t["refId"] == ref_id]
    (target,) = targets
    return target


@pytest.mark.parametrize("wrapped", [False, True], ids=["dashboard", "api-export"])
def test_dashboard_reports_only_the_bad_panel(wrapped: bool, stack: Stack, tmp_path: Path) -> None:
    dashboard = load_dashboard()
    path = tmp_path / "dashboard.json"
    path.write_text(json.dumps({"dashboard": dashboard} if wrapped else dashboard))
    findings = check_dashboard_file(stack, path)
    assert [(f.code, f.where) for f in findings] == [
        ("unbounded-label", f"{path}: panel 'Top users (seed)', target A")
    ]
    assert_well_formed(findings)


@pytest.mark.parametrize(("panel_id", "ref_id", "prometheus"), TARGETS)
def test_dashboard_checks_every_prometheus_target(
    panel_id: int, ref_id: str, prometheus: bool, stack: Stack, tmp_path: Path
) -> None:
    """Break one target: Prometheus targets (nested ones too) are checked, others not."""
    dashboard = load_dashboard()
    target_of(dashboard, panel_id, ref_id)["expr"] = "rate(agent_requests[$__rate_interval])"
    path = tmp_path / "dashboard.json"
    path.write_text(json.dumps(dashboard))
    suffix = [f for f in check_dashboard_file(stack, path) if f.code == "metric-suffix"]
    if prometheus:
        assert len(suffix) == 1 and f"target {ref_id}" in suffix[0].where
    else:
        assert suffix == []


@pytest.mark.parametrize(
    ("grafana", "promql"),
    [
        pytest.param(
            'rate(agent_requests_total{agent_type=~"$agent"}[$__rate_interval])',
            'rate(agent_requests_total{agent_type=~"__grafana_variable__"}[60s])',
            id="rate-interval-and-variable",
        ),
        pytest.param(
            'increase(up{job="${job}", instance=~"[[instance]]"}[${__range}])',
            'increase(up{job="__grafana_variable__", instance=~"__grafana_variable__"}[60s])',
            id="braced-and-legacy-syntax",
        ),
        pytest.param(
            'label_replace(up, "service", "$1", "job", "(.*)")',
            'label_replace(up, "service", "$1", "job", "(.*)")',
            id="regex-group-kept",
        ),
    ],
)
def test_grafana_variables_are_substituted(grafana: str, promql: str, stack: Stack) -> None:
    # $__rate_interval and friends become 4 scrapes of the slowest job (15s).
    assert grafana_to_promql(grafana, stack) == promql
