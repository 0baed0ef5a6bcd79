"""What every live run on 127.0.0.1 owns and gives back when it ends, whatever it
starts: a scratch directory with the processes started in it, the webhook Alertmanager
delivers to, a PostgreSQL database of its own and the run's alert token. A run is a
context manager: it is closed (every process stopped, the database dropped, the
directory removed) when it ends, also when starting it fails or it is interrupted from
another thread.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import shutil
import sys
import tempfile
import threading
import uuid
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import Self
from urllib.parse import urlsplit, urlunsplit

import asyncpg

from stackgen.render.local_profile import LOCAL_HOST
from stackgen.spec import Stack
from stackgen.spec.alerting import token_variable
from stackgen.tools import ToolMissing, find_tool
from stackgen.verify.processes import ProcessSet
from stackgen.verify.webhook import WebhookReceiver

__all__ = [
    "StackRun",
    "VerifyCancelled",
    "VerifyEnvironmentError",
    "agent_command",
    "tool_binary",
]

# Variables of the caller's environment the service must not inherit: they would point
# it at another LLM, database or trace collector than the run's own.
_SCRUBBED_PREFIXES = ("LLM_", "SCRIPTED_", "OTEL_", "DATABASE_URL", "AUDIT_", "AGENT_")


class VerifyEnvironmentError(RuntimeError):
    """Something the run needs is missing or would not start (exit code 2)."""


class VerifyCancelled(RuntimeError):
    """The stack was closed while a step was waiting (interrupt or termination)."""


def agent_command() -> list[str]:
    """The real agent service; it reads AGENT_HOST/AGENT_PORT and the rest from env."""
    return [sys.executable, "-m", "agent_service.cli", "serve", "--log-level", "warning"]


def tool_binary(name: str) -> str:
    """The path of one of the stack's programs, or VerifyEnvironmentError."""
    try:
        return find_tool(name)
    except ToolMissing as missing:
        raise VerifyEnvironmentError(str(missing)) from missing


def _with_database(dsn: str, database: str) -> str:
    return urlunsplit(urlsplit(dsn)._replace(path=f"/{database}"))


async def _admin(dsn: str, statement: str) -> None:
    connection = await asyncpg.connect(dsn, timeout=5)
    try:
        await connection.execute(statement)
    finally:
        await connection.close()


class StackRun:
    """The resources of one run; a subclass starts its programs in ``_start``.

    ``label`` begins the run's log lines; ``cancelled`` is the message of the
    VerifyCancelled a wait raises once the run is closed; the scratch directory's and
    the database's names begin with ``dir_prefix`` and ``database_prefix``."""

    def __init__(
        self,
        stack: Stack,
        *,
        label: str,
        cancelled: str,
        dir_prefix: str,
        database_prefix: str,
        admin_dsn: str,
        agent_argv: Sequence[str] | None,
        log: Callable[[str], None],
        keep_dir: bool,
    ) -> None:
        if stack.verify is None:
            raise VerifyEnvironmentError(f"the {stack.name} stack has no verify settings")
        self.stack = stack
        self.label = label
        self._cancelled = cancelled
        self.admin_dsn = admin_dsn
        self.agent_argv = list(agent_argv or agent_command())
        self.log = log
        self.keep_dir = keep_dir
        self.dir = Path(tempfile.mkdtemp(prefix=dir_prefix))
        self.processes = ProcessSet(self.dir)
        self.webhook = WebhookReceiver()
        # The service the run drives.
        self.service = stack.verify.service
        self.database = f"{database_prefix}{uuid.uuid4().hex[:12]}"
        self._database_created = False
        self._closed = threading.Event()
        # The bearer token of the agent's alert webhook for this run only.
        self.alert_token = secrets.token_urlsafe(32)
        self.token_secrets = stack.alerting.token_secrets() if stack.alerting else ()

    @property
    def database_url(self) -> str:
        """The run's own audit database."""
        return _with_database(self.admin_dsn, self.database)

    # -- lifecycle -----------------------------------------------------------------------
    def __enter__(self) -> Self:
        try:
            self._start()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.close()

    def _start(self) -> None:
        raise NotImplementedError

    def _create_database(self) -> None:
        try:
            asyncio.run(_admin(self.admin_dsn, f'CREATE DATABASE "{self.database}"'))
        except (OSError, asyncpg.PostgresError) as error:
            raise VerifyEnvironmentError(
                f"PostgreSQL at {self.admin_dsn} is not usable ({error}): run "
                "`bash scripts/ensure-test-tools.sh` or pass --database-url"
            ) from error
        self._database_created = True

    def _write_token_files(self) -> Path:
        """The alert token in a file a secret, for Alertmanager's credentials_file."""
        directory = self.dir / "secrets"
        directory.mkdir(mode=0o700)
        for name in self.token_secrets:
            fd = os.open(directory / name, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            try:
                os.write(fd, self.alert_token.encode())
            finally:
                os.close(fd)
        return directory

    def _agent_environment(
        self, port: int, spool: Path, settings: Mapping[str, str]
    ) -> dict[str, str]:
        """An agent's environment: the caller's without what would point it elsewhere,
        the run's address, database and spool, then ``settings``, then the alert token."""
        env = {k: v for k, v in os.environ.items() if not k.startswith(_SCRUBBED_PREFIXES)}
        env.update(
            {
                "AGENT_HOST": LOCAL_HOST,
                "AGENT_PORT": str(port),
                "DATABASE_URL": self.database_url,
                # A spool of its own: the writer locks its directory.
                "AUDIT_SPOOL_DIR": str(spool),
            }
        )
        env.update(settings)
        env.update({token_variable(name): self.alert_token for name in self.token_secrets})
        return env

    def sleep(self, seconds: float) -> None:
        """Wait, unless the stack is closed meanwhile (then raise VerifyCancelled)."""
        if self._closed.wait(seconds):
            raise VerifyCancelled(self._cancelled)

    def close(self) -> None:
        """Stop everything; safe to call again and from another thread (an interrupt)."""
        self._closed.set()
        self.processes.stop_all()
        self.webhook.__exit__(None, None, None)
        if self._database_created:
            try:
                asyncio.run(
                    _admin(
                        self.admin_dsn, f'DROP DATABASE IF EXISTS "{self.database}" WITH (FORCE)'
                    )
                )
            except (OSError, asyncpg.PostgresError) as error:
                self.log(f"{self.label} could not drop database {self.database}: {error}")
            self._database_created = False
        if not self.keep_dir:
            shutil.rmtree(self.dir, ignore_errors=True)
