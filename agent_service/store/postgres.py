"""The audit store on PostgreSQL, over an asyncpg pool opened on first use."""

from __future__ import annotations

import asyncio
import zlib
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import asyncpg

from agent_service.domain import AlertRecord, FeedbackRecord
from agent_service.store.base import (
    ALERT_COLUMNS,
    AuditItem,
    SessionDelta,
    StoreUnavailable,
    TurnRow,
    alert_row,
    split_items,
    stored_feedback,
    turn_row,
    utc,
)
from agent_service.store.deadletter import DEAD_LETTER_COLUMNS, DeadLetter, dead_letter_row
from agent_service.store.escaping import escape
from agent_service.store.jsontext import dumps_text
from agent_service.store.migrate import migrate_postgres
from agent_service.store.partitions import (
    Month,
    create_partitions,
    drop_expired_partitions,
    is_missing_partition,
)

__all__ = ["TURN_COLUMNS", "EarlierWriteFailed", "PostgresStore"]

# The message ids of a batch that are already in the log (a replay, or a retried batch
# whose commit did happen): those rows are skipped and not counted.
_EXISTING = "SELECT message_id FROM conversation_log WHERE message_id = ANY($1::text[])"

# Sessions first (the log references them), with what the batch's new rows add,
# pre-aggregated per session: counts added, first and last activity widened, agent
# counts merged key by key. Rows come sorted by session id, so concurrent writers lock
# sessions in the same order.
_UPSERT_SESSIONS = """
INSERT INTO user_sessions AS s (
    session_id, user_id, started_at, last_active_at, total_messages, agents_used)
SELECT d.session_id, d.user_id, d.first_at, d.last_at, d.n, d.agents::jsonb
FROM unnest($1::text[], $2::text[], $3::int[], $4::timestamptz[], $5::timestamptz[],
            $6::text[])
     AS d(session_id, user_id, n, first_at, last_at, agents)
ON CONFLICT (session_id) DO UPDATE
SET total_messages = s.total_messages + excluded.total_messages,
    last_active_at = GREATEST(s.last_active_at, excluded.last_active_at),
    started_at = LEAST(s.started_at, excluded.started_at),
    agents_used = s.agents_used || (
        SELECT jsonb_object_agg(e.key, coalesce((s.agents_used ->> e.key)::int, 0) + e.value::int)
        FROM jsonb_each_text(excluded.agents_used) AS e
    )  -- never NULL: a session in the batch has at least one new turn, so one agent
"""

# The new rows go in with COPY (binary, one message stream for the whole batch), in
# submission order (``id`` follows it).
TURN_COLUMNS = (
    "message_id",
    "session_id",
    "user_id",
    "timestamp",
    "user_message",
    "agent_response",
    "agent_type",
    "tool_calls",
    "latency_ms",
    "ttft_ms",
    "prompt_tokens",
    "completion_tokens",
    "confidence",
    "error",
    "trace_id",
)

_FEEDBACK = """
UPDATE conversation_log
SET user_feedback = $2, feedback_comment = $3, feedback_at = $4
WHERE message_id = $1
"""

_INSERT_ALERT = (
    f"INSERT INTO alert_notifications ({ALERT_COLUMNS}) "
    "VALUES ($1, $2, $3, $4, $5, $6::jsonb, $7, $8, $9, $10)"
)

_INSERT_DEAD_LETTER = (
    f"INSERT INTO audit_dead_letters ({DEAD_LETTER_COLUMNS}) "
    "VALUES ($1, $2, $3, $4::jsonb, $5, $6, $7, $8) ON CONFLICT (fingerprint) DO NOTHING"
)

# What "the database is down or unreachable" looks like through asyncpg.
_DOWN = (
    OSError,
    TimeoutError,
    asyncpg.PostgresConnectionError,
    asyncpg.CannotConnectNowError,
    asyncpg.TooManyConnectionsError,
    asyncpg.InterfaceError,
)


class EarlierWriteFailed(Exception):
    """A write that overlapped an earlier one, which failed: none of the rows of a lane
    the earlier write had not finished were written (a session's rows stay in order);
    write it again once the earlier one is in."""


