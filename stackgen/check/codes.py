"""Finding codes: one enum member per code, with its level and what it means.

The codes' documentation (docs/finding-codes.md) is generated from this enum
(``stackgen.check.documentation``), so a code cannot be added, renamed or re-levelled
without its documentation following.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from stackgen.findings import Finding, Level
from stackgen.spec.base import SpecModel

__all__ = ["FindingCode", "finding"]


class FindingCode(StrEnum):
    """A stable finding code. ``external_only`` marks the codes that no registered check
    of a stack reports: they come from external files (``--rules``, ``--dashboard``) or
    from a live scrape (``--live``)."""

    level: Level
    meaning: str
    external_only: bool

    def __new__(cls, value: str, level: Level, meaning: str, external_only: bool = False) -> Any:
        member = str.__new__(cls, value)
        member._value_ = value
        member.level = level
        member.meaning = meaning
        member.external_only = external_only
        return member

    # PromQL, against the catalog and the recording rules
    PROMQL_SYNTAX = ("promql-syntax", Level.ERROR, "the expression does not parse")
    UNKNOWN_METRIC = (
        "unknown-metric",
        Level.ERROR,
        "the series is neither a catalog metric nor a recording rule",
    )
    METRIC_SUFFIX = (
        "metric-suffix",
        Level.ERROR,
        "wrong suffix for the metric type (`_total` counters; `_bucket/_sum/_count` histograms)",
    )
    UNDECLARED_LABEL = (
        "undeclared-label",
        Level.ERROR,
        "a matcher, `by`/`without` or `on`/`ignoring`/`group_*` label the series does not carry",
    )
    UNKNOWN_LABEL_VALUE = (
        "unknown-label-value",
        Level.ERROR,
        "an equality matcher value outside the label's declared values",
    )
    UNKNOWN_JOB = ("unknown-job", Level.ERROR, "a `job` matcher names no scrape job of the stack")
    RATE_ON_GAUGE = (
        "rate-on-gauge",
        Level.ERROR,
        "`rate`/`irate`/`increase`/`resets` applied to a gauge",
    )
    DELTA_ON_COUNTER = (
        "delta-on-counter",
        Level.WARNING,
        "`delta`/`idelta`/`deriv`/`predict_linear` applied to a counter",
    )
    RAW_COUNTER = (
        "raw-counter",
        Level.ERROR,
        "a counter (or histogram series) compared or combined without `rate`/`increase`",
    )
    QUANTILE_NOT_BUCKET = (
        "quantile-not-bucket",
        Level.ERROR,
        "`histogram_quantile` over something not a `_bucket` series",
    )
    QUANTILE_LE_DROPPED = (
        "quantile-le-dropped",
        Level.ERROR,
        "`histogram_quantile` after an aggregation that drops `le`",
    )
    QUANTILE_UNAGGREGATED = (
        "quantile-unaggregated",
        Level.WARNING,
        "`histogram_quantile` over raw buckets: one quantile per instance, not per service",
    )
    SHORT_RANGE = (
        "short-range",
        Level.ERROR,
        "a range window shorter than 4x the series' scrape (or rule evaluation) interval",
    )
    # Many instances of a job (replicas, pods) and several Prometheus replicas
    UNMATCHED_OPERANDS = (
        "unmatched-operands",
        Level.ERROR,
        "a binary operation between two vectors whose sides keep different label sets: no "
        "sample pairs up, so the result is silently empty",
    )
    PER_INSTANCE_OPERAND = (
        "per-instance-operand",
        Level.ERROR,
        "`on(...)` matching where the side that must be one series per match group keeps "
        "`instance`: right with one instance, a many-to-many error with several",
    )
    PER_INSTANCE_STAT = (
        "per-instance-stat",
        Level.WARNING,
        "a single-value panel (stat, gauge) whose query keeps `instance`: one value per "
        "instance where one figure is shown (sum a gauge like active sessions, max a ratio)",
    )
    PER_INSTANCE_PAGE = (
        "per-instance-page",
        Level.ERROR,
        "a critical alert on `up` that keeps `instance`: one page per pod where one alert "
        "per job is meant",
    )
    QUANTILE_MIXES_INSTANCES = (
        "quantile-mixes-instances",
        Level.ERROR,
        "quantiles combined across instances other than by `sum by (le)` of the buckets: "
        "an average (or sum) of per-instance quantiles, or buckets merged by max/min",
    )
    SINGLE_REPLICA_DATASOURCE = (
        "single-replica-datasource",
        Level.WARNING,
        "with several Prometheus replicas, Grafana's Prometheus datasource in the cluster "
        "reads one replica at a time (each with its own gaps) instead of the store's "
        "de-duplicated query API (`scale_out.kubernetes.datasource_urls`)",
    )
    UNBOUNDED_LABEL = (
        "unbounded-label",
        Level.ERROR,
        "a label the catalog marks unbounded (user, session, trace ids) used on a metric",
    )
    # Catalog and scrape jobs
    NON_PROMETHEUS_SCRAPE = (
        "non-prometheus-scrape",
        Level.ERROR,
        "a scrape job on an endpoint not in the Prometheus format",
    )
    UNKNOWN_SERVICE = (
        "unknown-service",
        Level.ERROR,
        "a metric names a service the stack does not define",
    )
    UNSCRAPED_METRIC = (
        "unscraped-metric",
        Level.ERROR,
        "a metric's service is not scraped by Prometheus",
    )
    UNSCRAPED_EXPORTER = (
        "unscraped-exporter",
        Level.ERROR,
        "a port the collector serves metrics on (its prometheus exporter, its own telemetry) "
        "that no scrape job reaches",
    )
    # Runbooks
    MISSING_RUNBOOK = (
        "missing-runbook",
        Level.ERROR,
        "an alert or SLO links a runbook anchor that no `Runbook` defines",
    )
    UNUSED_RUNBOOK = ("unused-runbook", Level.WARNING, "a `Runbook` that no alert or SLO links")
    # docker-compose
    UNKNOWN_SCRAPE_HOST = (
        "unknown-scrape-host",
        Level.ERROR,
        "a scrape target's host is neither a compose service nor a declared external host "
        "(`Service.external`)",
    )
    NO_MEMORY_LIMIT = (
        "no-memory-limit",
        Level.ERROR,
        "a compose service without `memory_limit`: one runaway process could take the "
        "host's memory from the others",
    )
    MEMORY_LIMIT_BELOW_LIMITER = (
        "memory-limit-below-limiter",
        Level.ERROR,
        "the collector's container memory limit is not above its `memory_limiter` limit: the "
        "kernel would kill it before the limiter refuses data",
    )
    UNKNOWN_RECEIVER_HOST = (
        "unknown-receiver-host",
        Level.ERROR,
        "an Alertmanager webhook names a host that is not a compose service; an operator's "
        "external endpoint is allowed only over `https` with `bearer_token_secret` (its token "
        "in a secret file)",
    )
    MISSING_HOST_GATEWAY = (
        "missing-host-gateway",
        Level.ERROR,
        "a compose service reaches `host.docker.internal` (a scrape target, an environment "
        "value) without `extra_hosts: host-gateway`",
    )
    GRAFANA_DB_MISMATCH = (
        "grafana-db-mismatch",
        Level.ERROR,
        "Grafana's PostgreSQL datasource differs from the compose database (service, "
        "database, read-only role, password variable)",
    )
    PUBLIC_PORT = (
        "public-port",
        Level.WARNING,
        "a compose port published on every interface instead of 127.0.0.1",
    )
    INLINE_SECRET = (
        "inline-secret",
        Level.ERROR,
        "a password, token or credential written in a compose service's `environment` (use "
        "`secrets`: the env file)",
    )
    # Grafana dashboards
    UNKNOWN_DATASOURCE = (
        "unknown-datasource",
        Level.ERROR,
        "a dashboard panel, target, variable or trace link names a datasource UID Grafana "
        "does not provision, or sends SQL to a non-PostgreSQL / PromQL to a non-Prometheus "
        "datasource",
    )
    UNKNOWN_DASHBOARD = (
        "unknown-dashboard",
        Level.ERROR,
        "an alert's `dashboard` annotation names no generated dashboard UID",
    )
    SQL_SYNTAX = (
        "sql-syntax",
        Level.ERROR,
        "a SQL panel or query variable does not parse (after Grafana's macros), or uses an "
        "unknown macro",
    )
    SQL_UNKNOWN_TABLE = (
        "sql-unknown-table",
        Level.ERROR,
        "a SQL query reads a table the audit schema (`Stack.audit_schema`) lacks",
    )
    SQL_UNKNOWN_COLUMN = (
        "sql-unknown-column",
        Level.ERROR,
        "a SQL query reads a column no table, subquery or alias of its scope has",
    )
    # External files and the live service
    UNREADABLE_FILE = (
        "unreadable-file",
        Level.ERROR,
        "`--rules`/`--dashboard`: an external file cannot be read or parsed",
        True,
    )
    NOT_UTF8 = (
        "not-utf8",
        Level.ERROR,
        "`--rules`/`--dashboard`: the file holds bytes that are not UTF-8 (Prometheus and "
        "Grafana read UTF-8 only)",
        True,
    )
    MALFORMED_RULE = (
        "malformed-rule",
        Level.ERROR,
        "`--rules`: a group or rule that promtool refuses (no `expr`, not a mapping, no group "
        "name, a `for` that is not a duration, unknown or repeated fields...)",
        True,
    )
    MALFORMED_DASHBOARD = (
        "malformed-dashboard",
        Level.ERROR,
        "`--dashboard`: a dashboard, panel or target Grafana cannot load (panels not a list, "
        "a panel not an object, a query that is not a string...)",
        True,
    )
    ABSENT_REGEX = (
        "absent-regex",
        Level.WARNING,
        '`--rules`: `absent()` over a regex of alternatives (`job=~"a|b"`): it fires only '
        "when every alternative is gone, not when one is",
        True,
    )
    RATIO_WITHOUT_FOR = (
        "ratio-without-for",
        Level.WARNING,
        "`--rules`: an alert on a ratio of rates with no `for`: one noisy evaluation pages",
        True,
    )
    LIVE_UNREACHABLE = (
        "live-unreachable",
        Level.ERROR,
        "`--live`: the /metrics URL cannot be scraped",
        True,
    )
    LIVE_MISSING_METRIC = (
        "live-missing-metric",
        Level.ERROR,
        "`--live`: a catalog metric the running service does not emit",
        True,
    )
    LIVE_UNCATALOGUED_METRIC = (
        "live-uncatalogued-metric",
        Level.ERROR,
        "`--live`: an application metric the running service emits but the catalog does "
        "not declare",
        True,
    )
    LIVE_TYPE_MISMATCH = (
        "live-type-mismatch",
        Level.ERROR,
        "`--live`: the emitted type differs from the catalog's",
        True,
    )
    LIVE_LABEL_MISMATCH = (
        "live-label-mismatch",
        Level.ERROR,
        "`--live`: the emitted label names differ from the catalog's",
        True,
    )
    LIVE_LABEL_VALUE = (
        "live-label-value",
        Level.ERROR,
        "`--live`: an emitted label value outside the label's declared values",
        True,
    )


def finding(
    code: FindingCode,
    where: str,
    message: str,
    hint: str = "",
    origin: SpecModel | None = None,
    *,
    spec: str = "",
    location: str = "",
    expr: str = "",
) -> Finding:
    """A Finding at its code's level. ``origin`` is the spec object the finding comes
    from: it gives the spec name and the file:line, unless ``spec`` / ``location`` say
    otherwise (a finding inside an alert that is about a metric names the metric but
    points at the alert's line)."""
    if origin is not None:
        spec = spec or origin.spec_name()
        location = location or origin.spec_location()
    return Finding(code, code.level, where, message, hint, spec, location, expr)
