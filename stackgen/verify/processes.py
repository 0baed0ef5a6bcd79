"""Child processes of a verify run: each in its own process group, stopped by PID.

Nothing here looks processes up by name: a run only ever signals the groups it started,
so other people's Prometheus or PostgreSQL on the same machine are never touched.
"""

from __future__ import annotations

import os
import signal
import subprocess
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["Child", "ProcessSet", "ProcessSetClosed"]


class ProcessSetClosed(RuntimeError):
    """The set was stopped: nothing more is started in it."""


@dataclass
class Child:
    name: str
    process: subprocess.Popen[bytes]
    log_path: Path

    @property
    def pid(self) -> int:
        return self.process.pid

    def running(self) -> bool:
        return self.process.poll() is None

    def log_tail(self, lines: int = 15) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])

    def stop(self, timeout_s: float = 10.0) -> None:
        """SIGTERM to the child's process group, SIGKILL after the timeout."""
        if self.process.poll() is not None:
            return
        for sig, wait_s in ((signal.SIGTERM, timeout_s), (signal.SIGKILL, 5.0)):
            try:
                os.killpg(self.process.pid, sig)
            except ProcessLookupError:
                return
            try:
                self.process.wait(timeout=wait_s)
                return
            except subprocess.TimeoutExpired:
                continue


@dataclass
class ProcessSet:
    """The processes one stack started; ``stop_all`` is safe to call more than once, and
    from another thread: a start racing with it is refused, never left running."""

    log_dir: Path
    children: list[Child] = field(default_factory=list)
    closed: bool = False
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def start(self, name: str, argv: Sequence[str], env: Mapping[str, str] | None = None) -> Child:
        with self._lock:
            if self.closed:
                raise ProcessSetClosed(f"not starting {name}: the processes were stopped")
            return self._start(name, argv, env)

    def _start(self, name: str, argv: Sequence[str], env: Mapping[str, str] | None) -> Child:
        log_path = self.log_dir / f"{name}.log"
        with log_path.open("ab") as log:
            process = subprocess.Popen(
                list(argv),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=dict(env) if env is not None else None,
                start_new_session=True,  # its own process group: stopped as one
            )
        child = Child(name, process, log_path)
        self.children.append(child)
        return child

    def stop_all(self) -> None:
        with self._lock:
            self.closed = True
            children = list(self.children)
        for child in reversed(children):
            child.stop()
