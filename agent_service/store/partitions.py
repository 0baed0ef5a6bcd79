"""The monthly partitions of ``conversation_log`` on PostgreSQL: one a calendar month
(UTC) of ``timestamp``, named ``conversation_log_yYYYYmMM``. Created ahead of time and
on demand (a row whose month has no partition), and dropped whole when every row they
can hold is older than the retention: dropping a partition costs the same whatever it
holds, where deleting the rows would cost a month of index and heap work.

Only partitions named like this are managed; anything else attached to the table is
left alone.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

__all__ = [
    "LOG_TABLE",
    "Month",
    "create_partitions",
    "detach_expired_partitions",
    "drop_detached_partitions",
    "drop_expired_partitions",
    "existing_partitions",
    "expired",
    "is_missing_partition",
]

LOG_TABLE = "conversation_log"
_NAME = re.compile(rf"^{LOG_TABLE}_y(\d{{4}})m(\d{{2}})$")
# A partition detached by the purge, until its table is dropped.
_PURGED = "_purged"
_PURGED_NAME = rf"^{LOG_TABLE}_y\d{{4}}m\d{{2}}{_PURGED}$"
# Any fixed 64-bit key: serialises the sessions that create or drop partitions.
_DDL_LOCK_KEY = 0x0BE5_7B0C_A0D1_7002
# Creating or dropping a partition locks the whole table briefly; waiting longer than
# this behind the writer's transactions (and holding new writes behind us) is worse
# than trying again at the next round.
_LOCK_TIMEOUT = "5s"


@dataclass(frozen=True, order=True)
class Month:
    year: int
    month: int

    @classmethod
    def of(cls, at: datetime) -> Month:
        """The month ``at`` falls in, in UTC (a naive time is taken as UTC)."""
        utc = at.astimezone(UTC) if at.tzinfo is not None else at
        return cls(utc.year, utc.month)

    @classmethod
    def parse(cls, name: str) -> Month | None:
        """The month of a partition named ``conversation_log_yYYYYmMM``; None otherwise."""
        match = _NAME.match(name)
        if match is None or not 1 <= int(match[2]) <= 12:
            return None
        return cls(int(match[1]), int(match[2]))

    @property
    def name(self) -> str:
        return f"{LOG_TABLE}_y{self.year:04d}m{self.month:02d}"

    @property
    def start(self) -> datetime:
        return datetime(self.year, self.month, 1, tzinfo=UTC)

    @property
    def end(self) -> datetime:
        """The next month's start: the partition's exclusive upper bound."""
        return self.next().start

    def next(self) -> Month:
        return Month(self.year + self.month // 12, self.month % 12 + 1)

    def ahead(self, months: int) -> list[Month]:
        """This month and the ``months`` after it."""
        found = [self]
        for _ in range(months):
            found.append(found[-1].next())
        return found


def expired(months: Iterable[Month], now: datetime, retention_days: int) -> list[Month]:
    """The months whose every possible row is older than ``retention_days`` at ``now``:
    a month is dropped only once its end is past the cutoff, never a month that may
    still hold a row to keep."""
    cutoff = now - timedelta(days=retention_days)
    return sorted(m for m in months if m.end <= cutoff)


def is_missing_partition(error: BaseException) -> bool:
    """The error PostgreSQL raises for a row no partition of the log takes: SQLSTATE
    23514 like a failed CHECK, told apart by naming the table and no constraint (its
    message may be translated)."""
    return (
        getattr(error, "sqlstate", None) == "23514"
        and getattr(error, "table_name", None) == LOG_TABLE
        and getattr(error, "constraint_name", None) is None
    )


async def existing_partitions(connection: Any) -> list[Month]:
    """The managed partitions attached to the log, oldest first."""
    rows = await connection.fetch(
        "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
        "WHERE i.inhparent = $1::regclass",
        LOG_TABLE,
    )
    return sorted(m for row in rows if (m := Month.parse(row["relname"])) is not None)


def _create_sql(month: Month) -> str:
    return (
        f"CREATE TABLE IF NOT EXISTS {month.name} PARTITION OF {LOG_TABLE} "
        f"FOR VALUES FROM ('{month.start.isoformat()}') TO ('{month.end.isoformat()}')"
    )


async def create_partitions(connection: Any, months: Iterable[Month]) -> list[Month]:
    """Create the partitions of ``months`` that do not exist; return those created."""
    wanted = sorted(set(months))
    if not wanted:
        return []
    async with connection.transaction():
        await connection.execute(f"SET LOCAL lock_timeout = '{_LOCK_TIMEOUT}'")
        await connection.execute("SELECT pg_advisory_xact_lock($1)", _DDL_LOCK_KEY)
        present = set(await existing_partitions(connection))
        created = [m for m in wanted if m not in present]
        for month in created:
            await connection.execute(_create_sql(month))
    return created


async def drop_expired_partitions(
    connection: Any, now: datetime, retention_days: int
) -> list[Month]:
    """Drop the partitions every row of which is older than ``retention_days``; return
    the months dropped. No row is read or deleted. Two steps, so that the part that
    locks the log (and, for its foreign key, ``user_sessions``) is catalog work only,
    the same whatever a month holds: ``detach_expired_partitions``, then
    ``drop_detached_partitions``, which frees the files while holding no lock anyone
    else takes."""
    dropped = await detach_expired_partitions(connection, now, retention_days)
    await drop_detached_partitions(connection)
    return dropped


async def detach_expired_partitions(
    connection: Any, now: datetime, retention_days: int
) -> list[Month]:
    """In one short transaction, each expired partition detached from the log, stripped
    of its foreign key and renamed ``..._purged``; return their months."""
    async with connection.transaction():
        await connection.execute(f"SET LOCAL lock_timeout = '{_LOCK_TIMEOUT}'")
        await connection.execute("SELECT pg_advisory_xact_lock($1)", _DDL_LOCK_KEY)
        detached = expired(await existing_partitions(connection), now, retention_days)
        for month in detached:
            await connection.execute(f"ALTER TABLE {LOG_TABLE} DETACH PARTITION {month.name}")
            for key in await connection.fetch(
                "SELECT conname FROM pg_constraint WHERE conrelid = $1::regclass AND contype = 'f'",
                month.name,
            ):
                await connection.execute(
                    f'ALTER TABLE {month.name} DROP CONSTRAINT "{key["conname"]}"'
                )
            await connection.execute(f"ALTER TABLE {month.name} RENAME TO {month.name}{_PURGED}")
    return detached


async def drop_detached_partitions(connection: Any) -> int:
    """Drop the tables the purge detached (an interrupted purge's too); return how many.
    Freeing their files is the file system's work, growing with their size; nothing
    but these tables is locked meanwhile."""
    names = [
        row["relname"]
        for row in await connection.fetch(
            "SELECT relname FROM pg_class WHERE relkind = 'r' AND relname ~ $1", _PURGED_NAME
        )
    ]
    for name in names:
        await connection.execute(f'DROP TABLE IF EXISTS "{name}"')
    return len(names)
