"""Sloth SLO specs (``version: prometheus/v1`` files and Kubernetes
``PrometheusServiceLevel`` objects, ``sloth.slok.dev/v1``) as stackgen SLOs.

What maps: the SLO's identity (Sloth's ``<service>-<name>``, its ``sloth_id``), the
description, the objective, the SLI (``events`` as error and total queries, ``raw`` as
an error-ratio query; both keep Sloth's ``{{.window}}``), and which alert tiers are on.
Everything else is listed as unsupported: stackgen names its burn alerts and routes them
by severity, so Sloth's alert names, labels and annotations, SLO and service labels,
SLI plugins and SLO plugins have no place in a stackgen SLO.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import yaml

from stackgen.importers.imported import ImportResult, SourceSLO, SpecImportError

__all__ = ["import_sloth"]

_PLAIN = "prometheus/v1"
_KUBERNETES = "sloth.slok.dev/v1"
# Sloth's default SLO period (its --default-slo-period): 30 days.
_DEFAULT_PERIOD = "30d"
# camelCase (Kubernetes) and snake_case (plain) spellings of the same fields.
_SPELLINGS = {
    "errorQuery": "error_query",
    "totalQuery": "total_query",
    "errorRatioQuery": "error_ratio_query",
    "pageAlert": "page_alert",
    "ticketAlert": "ticket_alert",
}
_KNOWN_SLO_FIELDS = frozenset({"name", "objective", "description", "sli", "alerting", "plugins"})
# SLO plugins that leave the SLI and alert rules as they are: Sloth's default rule
# builders, logging, labels on the info metric, group evaluation intervals, validation.
# Any other plugin may rewrite the rules (denominator_corrected_rules rewrites the SLI):
# an SLO using one is not imported.
_RULE_PRESERVING_PLUGINS = frozenset(
    {
        "sloth.dev/core/debug/v1",
        "sloth.dev/core/sli_rules/v1",
        "sloth.dev/core/metadata_rules/v1",
        "sloth.dev/core/alert_rules/v1",
        "sloth.dev/contrib/info_labels/v1",
        "sloth.dev/contrib/rule_intervals/v1",
        "sloth.dev/contrib/validate_victoria_metrics/v1",
    }
)


def _plugin_ids(plugins: object) -> list[str]:
    chain = plugins.get("chain") if isinstance(plugins, dict) else None
    return (
        [str(item.get("id", "?")) for item in chain if isinstance(item, dict)]
        if isinstance(chain, list)
        else []
    )


def _field(mapping: Mapping[str, Any], name: str) -> Any:
    for camel, snake in _SPELLINGS.items():
        if snake == name and camel in mapping:
            return mapping[camel]
    return mapping.get(name)


def _documents(text: str) -> Iterator[tuple[int, Mapping[str, Any]]]:
    try:
        documents = [d for d in yaml.safe_load_all(text) if d is not None]
    except yaml.YAMLError as error:
        raise SpecImportError(f"not valid YAML: {error}") from None
    for number, document in enumerate(documents, 1):
        if not isinstance(document, dict):
            raise SpecImportError(f"document {number} is not a mapping")
        yield number, document


def _service_spec(document: Mapping[str, Any], number: int) -> Mapping[str, Any]:
    """The service-level spec of a document: the file itself (prometheus/v1) or the
    Kubernetes object's ``.spec``."""
    if document.get("version") == _PLAIN:
        return document
    if (
        document.get("apiVersion") == _KUBERNETES
        and document.get("kind") == "PrometheusServiceLevel"
    ):
        spec = document.get("spec")
        if isinstance(spec, dict):
            return spec
    version = document.get("version") or document.get("apiVersion") or "none"
    raise SpecImportError(
        f"document {number} is not a Sloth spec (version {version!r}; expected "
        f"version: {_PLAIN} or apiVersion: {_KUBERNETES} kind: PrometheusServiceLevel)"
    )


def _alert_tier(alerting: Mapping[str, Any], tier: str, where: str, unsupported: list[str]) -> bool:
    settings = _field(alerting, f"{tier}_alert") or {}
    if not isinstance(settings, dict):
        return True
    for key in sorted(settings):
        if key != "disable":
            unsupported.append(
                f"{where}.alerting.{tier}_alert.{key}: stackgen sets the {tier} alerts' labels "
                "and annotations (severity routes them)"
            )
    return not bool(settings.get("disable", False))


