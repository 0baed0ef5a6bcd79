"""Renderers: pure functions ``render(stack) -> {relative path: text}``, one per target.

Adding a target is one module with a ``render`` function and one entry in RENDERERS.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from stackgen.output import regenerated_by
from stackgen.render import (
    alertmanager,
    compose,
    dashboards,
    env_example,
    grafana_provisioning,
    jaeger,
    kubernetes,
    otel_collector,
    postgres_init,
    prometheus_config,
    rule_tests,
    rules,
    runbooks,
    slo_dashboard,
)
from stackgen.spec import Stack

__all__ = ["RENDERERS", "Renderer", "render_all"]

Renderer = Callable[[Stack], Mapping[str, str]]

RENDERERS: tuple[tuple[str, Renderer], ...] = (
    ("alertmanager", alertmanager.render),
    ("prometheus-config", prometheus_config.render),
    ("prometheus-rules", rules.render),
    ("prometheus-rule-tests", rule_tests.render),
    ("slo-dashboard", slo_dashboard.render),
    ("otel-collector", otel_collector.render),
    ("jaeger", jaeger.render),
    ("runbooks", runbooks.render),
    ("compose", compose.render),
    ("env-example", env_example.render),
    ("grafana-provisioning", grafana_provisioning.render),
    ("postgres-init", postgres_init.render),
    ("dashboards", dashboards.render),
    ("kubernetes", kubernetes.render),
)


def render_all(stack: Stack) -> dict[str, str]:
    files: dict[str, str] = {}
    owner: dict[str, str] = {}
    with regenerated_by(stack.regenerate_command):
        for target, render in RENDERERS:
            for path, text in render(stack).items():
                if path in files:
                    raise ValueError(f"renderers {owner[path]} and {target} both write {path}")
                files[path], owner[path] = text, target
    return dict(sorted(files.items()))
