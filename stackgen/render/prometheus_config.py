"""generated/prometheus/prometheus.yml: global settings, Alertmanager, rules, scrape jobs."""

from __future__ import annotations

import posixpath
from typing import Any

from stackgen.conventions import PROMETHEUS_CONFIG_PATH
from stackgen.output import dump_yaml
from stackgen.rules_model import build_rules
from stackgen.spec import Service, Stack

__all__ = ["render"]


def _scrape_job(stack: Stack, service: Service) -> dict[str, Any]:
    assert service.scrape is not None
    job: dict[str, Any] = {"job_name": service.name}
    if service.scrape.interval:
        job["scrape_interval"] = service.scrape.interval
    job["metrics_path"] = service.scrape.path
    job["scheme"] = service.scrape.scheme
    job["static_configs"] = [{"targets": [service.address]}]
    return job


def _rule_files(stack: Stack) -> list[str]:
    """A glob per directory of the stack's rule files, relative to prometheus.yml so the
    same tree works in compose and for promtool."""
    here = posixpath.dirname(PROMETHEUS_CONFIG_PATH)
    directories = {posixpath.dirname(path) for path in build_rules(stack).rule_file_paths}
    return [f"{posixpath.relpath(d, here)}/*.yml" for d in sorted(directories)]


def render(stack: Stack) -> dict[str, str]:
    settings = stack.prometheus
    config: dict[str, Any] = {
        "global": {
            "scrape_interval": settings.scrape_interval,
            "evaluation_interval": settings.evaluation_interval,
            "external_labels": dict(sorted(settings.external_labels.items())),
        }
    }
    if settings.alertmanager:
        alertmanager = stack.service(settings.alertmanager)
        assert alertmanager is not None  # the Stack validator guarantees it
        config["alerting"] = {
            "alertmanagers": [{"static_configs": [{"targets": [alertmanager.address]}]}]
        }
    config["rule_files"] = _rule_files(stack)
    config["scrape_configs"] = [_scrape_job(stack, s) for s in stack.scraped_services()]
    comment = f"Prometheus configuration of the {stack.name} stack."
    return {PROMETHEUS_CONFIG_PATH: dump_yaml(config, comment=comment)}
