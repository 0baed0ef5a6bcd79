"""Every check of a stack, in one place: ``(id, check)`` pairs, each check one function
``check(context) -> Iterable[Finding]`` over the same ``CheckContext``.

Adding a check is one module with its function and one line here; the ids are stable
names for the checks (unique, in the order the checks run).
"""

from __future__ import annotations

from typing import Final

from stackgen.check import (
    compose,
    dashboards,
    expressions,
    grafana,
    instances,
    metrics,
    runbooks,
    scale_out,
    scrape,
)
from stackgen.check.context import Check

__all__ = ["CHECKS"]

CHECKS: Final[tuple[tuple[str, Check], ...]] = (
    ("metric-catalog", metrics.check_metric_catalog),
    ("scrape-formats", scrape.check_scrape_formats),
    ("collector-scraped", scrape.check_collector_scraped),
    ("rule-expressions", expressions.check_rule_expressions),
    ("dashboard-queries", dashboards.check_dashboard_queries),
    ("rule-instances", instances.check_alert_instances),
    ("dashboard-instances", instances.check_panel_instances),
    ("grafana-datasources", grafana.check_datasources),
    ("replica-datasources", scale_out.check_replica_datasources),
    ("grafana-trace-links", grafana.check_trace_links),
    ("grafana-sql", grafana.check_sql_queries),
    ("alert-dashboard-links", grafana.check_alert_dashboard_links),
    ("runbooks", runbooks.check_runbooks),
    ("compose-memory-limits", compose.check_memory_limits),
    ("compose-scrape-hosts", compose.check_scrape_hosts),
    ("compose-receiver-hosts", compose.check_receiver_hosts),
    ("compose-host-gateway", compose.check_host_gateway),
    ("compose-grafana-database", compose.check_grafana_database),
    ("compose-public-ports", compose.check_public_ports),
    ("compose-inline-secrets", compose.check_inline_secrets),
)
