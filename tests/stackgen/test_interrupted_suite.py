"""An interrupted test run leaves nothing behind: SIGTERM to pytest while the live verify
runs in its background stops every process that verify started and drops its databases,
as `stackgen verify` on its own does."""

from __future__ import annotations

import asyncio
import os
import queue
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import asyncpg
import pytest

from stackgen.verify.live import DEFAULT_ADMIN_DSN
from tests.conftest import REPO_ROOT
from tests.stackgen.verify_background import PROGRESS_FILE_ENV

pytestmark = pytest.mark.live

_STARTED = re.compile(r"started (\S+), pid (\d+)")
_DATABASE = re.compile(r"created database (stackgen_verify_\w+)")
# Enough processes for both background runs to be well under way.
STARTED_BEFORE_SIGNAL = 6
START_TIMEOUT_S = 240.0
EXIT_TIMEOUT_S = 120.0


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, IndexError):
        return False
    return state != "Z"


async def _existing(databases: set[str]) -> set[str]:
    connection = await asyncpg.connect(DEFAULT_ADMIN_DSN, timeout=5)
    try:
        rows = await connection.fetch(
            "SELECT datname FROM pg_database WHERE datname = ANY($1::text[])", list(databases)
        )
        return {row["datname"] for row in rows}
    finally:
        await connection.close()


async def _drop(databases: set[str]) -> None:
    connection = await asyncpg.connect(DEFAULT_ADMIN_DSN, timeout=5)
    try:
        for name in databases:
            await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await connection.close()


def _read_lines(stream: object, lines: queue.Queue[str]) -> None:
    for line in stream:  # type: ignore[attr-defined]
        lines.put(line)


def _printed(printed: queue.Queue[str]) -> str:
    return "".join(printed.get_nowait() for _ in range(printed.qsize()))[-3000:]


def _follow(path: Path, lines: queue.Queue[str], done: threading.Event) -> None:
    """Put each line appended to ``path`` into ``lines`` until ``done`` is set."""
    offset = 0
    while True:
        finished = done.wait(0.2)  # a last read after it is set
        if path.exists():
            with path.open("rb") as file:
                file.seek(offset)
                data = file.read()
            complete = data[: data.rfind(b"\n") + 1]
            offset += len(complete)
            for line in complete.decode().splitlines(keepends=True):
                lines.put(line)
        if finished:
            return


def test_sigterm_to_the_suite_stops_the_background_verify(tmp_path: Path) -> None:
    # The runs' progress as it comes (what the child prints comes only at the end).
    progress = tmp_path / "progress.log"
    child = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "pytest",
            "-s",
            "-q",
            "-p",
            "no:cacheprovider",
            "tests/stackgen/test_verify_live.py",
        ],
        cwd=REPO_ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        text=True,
        start_new_session=True,
        env={**os.environ, PROGRESS_FILE_ENV: str(progress)},
    )
    printed: queue.Queue[str] = queue.Queue()
    reader = threading.Thread(target=_read_lines, args=(child.stdout, printed), daemon=True)
    reader.start()
    lines: queue.Queue[str] = queue.Queue()
    followed = threading.Event()
    follower = threading.Thread(target=_follow, args=(progress, lines, followed), daemon=True)
    follower.start()
    pids: dict[int, str] = {}
    databases: set[str] = set()
    output: list[str] = []

    def take(line: str) -> None:
        output.append(line)
        for name, pid in _STARTED.findall(line):
            pids[int(pid)] = name
        databases.update(_DATABASE.findall(line))

    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while len(pids) < STARTED_BEFORE_SIGNAL and time.monotonic() < deadline:
            try:
                take(lines.get(timeout=1))
            except queue.Empty:
                assert child.poll() is None, _printed(printed)
        assert len(pids) >= STARTED_BEFORE_SIGNAL, "".join(output[-30:])
        child.send_signal(signal.SIGTERM)
        child.wait(timeout=EXIT_TIMEOUT_S)
        reader.join(timeout=10)
        followed.set()
        follower.join(timeout=10)
        while not lines.empty():
            take(lines.get_nowait())
        # Interrupted while the runs were under way, not after they had ended.
        assert child.returncode == pytest.ExitCode.INTERRUPTED, _printed(printed)
        left = {pid: name for pid, name in pids.items() if _alive(pid)}
        assert left == {}, "".join(output[-30:])
        assert databases, "no database was reported created"
        assert asyncio.run(_existing(databases)) == set()
    finally:
        # Whatever the outcome, this test leaves nothing running either: the programs
        # started after the last line read too.
        if child.poll() is None:
            os.killpg(child.pid, signal.SIGKILL)
            child.wait(timeout=10)
        followed.set()
        follower.join(timeout=10)
        while not lines.empty():
            take(lines.get_nowait())
        for pid in pids:
            if _alive(pid):
                os.killpg(pid, signal.SIGKILL)
        if databases:
            asyncio.run(_drop(databases))
