"""The four BestBox dashboards: Grafana's JSON schemas, the expected panels, datasource
references, thresholds from the SLO and alert specs, the trace link to Jaeger, the
spec validation of dashboards, Grafana's SQL macros and the SQL checker."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import jsonschema
import pytest
import sqlglot
from sqlglot import exp

from specs.bestbox import dashboards as bestbox_dashboards
from specs.bestbox.alerts import critical_ttft, high_error_rate, high_memory, low_satisfaction
from specs.bestbox.slos import ttft
from stackgen.artifacts import read_artifacts
from stackgen.check.context import CheckContext
from stackgen.check.grafana import (
    check_alert_dashboard_links,
    check_datasources,
    check_sql_queries,
    check_trace_links,
    sql_queries,
)
from stackgen.check.grafana_sql import MacroError, expand_sql, variable_values
from stackgen.check.sql import check_sql
from stackgen.check.static import check_stack
from stackgen.conventions import GRAFANA_SCHEMA_VERSION, SLO_DASHBOARD_FILE
from stackgen.findings import format_finding
from stackgen.load import load_stack
from stackgen.render.dashboards import dashboard
from stackgen.spec import (
    Dashboard,
    Panel,
    PanelKind,
    PromQuery,
    SpecError,
    SQLQuery,
    Stack,
    Threshold,
    TraceLink,
    Variable,
    VariableKind,
    alert_threshold,
)
from stackgen.spec.sql_schema import parse_schema
from tests.conftest import REPO_ROOT, shared_schema

UIDS = {
    "system-health": "bestbox-system-health",
    "user-analytics": "bestbox-user-analytics",
    "agent-performance": "bestbox-agent-performance",
    "conversation-audit": "bestbox-conversation-audit",
}
DASHBOARD_FILES = [f"grafana/dashboards/{name}.json" for name in UIDS] + [SLO_DASHBOARD_FILE]
# The panels operators expect (titles as the spec words them) and their visualisations.
EXPECTED_PANELS = {
    "system-health": {
        "Service status": "stat",
        "Active sessions": "gauge",
        "Time to first token": "timeseries",
        "Request rate by agent": "timeseries",
        "Error rate": "timeseries",
        "Memory": "timeseries",
        "LLM server slots": "timeseries",
        "LLM host memory": "timeseries",
    },
    "user-analytics": {
        "Sessions (24h)": "stat",
        "Unique users (24h)": "stat",
        "User satisfaction": "gauge",
        "Most active users": "table",
        "Agent usage distribution": "piechart",
        "Session length trend": "timeseries",
    },
    "agent-performance": {
        "Router accuracy (estimated)": "stat",
        "Tool success rate": "stat",
        "Tokens generated per minute": "timeseries",
        "Tool execution frequency": "bargauge",
        "Agent response time": "heatmap",
        "Failed tool calls": "table",
        "LLM server throughput": "timeseries",
        "Generation speed": "timeseries",
    },
    "conversation-audit": {"Recent conversations": "table", "User session details": "table"},
}


def board(rendered: dict[str, str], name: str) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(rendered[f"grafana/dashboards/{name}.json"])
    return document


def panel(rendered: dict[str, str], name: str, title: str) -> dict[str, Any]:
    (found,) = [p for p in board(rendered, name)["panels"] if p["title"] == title]
    return found


# -- Grafana's JSON schemas (../shared/schemas/grafana) -----------------------------------


def _schema(name: str) -> dict[str, Any]:
    return shared_schema(f"grafana/{name}.jsonschema.json")


def _errors(schema: dict[str, Any], definition: str | None, value: Any) -> list[str]:
    if definition is not None:
        schema = {**schema, "$ref": f"#/definitions/{definition}"}
    return [
        f"{list(e.absolute_path)}: {e.message[:200]}"
        for e in jsonschema.Draft7Validator(schema).iter_errors(value)
    ]


@pytest.mark.parametrize("path", DASHBOARD_FILES)
def test_dashboard_matches_the_grafana_dashboard_schema(
    rendered: dict[str, str], path: str
) -> None:
    assert _errors(_schema("dashboard"), None, json.loads(rendered[path])) == []


@pytest.mark.parametrize("path", DASHBOARD_FILES)
def test_panel_options_and_field_config_match_their_panel_schema(
    rendered: dict[str, str], path: str
) -> None:
    problems = []
    for found in json.loads(rendered[path])["panels"]:
        if found["type"] == "row":
            continue
        schema = _schema(found["type"])
        definitions = schema["definitions"]
        assert "Options" in definitions, found["type"]
        problems += _errors(schema, "Options", found["options"])
        if "FieldConfig" in definitions:
            problems += _errors(schema, "FieldConfig", found["fieldConfig"]["defaults"]["custom"])
        else:
            assert found["fieldConfig"]["defaults"].get("custom", {}) == {}
    assert problems == []


@pytest.mark.parametrize("path", DASHBOARD_FILES)
def test_prometheus_targets_match_the_prometheus_query_schema(
    rendered: dict[str, str], path: str
) -> None:
    schema = _schema("prometheus")
    targets = [
        t for p in json.loads(rendered[path])["panels"] for t in p.get("targets", []) if "expr" in t
    ]
    problems = [e for t in targets for e in _errors(schema, None, t)]
    assert problems == []


def test_schema_validation_catches_a_broken_panel(rendered: dict[str, str]) -> None:
    """The schema test can fail: a legacy grafanalib gauge field is rejected."""
    document = board(rendered, "system-health")
    document["panels"][1]["fieldConfig"]["showThresholdLabels"] = False
    assert _errors(_schema("dashboard"), None, document) != []


# -- what the dashboards hold --------------------------------------------------------------


@pytest.mark.parametrize(("name", "uid"), UIDS.items())
def test_stable_uid_and_pinned_schema_version(
    rendered: dict[str, str], name: str, uid: str
) -> None:
    document = board(rendered, name)
    assert document["uid"] == uid
    assert document["schemaVersion"] == GRAFANA_SCHEMA_VERSION


@pytest.mark.parametrize("name", EXPECTED_PANELS)
def test_every_seed_panel_is_there(rendered: dict[str, str], name: str) -> None:
    kinds = {p["title"]: p["type"] for p in board(rendered, name)["panels"]}
    assert kinds == EXPECTED_PANELS[name]


def test_grafana_image_pins_the_schema_version(stack: Stack) -> None:
    # Grafana 12.4 writes schemaVersion 42; a new image needs a new version.
    assert stack.grafana is not None
    assert stack.grafana.image == "grafana/grafana:12.4.0"
    assert GRAFANA_SCHEMA_VERSION == 42


@pytest.mark.parametrize("path", DASHBOARD_FILES)
def test_every_panel_and_target_names_a_provisioned_datasource(
    stack: Stack, rendered: dict[str, str], path: str
) -> None:
    assert stack.grafana is not None
    provisioned = {d.uid: str(d.type) for d in stack.grafana.datasources}
    for found in json.loads(rendered[path])["panels"]:
        if found["type"] == "row":
            continue
        source = found["datasource"]
        assert provisioned[source["uid"]] == source["type"], found["title"]
        for target in found["targets"]:
            assert target["datasource"] == source
            language = "postgres" if "rawSql" in target else "prometheus"
            assert source["type"] == language, found["title"]


def test_slo_dashboard_is_pinned_to_the_prometheus_datasource(rendered: dict[str, str]) -> None:
    panels = [p for p in json.loads(rendered[SLO_DASHBOARD_FILE])["panels"] if p["type"] != "row"]
    assert panels
    for found in panels:
        assert found["datasource"] == {"type": "prometheus", "uid": "prometheus"}
        assert all(t["datasource"] == found["datasource"] for t in found["targets"])


def test_per_user_panels_read_postgresql_never_a_metric_label(rendered: dict[str, str]) -> None:
    for name, title in [
        ("user-analytics", "Unique users (24h)"),
        ("user-analytics", "Most active users"),
        ("conversation-audit", "Recent conversations"),
        ("conversation-audit", "User session details"),
    ]:
        assert panel(rendered, name, title)["datasource"]["uid"] == "audit-postgres"
    audit = board(rendered, "conversation-audit")
    assert {p["datasource"]["type"] for p in audit["panels"]} == {"postgres"}
    for found in (p for n in UIDS for p in board(rendered, n)["panels"]):
        for target in found["targets"]:
            assert "user_id" not in target.get("expr", ""), found["title"]


def test_conversation_audit_filters(rendered: dict[str, str]) -> None:
    variables = {v["name"]: v for v in board(rendered, "conversation-audit")["templating"]["list"]}
    assert {n: v["type"] for n, v in variables.items()} == {
        "user": "textbox",
        "agent": "query",
        "feedback": "custom",
    }
    assert [o["value"] for o in variables["feedback"]["options"]] == [
        "all",
        "positive",
        "negative",
        "unrated",
    ]
    assert variables["agent"]["datasource"] == {"type": "postgres", "uid": "audit-postgres"}
    assert variables["agent"]["current"]["value"] == "$__all"
    sql = panel(rendered, "conversation-audit", "Recent conversations")["targets"][0]["rawSql"]
    for used in ("$__timeFilter(timestamp)", "'$user'", "IN ($agent)", "'$feedback'"):
        assert used in sql
    assert "LIMIT 50" in sql


def test_agent_filter_lists_the_catalog_agents(rendered: dict[str, str], stack: Stack) -> None:
    (agent,) = board(rendered, "agent-performance")["templating"]["list"]
    label = next(m for m in stack.metrics if m.name == "agent_requests").label("agent_type")
    assert label is not None and label.values is not None
    assert [o["value"] for o in agent["options"]] == ["$__all", *label.values]
    heatmap = panel(rendered, "agent-performance", "Agent response time")
    assert heatmap["repeat"] == "agent"
    assert heatmap["targets"][0]["format"] == "heatmap"


def test_router_accuracy_says_it_is_an_estimate(rendered: dict[str, str]) -> None:
    description = panel(rendered, "agent-performance", "Router accuracy (estimated)")["description"]
    assert "estimate" in description.lower() and "share" in description


def test_panels_fit_the_grid_without_overlapping(rendered: dict[str, str]) -> None:
    for name in UIDS:
        cells: set[tuple[int, int]] = set()
        for found in board(rendered, name)["panels"]:
            grid = found["gridPos"]
            assert grid["x"] + grid["w"] <= 24
            area = {
                (x, y)
                for x in range(grid["x"], grid["x"] + grid["w"])
                for y in range(grid["y"], grid["y"] + grid["h"])
            }
            assert not cells & area, (name, found["title"])
            cells |= area


# -- thresholds come from the SLO and alert specs -------------------------------------------


def _steps(found: dict[str, Any]) -> list[float | None]:
    return [s["value"] for s in found["fieldConfig"]["defaults"]["thresholds"]["steps"]]


def test_ttft_lines_are_the_sla_and_the_critical_alert(rendered: dict[str, str]) -> None:
    found = panel(rendered, "system-health", "Time to first token")
    assert (
        _steps(found)
        == [None, ttft.sli.threshold, alert_threshold(critical_ttft)]
        == [
            None,
            2.0,
            5.0,
        ]
    )
    assert found["fieldConfig"]["defaults"]["custom"]["thresholdsStyle"] == {"mode": "line"}
    legends = [t["legendFormat"] for t in found["targets"]]
    assert legends == ["P50", "P95", "P99"]
    assert all("sum by (le)" in t["expr"] for t in found["targets"])


def test_error_rate_line_is_the_alert_threshold(rendered: dict[str, str]) -> None:
    found = panel(rendered, "system-health", "Error rate")
    assert _steps(found) == [None, alert_threshold(high_error_rate)] == [None, 0.05]
    assert found["fieldConfig"]["defaults"]["custom"]["thresholdsStyle"] == {"mode": "line"}
    assert found["fieldConfig"]["defaults"]["unit"] == "percentunit"


def test_memory_line_is_the_alert_share_of_the_service_limit(rendered: dict[str, str]) -> None:
    found = panel(rendered, "system-health", "Memory")
    assert _steps(found) == [None, 0.9 * 4 * 1024**3]
    assert "128" not in json.dumps(found)


def test_a_changed_alert_threshold_moves_the_dashboard_line() -> None:
    changed = high_error_rate.model_copy(
        update={"expr": high_error_rate.expr.replace("> 0.05", "> 0.02")}
    )
    assert alert_threshold(changed) == 0.02


@pytest.mark.parametrize(
    ("alert", "value"),
    [(high_error_rate, 0.05), (critical_ttft, 5.0), (high_memory, 0.9), (low_satisfaction, 0.7)],
    ids=["ratio", "quantile", "memory", "and-clause"],
)
def test_alert_threshold_reads_the_parsed_expression(alert: Any, value: float) -> None:
    assert alert_threshold(alert) == value


def test_alert_threshold_without_a_number_is_an_error() -> None:
    no_number = high_error_rate.model_copy(update={"expr": "up == bool up"})
    with pytest.raises(ValueError, match=r"Alert\[HighErrorRate\]\.expr"):
        alert_threshold(no_number)


# -- the trace link ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "title"),
    [("conversation-audit", "Recent conversations"), ("agent-performance", "Failed tool calls")],
)
def test_trace_id_links_to_jaeger_with_the_rows_trace_id(
    stack: Stack, rendered: dict[str, str], name: str, title: str
) -> None:
    found = panel(rendered, name, title)
    (link,) = found["fieldConfig"]["defaults"]["links"]
    url = urlsplit(link["url"])
    assert url.path == "/explore" and link["targetBlank"] is True
    query = parse_qs(url.query)
    assert query["schemaVersion"] == ["1"]
    (pane,) = json.loads(unquote(query["panes"][0])).values()
    assert stack.grafana is not None
    jaeger = stack.grafana.datasource(pane["datasource"])
    assert jaeger is not None and str(jaeger.type) == "jaeger"
    (trace_query,) = pane["queries"]
    assert trace_query["datasource"] == {"type": "jaeger", "uid": jaeger.uid}
    # Grafana fills in the row's trace id; the SQL returns that column.
    assert trace_query["query"] == "${__data.fields.trace_id}"
    assert "queryType" not in trace_query  # a Jaeger query without it is a trace-id lookup
    select = sqlglot.parse_one(expand_sql(found["targets"][0]["rawSql"]), read="postgres")
    assert isinstance(select, exp.Select)
    assert "trace_id" in [s.alias_or_name for s in select.selects]


# -- spec validation ---------------------------------------------------------------------------


def prom_panel(**overrides: Any) -> Panel:
    data: dict[str, Any] = {
        "title": "Turns",
        "kind": PanelKind.TIMESERIES,
        "description": "Turns per second.",
        "datasource": "prometheus",
        "queries": (PromQuery(expr="sum(rate(agent_requests_total[$__rate_interval]))"),),
    }
    return Panel(**{**data, **overrides})


def sql_panel(**overrides: Any) -> Panel:
    data: dict[str, Any] = {
        "title": "Turns table",
        "kind": PanelKind.TABLE,
        "description": "The latest turns.",
        "datasource": "audit-postgres",
        "queries": (SQLQuery(sql="SELECT trace_id FROM conversation_log"),),
    }
    return Panel(**{**data, **overrides})


def a_dashboard(**overrides: Any) -> Dashboard:
    data: dict[str, Any] = {
        "uid": "bestbox-test",
        "name": "test",
        "title": "Test",
        "description": "A test dashboard.",
        "panels": (prom_panel(),),
    }
    return Dashboard(**{**data, **overrides})


@dataclass(frozen=True)
class Invalid:
    build: Callable[[], object]
    obj: str
    fragment: str


INVALID = {
    "mixed-languages": Invalid(
        lambda: prom_panel(queries=(PromQuery(expr="up"), SQLQuery(sql="SELECT 1"))),
        "Panel[Turns]",
        "all PromQL or all SQL",
    ),
    "threshold-base-with-value": Invalid(
        lambda: prom_panel(thresholds=(Threshold(color="green", value=1),)),
        "Panel[Turns]",
        "thresholds[0].value: the first step is the base",
    ),
    "thresholds-not-increasing": Invalid(
        lambda: prom_panel(
            thresholds=(
                Threshold(color="green"),
                Threshold(color="red", value=5),
                Threshold(color="orange", value=2),
            )
        ),
        "Panel[Turns]",
        "values must increase strictly",
    ),
    "threshold-line-on-a-stat": Invalid(
        lambda: prom_panel(
            kind=PanelKind.STAT,
            thresholds=(Threshold(color="green"), Threshold(color="red", value=1)),
            threshold_line=True,
        ),
        "Panel[Turns]",
        "threshold_line: needs a timeseries panel",
    ),
    "trace-link-on-promql": Invalid(
        lambda: prom_panel(trace_link=TraceLink(column="trace_id", datasource="jaeger")),
        "Panel[Turns]",
        "trace_link: only on a table of SQL rows",
    ),
    "sql-heatmap": Invalid(
        lambda: sql_panel(kind=PanelKind.HEATMAP), "Panel[Turns table]", "heatmaps read"
    ),
    "width-over-the-grid": Invalid(lambda: prom_panel(width=25), "Panel[Turns]", "24"),
    "undeclared-variable": Invalid(
        lambda: a_dashboard(panels=(prom_panel(queries=(PromQuery(expr='up{job=~"$job"}'),)),)),
        "Dashboard[bestbox-test]",
        "panels[Turns].queries: $job is not a variable",
    ),
    "repeat-single-value": Invalid(
        lambda: a_dashboard(
            variables=(Variable(name="who", label="Who", kind=VariableKind.TEXTBOX),),
            panels=(prom_panel(repeat="who"),),
        ),
        "Dashboard[bestbox-test]",
        "panels[Turns].repeat: 'who' is not a multi-value variable",
    ),
    "duplicate-panel-title": Invalid(
        lambda: a_dashboard(panels=(prom_panel(), prom_panel())),
        "Dashboard[bestbox-test]",
        "title 'Turns' is used 2 times",
    ),
    "custom-without-options": Invalid(
        lambda: Variable(name="agent", label="Agent", kind=VariableKind.CUSTOM),
        "Variable[agent]",
        "options: a custom variable needs its values",
    ),
    "query-without-datasource": Invalid(
        lambda: Variable(name="agent", label="Agent", kind=VariableKind.QUERY, query="SELECT 1"),
        "Variable[agent]",
        "a query variable needs both",
    ),
    "multi-textbox": Invalid(
        lambda: Variable(name="user", label="User", kind=VariableKind.TEXTBOX, multi=True),
        "Variable[user]",
        "a textbox holds one value",
    ),
    "default-not-an-option": Invalid(
        lambda: Variable(
            name="rating", label="Rating", kind=VariableKind.CUSTOM, options=("a",), default="b"
        ),
        "Variable[rating]",
        "default: 'b' is not one of the options",
    ),
    "uid-too-long": Invalid(lambda: a_dashboard(uid="x" * 41), "Dashboard[" + "x" * 41 + "]", ""),
}


@pytest.mark.parametrize("case", INVALID.values(), ids=INVALID.keys())
def test_invalid_dashboard_spec_names_the_object(case: Invalid) -> None:
    with pytest.raises(SpecError) as raised:
        case.build()
    assert [i.obj for i in raised.value.issues] == [case.obj]
    assert case.fragment in str(raised.value)


def with_dashboards(stack: Stack, *dashboards: Dashboard, **fields: Any) -> Stack:
    data = {name: getattr(stack, name) for name in Stack.model_fields}
    return Stack(**{**data, "dashboards": dashboards, **fields})


def test_stack_rejects_duplicate_dashboard_uids(stack: Stack) -> None:
    with pytest.raises(SpecError, match="dashboards: 'bestbox-test' is defined 2 times"):
        with_dashboards(stack, a_dashboard(), a_dashboard(name="other"))


def test_stack_rejects_a_dashboard_taking_the_slo_dashboards_uid(stack: Stack) -> None:
    with pytest.raises(SpecError, match=r"dashboards\[bestbox-slo\]: uid or name taken"):
        with_dashboards(stack, a_dashboard(uid="bestbox-slo"))


def test_stack_rejects_an_audit_schema_without_tables(stack: Stack) -> None:
    with pytest.raises(SpecError, match="audit_schema: creates no table"):
        with_dashboards(stack, audit_schema="SELECT 1;")


def test_bestbox_audit_schema_is_the_service_migration(stack: Stack) -> None:
    migration = REPO_ROOT / "agent_service/store/migrations/postgres/001_audit.sql"
    assert stack.audit_schema is not None and migration.read_text() in stack.audit_schema
    assert {"user_sessions", "conversation_log"} <= set(parse_schema(stack.audit_schema))
    assert bestbox_dashboards.AUDIT_SCHEMA == stack.audit_schema


# -- the cross-checks on the real spec -------------------------------------------------------


def test_every_alert_dashboard_link_resolves(stack: Stack, rendered: dict[str, str]) -> None:
    assert check_alert_dashboard_links(CheckContext.of(stack, rendered)) == []
    uids = {d.uid for d in read_artifacts(rendered).dashboards}
    linked = {a.dashboard for a in stack.alerts if a.dashboard}
    assert linked == {
        "bestbox-system-health",
        "bestbox-agent-performance",
        "bestbox-user-analytics",
    }
    assert linked | {"bestbox-slo"} <= uids


def test_bestbox_dashboards_pass_the_grafana_checks(stack: Stack, rendered: dict[str, str]) -> None:
    context = CheckContext.of(stack, rendered)
    assert list(check_datasources(context)) == []
    assert list(check_trace_links(context)) == []
    assert list(check_sql_queries(context)) == []


def test_every_sql_query_is_found(stack: Stack, rendered: dict[str, str]) -> None:
    in_spec = sum(len(p.queries) for d in stack.dashboards for p in d.panels if p.is_sql) + sum(
        1 for d in stack.dashboards for v in d.variables if v.kind is VariableKind.QUERY
    )
    found = {
        (board.path.rsplit("/", 1)[-1], query.label)
        for board in read_artifacts(rendered).dashboards
        for query in sql_queries(board)
    }
    assert len(found) == in_spec == 9
    assert ("conversation-audit.json", "variable $agent") in found


# -- Grafana's SQL macros --------------------------------------------------------------------

VARIABLES: list[dict[str, Any]] = [
    {"name": "user", "type": "textbox", "current": {"value": "o'brien"}},
    {"name": "agent", "type": "custom", "multi": True, "includeAll": True,
     "current": {"value": "$__all"}, "options": [{"value": "$__all"}, {"value": "erp"}]},
    {"name": "feedback", "type": "custom", "current": {"value": "all"}},
]  # fmt: skip


@pytest.mark.parametrize(
    ("sql", "expanded"),
    [
        (
            "WHERE $__timeFilter(timestamp)",
            "WHERE timestamp BETWEEN '2026-01-01T00:00:00Z' AND '2026-01-02T00:00:00Z'",
        ),
        (
            "SELECT $__timeGroupAlias(started_at, $__interval)",
            'SELECT floor(extract(epoch from started_at)/60)*60 AS "time"',
        ),
        ("GROUP BY $__timeGroup(t, '5m')", "GROUP BY floor(extract(epoch from t)/300)*300"),
        ("SELECT $__time(t), $__timeFrom()", "SELECT t AS \"time\", '2026-01-01T00:00:00Z'"),
        ("WHERE $__unixEpochFilter(e)", "WHERE e >= 1767225600 AND e <= 1767312000"),
        ("WHERE user_id = '$user'", "WHERE user_id = 'o''brien'"),
        ("WHERE agent_type IN ($agent)", "WHERE agent_type IN ('erp')"),
        ("WHERE agent_type IN (${agent})", "WHERE agent_type IN ('erp')"),
        ("WHERE a = '${agent:raw}'", "WHERE a = 'erp'"),
        ("WHERE f = '$feedback' AND g = '$feedbacks'", "WHERE f = 'all' AND g = '$feedbacks'"),
        ("SELECT $__interval_ms", "SELECT 60000"),
    ],
)
def test_macros_and_variables_expand_as_grafana_does(sql: str, expanded: str) -> None:
    assert expand_sql(sql, VARIABLES) == expanded


@pytest.mark.parametrize(
    ("sql", "message"),
    [
        ("WHERE $__timeFilterr(t)", r"\$__timeFilterr\(\) is not a Grafana PostgreSQL macro"),
        ("WHERE $__timeFilter()", r"needs 1 argument"),
        ("SELECT $__timeGroup(t, often)", r"'often' is not an interval"),
        ("WHERE $__timeFilter(t", r"unbalanced"),
    ],
)
def test_bad_macros_are_reported(sql: str, message: str) -> None:
    with pytest.raises(MacroError, match=message):
        expand_sql(sql)


def test_variable_values_quote_only_list_variables() -> None:
    assert variable_values(VARIABLES) == {"user": "o''brien", "agent": "'erp'", "feedback": "all"}


# -- the SQL checker --------------------------------------------------------------------------

SCHEMA = {"t": ("a", "b", "ts"), "u": ("a", "c")}

CLEAN_SQL = [
    "SELECT a, b FROM t",
    "SELECT t.a, u.c FROM t JOIN u ON t.a = u.a",
    "SELECT x.a FROM t AS x",
    "SELECT count(*) AS n FROM t GROUP BY a ORDER BY n DESC",
    "SELECT s.k FROM (SELECT a AS k FROM t) AS s",
    "SELECT a FROM t WHERE EXISTS (SELECT 1 FROM u WHERE u.a = t.a)",
    "WITH w AS (SELECT a FROM t) SELECT a FROM w",
    "SELECT e->>'name' FROM t CROSS JOIN LATERAL jsonb_array_elements(t.b) AS e",
    "SELECT lead(ts) OVER (PARTITION BY a ORDER BY ts) AS nxt FROM t",
]


@pytest.mark.parametrize("sql", CLEAN_SQL)
def test_clean_sql_has_no_findings(sql: str) -> None:
    assert check_sql(sql, SCHEMA, "q") == []


BAD_SQL = [
    ("SELECT a FROM v", "sql-unknown-table", "table 'v' is not in the audit schema"),
    ("SELECT d FROM t", "sql-unknown-column", "column 'd' is in no table of the query"),
    ("SELECT t.c FROM t", "sql-unknown-column", "column 'c' is not a column of t"),
    ("SELECT x.k FROM (SELECT a AS j FROM t) x", "sql-unknown-column", "'k' is not a column of x"),
    ("SELECT z.a FROM t", "sql-unknown-column", "no table or alias 'z'"),
    ("SELECT a FROM t WHERE", "sql-syntax", "the SQL does not parse"),
]


@pytest.mark.parametrize(("sql", "code", "message"), BAD_SQL)
def test_bad_sql_is_reported(sql: str, code: str, message: str) -> None:
    findings = check_sql(sql, SCHEMA, "q")
    assert [f.code for f in findings] == [code]
    assert message in findings[0].message


SEED_TTFT_SPEC = REPO_ROOT / "tests/data/specs/with_dashboard_findings.py"


def _spec_line(path: Path, text: str) -> int:
    (line,) = [n for n, line in enumerate(path.read_text().splitlines(), 1) if text in line]
    return line


def test_a_dashboard_finding_names_panel_and_target_and_shows_the_spec_expression() -> None:
    """The rendered target maps back to its spec query: the finding names the dashboard,
    the panel title and the refId, points at the PromQuery's line and shows the query
    as written ($__rate_interval, the 0.95 quantile), not the substituted one."""
    stack = load_stack(f"{SEED_TTFT_SPEC}:stack", REPO_ROOT)
    (finding,) = check_stack(stack)
    assert finding.code == "quantile-le-dropped"
    assert finding.where == "dashboard seed-ttft: panel 'TTFT p95', target B"
    assert finding.expr == (
        "histogram_quantile(0.95, sum(rate(agent_ttft_seconds_bucket[$__rate_interval])))"
    )
    assert "$__rate_interval" not in finding.message and "60s" not in finding.message
    assert finding.spec == "Panel[TTFT p95]"
    file, _, line = finding.location.rpartition(":")
    assert Path(file).resolve() == SEED_TTFT_SPEC
    assert int(line) == _spec_line(SEED_TTFT_SPEC, "PromQuery(expr=TTFT_P95")


def test_objects_copied_in_code_keep_the_lines_of_their_parts(stack: Stack) -> None:
    """model_copy keeps no line: a copied panel's own finding names the spec object
    instead, its targets still point at their queries' lines."""
    broken = _with_panel(stack, "bestbox-system-health", "Memory", datasource="loki")
    findings = {f.where: f for f in check_datasources(CheckContext.of(broken))}
    memory = bestbox_dashboards.system_health.panel("Memory")
    assert memory is not None and memory.queries[0].spec_location()
    panel = findings["dashboard bestbox-system-health: panel 'Memory'"]
    target = findings["dashboard bestbox-system-health: panel 'Memory', target A"]
    assert target.location == memory.queries[0].spec_location()
    assert panel.location == "" and "(spec: Panel[Memory])" in format_finding(panel)


