"""Grafana dashboard JSON shared by every dashboard renderer: grafanalib objects in,
JSON Grafana 10.4 reads without migrating out.

grafanalib 0.7.1 writes fields of the pre-schemaVersion-16 dashboard model (rows, style,
per-panel editable/error, legacy threshold objects, pre-7 gauge and heatmap options) and
nulls for unset options. Every dashboard is reduced to the keys of the classic dashboard
JSON schema (grafana-foundation-sdk's dashboard.jsonschema.json, in ../shared/schemas),
each panel's ``options`` and ``fieldConfig.defaults.custom`` are rewritten in the
current shape of its panel type, and every panel, target and variable names its
datasource as ``{"type", "uid"}``.
"""

from __future__ import annotations

import json
from typing import Any

from grafanalib._gen import DashboardEncoder
from grafanalib.core import Dashboard

from stackgen.spec import Datasource, DatasourceType, Stack

__all__ = [
    "board_json",
    "dashboard_text",
    "datasource_ref",
    "prometheus_datasource",
]

DASHBOARD_KEYS = frozenset(
    {
        "annotations", "description", "editable", "graphTooltip", "links", "panels",
        "refresh", "schemaVersion", "tags", "templating", "time", "timepicker", "timezone",
        "title", "uid", "version",
    }
)  # fmt: skip
PANEL_KEYS = frozenset(
    {
        "cacheTimeout", "datasource", "description", "fieldConfig", "gridPos",
        "hideTimeOverride", "id", "interval", "links", "maxDataPoints", "maxPerRow",
        "options", "repeat", "repeatDirection", "targets", "timeFrom", "timeShift", "title",
        "transformations", "transparent", "type",
    }
)  # fmt: skip
ROW_KEYS = frozenset({"collapsed", "datasource", "gridPos", "id", "panels", "title", "type"})
TIMEPICKER_KEYS = frozenset({"hidden", "refresh_intervals", "nowDelay"})
FIELD_DEFAULT_KEYS = frozenset(
    {"color", "custom", "decimals", "links", "mappings", "max", "min", "noValue",
     "thresholds", "unit"}
)  # fmt: skip
VARIABLE_KEYS = frozenset(
    {
        "allValue", "current", "datasource", "definition", "description", "hide",
        "includeAll", "label", "multi", "name", "options", "query", "refresh", "regex",
        "skipUrlSync", "sort", "type",
    }
)  # fmt: skip
PROMETHEUS_TARGET_KEYS = frozenset(
    {"datasource", "editorMode", "expr", "format", "instant", "interval", "legendFormat",
     "range", "refId"}
)  # fmt: skip
SQL_TARGET_KEYS = frozenset(
    {"datasource", "editorMode", "format", "rawQuery", "rawSql", "refId"}
)  # fmt: skip

# Options Grafana 10.4 writes for each panel type, beyond what grafanalib knows.
REDUCE_LAST = {"calcs": ["lastNotNull"], "fields": "", "values": False}
LEGEND = {"calcs": [], "displayMode": "list", "placement": "bottom", "showLegend": True}
TOOLTIP = {"mode": "single", "sort": "none"}
HIDE_FROM = {"legend": False, "tooltip": False, "viz": False}


def datasource_ref(datasource: Datasource) -> dict[str, str]:
    """How a panel, target or variable names its datasource: by UID, with its type."""
    return {"type": str(datasource.type), "uid": datasource.uid}


def prometheus_datasource(stack: Stack) -> Datasource | None:
    """The Prometheus datasource dashboards query: the default one, else the first."""
    if stack.grafana is None:
        return None
    candidates = [d for d in stack.grafana.datasources if d.type is DatasourceType.PROMETHEUS]
    return next((d for d in candidates if d.default), candidates[0] if candidates else None)


def board_json(board: Dashboard) -> dict[str, Any]:
    """The dashboard as schema-conformant Grafana JSON (a dict)."""
    data = json.loads(json.dumps(board.to_json_data(), cls=DashboardEncoder))
    return _normalise(data)


