"""Where a rendered dashboard object comes from in the spec: its Dashboard, Panel,
query or Variable (or, for the SLO dashboard, the SLO of the row), so a finding on the
generated JSON names the spec line to change and shows the query as the spec writes it.

Rendered dashboards are matched by UID, panels by title (unique within a dashboard
spec), targets by position (one per query, in spec order), variables by name.
"""

from __future__ import annotations

from dataclasses import dataclass

from stackgen.artifacts import DashboardArtifact, PanelArtifact, TargetArtifact
from stackgen.rules_model import slo_dashboard_uid
from stackgen.spec import Dashboard, Panel, Stack
from stackgen.spec.base import SpecModel

__all__ = ["Origin", "dashboard_spec", "panel_origin", "target_origin", "variable_origin"]


@dataclass(frozen=True)
class Origin:
    """A rendered object's place: ``where`` names the dashboard, the panel and the
    target; ``spec`` is the spec object behind it and ``location`` its file:line;
    ``written`` is the query as the spec writes it."""

    where: str
    spec: SpecModel | None = None
    location: str = ""
    written: str = ""

    @property
    def spec_name(self) -> str:
        return self.spec.spec_name() if self.spec is not None else ""


def _location(*objects: SpecModel | None) -> str:
    """The first known line: a panel copied in code has none, its dashboard may."""
    return next((o.spec_location() for o in objects if o is not None and o.spec_location()), "")


def dashboard_spec(stack: Stack, dashboard: DashboardArtifact) -> Dashboard | None:
    return next((d for d in stack.dashboards if d.uid == dashboard.uid), None)


def _slo_of_row(stack: Stack, dashboard: DashboardArtifact, row: str) -> SpecModel | None:
    """The SLO dashboard has one row per SLO, in the stack's order."""
    rows = [p.title for p in dashboard.panels if p.type == "row"]
    if not stack.slos or dashboard.uid != slo_dashboard_uid(stack) or row not in rows:
        return None
    position = rows.index(row)
    return stack.slos[position] if position < len(stack.slos) else None


def panel_origin(stack: Stack, dashboard: DashboardArtifact, panel: PanelArtifact) -> Origin:
    board = dashboard_spec(stack, dashboard)
    spec: SpecModel | None = board.panel(panel.title) if board is not None else None
    if board is None:
        spec = _slo_of_row(stack, dashboard, panel.row or panel.title)
    row = f" (row {panel.row!r})" if panel.row else ""
    where = f"dashboard {dashboard.uid}: panel {panel.label!r}{row}"
    return Origin(where, spec or board, _location(spec, board))


def target_origin(
    stack: Stack, dashboard: DashboardArtifact, panel: PanelArtifact, target: TargetArtifact
) -> Origin:
    """The target's origin, at the line of its query in the spec when known; ``written``
    is the query text before Grafana's variables are substituted for the checks."""
    origin = panel_origin(stack, dashboard, panel)
    query: SpecModel | None = None
    if isinstance(origin.spec, Panel) and target in panel.targets:
        position = panel.targets.index(target)
        queries = origin.spec.queries
        query = queries[position] if position < len(queries) else None
    written = target.expr if target.expr is not None else target.raw_sql or ""
    location = _location(query) or origin.location
    return Origin(f"{origin.where}, target {target.ref_id}", origin.spec, location, written)


def variable_origin(stack: Stack, dashboard: DashboardArtifact, name: str) -> Origin:
    board = dashboard_spec(stack, dashboard)
    spec = next((v for v in board.variables if v.name == name), None) if board else None
    where = f"dashboard {dashboard.uid}: variable ${name}"
    return Origin(where, spec or board, _location(spec, board))
