"""The generated artifacts read back: Grafana dashboards (their panels and the targets of
each panel) and Prometheus rule files (their groups and rules).

The one reader of rendered (and operator-provided) dashboards and rule files, shared by
the checks and by the live verification, so both agree on what a panel, a Prometheus
target or a rule is. Each file is parsed once (``read_artifacts``).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import yaml

from stackgen.conventions import GRAFANA_DASHBOARDS_DIR, MIN_SCRAPES_PER_RANGE, RULES_DIR
from stackgen.spec import Stack, duration_seconds

__all__ = [
    "Artifacts",
    "DashboardArtifact",
    "PanelArtifact",
    "RuleArtifact",
    "TargetArtifact",
    "is_dashboard_path",
    "is_prometheus",
    "is_rule_path",
    "rate_window",
    "read_artifacts",
    "read_dashboard",
    "read_rule_groups",
    "substitute_grafana_variables",
]

# libyaml's C parser where PyYAML has it: the rule files are read back whole.
_YamlLoader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

# Grafana's interval variables are at least 4 scrape intervals by construction
# ($__rate_interval) or chosen by the viewer.
_INTERVAL_VARIABLE = re.compile(r"\$\{?__(rate_interval|interval|range)(_ms|_s)?\}?")
_VARIABLE = re.compile(r"\$\{[^}]+\}|\$[A-Za-z_][A-Za-z0-9_]*|\[\[[A-Za-z0-9_:]+\]\]")


def is_dashboard_path(path: str) -> bool:
    return path.startswith(f"{GRAFANA_DASHBOARDS_DIR}/") and path.endswith(".json")


def is_rule_path(path: str) -> bool:
    return path.startswith(f"{RULES_DIR}/") and path.endswith((".yml", ".yaml"))


def is_prometheus(datasource: object) -> bool:
    """A datasource reference that sends the query to Prometheus."""
    if datasource is None:
        return True  # the default datasource (a Prometheus one, the stack's rule)
    if isinstance(datasource, dict):
        return bool(datasource.get("type", "prometheus") == "prometheus")
    return "prom" in str(datasource).lower()


def rate_window(stack: Stack) -> str:
    """What Grafana's interval variables stand for: 4 scrapes of the slowest job."""
    slowest = max(
        (duration_seconds(stack.scrape_interval_of(s)) for s in stack.scraped_services()),
        default=duration_seconds(stack.prometheus.scrape_interval),
    )
    return f"{int(MIN_SCRAPES_PER_RANGE * slowest)}s"


def substitute_grafana_variables(expr: str, *, window: str, value: str) -> str:
    """A Grafana target expression with its interval variables replaced by ``window``
    and every other variable by ``value``, as Prometheus would receive it."""
    return _VARIABLE.sub(value, _INTERVAL_VARIABLE.sub(window, expr))


@dataclass(frozen=True)
class TargetArtifact:
    """One query of a panel. ``datasource`` is the target's own, else its panel's."""

    ref_id: str
    datasource: object
    expr: str | None = None  # PromQL
    raw_sql: str | None = None

    @property
    def is_promql(self) -> bool:
        return self.expr is not None and is_prometheus(self.datasource)


@dataclass(frozen=True)
class PanelArtifact:
    """A panel (rows included), with the title of the row it sits under ("" for none)."""

    id: int | None
    title: str
    type: str
    datasource: object
    targets: tuple[TargetArtifact, ...]
    row: str = ""

    @property
    def label(self) -> str:
        """The title, or ``panel <id>`` for an untitled panel."""
        return self.title or f"panel {self.id if self.id is not None else '?'}"


@dataclass(frozen=True)
class DashboardArtifact:
    path: str
    uid: str
    title: str
    panels: tuple[PanelArtifact, ...]  # every panel, those nested in rows too
    variables: tuple[Mapping[str, Any], ...]  # Grafana JSON ``templating.list``


