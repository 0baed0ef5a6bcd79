"""generated/grafana/dashboards/<name>.json: the dashboards of ``Stack.dashboards``, from
their panel specs, built with grafanalib and shaped by ``grafana_json``.

Panels flow left to right in spec order and wrap at Grafana's 24-column grid, so adding
a panel is adding it to the spec. Every panel, target and query variable names its
datasource by UID; a table with a ``TraceLink`` opens each row's trace in Grafana's
Explore with the Jaeger datasource.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

from grafanalib.core import (
    BarGauge,
    GaugePanel,
    GridPos,
    Heatmap,
    PieChartv2,
    Repeat,
    SqlTarget,
    Stat,
    Table,
    Target,
    Template,
    Templating,
    Time,
    TimeSeries,
)
from grafanalib.core import Dashboard as GrafanaDashboard
from grafanalib.core import Panel as GrafanaPanel

from stackgen.conventions import (
    DASHBOARD_FILE,
    GRAFANA_SCHEMA_VERSION,
)
from stackgen.memo import per_stack
from stackgen.output import generated_notice
from stackgen.render.grafana_json import board_json, dashboard_text
from stackgen.spec import (
    Dashboard,
    Datasource,
    DatasourceType,
    Panel,
    PanelKind,
    PromQuery,
    SQLQuery,
    Stack,
    TraceLink,
    Variable,
    VariableKind,
)
from stackgen.spec.dashboards import GRID_WIDTH

__all__ = ["dashboard", "render", "trace_link_url"]

ALL = {"selected": True, "text": "All", "value": "$__all"}
# Grafana's variable refresh: 2 = when the time range changes.
REFRESH_ON_TIME_RANGE = 2
TRACE_ID_PLACEHOLDER = "__stackgen_trace_id__"


def _datasource(stack: Stack, uid: str) -> Datasource | None:
    return stack.grafana.datasource(uid) if stack.grafana is not None else None


def _ref(stack: Stack, uid: str, fallback: DatasourceType) -> dict[str, str]:
    """A datasource reference by UID; an unknown UID keeps the type the query language
    implies (`stackgen check` reports it as unknown-datasource)."""
    found = _datasource(stack, uid)
    return {"type": str(found.type if found else fallback), "uid": uid}


def trace_link_url(stack: Stack, link: TraceLink) -> str:
    """Grafana Explore (URL schema 1, Grafana 10+) with the Jaeger datasource looking up
    the row's trace id; Grafana fills ``${__data.fields.<column>}`` per row."""
    ref = _ref(stack, link.datasource, DatasourceType.JAEGER)
    pane = {
        "trace": {
            "datasource": ref["uid"],
            # A Jaeger query without queryType is a lookup by trace id.
            "queries": [{"datasource": ref, "query": TRACE_ID_PLACEHOLDER, "refId": "A"}],
            "range": {"from": "now-1h", "to": "now"},
        }
    }
    panes = quote(json.dumps(pane, separators=(",", ":"), sort_keys=True), safe="")
    url = f"/explore?schemaVersion=1&orgId=1&panes={panes}"
    return url.replace(TRACE_ID_PLACEHOLDER, f"${{__data.fields.{link.column}}}")


def _data_link(stack: Stack, link: TraceLink) -> dict[str, Any]:
    # Written with every key of the schema's link model (../shared/schemas), which
    # Grafana's data links ignore beyond title, url and targetBlank.
    return {
        "asDropdown": False,
        "icon": "external link",
        "includeVars": False,
        "keepTime": False,
        "tags": [],
        "targetBlank": True,
        "title": link.title,
        "tooltip": f"The trace of this row ({link.column}) in Jaeger",
        "type": "link",
        "url": trace_link_url(stack, link),
    }


def _targets(stack: Stack, panel: Panel) -> list[Target]:
    targets: list[Target] = []
    for i, query in enumerate(panel.queries):
        ref_id = chr(ord("A") + i)
        if isinstance(query, SQLQuery):
            ref = _ref(stack, panel.datasource, DatasourceType.POSTGRES)
            targets.append(
                SqlTarget(rawSql=query.sql, format=str(query.format), refId=ref_id, datasource=ref)
            )
            continue
        assert isinstance(query, PromQuery)
        targets.append(
            Target(
                expr=query.expr,
                legendFormat=query.legend,
                refId=ref_id,
                instant=query.instant,
                format="heatmap" if panel.kind is PanelKind.HEATMAP else "time_series",
                datasource=_ref(stack, panel.datasource, DatasourceType.PROMETHEUS),
            )
        )
    return targets


def _field_defaults(stack: Stack, panel: Panel) -> dict[str, Any]:
    defaults: dict[str, Any] = {"unit": panel.unit}
    if panel.decimals is not None:
        defaults["decimals"] = panel.decimals
    if panel.min is not None:
        defaults["min"] = panel.min
    if panel.max is not None:
        defaults["max"] = panel.max
    if panel.mappings:
        options = {
            value: {"index": i, "text": text}
            for i, (value, text) in enumerate(panel.mappings.items())
        }
        defaults["mappings"] = [{"options": options, "type": "value"}]
    if panel.trace_link is not None:
        defaults["links"] = [_data_link(stack, panel.trace_link)]
    return defaults


