"""generated/grafana/dashboards/slo.json: one row per SLO with its objective, the error
budget left over the period, the burn rate over every window and the SLI over time.

Built with grafanalib; every query reads the SLO recording rules, so the panels cost
nothing to refresh and show exactly what the alerts see.
"""

from __future__ import annotations

import json
from typing import Any

from grafanalib._gen import DashboardEncoder
from grafanalib.core import (
    Dashboard,
    GridPos,
    Panel,
    RowPanel,
    Stat,
    Target,
    Time,
    TimeSeries,
)

from stackgen.conventions import (
    GENERATED_NOTICE,
    GRAFANA_SCHEMA_VERSION,
    SLO_BUDGET_REMAINING_RECORD,
    SLO_DASHBOARD_FILE,
    SLO_OBJECTIVE_RECORD,
    SLO_WINDOWS,
)
from stackgen.render.slo_rules import slo_dashboard_uid
from stackgen.spec import SLO, Stack

__all__ = ["dashboard", "render"]

ROW_HEIGHT = 8
WIDTH = 24  # Grafana's grid

# grafanalib 0.7.1 writes fields of the pre-schemaVersion-16 dashboard model (rows, style,
# per-panel editable/error, legacy threshold objects) and nulls for unset options. The
# dashboard is reduced to the keys of the classic dashboard JSON schema Grafana 10/11
# reads (grafana-foundation-sdk's dashboard.jsonschema.json) and its thresholds written
# in the current shape.
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
        "hideTimeOverride", "id", "interval", "links", "maxDataPoints", "options", "repeat",
        "targets", "timeFrom", "timeShift", "title", "transformations", "transparent", "type",
    }
)  # fmt: skip
ROW_KEYS = frozenset({"collapsed", "datasource", "gridPos", "id", "panels", "title", "type"})
TIMEPICKER_KEYS = frozenset({"hidden", "refresh_intervals", "nowDelay"})
# Options Grafana 10.4/11 write for every stat panel (grafanalib 0.7.1 predates them).
STAT_OPTIONS: dict[str, Any] = {
    "percentChangeColorMode": "standard",
    "showPercentChange": False,
    "wideLayout": True,
}
# Stat colours by panel title; a null value is the base step (-Infinity).
STAT_STEPS: dict[str, list[dict[str, Any]]] = {
    "Objective": [{"color": "blue", "value": None}],
    "Error budget remaining": [
        {"color": "red", "value": None},
        {"color": "orange", "value": 0},
        {"color": "green", "value": 0.25},
    ],
}


def _series(record: str, slo: SLO) -> str:
    return f'{record}{{slo="{slo.name}"}}'


def _stat(title: str, expr: str, description: str, grid: GridPos, **options: Any) -> Stat:
    return Stat(
        title=title,
        description=description,
        targets=[Target(expr=expr, refId="A", instant=True)],
        gridPos=grid,
        reduceCalc="lastNotNull",
        graphMode="none",
        **options,
    )


def _slo_panels(slo: SLO, y: int) -> list[Panel]:
    budget = slo.error_budget
    title = f"{slo.name}: {slo.objective:g}% over {slo.period}"
    burn_targets = [
        Target(
            expr=f"{_series(slo.error_ratio_record(window), slo)} / {budget:g}",
            legendFormat=window,
            refId=chr(ord("A") + i),
        )
        for i, window in enumerate(SLO_WINDOWS)
    ]
    return [
        RowPanel(title=title, gridPos=GridPos(h=1, w=WIDTH, x=0, y=y)),
        _stat(
            "Objective",
            _series(SLO_OBJECTIVE_RECORD, slo),
            slo.description,
            GridPos(h=ROW_HEIGHT, w=4, x=0, y=y + 1),
            format="percentunit",
            decimals=2,
        ),
        _stat(
            "Error budget remaining",
            _series(SLO_BUDGET_REMAINING_RECORD, slo),
            f"Share of the {slo.period} error budget ({budget:g} of events) not yet spent.",
            GridPos(h=ROW_HEIGHT, w=4, x=4, y=y + 1),
            format="percentunit",
            decimals=1,
            colorMode="background",
        ),
        TimeSeries(
            title="Burn rate by window",
            description=(
                "Error ratio over each window divided by the error budget: 1 spends the "
                "budget exactly over the period; pages fire at 14.4x (1h) and 6x (6h)."
            ),
            targets=burn_targets,
            gridPos=GridPos(h=ROW_HEIGHT, w=8, x=8, y=y + 1),
            unit="x",
        ),
        TimeSeries(
            title="SLI",
            description=f"Share of good events over 5m; the objective is {slo.objective:g}%.",
            targets=[
                Target(
                    expr=f"1 - {_series(slo.error_ratio_record('5m'), slo)}",
                    legendFormat="SLI (5m)",
                    refId="A",
                ),
                Target(
                    expr=_series(SLO_OBJECTIVE_RECORD, slo),
                    legendFormat="objective",
                    refId="B",
                ),
            ],
            gridPos=GridPos(h=ROW_HEIGHT, w=8, x=16, y=y + 1),
            unit="percentunit",
        ),
    ]


def dashboard(stack: Stack) -> dict[str, Any]:
    """The dashboard as Grafana JSON (a dict)."""
    panels: list[Panel] = []
    for i, slo in enumerate(stack.slos):
        panels += _slo_panels(slo, i * (ROW_HEIGHT + 1))
    board = Dashboard(
        title=f"{stack.name}: SLOs and error budgets",
        uid=slo_dashboard_uid(stack),
        description=f"{GENERATED_NOTICE}. Objectives, error budgets and burn rates.",
        tags=[stack.name, "slo"],
        panels=panels,
        time=Time("now-7d", "now"),
        refresh="1m",
        schemaVersion=GRAFANA_SCHEMA_VERSION,
        timezone="browser",
    ).auto_panel_ids()
    data = json.loads(json.dumps(board.to_json_data(), cls=DashboardEncoder))
    return _normalise(data)


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
    panels = []
    for panel in board["panels"]:
        keys = ROW_KEYS if panel["type"] == "row" else PANEL_KEYS
        panel = {k: v for k, v in panel.items() if k in keys}
        if panel["type"] == "stat":
            defaults = panel["fieldConfig"]["defaults"]
            defaults["thresholds"] = {"mode": "absolute", "steps": STAT_STEPS[panel["title"]]}
            panel["options"] = {**STAT_OPTIONS, **panel["options"]}
        if panel["type"] == "timeseries":
            panel["options"]["legend"] = {"showLegend": True, **panel["options"]["legend"]}
        panels.append(panel)
    board["panels"] = panels
    return board


def render(stack: Stack) -> dict[str, str]:
    if not stack.slos:
        return {}
    text = json.dumps(dashboard(stack), sort_keys=True, indent=2, ensure_ascii=False) + "\n"
    return {SLO_DASHBOARD_FILE: text}
