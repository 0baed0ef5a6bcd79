"""Every generated file of the production stack: stamped, valid, deterministic, and
committed as rendered. What the files say is guarded by the drift check (the committed
generated/ is the golden, test_committed_tree_matches_the_specs) and, renderer by
renderer, by the fixture-stack snapshots of test_renderers.py."""

from __future__ import annotations

import json
from typing import Any

import pytest
import yaml

from specs.bestbox import stack as bestbox
from stackgen.conventions import ALERT_RULES_DIR, GENERATED_NOTICE_PREFIX
from stackgen.output import diff_tree
from stackgen.render import RENDERERS, render_all
from stackgen.spec import Stack
from tests.conftest import GENERATED

PATHS = sorted(render_all(bestbox))
# The stack's own regenerate command, after the stable prefix the writer looks for.
GENERATED_NOTICE = f"{GENERATED_NOTICE_PREFIX}; run `make generate`"


YAML = [p for p in PATHS if p.endswith((".yml", ".yaml"))]
MARKDOWN = [p for p in PATHS if p.endswith(".md")]
# Neither YAML, JSON nor Markdown: shell scripts and the env file's documentation.
OTHER = [p for p in PATHS if not p.endswith((".yml", ".yaml", ".json", ".md"))]


@pytest.mark.parametrize("path", YAML)
def test_generated_file_is_stamped_and_valid_yaml(rendered: dict[str, str], path: str) -> None:
    text = rendered[path]
    assert text.startswith(f"# {GENERATED_NOTICE}\n")
    assert text.endswith("\n") and not text.endswith("\n\n")
    assert isinstance(yaml.safe_load(text), dict)


@pytest.mark.parametrize("path", OTHER)
def test_other_generated_file_is_stamped(rendered: dict[str, str], path: str) -> None:
    # A shell script keeps its #! line first; the notice is the next comment.
    lines = rendered[path].splitlines()
    header = lines[1:2] if lines[0].startswith("#!") else lines[:1]
    assert header == [f"# {GENERATED_NOTICE}"], path
    assert rendered[path].endswith("\n") and not rendered[path].endswith("\n\n")


def test_every_generated_file_has_a_known_format() -> None:
    json_files = {p for p in PATHS if p.endswith(".json")}
    assert set(PATHS) == set(YAML) | set(MARKDOWN) | set(OTHER) | json_files
    assert OTHER == [".env.example", "postgres/init/10-bestbox-roles.sh"]


@pytest.mark.parametrize("path", [p for p in PATHS if p.endswith(".json")])
def test_generated_json_is_stamped_early(rendered: dict[str, str], path: str) -> None:
    # JSON has no comments: the notice is the description, early enough for the writer
    # to recognise the file as generated (it reads the first 2000 characters).
    text = rendered[path]
    assert GENERATED_NOTICE in text[:2000]
    assert json.loads(text)["description"].startswith(GENERATED_NOTICE)
    assert text.endswith("}\n")


@pytest.mark.parametrize("path", MARKDOWN)
def test_generated_markdown_is_stamped(rendered: dict[str, str], path: str) -> None:
    text = rendered[path]
    assert text.startswith(f"<!-- {GENERATED_NOTICE} -->\n")
    assert text.endswith("\n") and "\n\n\n" not in text


def test_rendering_is_deterministic(stack: Stack) -> None:
    assert render_all(stack) == render_all(stack)


def test_committed_tree_matches_the_specs(rendered: dict[str, str]) -> None:
    drifts = diff_tree(GENERATED, rendered)
    assert drifts == [], f"generated/ is stale, run `make generate`: {drifts}"


def test_every_renderer_contributes(stack: Stack) -> None:
    for target, render in RENDERERS:
        assert render(stack), f"renderer {target} produced no file"


def test_prometheus_config_scrapes_real_metrics_endpoints(rendered: dict[str, str]) -> None:
    config = yaml.safe_load(rendered["prometheus/prometheus.yml"])
    jobs = {job["job_name"]: job for job in config["scrape_configs"]}
    assert {"agent-api", "prometheus", "llm-server", "embeddings"} <= set(jobs)
    # Only real Prometheus endpoints: llama-server's JSON /health is not one.
    assert all(job["metrics_path"] == "/metrics" for job in jobs.values())
    assert jobs["agent-api"]["scrape_interval"] == "5s"  # critical: pages read it
    assert config["rule_files"] == [
        "rules/alerts/*.yml",
        "rules/recording/*.yml",
        "rules/slo/*.yml",
    ]


def alert_groups(rendered: dict[str, str]) -> list[dict[str, Any]]:
    """The groups of every rule file of the spec's alerts (one file per group)."""
    return [
        group
        for path in sorted(rendered)
        if path.startswith(f"{ALERT_RULES_DIR}/")
        for group in yaml.safe_load(rendered[path])["groups"]
    ]


def test_alert_rules_carry_routing_labels_and_links(stack: Stack, rendered: dict[str, str]) -> None:
    groups = alert_groups(rendered)
    rules = {rule["alert"]: rule for group in groups for rule in group["rules"]}
    assert set(rules) == {alert.name for alert in stack.alerts}
    for alert in stack.alerts:
        rule = rules[alert.name]
        assert rule["labels"]["severity"] == alert.severity
        assert rule["annotations"]["runbook_url"].endswith(f"#{alert.runbook}")
        if alert.dashboard:
            assert rule["annotations"]["dashboard"].endswith(f"/d/{alert.dashboard}")


def test_alert_expressions_read_the_right_series(rendered: dict[str, str]) -> None:
    groups = alert_groups(rendered)
    rules = {rule["alert"]: rule for group in groups for rule in group["rules"]}
    # Memory against the service's configured limit, never a literal size; satisfaction
    # over a window of ratings; TTFT from its own histogram; critical alerts within the
    # two-minute detection budget.
    assert "128" not in rules["HighMemoryUsage"]["expr"]
    assert "increase(user_feedback_total" in rules["LowUserSatisfaction"]["expr"]
    assert "agent_ttft_seconds_bucket" in rules["HighTTFTP95"]["expr"]
    for rule in rules.values():
        if rule["labels"]["severity"] == "critical":
            assert rule.get("for", "0s") in ("0s", "30s", "1m")
