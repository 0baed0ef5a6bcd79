"""The admin's native summaries, in SQL on both backends (a real PostgreSQL on
127.0.0.1 and SQLite), against values computed here in Python from the same records."""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator, Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from agent_service.store import PostgresStore, SqliteStore
from agent_service.web.database import Database, database_for
from agent_service.web.summaries import summarize
from tests.agent_service.audit_seed import NOW, make_turns, nearest_rank, write_seed
from tests.agent_service.databases import AuditDatabase, audit_database


@pytest.fixture(params=["sqlite", "postgres"])
def target(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[AuditDatabase]:
    with audit_database(request.param, tmp_path) as created:
        yield created


@pytest.fixture
async def seeded_db(target: AuditDatabase) -> AsyncIterator[Database]:
    store = (
        SqliteStore(target.sqlite_path)
        if target.database_url is None
        else PostgresStore(target.database_url)
    )
    try:
        await write_seed(store, make_turns())
        yield database_for(store)
    finally:
        await store.close()


async def test_summary_matches_an_independent_computation(seeded_db: Database) -> None:
    seeded = make_turns()
    since = NOW - timedelta(hours=24)
    window = [t for t in seeded.turns if since <= t.timestamp <= NOW]
    assert 0 < len(window) < len(seeded.turns), "the seeded turns must straddle the window"
    ratings = [
        seeded.ratings[t.message_id].rating for t in window if t.message_id in seeded.ratings
    ]
    calls = [c for t in window for c in t.tool_calls]

    summary = await summarize(seeded_db, NOW)

    assert summary.turns == len(window)
    assert summary.sessions == len({t.session_id for t in window})
    assert summary.users == len({t.user_id for t in window})
    assert summary.errors == sum(1 for t in window if t.error)
    assert summary.positive == ratings.count("positive")
    assert summary.negative == ratings.count("negative")
    assert summary.satisfaction == pytest.approx(ratings.count("positive") / len(ratings))
    latencies = [t.latency_ms for t in window]
    ttfts = [t.ttft_ms for t in window if t.ttft_ms is not None]
    assert summary.latency_p50_ms == nearest_rank(latencies, 0.50)
    assert summary.latency_p95_ms == nearest_rank(latencies, 0.95)
    assert summary.ttft_p50_ms == nearest_rank(ttfts, 0.50)
    assert summary.ttft_p95_ms == nearest_rank(ttfts, 0.95)
    assert {a.agent: a.turns for a in summary.agents} == Counter(t.agent_type for t in window)
    assert {t.tool: t.calls for t in summary.tools} == Counter(c.name for c in calls)
    names = {c.name for c in calls}
    assert {t.tool: t.errors for t in summary.tools} == {
        name: sum(1 for c in calls if c.name == name and c.error) for name in names
    }
    assert summary.tool_error_rate == pytest.approx(sum(1 for c in calls if c.error) / len(calls))
    newest = sorted(seeded.turns, key=lambda t: t.timestamp, reverse=True)[:10]
    assert [r.message_id for r in summary.recent] == [t.message_id for t in newest]
    assert summary.recent[0].at == newest[0].timestamp


async def test_an_empty_log_has_no_rates(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "empty.sqlite3")
    await store.migrate()
    try:
        summary = await summarize(database_for(store), NOW)
    finally:
        await store.close()
    assert (summary.turns, summary.sessions, summary.users) == (0, 0, 0)
    assert summary.satisfaction is None and summary.error_rate is None
    assert summary.latency_p95_ms is None and summary.tool_error_rate is None
    assert summary.agents == () and summary.recent == ()


def test_nearest_rank_is_the_textbook_definition() -> None:
    assert nearest_rank([15, 20, 35, 40, 50], 0.30) == 20
    assert nearest_rank([15, 20, 35, 40, 50], 0.40) == 20
    assert nearest_rank([15, 20, 35, 40, 50], 0.50) == 35
    assert nearest_rank([15, 20, 35, 40, 50], 1.0) == 50
    assert nearest_rank([], 0.5) is None
