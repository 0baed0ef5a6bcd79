"""Scrape jobs: every job reads the Prometheus format, and every port the collector
serves metrics on is scraped."""

from __future__ import annotations

from stackgen.check.codes import FindingCode, finding
from stackgen.check.context import CheckContext
from stackgen.findings import Finding
from stackgen.spec import MetricsFormat

__all__ = ["check_collector_scraped", "check_scrape_formats"]


def check_scrape_formats(context: CheckContext) -> list[Finding]:
    findings = []
    for service in context.stack.scraped_services():
        assert service.scrape is not None
        if service.scrape.format is not MetricsFormat.PROMETHEUS:
            findings.append(
                finding(
                    FindingCode.NON_PROMETHEUS_SCRAPE,
                    f"scrape job {service.name}",
                    f"{service.address}{service.scrape.path} serves {service.scrape.format}, "
                    "not the Prometheus format: the target would always be down",
                    "scrape the server's real /metrics (llama-server --metrics) or probe "
                    "the health endpoint with a blackbox exporter",
                    service,
                )
            )
    return findings


def check_collector_scraped(context: CheckContext) -> list[Finding]:
    """Every port the collector exposes metrics on is a scrape target (scraping only the
    collector's own telemetry port leaves the OTLP metrics it exports nowhere)."""
    stack = context.stack
    collector = stack.collector
    if collector is None:
        return []
    scraped = {
        s.port
        for s in stack.scraped_services()
        if s.host == collector.host
        and s.scrape is not None
        and s.scrape.format is MetricsFormat.PROMETHEUS
    }
    findings = []
    for what, port in collector.metrics_ports().items():
        if port in scraped:
            continue
        findings.append(
            finding(
                FindingCode.UNSCRAPED_EXPORTER,
                f"otel collector {what} {collector.host}:{port}",
                f"the collector serves metrics on {collector.host}:{port} but no scrape job "
                "targets it: they never reach Prometheus",
                f"add a scraped Service with host={collector.host!r}, port={port}",
                collector,
            )
        )
    return findings
