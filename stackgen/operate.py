"""`stackgen apply | down | status`: docker compose on the generated file, through
python-on-whales.

The command is built once (python-on-whales' compose base command plus the action's
arguments) and that same list is printed by --dry-run and run otherwise. Before running,
the Docker engine must answer: without one the operator gets a one-line reason, not a
traceback.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from python_on_whales import DockerClient
from python_on_whales.client_config import ClientNotFoundError
from python_on_whales.exceptions import DockerException
from python_on_whales.utils import run

__all__ = [
    "Action",
    "ComposeTarget",
    "OperateError",
    "compose_command",
    "execute",
    "format_command",
]


class Action(StrEnum):
    APPLY = "apply"
    DOWN = "down"
    STATUS = "status"


# What each action runs after `docker compose --file ... --env-file ... --project-name ...`.
ARGUMENTS: dict[Action, tuple[str, ...]] = {
    # --wait: return once every service is running and healthy (or fail saying which).
    Action.APPLY: ("up", "--detach", "--build", "--wait"),
    # Volumes (the audit log, metrics history) are kept.
    Action.DOWN: ("down",),
    Action.STATUS: ("ps", "--all"),
}


class OperateError(Exception):
    """Why a compose command cannot run (one line)."""


@dataclass(frozen=True)
class ComposeTarget:
    compose_file: Path
    env_file: Path
    project: str
    docker: str = "docker"

    def client(self) -> DockerClient:
        return DockerClient(
            client_call=[self.docker],
            compose_files=[self.compose_file],
            compose_env_files=[self.env_file],
            compose_project_name=self.project,
        )


def compose_command(target: ComposeTarget, action: Action) -> list[str]:
    """The exact command line (the docker binary resolved on PATH when it exists)."""
    try:
        base = [str(part) for part in target.client().client_config.docker_compose_cmd]
    except ClientNotFoundError:
        base = [
            target.docker,
            "compose",
            "--file",
            str(target.compose_file),
            "--env-file",
            str(target.env_file),
            "--project-name",
            target.project,
        ]
    return [*base, *ARGUMENTS[action]]


def format_command(command: list[str]) -> str:
    return shlex.join(command)


def _first_line(error: DockerException) -> str:
    text = (getattr(error, "stderr", None) or str(error)).strip()
    return next((line.strip() for line in text.splitlines() if line.strip()), "unknown error")


def ensure_engine(target: ComposeTarget) -> None:
    """Raise OperateError unless the docker CLI, a reachable engine and compose v2 exist."""
    try:
        client = target.client()
        client.info()
    except ClientNotFoundError:
        raise OperateError(f"the docker CLI ({target.docker}) is not installed") from None
    except DockerException as error:
        raise OperateError(f"no Docker engine is reachable: {_first_line(error)}") from None
    if not client.compose.is_installed():
        raise OperateError("the Docker Compose v2 plugin (`docker compose`) is not installed")


def execute(target: ComposeTarget, action: Action) -> None:
    """Run the action, streaming compose's own output; OperateError if it cannot."""
    if not target.compose_file.is_file():
        raise OperateError(f"{target.compose_file} is missing: run `stackgen generate`")
    if not target.env_file.is_file():
        raise OperateError(f"{target.env_file} is missing: run `stackgen secrets`")
    ensure_engine(target)
    try:
        run(compose_command(target, action), capture_stdout=False, capture_stderr=False)
    except DockerException as error:
        raise OperateError(
            f"`docker compose {ARGUMENTS[action][0]}` failed (exit {error.return_code})"
        ) from None
