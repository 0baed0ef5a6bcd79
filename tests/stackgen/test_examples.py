"""The example stacks under examples/ (not BestBox): their committed output matches their
specs, `stackgen check` is clean on them, promtool passes their rule tests, and the local
profile takes their own ports."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.conftest import REPO_ROOT, run_tool

PAYMENTS = REPO_ROOT / "examples/payments"


def stackgen(*args: str, cwd: Path = PAYMENTS) -> subprocess.CompletedProcess[str]:
    """The CLI in the example's directory, in its own process (its pyproject is found
    from there and its spec package is imported fresh)."""
    return subprocess.run(
        [sys.executable, "-m", "stackgen.cli", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_the_committed_output_matches_the_specs() -> None:
    result = stackgen("generate", "--check")
    assert result.returncode == 0, result.stdout + result.stderr


def test_check_is_clean() -> None:
    result = stackgen("check")
    assert result.returncode == 0, result.stderr
    assert result.stderr.splitlines()[-1] == "0 finding(s), 0 error(s)"


def test_promtool_passes_the_rule_tests(promtool: str) -> None:
    tests = sorted(str(p) for p in (PAYMENTS / "generated/prometheus/tests").glob("*.yml"))
    # Two alerts' fault tests and two SLOs' burn-rate tests.
    assert len(tests) == 4
    result = run_tool(promtool, "test", "rules", *tests)
    assert result.returncode == 0, result.stdout + result.stderr


def test_nothing_of_bestbox_leaks_into_the_example() -> None:
    for path in (PAYMENTS / "generated").rglob("*"):
        if path.is_file():
            assert "bestbox" not in path.read_text().lower(), path


@pytest.mark.parametrize(
    ("ports", "expected"),
    [
        ((), "127.0.0.1:18100"),
        (("--port", "payments-api=19000"), "127.0.0.1:19000"),
    ],
    ids=["stack-local-ports", "port-override"],
)
def test_the_local_profile_uses_the_stack_ports(
    ports: tuple[str, ...], expected: str, tmp_path: Path
) -> None:
    out = tmp_path / "local"
    result = stackgen("generate", "--profile", "local", "--out", str(out), *ports)
    assert result.returncode == 0, result.stderr
    config = yaml.safe_load((out / "prometheus/prometheus.yml").read_text())
    targets = {
        job["job_name"]: job["static_configs"][0]["targets"] for job in config["scrape_configs"]
    }
    assert targets == {
        "payments-api": [expected],
        "prometheus": ["127.0.0.1:19190"],
        "alertmanager": ["127.0.0.1:19193"],
    }
    alertmanagers = config["alerting"]["alertmanagers"][0]["static_configs"][0]["targets"]
    assert alertmanagers == ["127.0.0.1:19193"]
