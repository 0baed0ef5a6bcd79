"""Grafana dashboards as specs: panels with their queries, thresholds and links, and the
variables (filters) the queries use.

Panels reference datasources by UID (the UIDs of ``Stack.grafana``); `stackgen check`
resolves them, runs PromQL through the catalog checks and SQL through the audit schema.
Threshold numbers are computed by the spec module from SLO and alert objects
(``alert_threshold``), never retyped, so a dashboard line moves with its alert.
"""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Annotated, Literal, Self

import promql_parser
from pydantic import Field, model_validator

from stackgen.promql_trees import parsed
from stackgen.spec.base import SpecModel
from stackgen.spec.rules import Alert

__all__ = [
    "Dashboard",
    "Panel",
    "PanelKind",
    "PromQuery",
    "SQLFormat",
    "SQLQuery",
    "Threshold",
    "TraceLink",
    "Variable",
    "VariableKind",
    "alert_threshold",
    "variable_references",
]

DATASOURCE_UID = r"^[a-zA-Z0-9_-]{1,40}$"
VARIABLE_NAME = r"^[a-zA-Z_][a-zA-Z0-9_]*$"
GRID_WIDTH = 24  # Grafana's grid

# $name, ${name}, ${name:format} and [[name]]; Grafana's own ($__interval...) start "__".
_REFERENCE = re.compile(
    r"\$\{([A-Za-z_]\w*)(?::[^}]*)?\}|\$([A-Za-z_]\w*)|\[\[([A-Za-z_]\w*)(?::[^\]]*)?\]\]"
)


def variable_references(text: str) -> set[str]:
    """Names of the dashboard variables a query uses (Grafana's built-ins excluded)."""
    names = {next(g for g in match.groups() if g) for match in _REFERENCE.finditer(text)}
    return {name for name in names if not name.startswith("__")}


class PanelKind(StrEnum):
    STAT = "stat"
    GAUGE = "gauge"
    TIMESERIES = "timeseries"
    TABLE = "table"
    PIECHART = "piechart"
    BARGAUGE = "bargauge"
    HEATMAP = "heatmap"


class PromQuery(SpecModel):
    """A PromQL target. Grafana variables ($__rate_interval, $agent) are allowed."""

    spec_key = "expr"

    # Tells the two query kinds apart when a stack is validated from data (model_dump).
    language: Literal["promql"] = "promql"
    expr: str = Field(min_length=1)
    legend: str = ""
    # One value at the end of the range (stat, gauge, pie, bar gauge) instead of a series.
    instant: bool = False


class SQLFormat(StrEnum):
    TABLE = "table"
    TIME_SERIES = "time_series"


class SQLQuery(SpecModel):
    """A SQL target over the audit schema; Grafana macros ($__timeFilter(col),
    $__timeGroupAlias(col, $__interval)) and variables are allowed."""

    spec_key = "sql"

    language: Literal["sql"] = "sql"
    sql: str = Field(min_length=1)
    format: SQLFormat = SQLFormat.TABLE


class Threshold(SpecModel):
    """A colour step; the first step of a panel is the base (``value`` None)."""

    spec_key = "color"

    color: str = Field(min_length=1)
    value: float | None = None


class TraceLink(SpecModel):
    """Every row of a table links to its trace: Grafana's Explore opens the trace id of
    ``column`` with the Jaeger datasource ``datasource`` (the trace waterfall, behind
    Grafana's login rather than on Jaeger's unauthenticated UI port)."""

    spec_key = "column"

    column: str = Field(pattern=r"^[a-z_][a-z0-9_]*$")
    datasource: str = Field(pattern=DATASOURCE_UID)
    title: str = "Open trace in Jaeger"


class Panel(SpecModel):
    spec_key = "title"

    title: str = Field(min_length=1)
    kind: PanelKind
    # What the panel shows and, for estimates, how it is computed.
    description: str = Field(min_length=1)
    datasource: str = Field(pattern=DATASOURCE_UID)
    queries: tuple[Annotated[PromQuery | SQLQuery, Field(discriminator="language")], ...] = Field(
        min_length=1
    )
    unit: str = "none"
    decimals: int | None = Field(default=None, ge=0)
    min: float | None = None
    max: float | None = None
    thresholds: tuple[Threshold, ...] = ()
    # Time series: draw the thresholds as lines (the SLA line).
    threshold_line: bool = False
    # Value -> text (e.g. "0" -> "Down").
    mappings: dict[str, str] = Field(default_factory=dict)
    width: int = Field(default=8, ge=1, le=GRID_WIDTH)
    height: int = Field(default=8, ge=1)
    # A variable name: one panel per selected value.
    repeat: str | None = Field(default=None, pattern=VARIABLE_NAME)
    trace_link: TraceLink | None = None

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        problems = []
        languages = {type(q) for q in self.queries}
        if len(languages) > 1:
            problems.append("queries: a panel's queries are all PromQL or all SQL")
        if self.thresholds:
            first, *rest = self.thresholds
            if first.value is not None:
                problems.append("thresholds[0].value: the first step is the base (None)")
            values = [t.value for t in rest]
            if any(v is None for v in values):
                problems.append("thresholds: only the first step may have no value")
            elif values != sorted({v for v in values if v is not None}):
                problems.append(f"thresholds: values must increase strictly, got {values}")
        if self.threshold_line and (
            self.kind is not PanelKind.TIMESERIES or len(self.thresholds) < 2
        ):
            problems.append("threshold_line: needs a timeseries panel with a threshold value")
        if self.trace_link is not None and (self.kind is not PanelKind.TABLE or not self.is_sql):
            problems.append("trace_link: only on a table of SQL rows")
        if self.kind is PanelKind.HEATMAP and self.is_sql:
            problems.append("kind: heatmaps read Prometheus histogram buckets (PromQL)")
        if problems:
            raise ValueError("; ".join(problems))
        return self

    @property
    def is_sql(self) -> bool:
        return isinstance(self.queries[0], SQLQuery)

    def query_texts(self) -> list[str]:
        return [q.sql if isinstance(q, SQLQuery) else q.expr for q in self.queries]