@dataclass(frozen=True)
class RuleArtifact:
    path: str
    group: str
    kind: str  # alert | record
    name: str
    expr: str
    labels: Mapping[str, str]
    annotations: Mapping[str, str]


@dataclass(frozen=True)
class Artifacts:
    dashboards: tuple[DashboardArtifact, ...] = ()
    rules: tuple[RuleArtifact, ...] = ()


def _targets(panel: Mapping[str, Any]) -> Iterator[TargetArtifact]:
    targets = panel.get("targets")
    for target in targets if isinstance(targets, list) else []:
        if not isinstance(target, dict):
            continue
        expr, sql = target.get("expr"), target.get("rawSql")
        yield TargetArtifact(
            ref_id=str(target.get("refId", "?")),
            datasource=target.get("datasource", panel.get("datasource")),
            expr=expr if isinstance(expr, str) else None,
            raw_sql=sql if isinstance(sql, str) else None,
        )


def _panels(panels: object, row: str = "") -> Iterator[PanelArtifact]:
    """Panels in document order. A row holds the panels nested in it (collapsed) and,
    in the flat layout, every panel after it up to the next row."""
    current_row = row
    for panel in panels if isinstance(panels, list) else []:
        if not isinstance(panel, dict):
            continue
        title = str(panel.get("title") or "")
        is_row = panel.get("type") == "row"
        if is_row and not row:
            current_row = title
        panel_id = panel.get("id")
        yield PanelArtifact(
            id=panel_id if isinstance(panel_id, int) else None,
            title=title,
            type=str(panel.get("type", "")),
            datasource=panel.get("datasource"),
            targets=tuple(_targets(panel)),
            row="" if is_row else current_row,
        )
        yield from _panels(panel.get("panels"), title if is_row else current_row)


def read_dashboard(document: Mapping[str, Any], path: str) -> DashboardArtifact:
    """A dashboard document, or a Grafana API export wrapping one in ``dashboard``."""
    dashboard = document.get("dashboard", document)
    if not isinstance(dashboard, dict):
        dashboard = {}
    templating = dashboard.get("templating")
    variables = templating.get("list") if isinstance(templating, dict) else None
    return DashboardArtifact(
        path=path,
        uid=str(dashboard.get("uid") or ""),
        title=str(dashboard.get("title") or ""),
        panels=tuple(_panels(dashboard.get("panels"))),
        variables=tuple(
            v for v in (variables if isinstance(variables, list) else []) if isinstance(v, dict)
        ),
    )


def read_rule_groups(document: object, path: str) -> tuple[RuleArtifact, ...]:
    """Every alerting and recording rule (with an expression) of a rule file document."""
    groups = document.get("groups") if isinstance(document, dict) else None
    rules = []
    for group in groups if isinstance(groups, list) else []:
        if not isinstance(group, dict):
            continue
        for rule in group.get("rules") or []:
            if not isinstance(rule, dict) or not isinstance(rule.get("expr"), str | int | float):
                continue
            kind = "alert" if "alert" in rule else "record"
            rules.append(
                RuleArtifact(
                    path=path,
                    group=str(group.get("name", "?")),
                    kind=kind,
                    name=str(rule.get(kind, "?")),
                    expr=str(rule["expr"]),
                    labels={str(k): str(v) for k, v in (rule.get("labels") or {}).items()},
                    annotations={
                        str(k): str(v) for k, v in (rule.get("annotations") or {}).items()
                    },
                )
            )
    return tuple(rules)


def read_artifacts(files: Mapping[str, str]) -> Artifacts:
    """The dashboards and rules among rendered ``files`` ({relative path: text}), each
    file parsed once, in path order."""
    dashboards: list[DashboardArtifact] = []
    rules: list[RuleArtifact] = []
    for path, text in sorted(files.items()):
        if is_dashboard_path(path):
            dashboards.append(read_dashboard(json.loads(text), path))
        elif is_rule_path(path):
            rules += read_rule_groups(yaml.load(text, Loader=_YamlLoader), path)
    return Artifacts(tuple(dashboards), tuple(rules))
