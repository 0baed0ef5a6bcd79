"""`stackgen apply | down | status`.

No Docker engine runs on these machines (the docker CLI may be installed, the daemon is
not): the commands are tested through --dry-run, which prints the exact command, and
through the real failure an operator without an engine sees. The engine-less runs are
real, not simulated; where a docker CLI is absent too, a missing binary is used instead.
"""

from __future__ import annotations

import shlex
import shutil
from pathlib import Path

import pytest

from stackgen.cli import main
from stackgen.conventions import COMPOSE_FILE
from stackgen.operate import ARGUMENTS, Action, ComposeTarget, OperateError, execute
from tests.conftest import GENERATED, REPO_ROOT


@pytest.mark.parametrize("action", list(Action), ids=[a.value for a in Action])
def test_dry_run_prints_the_exact_command(
    action: Action, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    env_file = tmp_path / "my.env"
    assert main([action.value, "--dry-run", "--env-file", str(env_file)]) == 0
    out = capsys.readouterr().out
    assert out.count("\n") == 1
    command = shlex.split(out)
    assert Path(command[0]).name == "docker"
    assert command[1:] == [
        "compose",
        "--file",
        str(GENERATED / COMPOSE_FILE),
        "--env-file",
        str(env_file),
        "--project-name",
        "bestbox",
        *ARGUMENTS[action],
    ]


def test_default_env_file_is_at_the_repository_root(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["apply", "--dry-run"]) == 0
    command = shlex.split(capsys.readouterr().out)
    assert command[command.index("--env-file") + 1] == str(REPO_ROOT / ".env")
    assert command[-4:] == ["up", "--detach", "--build", "--wait"]


def test_apply_without_an_env_file_says_to_run_secrets(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["apply", "--env-file", str(tmp_path / "none.env")]) == 2
    err = capsys.readouterr().err.strip()
    assert err == f"stackgen apply: {tmp_path / 'none.env'} is missing: run `stackgen secrets`"


@pytest.mark.parametrize("action", list(Action), ids=[a.value for a in Action])
def test_without_a_docker_engine_one_clear_line(
    action: Action,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The real situation here: no Docker daemon answers (or no docker CLI at all).
    DOCKER_HOST points at a socket nobody listens on, so that even on a machine with an
    engine this test never starts a stack."""
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path}/no-engine.sock")
    env_file = tmp_path / ".env"
    assert main(["secrets", "--env-file", str(env_file)]) == 0
    capsys.readouterr()
    assert main([action.value, "--env-file", str(env_file)]) == 2
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1, captured.err
    assert "Traceback" not in captured.err and captured.out == ""
    if shutil.which("docker"):
        assert lines[0].startswith(f"stackgen {action}: no Docker engine is reachable: ")
    else:
        assert lines[0] == f"stackgen {action}: the docker CLI (docker) is not installed"


def test_missing_docker_cli(tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text("")
    target = ComposeTarget(
        GENERATED / COMPOSE_FILE, env_file, "bestbox", docker="no-such-docker-cli"
    )
    with pytest.raises(OperateError, match=r"^the docker CLI \(no-such-docker-cli\)"):
        execute(target, Action.STATUS)
