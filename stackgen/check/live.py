"""Live consistency: scrape a running service and compare what it emits with the
catalog — every metric present, with its declared type and label names. The service's
own application emits nothing else; another server (llama-server, node_exporter) exposes
more than the catalog declares, and only the declared part is held to it."""

from __future__ import annotations

import urllib.error
import urllib.request
from collections.abc import Iterable

from prometheus_client.metrics_core import Metric as Family
from prometheus_client.parser import text_string_to_metric_families

from stackgen.check.codes import FindingCode, finding
from stackgen.conventions import BUCKET_LABEL, SCRAPE_LABELS
from stackgen.findings import Finding
from stackgen.spec import Metric, MetricSource, Stack

__all__ = ["check_exposition", "check_live", "scrape"]

# Samples a family may carry besides its own name (prometheus_client writes _created).
_SAMPLE_SUFFIXES = ("", "_total", "_created", "_bucket", "_sum", "_count", "_gsum", "_gcount")


def scrape(url: str, timeout_s: float = 5.0) -> str:
    request = urllib.request.Request(url, headers={"Accept": "text/plain; version=0.0.4"})
    with urllib.request.urlopen(request, timeout=timeout_s) as response:
        body: bytes = response.read()
    return body.decode("utf-8")


def _expected(stack: Stack, service: str) -> dict[str, Metric]:
    return {m.name: m for m in stack.metrics if m.service == service}


def _owns_exposition(metrics: Iterable[Metric]) -> bool:
    """True when the service's application emits exactly its catalog (no external
    server's metrics among them)."""
    return all(m.source in (MetricSource.APP, MetricSource.PROCESS) for m in metrics)


def _family_labels(family: Family) -> set[str]:
    names: set[str] = set()
    for sample in family.samples:
        names |= set(sample.labels)
    return names - {BUCKET_LABEL, "quantile", *SCRAPE_LABELS}


def _check_family(family: Family, metric: Metric, where: str) -> Iterable[Finding]:
    if family.type != metric.type:
        yield finding(
            FindingCode.LIVE_TYPE_MISMATCH,
            where,
            f"emitted as a {family.type}, declared a {metric.type}",
            "create the metric from the catalog (stackgen.runtime)",
            metric,
        )
        return
    declared = set(metric.label_names())
    emitted = _family_labels(family)
    if family.samples and emitted != declared:
        yield finding(
            FindingCode.LIVE_LABEL_MISMATCH,
            where,
            f"emitted labels {sorted(emitted)}, declared {sorted(declared)}",
            "emit exactly the declared labels",
            metric,
        )
    for label in metric.labels:
        if label.values is None:
            continue
        seen = {s.labels[label.name] for s in family.samples if label.name in s.labels}
        for value in sorted(seen - set(label.values)):
            yield finding(
                FindingCode.LIVE_LABEL_VALUE,
                where,
                f'{label.name}="{value}" is not one of {list(label.values)}',
                "emit only declared values, or declare the value",
                metric,
            )


def check_exposition(stack: Stack, text: str, *, service: str | None = None) -> list[Finding]:
    """Findings for one scrape of ``service``'s exposition ``text`` (default: the
    stack's verify.service)."""
    service = service or stack.app_service()
    if service is None:
        raise ValueError(f"the {stack.name} stack has no verify.service: pass `service`")
    expected = _expected(stack, service)
    exact = _owns_exposition(expected.values())
    seen: set[str] = set()
    findings: list[Finding] = []
    for family in text_string_to_metric_families(text):
        name = family.name
        where = f"live {service}: {name}"
        metric = expected.get(name)
        if metric is None:
            if not exact:
                continue
            findings.append(
                finding(
                    FindingCode.LIVE_UNCATALOGUED_METRIC,
                    where,
                    f"{name} ({family.type}) is emitted but not in the catalog",
                    "declare it in the metric catalog or stop emitting it",
                )
            )
            continue
        seen.add(name)
        findings.extend(_check_family(family, metric, where))
    for name in sorted(set(expected) - seen):
        metric = expected[name]
        if metric.first_event_only:
            continue
        findings.append(
            finding(
                FindingCode.LIVE_MISSING_METRIC,
                f"live {service}: {name}",
                f"{name} is in the catalog but the service does not emit it",
                "emit it (stackgen.runtime creates it), or drive traffic that records it",
                metric,
            )
        )
    return sorted(findings)


def check_live(stack: Stack, url: str, *, service: str | None = None) -> list[Finding]:
    try:
        text = scrape(url)
    except (urllib.error.URLError, OSError, ValueError) as error:
        return [
            finding(
                FindingCode.LIVE_UNREACHABLE,
                url,
                f"cannot scrape {url}: {error}",
                "start the service, or pass its /metrics URL",
            )
        ]
    return check_exposition(stack, text, service=service)