def dashboard_text(board: dict[str, Any]) -> str:
    return json.dumps(board, sort_keys=True, indent=2, ensure_ascii=False) + "\n"


def _without_nulls(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _without_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_without_nulls(v) for v in value]
    return value


def _normalise(data: dict[str, Any]) -> dict[str, Any]:
    board = {k: v for k, v in _without_nulls(data).items() if k in DASHBOARD_KEYS}
    board["timepicker"] = {
        k: v for k, v in board.get("timepicker", {}).items() if k in TIMEPICKER_KEYS
    }
    board["templating"] = {
        "list": [_variable(v) for v in board.get("templating", {}).get("list", [])]
    }
    board["panels"] = [_panel(p) for p in board["panels"]]
    return board


def _panel(panel: dict[str, Any]) -> dict[str, Any]:
    if panel["type"] == "row":
        return {k: v for k, v in panel.items() if k in ROW_KEYS}
    panel = {k: v for k, v in panel.items() if k in PANEL_KEYS}
    if "repeat" not in panel:
        panel.pop("repeatDirection", None)
        panel.pop("maxPerRow", None)
    field_config = panel.get("fieldConfig", {})
    defaults = {
        k: v for k, v in field_config.get("defaults", {}).items() if k in FIELD_DEFAULT_KEYS
    }
    panel["fieldConfig"] = {"defaults": defaults, "overrides": field_config.get("overrides", [])}
    defaults["thresholds"] = _thresholds(defaults.get("thresholds"))
    panel["targets"] = [_target(t) for t in panel.get("targets", [])]
    shape = _SHAPES[panel["type"]]
    panel["options"], custom = shape(panel.get("options") or {}, defaults)
    defaults["custom"] = custom
    return panel


def _thresholds(config: Any) -> dict[str, Any]:
    """Steps as ``{color, value}`` (grafanalib's legacy steps carry op/index/line/yaxis)."""
    steps = config.get("steps") if isinstance(config, dict) else None
    if not isinstance(steps, list) or not steps:
        steps = [{"color": "green", "value": None}]
    clean = []
    for i, step in enumerate(steps):
        # The base step's null is Grafana's -Infinity.
        clean.append({"color": step["color"], "value": None if i == 0 else step.get("value")})
    return {"mode": "absolute", "steps": clean}


def _target(target: dict[str, Any]) -> dict[str, Any]:
    if "rawSql" in target:
        sql = {k: v for k, v in target.items() if k in SQL_TARGET_KEYS}
        return {**sql, "editorMode": "code", "rawQuery": True}
    prometheus = {k: v for k, v in target.items() if k in PROMETHEUS_TARGET_KEYS}
    # Grafana 10 writes `range` next to `instant`; exactly one of them is true.
    prometheus["range"] = not prometheus.get("instant", False)
    prometheus.setdefault("editorMode", "code")
    return prometheus


def _variable(variable: dict[str, Any]) -> dict[str, Any]:
    clean = {k: v for k, v in variable.items() if k in VARIABLE_KEYS}
    current = clean.get("current") or {}
    clean["current"] = {
        "selected": bool(current.get("selected", False)),
        "text": current.get("text") or "",
        "value": current.get("value") or "",
    }
    clean["options"] = [
        {"selected": bool(o.get("selected")), "text": o["text"], "value": o["value"]}
        for o in clean.get("options", [])
    ]
    return clean


# -- panel types: (grafanalib options, field defaults) -> (options, defaults.custom) -----


def _stat(options: dict[str, Any], defaults: dict[str, Any]) -> tuple[dict[str, Any], Any]:
    shaped = {
        "percentChangeColorMode": "standard",
        "showPercentChange": False,
        "wideLayout": True,
        **options,
    }
    return shaped, {}


