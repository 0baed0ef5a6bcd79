"""Shared fixtures: the BestBox stack, its rendered files, and the real promtool."""

from __future__ import annotations

import json
import os
import signal
import subprocess
from pathlib import Path
from typing import Any

import pytest

from specs.bestbox import stack as bestbox_stack
from stackgen.render import render_all
from stackgen.spec import Stack
from stackgen.tools import ToolMissing, find_tool

REPO_ROOT = Path(__file__).resolve().parent.parent
GENERATED = REPO_ROOT / "generated"


@pytest.fixture(scope="session")
def stack() -> Stack:
    return bestbox_stack


@pytest.fixture(scope="session")
def rendered(stack: Stack) -> dict[str, str]:
    return render_all(stack)


SHARED_SCHEMAS = REPO_ROOT.parent / "shared" / "schemas"


def shared_schema(relative: str) -> dict[str, Any]:
    """A JSON schema of ../shared/schemas (beside the repository). Missing, it is a skip
    on a developer's machine but a failure under CI (CI=true), where a skip would hide
    that nothing was validated."""
    path = SHARED_SCHEMAS / relative
    if not path.is_file():
        message = f"{path} is not available (../shared/schemas beside the repository)"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    schema: dict[str, Any] = json.loads(path.read_text())
    return schema


def tool_path(name: str) -> str:
    """A program of the stack as the tools step built it (the pinned version)."""
    try:
        return find_tool(name)
    except ToolMissing as missing:
        pytest.fail(str(missing))


@pytest.fixture(scope="session")
def promtool() -> str:
    return tool_path("promtool")


@pytest.fixture(scope="session")
def amtool() -> str:
    return tool_path("amtool")


def pytest_collection_finish(session: pytest.Session) -> None:
    """Start the live verify runs first when their tests are collected: they mostly wait
    on wall-clock rule evaluation, so the rest of the suite runs meanwhile."""
    if any(item.nodeid.startswith("tests/stackgen/test_verify_live.py") for item in session.items):
        from tests.stackgen.verify_background import RUNS, BackgroundVerify

        stop_runs_on_sigterm()
        run = BackgroundVerify(bestbox_stack)
        run.start()
        RUNS.append(run)


def stop_runs_on_sigterm() -> None:
    """SIGTERM ends the session like Ctrl-C does (KeyboardInterrupt), so the session's
    end stops the background runs instead of Python dying with their processes and
    databases left behind."""

    def interrupt(signum: int, frame: object) -> None:
        raise KeyboardInterrupt(f"signal {signum}")

    signal.signal(signal.SIGTERM, interrupt)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Never leave the verify threads (and the processes they own) behind: an
    interrupted session stops them at once, a finished one waits for them."""
    from tests.stackgen.verify_background import RUNS

    for run in RUNS:
        if exitstatus == pytest.ExitCode.INTERRUPTED:
            run.cancel.set()
        run.join()


def run_tool(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """Run an external tool (promtool, amtool) bounded in time, capturing its output."""
    return subprocess.run(args, cwd=cwd, capture_output=True, text=True, timeout=120, check=False)
