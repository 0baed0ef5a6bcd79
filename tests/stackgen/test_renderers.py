"""Each renderer of RENDERERS on small fixture stacks (tests/data/fixture_stacks/), one
snapshot per renderer and fixture: a change to what a renderer writes shows up as a
small, readable diff here, while the drift check guards the production output.

Update after an intended change with
`.venv/bin/pytest tests/stackgen/test_renderers.py --snapshot-update`, then review the diff.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from syrupy.assertion import SnapshotAssertion

from stackgen.check import check_stack
from stackgen.output import write_tree
from stackgen.render import RENDERERS, Renderer, render_all
from stackgen.spec import Stack
from tests.conftest import run_tool
from tests.data.fixture_stacks import FIXTURE_STACKS

CASES = [
    pytest.param(render, stack, id=f"{target}-{fixture}")
    for target, render in RENDERERS
    for fixture, stack in FIXTURE_STACKS.items()
]


@pytest.mark.parametrize(("render", "stack"), CASES)
def test_renderer(render: Renderer, stack: Stack, snapshot: SnapshotAssertion) -> None:
    assert dict(sorted(render(stack).items())) == snapshot


@pytest.mark.parametrize(("target", "render"), RENDERERS, ids=[t for t, _ in RENDERERS])
def test_every_renderer_writes_a_file_for_some_fixture(target: str, render: Renderer) -> None:
    # A renderer whose every snapshot is empty would be guarded by nothing: a new target
    # needs a fixture that has its part.
    assert any(render(stack) for stack in FIXTURE_STACKS.values()), target


def test_the_minimal_stack_gets_only_a_prometheus_config() -> None:
    # Every optional part absent: no renderer may invent a file for it.
    assert list(render_all(FIXTURE_STACKS["minimal"])) == ["prometheus/prometheus.yml"]


@pytest.mark.parametrize(("name", "stack"), FIXTURE_STACKS.items(), ids=list(FIXTURE_STACKS))
def test_fixture_stack_has_no_findings(name: str, stack: Stack) -> None:
    # The snapshots show what a correct stack renders to, not a broken one.
    assert check_stack(stack) == [], name


def test_fixture_alert_and_slo_tests_pass_promtool(promtool: str, tmp_path: Path) -> None:
    # The checkout fixture's fault test, recording test and SLO burn tests are real:
    # promtool runs them against its rules.
    write_tree(tmp_path, render_all(FIXTURE_STACKS["checkout"]))
    files = sorted(str(p) for p in (tmp_path / "prometheus/tests").glob("*.yml"))
    assert len(files) == 3
    result = run_tool(promtool, "test", "rules", *files)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.count("SUCCESS") == len(files)
