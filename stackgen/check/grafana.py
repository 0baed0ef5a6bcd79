"""Cross-checks of the generated Grafana dashboards against the stack: every datasource
they name is provisioned and speaks the query's language, every SQL query reads the
audit schema's tables and columns, and every alert's dashboard link resolves to a
generated dashboard."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from typing import Any

import yaml

from stackgen.check.codes import finding
from stackgen.check.grafana_sql import MacroError, expand_sql
from stackgen.check.sql import check_sql
from stackgen.conventions import GRAFANA_DASHBOARDS_DIR, RULES_DIR
from stackgen.findings import Finding
from stackgen.spec import DatasourceType, Stack
from stackgen.spec.sql_schema import parse_schema

__all__ = [
    "check_alert_dashboard_links",
    "check_datasources",
    "check_sql_queries",
    "check_trace_links",
    "dashboard_documents",
    "sql_queries",
]


def dashboard_documents(files: Mapping[str, str]) -> dict[str, dict[str, Any]]:
    """The rendered dashboards, by path."""
    return {
        path: json.loads(text)
        for path, text in files.items()
        if path.startswith(f"{GRAFANA_DASHBOARDS_DIR}/") and path.endswith(".json")
    }


def _panels(panels: list[Any]) -> Iterator[dict[str, Any]]:
    for panel in panels:
        if isinstance(panel, dict):
            yield panel
            yield from _panels(panel.get("panels") or [])


def _title(panel: dict[str, Any]) -> str:
    return str(panel.get("title") or f"panel {panel.get('id', '?')}")


def sql_queries(document: dict[str, Any]) -> Iterator[tuple[str, str]]:
    """(where, raw SQL) of every SQL target and SQL query variable of a dashboard."""
    for panel in _panels(document.get("panels") or []):
        for target in panel.get("targets") or []:
            if isinstance(target, dict) and isinstance(target.get("rawSql"), str):
                yield (
                    f"panel {_title(panel)!r}, target {target.get('refId', '?')}",
                    target["rawSql"],
                )
    for variable in document.get("templating", {}).get("list", []):
        source = variable.get("datasource")
        query = variable.get("query")
        if isinstance(source, dict) and source.get("type") == DatasourceType.POSTGRES:
            if isinstance(query, str):
                yield f"variable ${variable.get('name')}", query


def _spec_name(stack: Stack, document: dict[str, Any]) -> str:
    uid = document.get("uid")
    spec = next((d for d in stack.dashboards if d.uid == uid), None)
    return spec.spec_name() if spec else str(uid)


def check_datasources(stack: Stack, files: Mapping[str, str]) -> list[Finding]:
    """Panels, targets and variables name provisioned datasources by UID, and each query
    goes to a datasource of its language (PromQL to Prometheus, SQL to PostgreSQL)."""
    provisioned = {d.uid: d.type for d in stack.grafana.datasources} if stack.grafana else {}
    hint = f"provisioned datasources: {sorted(provisioned)}"
    findings: list[Finding] = []

    def check(source: Any, where: str, spec: str, language: DatasourceType | None) -> None:
        if not isinstance(source, dict) or "uid" not in source:
            return  # Grafana's default datasource
        uid = source["uid"]
        if uid not in provisioned:
            findings.append(
                finding("unknown-datasource", where, f"datasource {uid!r} is not provisioned",
                        hint, spec)
            )  # fmt: skip
        elif language is not None and provisioned[uid] is not language:
            findings.append(
                finding(
                    "unknown-datasource",
                    where,
                    f"a {language} query sent to {uid!r}, a {provisioned[uid]} datasource",
                    f"use a {language} datasource ({hint})",
                    spec,
                )
            )
        elif source.get("type") not in (None, provisioned[uid]):
            findings.append(
                finding(
                    "unknown-datasource",
                    where,
                    f"datasource {uid!r} is written with type {source.get('type')!r}, "
                    f"but it is a {provisioned[uid]} datasource",
                    "reference it with its provisioned type",
                    spec,
                )
            )

    for path, document in dashboard_documents(files).items():
        spec = _spec_name(stack, document)
        for panel in _panels(document.get("panels") or []):
            where = f"{path}: panel {_title(panel)!r}"
            check(panel.get("datasource"), where, spec, None)
            for target in panel.get("targets") or []:
                if not isinstance(target, dict):
                    continue
                language = (
                    DatasourceType.POSTGRES
                    if "rawSql" in target
                    else DatasourceType.PROMETHEUS
                    if "expr" in target
                    else None
                )
                source = target.get("datasource", panel.get("datasource"))
                check(source, f"{where}, target {target.get('refId', '?')}", spec, language)
        for variable in document.get("templating", {}).get("list", []):
            where = f"{path}: variable ${variable.get('name')}"
            check(variable.get("datasource"), where, spec, None)
    return findings


def check_trace_links(stack: Stack) -> list[Finding]:
    """A trace link opens its trace with a provisioned Jaeger datasource."""
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
                    "unknown-datasource",
                    f"dashboard {dashboard.uid}: panel {panel.title!r}, trace link",
                    f"the trace link's datasource {link.datasource!r} {what}, not Jaeger",
                    "point TraceLink.datasource at the Jaeger datasource's UID",
                    dashboard.spec_name(),
                )
            )
    return findings


def check_sql_queries(stack: Stack, files: Mapping[str, str]) -> list[Finding]:
    """Every SQL query, macros and variables expanded, against the audit schema."""
    schema = parse_schema(stack.audit_schema) if stack.audit_schema else {}
    if stack.compose is not None and stack.compose.database is not None:
        # Grafana reads as the read-only role: only the tables and columns granted to it
        # exist for the panels (admin_audit, schema_migrations, message text are not
        # theirs to read).
        schema = stack.compose.database.reader_schema(schema)
    findings: list[Finding] = []
    for path, document in dashboard_documents(files).items():
        spec = _spec_name(stack, document)
        variables = document.get("templating", {}).get("list", [])
        for where, sql in sql_queries(document):
            try:
                expanded = expand_sql(sql, variables)
            except MacroError as error:
                findings.append(
                    finding("sql-syntax", f"{path}: {where}", str(error),
                            "see Grafana's PostgreSQL macros", spec)
                )  # fmt: skip
                continue
            findings += check_sql(expanded, schema, f"{path}: {where}", spec)
    return findings


def check_alert_dashboard_links(stack: Stack, files: Mapping[str, str]) -> list[Finding]:
    """The `dashboard` annotation of every generated alert (``<grafana_url>/d/<uid>``)
    names a dashboard stackgen generates."""
    uids = {d.get("uid") for d in dashboard_documents(files).values()}
    alerts = {a.name: a for a in stack.alerts}
    findings = []
    for path, text in sorted(files.items()):
        if not (path.startswith(f"{RULES_DIR}/") and path.endswith(".yml")):
            continue
        for group in (yaml.safe_load(text) or {}).get("groups", []):
            for rule in group.get("rules", []):
                link = (rule.get("annotations") or {}).get("dashboard")
                if not isinstance(link, str) or "alert" not in rule:
                    continue
                uid = link.rstrip("/").rsplit("/d/", 1)[-1].split("/")[0]
                if uid in uids:
                    continue
                spec = alerts.get(rule["alert"])
                findings.append(
                    finding(
                        "unknown-dashboard",
                        f"{path}: group {group.get('name')}, alert {rule['alert']}",
                        f"its dashboard link {link} names no generated dashboard ({uid!r})",
                        f"generated dashboard UIDs: {sorted(u for u in uids if u)}",
                        spec.spec_name() if spec else "",
                    )
                )
    return findings
