"""generated/grafana/dashboards/slo.json: one row per SLO with its objective, the error
budget left over the period, the burn rate over every window and the SLI over time.

Built with grafanalib; every query reads the SLO recording rules, so the panels cost
nothing to refresh and show exactly what the alerts see.
"""

from __future__ import annotations

from typing import Any

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
    GRAFANA_SCHEMA_VERSION,
    SLO_BUDGET_REMAINING_RECORD,
    SLO_DASHBOARD_FILE,
    SLO_OBJECTIVE_RECORD,
    SLO_WINDOWS,
)
from stackgen.memo import per_stack
from stackgen.output import generated_notice
from stackgen.render.grafana_json import (
    board_json,
    dashboard_text,
    datasource_ref,
    prometheus_datasource,
)
from stackgen.rules_model import slo_dashboard_uid
from stackgen.spec import SLO, Stack

__all__ = ["dashboard", "render"]

ROW_HEIGHT = 8
WIDTH = 24  # Grafana's grid

# Stat colours: a null value is the base step (-Infinity).
OBJECTIVE_STEPS: list[dict[str, Any]] = [{"color": "blue", "value": None}]
BUDGET_STEPS: list[dict[str, Any]] = [
    {"color": "red", "value": None},
    {"color": "orange", "value": 0},
    {"color": "green", "value": 0.25},
]


def _series(record: str, slo: SLO) -> str:
    return f'{record}{{slo="{slo.name}"}}'


def _stat(
    title: str, expr: str, description: str, grid: GridPos, source: Any, **options: Any
) -> Stat:
    return Stat(
        title=title,
        description=description,
        dataSource=source,
        targets=[Target(expr=expr, refId="A", instant=True, datasource=source)],
        gridPos=grid,
        reduceCalc="lastNotNull",
        graphMode="none",
        **options,
    )


def _slo_panels(slo: SLO, y: int, source: Any) -> list[Panel]:
    budget = slo.error_budget
    title = f"{slo.name}: {slo.objective:g}% over {slo.period}"
    burn_targets = [
        Target(
            expr=f"{_series(slo.error_ratio_record(window), slo)} / {budget:g}",
            legendFormat=window,
            refId=chr(ord("A") + i),
            datasource=source,
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
            source,
            format="percentunit",
            decimals=2,
            thresholds=OBJECTIVE_STEPS,
        ),
        _stat(
            "Error budget remaining",
            _series(SLO_BUDGET_REMAINING_RECORD, slo),
            f"Share of the {slo.period} error budget ({budget:g} of events) not yet spent.",
            GridPos(h=ROW_HEIGHT, w=4, x=4, y=y + 1),
            source,
            format="percentunit",
            decimals=1,
            colorMode="background",
            thresholds=BUDGET_STEPS,
        ),
        TimeSeries(
            title="Burn rate by window",
            description=(
                "Error ratio over each window divided by the error budget: 1 spends the "
                "budget exactly over the period; pages fire at 14.4x (1h) and 6x (6h)."
            ),
            dataSource=source,
            targets=burn_targets,
            gridPos=GridPos(h=ROW_HEIGHT, w=8, x=8, y=y + 1),
            unit="x",
        ),
        TimeSeries(
            title="SLI",
            description=f"Share of good events over 5m; the objective is {slo.objective:g}%.",
            dataSource=source,
            targets=[
                Target(
                    expr=f"1 - {_series(slo.error_ratio_record('5m'), slo)}",
                    legendFormat="SLI (5m)",
                    refId="A",
                    datasource=source,
                ),
                Target(
                    expr=_series(SLO_OBJECTIVE_RECORD, slo),
                    legendFormat="objective",
                    refId="B",
                    datasource=source,
                ),
            ],
            gridPos=GridPos(h=ROW_HEIGHT, w=8, x=16, y=y + 1),
            unit="percentunit",
        ),
    ]


def dashboard(stack: Stack) -> dict[str, Any]:
    """The dashboard as Grafana JSON (a dict)."""
    prometheus = prometheus_datasource(stack)
    # Pinned to the Prometheus datasource's UID; a stack without Grafana gets Grafana's
    # default datasource.
    source = datasource_ref(prometheus) if prometheus is not None else None
    panels: list[Panel] = []
    for i, slo in enumerate(stack.slos):
        panels += _slo_panels(slo, i * (ROW_HEIGHT + 1), source)
    board = Dashboard(
        title=f"{stack.name}: SLOs and error budgets",
        uid=slo_dashboard_uid(stack),
        description=f"{generated_notice()}. Objectives, error budgets and burn rates.",
        tags=[stack.name, "slo"],
        panels=panels,
        time=Time("now-7d", "now"),
        refresh="1m",
        schemaVersion=GRAFANA_SCHEMA_VERSION,
        timezone="browser",
    ).auto_panel_ids()
    return board_json(board)


def render(stack: Stack) -> dict[str, str]:
    # A dict of its own for each caller; the texts are built once per stack (the
    # Kubernetes target puts the same files in its config maps).
    return dict(_texts(stack))


@per_stack
def _texts(stack: Stack) -> dict[str, str]:
    if not stack.slos:
        return {}
    return {SLO_DASHBOARD_FILE: dashboard_text(dashboard(stack))}