class _Part:
    """One lane's share of a write, which a later overlapping write on that lane waits
    for (``ok``: committed)."""

    def __init__(self, overlapping: bool) -> None:
        self.overlapping = overlapping
        self.finished = asyncio.Event()
        self.ok = False

    def finish(self, ok: bool) -> None:
        self.ok = ok
        self.finished.set()

    @property
    def holds_back(self) -> bool:
        """Whether a later overlapping write on the lane must follow it: it is still
        being written, or it failed as part of an overlapping write (whose caller may
        not have dealt with that yet: a share can fail before the next write starts)."""
        return not self.finished.is_set() or (self.overlapping and not self.ok)


async def _after(earlier: Sequence[_Part]) -> None:
    for part in earlier:
        await part.finished.wait()
        if not part.ok:
            raise EarlierWriteFailed("an earlier overlapping audit write failed")


class PostgresStore:
    def __init__(
        self,
        dsn: str,
        *,
        connect_timeout_s: float = 3.0,
        command_timeout_s: float = 10.0,
        max_connections: int = 4,
        write_lanes: int = 2,
    ) -> None:
        if write_lanes < 1 or write_lanes > max_connections:
            raise ValueError("write_lanes must be between 1 and max_connections")
        self.dsn = dsn
        self.connect_timeout_s = connect_timeout_s
        self.command_timeout_s = command_timeout_s
        self.max_connections = max_connections
        self.write_lanes = write_lanes
        self._pool: Any = None
        self._lock = asyncio.Lock()
        self._migrated = False
        self._look_up = False  # look up existing message ids before writing (replaying)
        # Each lane's latest part: a write started while an earlier one runs follows it.
        self._tails: list[_Part | None] = [None] * write_lanes

    async def open(self) -> Any:
        """The pool, created on first use; StoreUnavailable when it cannot connect."""
        if self._pool is not None:
            return self._pool
        async with self._lock:
            if self._pool is None:
                try:
                    self._pool = await asyncio.wait_for(
                        asyncpg.create_pool(
                            self.dsn,
                            # A connection for each write lane, kept open: a batch's
                            # lanes do not wait for connections to be made.
                            min_size=self.write_lanes,
                            max_size=self.max_connections,
                            timeout=self.connect_timeout_s,
                            command_timeout=self.command_timeout_s,
                        ),
                        timeout=self.connect_timeout_s + 1,
                    )
                except (*_DOWN, asyncpg.PostgresError) as error:
                    raise StoreUnavailable(f"cannot connect to PostgreSQL: {error!r}") from error
        return self._pool

    def _acquire(self, pool: Any) -> Any:
        return pool.acquire(timeout=self.connect_timeout_s)

    async def migrate(self) -> None:
        pool = await self.open()
        async with self._acquire(pool) as connection:
            await migrate_postgres(connection)
        self._migrated = True

    async def write(self, items: Sequence[AuditItem]) -> None:
        await self.write_rows(items, None)

    async def write_rows(
        self,
        items: Sequence[AuditItem],
        rows: Sequence[TurnRow | None] | None,
        *,
        overlapping: bool = False,
    ) -> None:
        """``write``, for a caller that holds each record's row already (``rows``, in
        the order of ``items``: ``codec.encode_with_row``'s, None for feedback), so the
        turns are not encoded again.

        Turns, then feedback. A large batch's turns are split by session into lanes
        written concurrently on their own connections, each lane one transaction: the
        server inserts on several cores. Every lane is idempotent on its own (see
        ``_write_turns``), so when one lane fails and the batch is retried, the rows a
        committed lane wrote are skipped and not counted again. A session's turns stay
        in one lane, in order (no two lanes update the same session row). Feedback is
        written after every lane has committed, so it always finds its turns.

        ``overlapping`` calls may overlap (the writer starts a batch while the one
        before it is being written, or before it has heard of its failure): a session
        always hashes to the same lane, and a lane's share of such a call starts once
        the earlier overlapping call's share of that lane has committed, so the lanes
        run on independently of each other and a session's rows still go in in call
        order. When that earlier share failed, the later one writes nothing and fails
        with EarlierWriteFailed (the caller writes both again, in order). A batch small
        enough for one transaction follows every lane, and feedback follows every
        earlier call's turns. A call that is not ``overlapping`` says that the caller
        has waited for every earlier call and dealt with its failure."""
        turns, feedback = _turn_rows(items, rows)
        if not turns and not feedback:
            return
        # Before the first await: a call made while this one runs follows its parts.
        lanes = _lanes(turns, self.write_lanes) if turns else []
        if overlapping:
            running = [tail for tail in self._tails if tail is not None and tail.holds_back]
        else:
            running = []
            self._tails = [None] * self.write_lanes
        parts = [_Part(overlapping) for _ in lanes]
        if len(lanes) == 1:
            waits = [running]
            self._tails = [parts[0]] * self.write_lanes
        else:
            waits = []
            for index, (lane, part) in enumerate(zip(lanes, parts, strict=True)):
                tail = self._tails[index]
                waits.append([tail] if tail in running else [])
                if lane:
                    self._tails[index] = part
        try:
            if not self._migrated:
                await self.migrate()
            pool = await self.open()
            results = await asyncio.gather(
                *(
                    self._write_part(pool, lane, earlier, part)
                    for lane, earlier, part in zip(lanes, waits, parts, strict=True)
                    if lane
                ),
                return_exceptions=True,
            )
            # Every lane has finished (committed or rolled back) before anything is
            # raised: a retry never overlaps a lane still running.
            for result in results:
                if isinstance(result, BaseException):
                    raise result
            if feedback:
                await _after(running)
                async with self._acquire(pool) as connection, connection.transaction():
                    await connection.executemany(
                        _FEEDBACK,
                        [(f.message_id, f.rating, f.comment, utc(f.at)) for f in feedback],
                    )
        finally:
            for part in parts:
                if not part.finished.is_set():
                    part.finish(False)

    async def _write_part(
        self, pool: Any, turns: list[TurnRow], earlier: Sequence[_Part], part: _Part
    ) -> None:
        try:
            await _after(earlier)
            await self._write_lane(pool, turns)
        except BaseException:
            part.finish(False)
            raise
        part.finish(True)

    async def _write_lane(self, pool: Any, turns: list[TurnRow]) -> None:
        """A lane whose rows include a month without its partition (the maintenance
        creates them ahead, but the service may have been down at a month's turn, or a
        spool replays rows older than every partition) creates the missing partitions
        and is written again: such a row is not a refusal."""
        try:
            await self._write_lane_once(pool, turns)
        except asyncpg.CheckViolationError as error:
            if not is_missing_partition(error):
                raise
            months = {Month.of(row[3]) for row in turns}
            async with self._acquire(pool) as connection:
                await create_partitions(connection, months)
            await self._write_lane_once(pool, turns)

    async def _write_lane_once(self, pool: Any, turns: list[TurnRow]) -> None:
        """Optimistically, rows are taken as new (the common case: no look-up). When
        one is not (a replay after a crash, a retried batch whose commit did happen),
        the unique index on message_id refuses the COPY, the transaction rolls back
        (nothing counted) and the lane is written again with the look-up; the look-up
        stays on until a batch finds nothing already logged."""
        if not self._look_up:
            try:
                async with self._acquire(pool) as connection, connection.transaction():
                    await self._write_turns(connection, turns, look_up=False)
                return
            except asyncpg.UniqueViolationError:
                self._look_up = True
        async with self._acquire(pool) as connection, connection.transaction():
            found = await self._write_turns(connection, turns, look_up=True)
        if not found:
            self._look_up = False

    async def _write_turns(self, connection: Any, turns: list[TurnRow], look_up: bool) -> int:
        """Count the new rows into their sessions, COPY them in; with ``look_up``, skip
        the rows already logged first. Return how many were skipped. All in the
        caller's transaction: if any step fails nothing is counted or inserted. A row
        already logged that is not skipped (no look-up, or a concurrent transaction,
        such as a timed-out earlier attempt still finishing, inserted it after the
        look-up) makes the COPY fail on the unique index: a row is never logged twice
        nor counted twice."""
        found = 0
        if look_up:
            existing = await connection.fetch(_EXISTING, [row[0] for row in turns])
            if existing:
                found = len(existing)
                logged = {row["message_id"] for row in existing}
                turns = [row for row in turns if row[0] not in logged]
                if not turns:
                    return found
        deltas = sorted(SessionDelta.of_rows(turns).items())
        await connection.execute(
            _UPSERT_SESSIONS,
            [session_id for session_id, _ in deltas],
            [d.user_id for _, d in deltas],
            [d.messages for _, d in deltas],
            [d.first_at for _, d in deltas],
            [d.last_at for _, d in deltas],
            [dumps_text(d.agents) for _, d in deltas],
        )
        await connection.copy_records_to_table(
            "conversation_log", columns=TURN_COLUMNS, records=turns
        )
        return found

    async def maintain_partitions(
        self, now: datetime, retention_days: int | None, months_ahead: int
    ) -> tuple[list[Month], list[Month]]:
        """Create the log's partitions from ``now``'s month to ``months_ahead`` after
        it, and, with a retention, drop those whose every row is older than
        ``retention_days``; return (created, dropped)."""
        if not self._migrated:
            await self.migrate()
        pool = await self.open()
        async with self._acquire(pool) as connection:
            created = await create_partitions(connection, Month.of(now).ahead(months_ahead))
            dropped = (
                await drop_expired_partitions(connection, now, retention_days)
                if retention_days is not None
                else []
            )
        return created, dropped

    async def message_exists(self, message_id: str) -> bool:
        try:
            pool = await self.open()
            async with self._acquire(pool) as connection:
                found = await connection.fetchval(
                    "SELECT 1 FROM conversation_log WHERE message_id = $1", escape(message_id)
                )
        except _DOWN as error:
            raise StoreUnavailable(f"PostgreSQL unavailable: {error!r}") from error
        return found is not None

    async def dead_letter(self, letters: Sequence[DeadLetter]) -> None:
        if not letters:
            return
        if not self._migrated:
            await self.migrate()
        pool = await self.open()
        async with self._acquire(pool) as connection, connection.transaction():
            await connection.executemany(
                _INSERT_DEAD_LETTER, [dead_letter_row(letter, utc) for letter in letters]
            )

    async def record_alerts(self, alerts: Sequence[AlertRecord]) -> None:
        if not alerts:
            return
        try:
            if not self._migrated:
                await self.migrate()
            pool = await self.open()
            async with self._acquire(pool) as connection, connection.transaction():
                await connection.executemany(_INSERT_ALERT, [alert_row(a, utc) for a in alerts])
        except StoreUnavailable:
            raise
        except (*_DOWN, asyncpg.PostgresError) as error:
            raise StoreUnavailable(f"PostgreSQL unavailable: {error!r}") from error

    async def ping(self) -> None:
        try:
            pool = await self.open()
            async with self._acquire(pool) as connection:
                await connection.fetchval("SELECT 1", timeout=self.connect_timeout_s)
        except StoreUnavailable:
            raise
        except (*_DOWN, asyncpg.PostgresError) as error:
            raise StoreUnavailable(f"PostgreSQL unavailable: {error!r}") from error

    async def close(self) -> None:
        pool, self._pool = self._pool, None
        if pool is not None:
            try:
                await asyncio.wait_for(pool.close(), timeout=self.connect_timeout_s)
            except (TimeoutError, OSError):
                pool.terminate()