def _panel(stack: Stack, panel: Panel, grid: GridPos) -> GrafanaPanel:
    steps = [{"color": t.color, "value": t.value} for t in panel.thresholds]
    common: dict[str, Any] = {
        "title": panel.title,
        "description": panel.description,
        "dataSource": _targets(stack, panel)[0].datasource,
        "targets": _targets(stack, panel),
        "gridPos": grid,
        "extraJson": {"fieldConfig": {"defaults": _field_defaults(stack, panel)}},
    }
    if panel.repeat is not None:
        common["repeat"] = Repeat(direction="h", variable=panel.repeat)
    if steps:
        common["thresholds"] = steps
    match panel.kind:
        case PanelKind.STAT:
            return Stat(reduceCalc="lastNotNull", graphMode="none", **common)
        case PanelKind.GAUGE:
            return GaugePanel(**common)
        case PanelKind.BARGAUGE:
            return BarGauge(displayMode="gradient", orientation="horizontal", **common)
        case PanelKind.TIMESERIES:
            mode = "line" if panel.threshold_line else "off"
            return TimeSeries(thresholdsStyleMode=mode, fillOpacity=10, **common)
        case PanelKind.TABLE:
            return Table(filterable=True, **common)
        case PanelKind.PIECHART:
            return PieChartv2(legendValues=["percent"], legendPlacement="right", **common)
        case PanelKind.HEATMAP:
            return Heatmap(dataFormat="tsbuckets", **common)


def _layout(panels: tuple[Panel, ...]) -> list[GridPos]:
    """Left to right, wrapping at the grid width; a line is as tall as its tallest."""
    grids, x, y, line_height = [], 0, 0, 0
    for panel in panels:
        if x + panel.width > GRID_WIDTH:
            x, y, line_height = 0, y + line_height, 0
        grids.append(GridPos(h=panel.height, w=panel.width, x=x, y=y))
        x += panel.width
        line_height = max(line_height, panel.height)
    return grids


def _template(stack: Stack, variable: Variable) -> Template:
    common: dict[str, Any] = {
        "name": variable.name,
        "label": variable.label,
        "type": str(variable.kind),
        "includeAll": variable.include_all,
        "multi": variable.multi,
    }
    match variable.kind:
        case VariableKind.TEXTBOX:
            return Template(query=variable.default, default=variable.default, **common)
        case VariableKind.CUSTOM:
            default = variable.default or (None if variable.include_all else variable.options[0])
            return Template(query=",".join(variable.options), default=default, **common)
        case VariableKind.QUERY:
            assert variable.query is not None and variable.datasource is not None
            return Template(
                query=variable.query,
                dataSource=_ref(stack, variable.datasource, DatasourceType.POSTGRES),
                refresh=REFRESH_ON_TIME_RANGE,
                default=variable.default or None,
                **common,
            )


def _variable_json(variable: Variable, data: dict[str, Any]) -> dict[str, Any]:
    """What Grafana writes beyond grafanalib: the All option, a query's definition."""
    if variable.description:
        data["description"] = variable.description
    if variable.kind is VariableKind.QUERY:
        data["definition"] = variable.query
        data["options"] = []
    if variable.include_all and not variable.default:
        data["current"] = dict(ALL)
        if variable.kind is VariableKind.CUSTOM:
            data["options"] = [ALL, *({**o, "selected": False} for o in data["options"])]
    return data


def dashboard(stack: Stack, spec: Dashboard) -> dict[str, Any]:
    """One dashboard as Grafana JSON (a dict)."""
    grids = _layout(spec.panels)
    board = GrafanaDashboard(
        title=spec.title,
        uid=spec.uid,
        description=f"{generated_notice()}. {spec.description}",
        tags=list(spec.tags),
        panels=[_panel(stack, p, g) for p, g in zip(spec.panels, grids, strict=True)],
        templating=Templating(list=[_template(stack, v) for v in spec.variables]),
        time=Time(f"now-{spec.time_from}", "now"),
        refresh=spec.refresh or "",
        schemaVersion=GRAFANA_SCHEMA_VERSION,
        timezone="browser",
        graphTooltip=1,
    ).auto_panel_ids()
    data = board_json(board)
    data["templating"]["list"] = [
        _variable_json(v, d)
        for v, d in zip(spec.variables, data["templating"]["list"], strict=True)
    ]
    if not spec.refresh:
        data.pop("refresh", None)
    return data


def render(stack: Stack) -> dict[str, str]:
    # A dict of its own for each caller; the texts are built once per stack (the
    # Kubernetes target puts the same files in its config maps).
    return dict(_texts(stack))


@per_stack
def _texts(stack: Stack) -> dict[str, str]:
    return {
        DASHBOARD_FILE.format(name=spec.name): dashboard_text(dashboard(stack, spec))
        for spec in stack.dashboards
    }
