"""The metric catalog: no metric carries an unbounded identity label, and every metric
the stack scrapes from a service belongs to a defined, scraped service."""

from __future__ import annotations

from stackgen.check.codes import FindingCode, finding
from stackgen.check.context import CheckContext
from stackgen.findings import Finding
from stackgen.spec import MetricSource

__all__ = ["check_metric_catalog"]


def check_metric_catalog(context: CheckContext) -> list[Finding]:
    stack = context.stack
    findings = []
    unbounded = set(stack.unbounded_labels)
    for metric in stack.metrics:
        where = f"metric {metric.name}"
        for label in metric.labels:
            if label.name in unbounded:
                findings.append(
                    finding(
                        FindingCode.UNBOUNDED_LABEL,
                        where,
                        f"label {label.name!r} is an unbounded identity: every user or "
                        "session would create new series",
                        "drop the label; per-user data belongs in the audit log",
                        metric,
                    )
                )
        if metric.source is MetricSource.SCRAPE or metric.service is None:
            continue
        service = stack.service(metric.service)
        if service is None:
            findings.append(
                finding(
                    FindingCode.UNKNOWN_SERVICE,
                    where,
                    f"service {metric.service!r} is not defined in the stack",
                    f"services: {sorted(s.name for s in stack.services)}",
                    metric,
                )
            )
        elif service.scrape is None:
            findings.append(
                finding(
                    FindingCode.UNSCRAPED_METRIC,
                    where,
                    f"service {service.name!r} is not scraped, so this metric never "
                    "reaches Prometheus",
                    f"give Service[{service.name}] a `scrape`",
                    metric,
                )
            )
    return findings