def _turn_rows(
    items: Sequence[AuditItem], rows: Sequence[TurnRow | None] | None
) -> tuple[list[TurnRow], list[FeedbackRecord]]:
    """``split_items`` with the turns as their rows (the first of each message id)."""
    if rows is None:
        turns, feedback = split_items(items)
        return [turn_row(t, utc) for t in turns], feedback
    found: list[TurnRow] = []
    seen: set[str] = set()
    feedback = []
    for item, row in zip(items, rows, strict=True):
        if row is None:
            assert isinstance(item, FeedbackRecord)
            feedback.append(stored_feedback(item))
        elif row[0] not in seen:
            seen.add(row[0])
            found.append(row)
    return found, feedback


# Below this many turns a batch goes in one transaction: a second lane's extra commit
# (and fsync) costs more than it saves.
_MIN_TURNS_PER_LANE = 250


def _lanes(turns: list[TurnRow], lanes: int) -> list[list[TurnRow]]:
    """The turns split by session (a stable hash, so a session is always in the same
    lane) into ``lanes`` lanes, some perhaps empty, submission order kept in each; or
    all in one when there are too few for every lane."""
    if len(turns) < lanes * _MIN_TURNS_PER_LANE:
        return [turns]
    split: list[list[TurnRow]] = [[] for _ in range(lanes)]
    for row in turns:
        split[zlib.crc32(row[1].encode()) % lanes].append(row)
    return split
