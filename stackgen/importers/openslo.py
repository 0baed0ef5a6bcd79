"""OpenSLO ``SLO`` objects (``openslo/v1alpha`` and ``openslo/v1``) as stackgen SLOs.

Ratio SLIs over Prometheus queries map (good or bad events over total; the queries keep
their ``{{.window}}`` placeholder, as Sloth reads them), with the target as the objective
and a rolling 28- or 30-day window as the period. One stackgen SLO per objective, named
``<service>-<name>-<index>`` as Sloth names them. Threshold SLIs, time-slice budgeting,
calendar windows, alert policies and non-Prometheus sources are listed as unsupported.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import yaml

from stackgen.importers.imported import ImportResult, SourceSLO, SpecImportError

__all__ = ["import_openslo"]

_VERSIONS = ("openslo/v1alpha", "openslo/v1")
_PERIODS = {("30", "day"): "30d", ("28", "day"): "28d", ("4", "week"): "28d"}
_KNOWN_SPEC = frozenset(
    {
        "service",
        "description",
        "budgetingMethod",
        "objectives",
        "timeWindows",
        "timeWindow",
        "indicator",
        "indicatorRef",
    }
)


def _period(spec: Mapping[str, Any], where: str) -> tuple[str | None, str]:
    """(``30d`` or ``28d``, "") or (None, why the window is not supported)."""
    windows = spec.get("timeWindows") or spec.get("timeWindow") or []
    if not isinstance(windows, list) or len(windows) != 1 or not isinstance(windows[0], dict):
        return None, f"{where}: timeWindow: one rolling window of 28 or 30 days is supported"
    window = windows[0]
    if window.get("calendar") or window.get("isRolling") is False:
        return None, f"{where}: timeWindow: calendar windows are not supported (stackgen's roll)"
    if "duration" in window:
        duration = str(window["duration"])
        key = (duration[:-1], {"d": "day", "w": "week"}.get(duration[-1:], "?"))
    else:
        key = (str(window.get("count")), str(window.get("unit", "")).lower())
    period = _PERIODS.get(key)
    if period is None:
        return None, f"{where}: timeWindow {key[0]} {key[1]}: stackgen periods are 28d and 30d"
    return period, ""


def _query(source: object) -> str | None:
    """A Prometheus query of an OpenSLO metric source (v1alpha inline, v1 metricSource)."""
    if not isinstance(source, dict):
        return None
    if isinstance(source.get("query"), str):
        kind = str(source.get("source", "prometheus")).lower()
        return source["query"] if kind == "prometheus" else None
    metric = source.get("metricSource")
    if isinstance(metric, dict) and str(metric.get("type", "")).lower() == "prometheus":
        query = (metric.get("spec") or {}).get("query")
        return query if isinstance(query, str) else None
    return None


def _ratio_sli(ratio: object, where: str) -> dict[str, str] | str:
    if not isinstance(ratio, dict):
        return f"{where}: only ratio SLIs are supported (threshold SLIs are not)"
    total = _query(ratio.get("total"))
    good, bad = _query(ratio.get("good")), _query(ratio.get("bad"))
    if total is None or (good is None) == (bad is None):
        return f"{where}: a ratio needs a Prometheus total and one of good or bad queries"
    events = {"good_query": good} if good is not None else {"error_query": bad}
    return {**{k: v.strip() for k, v in events.items() if v}, "total_query": total.strip()}


def _objectives(document: Mapping[str, Any], where: str, result: ImportResult) -> None:
    spec = document.get("spec") or {}
    name = str((document.get("metadata") or {}).get("name") or "slo")
    service = str(spec.get("service") or "")
    for key in sorted(set(spec) - _KNOWN_SPEC):
        result.unsupported.append(f"{where}: spec.{key}: no stackgen equivalent")
    if spec.get("budgetingMethod", "Occurrences") != "Occurrences":
        result.skipped.append(
            f"{where}: budgetingMethod {spec['budgetingMethod']}: only Occurrences is supported"
        )
        return
    period, problem = _period(spec, where)
    if period is None:
        result.skipped.append(problem)
        return
    indicator = spec.get("indicator") or {}
    indicator_ratio = (
        (indicator.get("spec") or {}).get("ratioMetric") if isinstance(indicator, dict) else None
    )
    if spec.get("indicatorRef"):
        result.skipped.append(f"{where}: spec.indicatorRef: a referenced SLI is not supported")
        return
    for index, objective in enumerate(spec.get("objectives") or []):
        here = f"{where}: spec.objectives[{index}]"
        if not isinstance(objective, dict):
            result.skipped.append(f"{here}: not a mapping")
            continue
        for key in sorted(
            set(objective) - {"ratioMetrics", "target", "targetPercent", "displayName"}
        ):
            result.unsupported.append(f"{here}.{key}: no stackgen equivalent")
        sli = _ratio_sli(objective.get("ratioMetrics") or indicator_ratio, here)
        if isinstance(sli, str):
            result.skipped.append(sli)
            continue
        target = objective.get("targetPercent")
        if target is None and isinstance(objective.get("target"), int | float):
            target = objective["target"] * 100
        identity = "-".join(part for part in (service, name, str(index)) if part)
        display = objective.get("displayName") or spec.get("description") or f"SLO {name}"
        result.add(
            SourceSLO(
                identity=identity,
                where=here,
                description=str(spec.get("description") or display),
                objective=round(float(target), 10) if isinstance(target, int | float) else -1.0,
                period=period,
                sli=sli,
            )
        )


def import_openslo(text: str, source: str) -> ImportResult:
    """Every ``SLO`` object of an OpenSLO file (other kinds are listed as unsupported)."""
    result = ImportResult(source=source, kind="openslo")
    try:
        documents = [d for d in yaml.safe_load_all(text) if d is not None]
    except yaml.YAMLError as error:
        raise SpecImportError(f"not valid YAML: {error}") from None
    for number, document in enumerate(documents, 1):
        where = f"{source}#{number}" if len(documents) > 1 else source
        if not isinstance(document, dict) or document.get("apiVersion") not in _VERSIONS:
            raise SpecImportError(
                f"document {number} is not an OpenSLO object (apiVersion {', '.join(_VERSIONS)})"
            )
        if document.get("kind") != "SLO":
            result.unsupported.append(f"{where}: kind {document.get('kind')!r} (only SLO is read)")
            continue
        _objectives(document, where, result)
    return result