def test_the_checker_reads_the_generated_json(stack: Stack) -> None:
    """A query in the rendered dashboard, not the spec, is what gets checked."""
    spec = bestbox_dashboards.user_analytics
    document = dashboard(stack, spec)
    document["panels"][0]["targets"][0]["rawSql"] = "SELECT count(*) FROM sessions"
    files = {"grafana/dashboards/user-analytics.json": json.dumps(document)}
    findings = check_sql_queries(CheckContext.of(stack, files))
    assert [(f.code, f.spec, f.expr) for f in findings] == [
        ("sql-unknown-table", "Panel[Sessions (24h)]", "SELECT count(*) FROM sessions")
    ]


def test_sql_placeholders_leave_no_dollar_in_the_bestbox_queries(rendered: dict[str, str]) -> None:
    for board in read_artifacts(rendered).dashboards:
        for query in sql_queries(board):
            sql = expand_sql(query.sql, board.variables)
            assert not re.search(r"\$\w", sql), query.label


def _with_panel(stack: Stack, uid: str, title: str, **changes: Any) -> Stack:
    dashboards = tuple(
        d.model_copy(
            update={
                "panels": tuple(
                    p.model_copy(update=changes) if p.title == title else p for p in d.panels
                )
            }
        )
        if d.uid == uid
        else d
        for d in stack.dashboards
    )
    return stack.model_copy(update={"dashboards": dashboards})


