"""Why a write failed: a refusal that no retry can change (the row itself is bad) or a
failure of the path to the database (retried until it passes).

The writer retries transient failures in order, forever (the spool holds the rows);
it sets a permanently refused row aside in the dead-letter store instead, so one bad
row never holds up the rows after it. The classification is explicit:

- permanent: PostgreSQL SQLSTATE class 22 (data exception: a value too long, a byte
  the encoding refuses, bad JSON), 23 (integrity constraint violation: NOT NULL,
  CHECK, foreign key) except 23505 unique_violation, and 42 (syntax error or access
  rule violation: an undefined column or table); a value the driver cannot encode
  (asyncpg's client-side DataError, UnicodeEncodeError, OverflowError: a ValueError
  or an ArithmeticError raised before anything reached the server); SQLite's
  IntegrityError, DataError and ProgrammingError.
- transient, everything else, in particular: connection errors and timeouts (class 08,
  OSError, TimeoutError, asyncpg's InterfaceError), 53 insufficient resources (disk
  full, too many connections), 57 operator intervention (shutdown, query cancelled),
  40 transaction rollback (serialization failure, deadlock), SQLite's OperationalError
  (locked, disk I/O), and 23505: a duplicate message id is the replay the store
  already handles idempotently (a concurrent earlier attempt inserted the row first),
  so writing again succeeds.

``is_outage`` is the narrower, positive test of "the path to the database failed"
(used where anything else must not be retried forever: keeping a dead letter).
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

import asyncpg

from agent_service.store.base import StoreUnavailable

__all__ = ["Refusal", "is_outage", "is_permanent", "refusal"]

_PERMANENT_CLASSES = frozenset({"22", "23", "42"})
_OUTAGE_CLASSES = frozenset({"08", "53", "57", "40"})
_UNIQUE_VIOLATION = "23505"


def _sqlstate(error: BaseException) -> str | None:
    state = getattr(error, "sqlstate", None)
    return state if isinstance(state, str) else None


def is_permanent(error: BaseException) -> bool:
    """True when writing the same rows again would fail the same way."""
    if isinstance(error, asyncpg.PostgresError):
        state = _sqlstate(error) or ""
        return state[:2] in _PERMANENT_CLASSES and state != _UNIQUE_VIOLATION
    if isinstance(error, sqlite3.IntegrityError | sqlite3.DataError | sqlite3.ProgrammingError):
        return True
    if isinstance(error, sqlite3.Error | OSError | TimeoutError):
        return False
    # Encoding a value failed before anything was sent (asyncpg's client-side
    # DataError is an InterfaceError and a ValueError).
    return isinstance(error, ValueError | ArithmeticError)


def is_outage(error: BaseException) -> bool:
    """True when the database could not be reached or could not take the write now."""
    if isinstance(error, asyncpg.PostgresError):
        return (_sqlstate(error) or "")[:2] in _OUTAGE_CLASSES
    if isinstance(error, ValueError):  # asyncpg's client-side DataError included
        return False
    return isinstance(
        error,
        StoreUnavailable
        | OSError
        | TimeoutError
        | asyncpg.InterfaceError
        | sqlite3.OperationalError,
    )


@dataclass(frozen=True)
class Refusal:
    """What the database said: the error's class, its SQLSTATE when it has one, the
    message."""

    error_class: str
    sqlstate: str | None
    message: str


def refusal(error: BaseException) -> Refusal:
    return Refusal(type(error).__name__, _sqlstate(error), str(error) or repr(error))
