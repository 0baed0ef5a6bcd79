"""The generated Prometheus files pass the real promtool, and the generated unit tests
catch a broken rule (they are not a check that cannot fail)."""

from __future__ import annotations

from pathlib import Path

from stackgen.output import write_tree
from stackgen.render import render_all
from stackgen.spec import Stack
from tests.conftest import GENERATED, run_tool

_run = run_tool


def test_promtool_check_config(promtool: str) -> None:
    result = _run(promtool, "check", "config", str(GENERATED / "prometheus/prometheus.yml"))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout


def test_promtool_check_rules(promtool: str) -> None:
    files = sorted(str(p) for p in (GENERATED / "prometheus/rules").glob("*/*.yml"))
    assert files
    result = _run(promtool, "check", "rules", *files)
    assert result.returncode == 0, result.stdout + result.stderr


def test_promtool_test_rules(promtool: str) -> None:
    files = sorted(str(p) for p in (GENERATED / "prometheus/tests").glob("*.yml"))
    assert files
    result = _run(promtool, "test", "rules", *files)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.count("SUCCESS") == len(files)


def _variant_tree(stack: Stack, tmp_path: Path) -> Path:
    write_tree(tmp_path, render_all(stack))
    return tmp_path


def _replace_alert_expr(stack: Stack, name: str, old: str, new: str) -> Stack:
    alerts = tuple(
        a.model_copy(update={"expr": a.expr.replace(old, new)}) if a.name == name else a
        for a in stack.alerts
    )
    assert alerts != stack.alerts
    return stack.model_copy(update={"alerts": alerts})


def test_generated_tests_catch_a_threshold_too_high(
    promtool: str, stack: Stack, tmp_path: Path
) -> None:
    # The error-ratio threshold raised from 5% to 50%: the fault no longer fires it.
    broken = _replace_alert_expr(stack, "HighErrorRate", "> 0.05", "> 0.5")
    tree = _variant_tree(broken, tmp_path)
    result = _run(promtool, "test", "rules", str(tree / "prometheus/tests/bestbox_sla.yml"))
    assert result.returncode != 0
    assert "HighErrorRate" in result.stdout + result.stderr


def test_generated_tests_catch_a_threshold_too_low(
    promtool: str, stack: Stack, tmp_path: Path
) -> None:
    # The threshold lowered to 1%: the near miss (4% errors) now pages.
    broken = _replace_alert_expr(stack, "HighErrorRate", "> 0.05", "> 0.01")
    tree = _variant_tree(broken, tmp_path)
    result = _run(promtool, "test", "rules", str(tree / "prometheus/tests/bestbox_sla.yml"))
    assert result.returncode != 0
    assert "near miss" in result.stdout + result.stderr


def test_generated_tests_catch_a_slow_for(promtool: str, stack: Stack, tmp_path: Path) -> None:
    # `for: 5m` on a critical alert misses its 1m30s detection.
    alerts = tuple(
        a.model_copy(update={"for_": "5m"}) if a.name == "ServiceDown" else a for a in stack.alerts
    )
    tree = _variant_tree(stack.model_copy(update={"alerts": alerts}), tmp_path)
    test_file = tree / "prometheus/tests/bestbox_infrastructure.yml"
    result = _run(promtool, "test", "rules", str(test_file))
    assert result.returncode != 0
    assert "ServiceDown" in result.stdout + result.stderr
