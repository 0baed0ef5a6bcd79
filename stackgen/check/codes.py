"""Finding codes: stable names, their level and what they mean (README lists them)."""

from __future__ import annotations

from typing import Final

from stackgen.findings import Finding, Level

__all__ = ["CODES", "finding"]

# code -> (level, meaning)
CODES: Final[dict[str, tuple[Level, str]]] = {
    "promql-syntax": (Level.ERROR, "the expression does not parse"),
    "unknown-metric": (Level.ERROR, "the series is neither a catalog metric nor a recording rule"),
    "metric-suffix": (
        Level.ERROR,
        "wrong suffix for the metric type (_total counters; _bucket/_sum/_count histograms)",
    ),
    "undeclared-label": (
        Level.ERROR,
        "a matcher, by/without or on/ignoring/group label the series does not carry",
    ),
    "unknown-label-value": (Level.ERROR, "an equality matcher value outside the label's values"),
    "unknown-job": (Level.ERROR, "a job matcher names no scrape job of the stack"),
    "rate-on-gauge": (Level.ERROR, "rate/irate/increase/resets applied to a gauge"),
    "delta-on-counter": (Level.WARNING, "delta/idelta/deriv/predict_linear applied to a counter"),
    "raw-counter": (
        Level.ERROR,
        "a counter (or histogram series) compared or combined without rate/increase",
    ),
    "quantile-not-bucket": (Level.ERROR, "histogram_quantile over something not a _bucket series"),
    "quantile-le-dropped": (Level.ERROR, "histogram_quantile after an aggregation that drops le"),
    "quantile-unaggregated": (
        Level.WARNING,
        "histogram_quantile over raw buckets: one quantile per instance, not per service",
    ),
    "short-range": (Level.ERROR, "a range window shorter than 4x the scrape interval"),
    "unbounded-label": (
        Level.ERROR,
        "a label the catalog marks unbounded (user, session, trace ids) used on a metric",
    ),
    "non-prometheus-scrape": (Level.ERROR, "a scrape job on an endpoint not in Prometheus format"),
    "unknown-service": (Level.ERROR, "a metric names a service the stack does not define"),
    "unscraped-metric": (Level.ERROR, "a metric's service is not scraped by Prometheus"),
    "unscraped-exporter": (
        Level.ERROR,
        "a port the collector serves metrics on (prometheus exporter, own telemetry) "
        "that no scrape job reaches",
    ),
    "missing-runbook": (Level.ERROR, "an alert or SLO links a runbook anchor no Runbook defines"),
    "unused-runbook": (Level.WARNING, "a runbook no alert or SLO links"),
    "unreadable-file": (Level.ERROR, "an external file could not be read or parsed"),
    "live-unreachable": (Level.ERROR, "the live /metrics endpoint could not be scraped"),
    "live-missing-metric": (Level.ERROR, "a catalog metric the running service does not emit"),
    "live-uncatalogued-metric": (
        Level.ERROR,
        "an application metric the running service emits but the catalog does not declare",
    ),
    "live-type-mismatch": (Level.ERROR, "the emitted type differs from the catalog's"),
    "live-label-mismatch": (Level.ERROR, "the emitted label names differ from the catalog's"),
    "live-label-value": (Level.ERROR, "an emitted label value outside the declared values"),
    # Grafana dashboards
    "unknown-datasource": (
        Level.ERROR,
        "a panel, target, variable or trace link names a datasource UID Grafana does not "
        "provision, or a query language its datasource type does not speak",
    ),
    "unknown-dashboard": (
        Level.ERROR,
        "an alert's dashboard link names no generated dashboard UID",
    ),
    "sql-syntax": (Level.ERROR, "a SQL panel or variable query does not parse"),
    "sql-unknown-table": (Level.ERROR, "a SQL query reads a table the audit schema lacks"),
    "sql-unknown-column": (
        Level.ERROR,
        "a SQL query reads a column no table or subquery of its scope has",
    ),
}
# docker-compose cross-checks (stackgen/check/compose.py).
CODES.update(
    {
        "unknown-scrape-host": (
            Level.ERROR,
            "a scrape target's host is neither a compose service nor a declared external host",
        ),
        "no-memory-limit": (
            Level.ERROR,
            "a compose service without a memory limit",
        ),
        "memory-limit-below-limiter": (
            Level.ERROR,
            "the collector's container memory limit is not above its memory_limiter's",
        ),
        "unknown-receiver-host": (
            Level.ERROR,
            "an Alertmanager webhook's host is not a compose service (an external endpoint "
            "needs https and a bearer-token secret file)",
        ),
        "missing-host-gateway": (
            Level.ERROR,
            "a container reaches host.docker.internal without extra_hosts host-gateway",
        ),
        "grafana-db-mismatch": (
            Level.ERROR,
            "Grafana's PostgreSQL datasource differs from the compose database or its "
            "read-only role",
        ),
        "public-port": (Level.WARNING, "a compose port published on every interface"),
        "inline-secret": (
            Level.ERROR,
            "a password, token or credential written in a compose service's environment",
        ),
    }
)


def finding(code: str, where: str, message: str, hint: str = "", spec: str = "") -> Finding:
    """A Finding at the level its code is registered with."""
    level, _ = CODES[code]
    return Finding(code, level, where, message, hint, spec)