def _sli(sli: Mapping[str, Any], where: str) -> dict[str, str] | str:
    """The QuerySLI fields of a Sloth SLI, or why it cannot be imported."""
    events, raw = sli.get("events"), sli.get("raw")
    if isinstance(events, dict):
        error, total = _field(events, "error_query"), _field(events, "total_query")
        if isinstance(error, str) and isinstance(total, str):
            return {"error_query": error.strip(), "total_query": total.strip()}
    if isinstance(raw, dict):
        ratio = _field(raw, "error_ratio_query")
        if isinstance(ratio, str):
            return {"error_ratio_query": ratio.strip()}
    if "plugin" in sli:
        plugin = sli.get("plugin") or {}
        identity = plugin.get("id", "?") if isinstance(plugin, dict) else "?"
        return (
            f"{where}.sli.plugin {identity!r}: an SLI plugin is Go code run by Sloth; write its "
            "queries as events instead"
        )
    return f"{where}.sli: neither events (error and total queries) nor raw (an error ratio)"


def _slos(spec: Mapping[str, Any], where: str, result: ImportResult) -> None:
    service = str(spec.get("service") or "")
    if spec.get("labels"):
        result.unsupported.append(
            f"{where}: labels: stackgen SLO rules carry the slo label only "
            f"(dropped: {', '.join(sorted(map(str, spec['labels'])))})"
        )
    service_plugins = _plugin_ids(spec.get("slo_plugins") or spec.get("sloPlugins"))
    if service_plugins:
        result.unsupported.append(
            f"{where}: slo_plugins {', '.join(service_plugins)}: Sloth's SLO plugins have no "
            "equivalent"
        )
    for index, slo in enumerate(spec.get("slos") or []):
        if not isinstance(slo, dict):
            result.skipped.append(f"{where}: slos[{index}]: not a mapping")
            continue
        name = str(slo.get("name") or f"slo-{index}")
        here = f"{where}: slos[{name}]"
        for key in sorted(set(slo) - _KNOWN_SLO_FIELDS):
            result.unsupported.append(f"{here}.{key}: no stackgen equivalent")
        alerting = slo.get("alerting") or {}
        alerting = alerting if isinstance(alerting, dict) else {}
        for key in ("name", "labels", "annotations"):
            if alerting.get(key):
                result.unsupported.append(
                    f"{here}.alerting.{key}: stackgen names its burn alerts "
                    "SLOBurnRate<Tier><window> and sets their labels and annotations"
                )
        page = _alert_tier(alerting, "page", here, result.unsupported)
        ticket = _alert_tier(alerting, "ticket", here, result.unsupported)
        plugins = _plugin_ids(slo.get("plugins"))
        if plugins:
            result.unsupported.append(
                f"{here}.plugins {', '.join(plugins)}: Sloth's SLO plugins have no equivalent"
            )
        rewriting = sorted(set(plugins + service_plugins) - _RULE_PRESERVING_PLUGINS)
        if rewriting:
            result.skipped.append(
                f"{here}: the SLO plugin(s) {', '.join(rewriting)} may rewrite its rules"
            )
            continue
        sli = _sli(slo.get("sli") or {}, here)
        if isinstance(sli, str):
            result.skipped.append(sli)
            continue
        if not (page or ticket):
            result.skipped.append(
                f"{here}: both alert tiers are disabled; a stackgen SLO always alerts (Sloth "
                "still records its SLI then)"
            )
            continue
        identity = f"{service}-{name}" if service else name
        objective = slo.get("objective")
        result.add(
            SourceSLO(
                identity=identity,
                where=here,
                description=str(
                    slo.get("description") or f"SLO {name} of {service or 'the service'}."
                ),
                objective=float(objective) if isinstance(objective, int | float) else -1.0,
                period=_DEFAULT_PERIOD,
                sli=sli,
                page=page,
                ticket=ticket,
            )
        )


def import_sloth(text: str, source: str) -> ImportResult:
    """Every SLO of a Sloth spec (every document of a multi-document file)."""
    result = ImportResult(source=source, kind="sloth")
    for number, document in _documents(text):
        spec = _service_spec(document, number)
        name = (document.get("metadata") or {}).get("name") if "apiVersion" in document else None
        where = f"{source}" + (f"[{name}]" if name else "") + (f"#{number}" if number > 1 else "")
        _slos(spec, where, result)
    return result
