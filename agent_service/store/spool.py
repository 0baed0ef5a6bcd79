"""The audit spool: a local, append-only journal of audit records in numbered segment
files (``seg-000000000001.jsonl``, one JSON record a line: agent_service.store.codec).

The writer appends every record here (one write and one fsync per group of records)
before it acknowledges it, and deletes a segment once every record in it is in the
database. Whatever is left at start-up (the database was down, or the process died) is
replayed in order; the database ignores records it already has (by message id).

The methods are blocking file IO: the writer calls them from a worker thread, one
append at a time. A lock file keeps two processes from sharing a spool.
"""

from __future__ import annotations

import fcntl
import logging
import os
import re
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from agent_service.store.base import AuditItem
from agent_service.store.codec import SpoolFormatError, decode, encode

__all__ = ["Segment", "Spool", "SpoolFull", "SpoolLocked"]

log = logging.getLogger(__name__)

_SEGMENT = re.compile(r"^seg-(\d{12})\.jsonl$")


class SpoolFull(Exception):
    """Appending would take the spool past its size bound."""


class SpoolLocked(Exception):
    """Another process uses this spool directory."""


@dataclass(eq=False)
class Segment:
    seq: int
    path: Path
    rows: int = 0
    size: int = 0
    sealed: bool = False


class Spool:
    def __init__(
        self,
        directory: Path,
        *,
        max_bytes: int = 256 * 1024 * 1024,
        segment_bytes: int = 4 * 1024 * 1024,
    ) -> None:
        if max_bytes < 1 or segment_bytes < 1:
            raise ValueError("max_bytes and segment_bytes must be positive")
        self.directory = Path(directory)
        self.max_bytes = max_bytes
        self.segment_bytes = segment_bytes
        self.current: Segment | None = None
        self._fd: int | None = None
        self._lock_fd: int | None = None
        self._next_seq = 1
        self._size = 0
        self._accounting = threading.Lock()

    @property
    def size_bytes(self) -> int:
        """Bytes in the segment files (written and not yet deleted)."""
        return self._size

    # -- start-up ---------------------------------------------------------------------

    def open(self) -> list[Segment]:
        """Lock the directory and return the segments left by earlier runs, oldest first
        (sealed; a torn last line, from a crash in the middle of an append that was
        never acknowledged, is cut off)."""
        self.directory.mkdir(parents=True, exist_ok=True)
        lock_fd = os.open(self.directory / ".lock", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(lock_fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(lock_fd)
            raise SpoolLocked(
                f"audit spool {self.directory} is in use by another process "
                "(set AUDIT_SPOOL_DIR to a directory of its own for each instance)"
            ) from None
        self._lock_fd = lock_fd
        found: list[Segment] = []
        for path in sorted(self.directory.iterdir()):
            match = _SEGMENT.match(path.name)
            if match is None:
                continue
            size = _cut_torn_tail(path)
            if size == 0:
                path.unlink()
                continue
            with path.open("rb") as file:
                rows = sum(chunk.count(b"\n") for chunk in iter(lambda: file.read(1 << 20), b""))
            found.append(Segment(int(match[1]), path, rows, size, sealed=True))
        self._size = sum(s.size for s in found)
        self._next_seq = max((s.seq for s in found), default=0) + 1
        return found

    # -- the writer's operations --------------------------------------------------------

    def append(self, items: Sequence[AuditItem], data: bytes | None = None) -> Segment:
        """Write the records at the end of the current segment and fsync them; return
        that segment. ``data`` is their lines when the caller has encoded them already
        (``codec.encode_with_rows``). SpoolFull (nothing written) when the bound would
        be exceeded."""
        if data is None:
            data = b"".join(encode(item) for item in items)
        if self._size + len(data) > self.max_bytes:
            raise SpoolFull(
                f"audit spool {self.directory} is full ({self._size} of {self.max_bytes} "
                f"bytes): the database has not taken records for a while"
            )
        segment = self.current
        if segment is None or segment.size >= self.segment_bytes:
            segment = self._new_segment()
        assert self._fd is not None
        view = memoryview(data)
        while view:
            written = os.write(self._fd, view)
            view = view[written:]
        os.fdatasync(self._fd)
        segment.rows += len(items)
        segment.size += len(data)
        with self._accounting:
            self._size += len(data)
        return segment

    def seal(self) -> None:
        """Close the current segment: the next append starts a new file."""
        segment, self.current = self.current, None
        if segment is not None:
            segment.sealed = True
        fd, self._fd = self._fd, None
        if fd is not None:
            os.close(fd)

    def remove(self, segment: Segment) -> None:
        """Delete a segment whose records are all in the database."""
        if segment is self.current:
            self.seal()
        try:
            segment.path.unlink()
        except FileNotFoundError:
            pass
        with self._accounting:
            self._size -= segment.size

    def read(self, segment: Segment) -> tuple[list[AuditItem], int]:
        """The records of a sealed segment, and how many lines could not be read."""
        items: list[AuditItem] = []
        unreadable = 0
        for number, line in enumerate(segment.path.read_bytes().splitlines(), start=1):
            try:
                items.append(decode(line))
            except SpoolFormatError as error:
                unreadable += 1
                log.error("%s line %d skipped: %s", segment.path, number, error)
        return items, unreadable

    def close(self) -> None:
        self.seal()
        fd, self._lock_fd = self._lock_fd, None
        if fd is not None:
            os.close(fd)  # releases the flock

    def _new_segment(self) -> Segment:
        self.seal()
        path = self.directory / f"seg-{self._next_seq:012d}.jsonl"
        self._fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        self.current = Segment(self._next_seq, path)
        self._next_seq += 1
        _fsync_directory(self.directory)  # the new name survives a power cut too
        return self.current


def _cut_torn_tail(path: Path) -> int:
    """Truncate the file after its last newline; return the new size."""
    data = path.read_bytes()
    keep = data.rfind(b"\n") + 1
    if keep != len(data):
        log.warning("%s: cutting %d bytes of a torn last line", path, len(data) - keep)
        with path.open("r+b") as file:
            file.truncate(keep)
            os.fsync(file.fileno())
    return keep


def _fsync_directory(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