def _gauge(options: dict[str, Any], defaults: dict[str, Any]) -> tuple[dict[str, Any], Any]:
    shaped = {
        "minVizHeight": 75,
        "minVizWidth": 75,
        "orientation": "auto",
        "reduceOptions": options.get("reduceOptions", REDUCE_LAST),
        "showThresholdLabels": False,
        "showThresholdMarkers": True,
        "sizing": "auto",
    }
    return shaped, {}


def _bargauge(options: dict[str, Any], defaults: dict[str, Any]) -> tuple[dict[str, Any], Any]:
    shaped = {
        "displayMode": options.get("displayMode", "gradient"),
        "legend": {**LEGEND, "showLegend": False},
        "maxVizHeight": 300,
        "minVizHeight": 16,
        "minVizWidth": 8,
        "namePlacement": "auto",
        "orientation": options.get("orientation", "horizontal"),
        "reduceOptions": options.get("reduceOptions", REDUCE_LAST),
        "showUnfilled": True,
        "sizing": "auto",
        "valueMode": "color",
    }
    return shaped, {}


def _timeseries(options: dict[str, Any], defaults: dict[str, Any]) -> tuple[dict[str, Any], Any]:
    shaped = {
        "legend": {**LEGEND, **options.get("legend", {})},
        "tooltip": {**TOOLTIP, **options.get("tooltip", {})},
    }
    return shaped, defaults.get("custom", {})


def _table(options: dict[str, Any], defaults: dict[str, Any]) -> tuple[dict[str, Any], Any]:
    shaped = {
        "cellHeight": "sm",
        "footer": {"countRows": False, "reducer": ["sum"], "show": False},
        "frameIndex": 0,
        "showHeader": options.get("showHeader", True),
    }
    if options.get("sortBy"):
        shaped["sortBy"] = options["sortBy"]
    custom = defaults.get("custom", {})
    shaped_custom = {
        # No cellOptions: Grafana's default is "auto" (and the schema's oneOf cannot
        # tell {"type": "auto"} from the other cell types).
        "align": custom.get("align", "auto"),
        "filterable": bool(custom.get("filterable", False)),
        "inspect": False,
    }
    return shaped, shaped_custom


def _piechart(options: dict[str, Any], defaults: dict[str, Any]) -> tuple[dict[str, Any], Any]:
    legend = options.get("legend", {})
    shaped = {
        "displayLabels": ["percent"],
        "legend": {
            **LEGEND,
            "displayMode": legend.get("displayMode", "list"),
            "placement": legend.get("placement", "right"),
            "values": legend.get("values", []),
        },
        "orientation": "auto",
        "pieType": options.get("pieType", "pie"),
        "reduceOptions": options.get("reduceOptions", REDUCE_LAST),
        "tooltip": {**TOOLTIP, **options.get("tooltip", {})},
    }
    return shaped, {"hideFrom": HIDE_FROM}


def _heatmap(options: dict[str, Any], defaults: dict[str, Any]) -> tuple[dict[str, Any], Any]:
    # Prometheus buckets (format=heatmap) are drawn as they are, not re-bucketed.
    shaped = {
        "calculate": False,
        "cellGap": 1,
        "color": {
            "exponent": 0.5,
            "fill": "dark-orange",
            "mode": "scheme",
            "reverse": False,
            "scale": "exponential",
            "scheme": "Oranges",
            "steps": 64,
        },
        "exemplars": {"color": "rgba(255,0,255,0.7)"},
        "filterValues": {"le": 1e-9},
        "legend": {"show": True},
        "rowsFrame": {"layout": "auto"},
        "selectionMode": "x",
        "showValue": "auto",
        "tooltip": {"mode": "single", "showColorScale": False, "yHistogram": False},
        "yAxis": {"axisPlacement": "left", "reverse": False, "unit": defaults.get("unit", "s")},
    }
    return shaped, {"hideFrom": HIDE_FROM, "scaleDistribution": {"type": "linear"}}


_SHAPES = {
    "stat": _stat,
    "gauge": _gauge,
    "bargauge": _bargauge,
    "timeseries": _timeseries,
    "table": _table,
    "piechart": _piechart,
    "heatmap": _heatmap,
}