class VariableKind(StrEnum):
    TEXTBOX = "textbox"
    CUSTOM = "custom"
    QUERY = "query"


class Variable(SpecModel):
    """A dashboard filter: free text, a fixed list, or values queried from a datasource."""

    name: str = Field(pattern=VARIABLE_NAME)
    label: str = Field(min_length=1)
    kind: VariableKind
    description: str = ""
    default: str = ""
    # custom: the values offered.
    options: tuple[str, ...] = ()
    # query: the query and the datasource (UID) it runs on.
    query: str | None = None
    datasource: str | None = Field(default=None, pattern=DATASOURCE_UID)
    multi: bool = False
    include_all: bool = False

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        problems = []
        if self.name.startswith("__"):
            problems.append("name: names starting with '__' are Grafana's")
        has_query = self.query is not None or self.datasource is not None
        if self.kind is VariableKind.CUSTOM:
            if not self.options:
                problems.append("options: a custom variable needs its values")
            if any("," in o for o in self.options):
                problems.append("options: values may not contain ','")
            if self.default and self.default not in self.options:
                problems.append(f"default: {self.default!r} is not one of the options")
        elif self.options:
            problems.append("options: only for a custom variable")
        if self.kind is VariableKind.QUERY:
            if self.query is None or self.datasource is None:
                problems.append("query, datasource: a query variable needs both")
        elif has_query:
            problems.append("query, datasource: only for a query variable")
        if self.kind is VariableKind.TEXTBOX and (self.multi or self.include_all):
            problems.append("multi, include_all: a textbox holds one value")
        if problems:
            raise ValueError("; ".join(problems))
        return self

    @property
    def is_list(self) -> bool:
        """Grafana quotes and joins the values of multi-value / All variables."""
        return self.multi or self.include_all


class Dashboard(SpecModel):
    stack_field = "dashboards"
    spec_key = "uid"

    uid: str = Field(pattern=r"^[a-z0-9][a-z0-9-]{0,39}$")
    # File name under generated/grafana/dashboards/ (without .json).
    name: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$")
    title: str = Field(min_length=1)
    description: str = Field(min_length=1)
    tags: tuple[str, ...] = ()
    panels: tuple[Panel, ...] = Field(min_length=1)
    variables: tuple[Variable, ...] = ()
    # Default time range: now-<time_from> .. now.
    time_from: str = Field(default="6h", pattern=r"^\d+[mhdw]$")
    refresh: str | None = Field(default="1m", pattern=r"^\d+[smhd]$")

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        problems = []
        titles = [p.title for p in self.panels]
        for title in sorted({t for t in titles if titles.count(t) > 1}):
            problems.append(f"panels: title {title!r} is used {titles.count(title)} times")
        variables = {v.name: v for v in self.variables}
        if len(variables) != len(self.variables):
            problems.append("variables: names must be unique")
        for panel in self.panels:
            used = set().union(*(variable_references(t) for t in panel.query_texts()))
            for name in sorted(used - set(variables)):
                problems.append(f"panels[{panel.title}].queries: ${name} is not a variable")
            if panel.repeat is not None:
                repeat = variables.get(panel.repeat)
                if repeat is None or not repeat.is_list:
                    problems.append(
                        f"panels[{panel.title}].repeat: {panel.repeat!r} is not a "
                        "multi-value variable of this dashboard"
                    )
        for variable in self.variables:
            for name in sorted(variable_references(variable.query or "") - set(variables)):
                problems.append(f"variables[{variable.name}].query: ${name} is not a variable")
        if problems:
            raise ValueError("; ".join(problems))
        return self

    def panel(self, title: str) -> Panel | None:
        return next((p for p in self.panels if p.title == title), None)


_COMPARISONS = {">", ">=", "<", "<=", "==", "!="}


def alert_threshold(alert: Alert) -> float:
    """The number an alert compares with (``expr > 0.05`` -> 0.05), read from the parsed
    expression; for ``a < x and b >= n`` the left-hand comparison's."""
    node = parsed(alert.expr)
    while isinstance(node, promql_parser.BinaryExpr):
        op = str(node.op)
        if op in _COMPARISONS and isinstance(node.rhs, promql_parser.NumberLiteral):
            return float(node.rhs.val)
        if op not in {"and", "unless"}:
            break
        node = node.lhs
    raise ValueError(f"{alert.spec_name()}.expr: no comparison with a number at its top")
