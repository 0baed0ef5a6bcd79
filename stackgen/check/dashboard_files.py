"""Grafana dashboards as operators keep them: a JSON file (a dashboard or an API export
wrapping one), Kubernetes ConfigMaps whose data values are dashboard JSON (the
kube-prometheus and Grafana sidecar style, a ``List`` of them too, in a YAML stream), or
a provisioning directory holding any of those. What Grafana cannot load is a finding."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from stackgen.check.codes import FindingCode, finding
from stackgen.check.located_yaml import DecodeProblem, decode, line_of, load_documents
from stackgen.check.rule_files import not_utf8
from stackgen.findings import Finding

__all__ = ["DashboardDocument", "DashboardFiles", "read_dashboards"]

_DASHBOARD_SUFFIXES = (".json", ".yaml", ".yml")


@dataclass(frozen=True)
class DashboardDocument:
    """One dashboard: ``where`` names its file (and ConfigMap key), ``location`` the
    file:line it starts on."""

    where: str
    location: str
    document: Mapping[str, Any]


@dataclass
class DashboardFiles:
    dashboards: list[DashboardDocument] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)

    def unreadable(self, where: str, reason: str, location: str = "") -> None:
        self.findings.append(
            finding(
                FindingCode.UNREADABLE_FILE,
                where,
                reason,
                "fix or remove the file",
                spec=where,
                location=location,
            )
        )

    def malformed(self, where: str, message: str, location: str = "") -> None:
        self.findings.append(
            finding(
                FindingCode.MALFORMED_DASHBOARD,
                where,
                message,
                "Grafana refuses or drops it: fix the dashboard JSON",
                spec=where,
                location=location,
            )
        )


def _json(files: DashboardFiles, text: str, where: str, path: str, first_line: int) -> None:
    try:
        document = json.loads(text)
    except json.JSONDecodeError as error:
        line = first_line + error.lineno - 1
        files.unreadable(where, f"not valid JSON: {error.msg} (line {line})", f"{path}:{line}")
        return
    if not isinstance(document, dict):
        files.unreadable(where, "not a Grafana dashboard (expected a JSON object)")
        return
    _shape(files, document, where, f"{path}:{first_line}")
    files.dashboards.append(DashboardDocument(where, f"{path}:{first_line}", document))


def _shape(files: DashboardFiles, document: Mapping[str, Any], where: str, location: str) -> None:
    """What Grafana's loader drops or refuses: panels, targets and queries of the wrong
    JSON type."""
    dashboard = document.get("dashboard", document)
    if not isinstance(dashboard, dict):
        files.malformed(where, "`dashboard` is not an object", location)
        return
    for key in ("panels", "rows"):
        value = dashboard.get(key)
        if value is not None and not isinstance(value, list):
            files.malformed(where, f"`{key}` is not a list", location)
    templating = dashboard.get("templating")
    variables = templating.get("list") if isinstance(templating, dict) else None
    if variables is not None and not isinstance(variables, list):
        files.malformed(where, "`templating.list` (the variables) is not a list", location)
    for panel, path in _all_panels(dashboard):
        if not isinstance(panel, dict):
            files.malformed(where, f"{path} is not an object", location)
            continue
        title = panel.get("title")
        name = f"{path} {title!r}" if isinstance(title, str) and title else path
        targets = panel.get("targets")
        if targets is None:
            continue
        if not isinstance(targets, list):
            files.malformed(where, f"{name}: `targets` is not a list", location)
            continue
        for number, target in enumerate(targets, 1):
            if not isinstance(target, dict):
                files.malformed(where, f"{name}: target {number} is not an object", location)
            elif "expr" in target and not isinstance(target["expr"], str):
                ref = target.get("refId", number)
                files.malformed(where, f"{name}: target {ref}: `expr` is not a string", location)


def _all_panels(dashboard: Mapping[str, Any]) -> Iterator[tuple[object, str]]:
    def walk(panels: object, prefix: str) -> Iterator[tuple[object, str]]:
        for number, panel in enumerate(panels if isinstance(panels, list) else [], 1):
            path = f"{prefix}panel {number}"
            yield panel, path
            if isinstance(panel, dict):
                yield from walk(panel.get("panels"), f"{path} > ")

    yield from walk(dashboard.get("panels"), "")
    for number, row in enumerate(dashboard.get("rows") or [], 1):
        if isinstance(row, dict):
            yield from walk(row.get("panels"), f"row {number} > ")


def _yaml(files: DashboardFiles, text: str, path: str) -> None:
    try:
        documents = load_documents(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        location = f"{path}:{mark.line + 1}" if mark is not None else ""
        files.unreadable(path, f"not valid YAML: {error}", location)
        return
    found = False
    for document in documents:
        if isinstance(document, dict) and ("providers" in document or "datasources" in document):
            found = True  # Grafana's provisioning of providers or datasources: no queries
            continue
        for config_map in _config_maps(document):
            data = config_map.get("data")
            name = (config_map.get("metadata") or {}).get("name", "?")
            line = line_of(data, line_of(config_map))
            for key, value in (data if isinstance(data, dict) else {}).items():
                if isinstance(value, str) and str(key).endswith(".json"):
                    found = True
                    # Block scalars start on the line after their key.
                    _json(files, value, f"{path}: ConfigMap {name}, {key}", path, line + 1)
    if not found:
        files.unreadable(path, "no dashboard in it: no ConfigMap with a `*.json` data key")


def _config_maps(document: object) -> Iterator[Mapping[str, Any]]:
    if not isinstance(document, dict):
        return
    kind = document.get("kind")
    if kind == "ConfigMap":
        yield document
    elif isinstance(kind, str) and kind.endswith("List"):
        for item in document.get("items") or []:
            yield from _config_maps(item)


def _file(files: DashboardFiles, path: Path) -> None:
    try:
        data = path.read_bytes()
    except OSError as error:
        files.unreadable(str(path), f"cannot read a dashboard: {error.strerror or error}")
        return
    text = decode(data)
    if isinstance(text, DecodeProblem):
        files.findings.append(not_utf8(str(path), text))
    elif path.suffix in (".yaml", ".yml"):
        _yaml(files, text, str(path))
    else:
        _json(files, text, str(path), str(path), 1)


def read_dashboards(path: Path) -> DashboardFiles:
    """Every dashboard of a file or (recursively) of a provisioning directory."""
    files = DashboardFiles()
    if path.is_dir():
        members = sorted(
            p for p in path.rglob("*") if p.is_file() and p.suffix in _DASHBOARD_SUFFIXES
        )
        if not members:
            files.unreadable(str(path), "the directory holds no dashboard (*.json, *.yaml)")
        for member in members:
            _file(files, member)
    else:
        _file(files, path)
    return files
