"""Cross-checks of the generated Grafana dashboards against the stack: every datasource
they name is provisioned and speaks the query's language, every SQL query reads the
audit schema's tables and columns, and every alert's dashboard link resolves to a
generated dashboard."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from stackgen.artifacts import DashboardArtifact, PanelArtifact, TargetArtifact
from stackgen.check.codes import FindingCode, finding
from stackgen.check.context import CheckContext
from stackgen.check.grafana_sql import MacroError, expand_sql
from stackgen.check.origins import Origin, panel_origin, target_origin, variable_origin
from stackgen.check.sql import check_sql
from stackgen.findings import Finding
from stackgen.spec import DatasourceType, Stack
from stackgen.spec.sql_schema import parse_schema

__all__ = [
    "SQLSource",
    "check_alert_dashboard_links",
    "check_datasources",
    "check_sql_queries",
    "check_trace_links",
    "sql_queries",
]


@dataclass(frozen=True)
class SQLSource:
    """A SQL target of a panel, or a SQL query variable, of one dashboard."""

    dashboard: DashboardArtifact
    sql: str
    panel: PanelArtifact | None = None
    target: TargetArtifact | None = None
    variable: str = ""

    @property
    def label(self) -> str:
        """``panel 'T', target A`` or ``variable $name``: its place in the dashboard."""
        if self.panel is not None and self.target is not None:
            return f"panel {self.panel.label!r}, target {self.target.ref_id}"
        return f"variable ${self.variable}"

    def origin(self, stack: Stack) -> Origin:
        if self.panel is not None and self.target is not None:
            return target_origin(stack, self.dashboard, self.panel, self.target)
        origin = variable_origin(stack, self.dashboard, self.variable)
        return Origin(origin.where, origin.spec, origin.location, self.sql)


def sql_queries(dashboard: DashboardArtifact) -> Iterator[SQLSource]:
    """Every SQL target and SQL query variable of a dashboard."""
    for panel in dashboard.panels:
        for target in panel.targets:
            if target.raw_sql is not None:
                yield SQLSource(dashboard, target.raw_sql, panel, target)
    for variable in dashboard.variables:
        source = variable.get("datasource")
        query = variable.get("query")
        if isinstance(source, dict) and source.get("type") == DatasourceType.POSTGRES:
            if isinstance(query, str):
                yield SQLSource(dashboard, query, variable=str(variable.get("name")))


def check_datasources(context: CheckContext) -> list[Finding]:
    """Panels, targets and variables name provisioned datasources by UID, and each query
    goes to a datasource of its language (PromQL to Prometheus, SQL to PostgreSQL)."""
    stack = context.stack
    provisioned = {d.uid: d.type for d in stack.grafana.datasources} if stack.grafana else {}
    hint = f"provisioned datasources: {sorted(provisioned)}"
    findings: list[Finding] = []

    def check(source: object, origin: Origin, language: DatasourceType | None) -> None:
        if not isinstance(source, dict) or "uid" not in source:
            return  # Grafana's default datasource
        uid = source["uid"]
        if uid not in provisioned:
            message, fix = f"datasource {uid!r} is not provisioned", hint
        elif language is not None and provisioned[uid] is not language:
            message = f"a {language} query sent to {uid!r}, a {provisioned[uid]} datasource"
            fix = f"use a {language} datasource ({hint})"
        elif source.get("type") not in (None, provisioned[uid]):
            message = (
                f"datasource {uid!r} is written with type {source.get('type')!r}, "
                f"but it is a {provisioned[uid]} datasource"
            )
            fix = "reference it with its provisioned type"
        else:
            return
        findings.append(
            finding(
                FindingCode.UNKNOWN_DATASOURCE,
                origin.where,
                message,
                fix,
                spec=origin.spec_name,
                location=origin.location,
            )
        )

    for dashboard in context.artifacts.dashboards:
        for panel in dashboard.panels:
            check(panel.datasource, panel_origin(stack, dashboard, panel), None)
            for target in panel.targets:
                language = (
                    DatasourceType.POSTGRES
                    if target.raw_sql is not None
                    else DatasourceType.PROMETHEUS
                    if target.expr is not None
                    else None
                )
                check(target.datasource, target_origin(stack, dashboard, panel, target), language)
        for variable in dashboard.variables:
            origin = variable_origin(stack, dashboard, str(variable.get("name")))
            check(variable.get("datasource"), origin, None)
    return findings


def check_trace_links(context: CheckContext) -> list[Finding]:
    """A trace link opens its trace with a provisioned Jaeger datasource."""
    stack = context.stack
    findings = []
    for dashboard in stack.dashboards:
        for panel in dashboard.panels:
            link = panel.trace_link
            if link is None:
                continue
            source = stack.grafana.datasource(link.datasource) if stack.grafana else None
            if source is not None and source.type is DatasourceType.JAEGER:
                continue
            what = "is not provisioned" if source is None else f"is a {source.type} datasource"
            findings.append(
                finding(
                    FindingCode.UNKNOWN_DATASOURCE,
                    f"dashboard {dashboard.uid}: panel {panel.title!r}, trace link",
                    f"the trace link's datasource {link.datasource!r} {what}, not Jaeger",
                    "point TraceLink.datasource at the Jaeger datasource's UID",
                    panel,
                    spec=dashboard.spec_name(),
                    location=link.spec_location()
                    or panel.spec_location()
                    or dashboard.spec_location(),
                )
            )
    return findings


def check_sql_queries(context: CheckContext) -> list[Finding]:
    """Every SQL query, macros and variables expanded, against the audit schema."""
    stack = context.stack
    schema = parse_schema(stack.audit_schema) if stack.audit_schema else {}
    if stack.compose is not None and stack.compose.database is not None:
        # Grafana reads as the read-only role: only the tables and columns granted to it
        # exist for the panels (admin_audit, schema_migrations, message text are not
        # theirs to read).
        schema = stack.compose.database.reader_schema(schema)
    findings: list[Finding] = []
    for dashboard in context.artifacts.dashboards:
        for query in sql_queries(dashboard):
            origin = query.origin(stack)
            try:
                expanded = expand_sql(query.sql, dashboard.variables)
            except MacroError as error:
                findings.append(
                    finding(
                        FindingCode.SQL_SYNTAX,
                        origin.where,
                        str(error),
                        "see Grafana's PostgreSQL macros",
                        spec=origin.spec_name,
                        location=origin.location,
                        expr=origin.written,
                    )
                )
                continue
            findings += check_sql(
                expanded,
                schema,
                origin.where,
                origin.spec_name,
                location=origin.location,
                written=origin.written,
            )
    return findings


def check_alert_dashboard_links(context: CheckContext) -> list[Finding]:
    """The `dashboard` annotation of every generated alert (``<grafana_url>/d/<uid>``)
    names a dashboard stackgen generates."""
    uids = {d.uid for d in context.artifacts.dashboards}
    alerts = {a.name: a for a in context.stack.alerts}
    findings = []
    for rule in context.artifacts.rules:
        link = rule.annotations.get("dashboard")
        if link is None or rule.kind != "alert":
            continue
        uid = link.rstrip("/").rsplit("/d/", 1)[-1].split("/")[0]
        if uid in uids:
            continue
        findings.append(
            finding(
                FindingCode.UNKNOWN_DASHBOARD,
                f"alert {rule.name} (group {rule.group})",
                f"its dashboard link {link} names no generated dashboard ({uid!r})",
                f"generated dashboard UIDs: {sorted(u for u in uids if u)}",
                alerts.get(rule.name),
            )
        )
    return findings