def test_trace_link_to_a_non_jaeger_datasource_is_reported(stack: Stack) -> None:
    link = TraceLink(column="trace_id", datasource="prometheus")
    broken = _with_panel(
        stack, "bestbox-conversation-audit", "Recent conversations", trace_link=link
    )
    findings = check_trace_links(CheckContext.of(broken))
    assert [(f.code, f.where) for f in findings] == [
        (
            "unknown-datasource",
            "dashboard bestbox-conversation-audit: panel 'Recent conversations', trace link",
        )
    ]
    assert "is a prometheus datasource, not Jaeger" in findings[0].message


def test_sql_sent_to_the_prometheus_datasource_is_reported(stack: Stack) -> None:
    broken = _with_panel(stack, "bestbox-user-analytics", "Sessions (24h)", datasource="prometheus")
    files = {
        "grafana/dashboards/user-analytics.json": json.dumps(
            dashboard(broken, broken.dashboards[1])
        )
    }
    findings = check_datasources(CheckContext.of(broken, files))
    assert [f.message for f in findings] == [
        "a postgres query sent to 'prometheus', a prometheus datasource"
    ]
    assert findings[0].where.endswith("panel 'Sessions (24h)', target A")


def test_a_migration_renaming_a_column_fails_the_check(
    stack: Stack, rendered: dict[str, str]
) -> None:
    assert stack.audit_schema is not None
    renamed = stack.audit_schema.replace("trace_id ", "otel_trace_id ")
    renamed_stack = stack.model_copy(update={"audit_schema": renamed})
    findings = check_sql_queries(CheckContext.of(renamed_stack, rendered))
    assert {(f.code, f.where.rsplit(": ", 1)[-1]) for f in findings} == {
        ("sql-unknown-column", "panel 'Recent conversations', target A"),
        ("sql-unknown-column", "panel 'Failed tool calls', target A"),
    }


def test_sql_panels_may_read_only_the_tables_granted_to_grafana(stack: Stack) -> None:
    """admin_audit is in the audit schema (migration 002) but Grafana's read-only role
    has no SELECT on it: a panel reading it is reported, as Grafana would fail."""
    from tests.stackgen.test_finding_codes import sessions_sql

    assert stack.audit_schema is not None and "admin_audit" in parse_schema(stack.audit_schema)
    variant = stack.model_copy(update=sessions_sql("SELECT count(*) AS n FROM admin_audit")(stack))
    findings = check_stack(variant)
    assert [f.code for f in findings] == ["sql-unknown-table"]
    assert "admin_audit" in findings[0].message
