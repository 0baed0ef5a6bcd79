"""The dead-letter store: audit records the database refused for good (see
agent_service.store.errors), kept with the reason instead of blocking the log.

A dead letter goes to the ``audit_dead_letters`` table (migration 004). When the
database refuses it there too, it is appended to ``dead-letters.jsonl`` beside the
spool segments (one JSON object a line, fsynced); without a spool directory, it is
logged at ERROR with the whole record. Nothing is dropped silently, and the record is
kept exactly as the spool held it (``record``: the spool line's JSON object), so it
can be repaired and written again by hand.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from agent_service.domain import TurnRecord
from agent_service.store.base import AuditItem, AuditStore
from agent_service.store.codec import as_json
from agent_service.store.errors import Refusal, is_outage, refusal
from agent_service.store.escaping import dumps_stored, escape
from agent_service.store.jsontext import dumps_bytes

__all__ = [
    "DEAD_LETTER_COLUMNS",
    "DEAD_LETTER_FILE",
    "DeadLetter",
    "DeadLetters",
    "Destination",
    "RecordKind",
    "append_to_file",
    "dead_letter",
    "dead_letter_row",
]

log = logging.getLogger(__name__)

DEAD_LETTER_FILE = "dead-letters.jsonl"
RecordKind = Literal["turn", "feedback"]
Destination = Literal["table", "file", "log"]


@dataclass(frozen=True)
class DeadLetter:
    at: datetime  # when it was refused
    kind: RecordKind
    message_id: str
    record: dict[str, Any]  # the spool line's JSON object
    refusal: Refusal
    # sha256 of the spool line: the same record refused again (a replay after a crash)
    # is not kept twice.
    fingerprint: str

    def as_json(self) -> dict[str, Any]:
        return {
            "at": self.at.isoformat(),
            "kind": self.kind,
            "message_id": self.message_id,
            "record": self.record,
            "error_class": self.refusal.error_class,
            "sqlstate": self.refusal.sqlstate,
            "error": self.refusal.message,
            "fingerprint": self.fingerprint,
        }


DEAD_LETTER_COLUMNS = "at, kind, message_id, record, error_class, sqlstate, error, fingerprint"


def dead_letter_row(letter: DeadLetter, timestamp: Callable[[datetime], Any]) -> tuple[Any, ...]:
    """A dead letter as the audit_dead_letters columns, in order, text escaped like
    every other column (the record may hold exactly what was refused)."""
    r = letter.refusal
    return (
        timestamp(letter.at),
        letter.kind,
        escape(letter.message_id),
        dumps_stored(letter.record),
        escape(r.error_class),
        None if r.sqlstate is None else escape(r.sqlstate),
        escape(r.message),
        letter.fingerprint,
    )


def dead_letter(item: AuditItem, refusal: Refusal, at: datetime) -> DeadLetter:
    kind: RecordKind = "turn" if isinstance(item, TurnRecord) else "feedback"
    record = as_json(item)
    # The hash of the record's JSON object (the spool's line format before lines were
    # arrays), so a record set aside by an earlier version is still recognised.
    fingerprint = hashlib.sha256(dumps_bytes(record) + b"\n").hexdigest()
    return DeadLetter(at, kind, item.message_id, record, refusal, fingerprint)


def append_to_file(directory: Path, letters: list[DeadLetter]) -> Path:
    """Append to the dead-letter file (blocking IO: call it from a worker thread)."""
    path = directory / DEAD_LETTER_FILE
    data = b"".join(dumps_bytes(letter.as_json()) + b"\n" for letter in letters)
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
        os.fdatasync(fd)
    finally:
        os.close(fd)
    return path


class DeadLetters:
    """Where the writer sets refused records aside: the table, else the file, else the
    log. An outage while keeping one is retried (the record stays next in line);
    any other failure moves on to the next place."""

    def __init__(
        self,
        store: AuditStore,
        directory: Path | None,
        *,
        retry_initial_s: float = 0.1,
        retry_max_s: float = 2.0,
    ) -> None:
        self.store = store
        self.directory = directory
        self.retry_initial_s = retry_initial_s
        self.retry_max_s = retry_max_s

    async def keep(self, item: AuditItem, error: BaseException) -> tuple[DeadLetter, Destination]:
        letter = dead_letter(item, refusal(error), datetime.now(UTC))
        delay = self.retry_initial_s
        while True:
            try:
                await self.store.dead_letter([letter])
                return letter, "table"
            except Exception as failure:
                if not is_outage(failure):
                    return letter, await self._outside(letter, failure)
                log.error(
                    "keeping a refused audit record failed (retry in %.1fs): %r", delay, failure
                )
                await asyncio.sleep(delay)
                delay = min(delay * 2, self.retry_max_s)

    async def _outside(self, letter: DeadLetter, failure: BaseException) -> Destination:
        log.error("the audit database refused a dead letter too (%r): keeping it outside", failure)
        if self.directory is not None:
            try:
                path = await asyncio.to_thread(append_to_file, self.directory, [letter])
            except OSError:
                log.exception("writing the dead-letter file failed")
            else:
                log.error("refused audit record %s kept in %s", letter.message_id, path)
                return "file"
        log.error(
            "refused audit record (no dead-letter store could take it): %s",
            dumps_bytes(letter.as_json()).decode("utf-8", "backslashreplace"),
        )
        return "log"
