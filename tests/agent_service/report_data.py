"""A fixed week (and the week before) of audit rows for the report tests, and the
report's figures computed independently in SQL, straight from the tables (no code of
agent_service.reports is used here)."""

from __future__ import annotations

import asyncio
import random
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from typing import Any

from agent_service.domain import FeedbackRecord, ToolCall, TurnRecord
from agent_service.store import open_store
from specs.bestbox.metrics import AGENT_TYPES
from tests.agent_service.databases import AuditDatabase

WEEK_END = datetime(2026, 11, 16, tzinfo=UTC)  # a Monday: the week is Nov 9-15
WEEK_START = WEEK_END - timedelta(days=7)
PREVIOUS_START = WEEK_START - timedelta(days=7)
TOOLS = ("search_orders", "get_customer", "create_ticket", "kb_search", "check_inventory")
HOSTILE_MESSAGE = '<script>alert("pwn")</script> & <b>bold</b> "quoted" ' + "x" * 400
HOSTILE_COMMENT = "<img src=x onerror=alert(1)> wrong answer"
HOSTILE_ID = "msg-hostile"


def _turn(rng: random.Random, number: int, at: datetime) -> TurnRecord:
    session = rng.randrange(140)
    calls = tuple(
        ToolCall(
            name=rng.choice(TOOLS),
            arguments={"query": "demo"},
            result={"rows": 1},
            error="upstream timeout" if rng.random() < 0.09 else None,
            latency_ms=rng.uniform(5, 900),
        )
        for _ in range(rng.choice((0, 0, 1, 1, 1, 2, 3)))
    )
    return TurnRecord(
        message_id=f"msg-{number:05d}",
        session_id=f"sess-{session:03d}",
        user_id=f"user-{session % 41:02d}",
        timestamp=at,
        user_message=f"question {number}",
        agent_response=f"answer {number}",
        agent_type=rng.choices(AGENT_TYPES, weights=(5, 3, 2, 2, 1))[0],
        tool_calls=calls,
        latency_ms=int(rng.lognormvariate(8.2, 0.8)),
        ttft_ms=None if rng.random() < 0.1 else int(rng.lognormvariate(6.9, 0.6)),
        prompt_tokens=rng.randrange(50, 900),
        completion_tokens=rng.randrange(10, 400),
        confidence=rng.random(),
        error="LLM timeout" if rng.random() < 0.04 else None,
        trace_id=f"{number:032x}",
    )


def _feedback(rng: random.Random, turn: TurnRecord) -> FeedbackRecord | None:
    if rng.random() > 0.35:
        return None
    positive = rng.random() < 0.75
    comment = None if positive or rng.random() < 0.5 else f"not helpful #{turn.message_id}"
    return FeedbackRecord(
        turn.message_id,
        "positive" if positive else "negative",
        comment,
        turn.timestamp + timedelta(minutes=1),
    )


def seeded_items() -> list[TurnRecord | FeedbackRecord]:
    """Turns spread over both weeks plus some outside them (before and at the end,
    which is excluded), with boundary instants and one hostile, commented thumbs-down."""
    rng = random.Random(20261116)
    turns: list[TurnRecord] = []
    spans = (
        (PREVIOUS_START - timedelta(days=3), PREVIOUS_START, 25),
        (PREVIOUS_START, WEEK_START, 320),
        (WEEK_START, WEEK_END, 520),
        (WEEK_END, WEEK_END + timedelta(days=2), 25),
    )
    for start, end, count in spans:
        seconds = int((end - start).total_seconds())
        for _ in range(count):
            at = start + timedelta(seconds=rng.randrange(seconds), milliseconds=rng.randrange(1000))
            turns.append(_turn(rng, len(turns), at))
    for at in (WEEK_START, WEEK_END, WEEK_END - timedelta(milliseconds=1), PREVIOUS_START):
        turns.append(_turn(rng, len(turns), at))
    hostile = _turn(rng, len(turns), WEEK_END - timedelta(seconds=5))
    turns.append(replace(hostile, message_id=HOSTILE_ID, user_message=HOSTILE_MESSAGE))
    items: list[TurnRecord | FeedbackRecord] = list(turns)
    for turn in turns[:-1]:
        rating = _feedback(rng, turn)
        if rating is not None:
            items.append(rating)
    items.append(FeedbackRecord(HOSTILE_ID, "negative", HOSTILE_COMMENT, WEEK_END))
    return items


async def _seed(db: AuditDatabase) -> None:
    store = open_store(db.database_url, db.sqlite_path)
    try:
        await store.migrate()
        items = seeded_items()
        turns = [i for i in items if isinstance(i, TurnRecord)]
        ratings = [i for i in items if isinstance(i, FeedbackRecord)]
        for start in range(0, len(turns), 400):
            await store.write(turns[start : start + 400])
        await store.write(ratings)
    finally:
        await store.close()


def seed(db: AuditDatabase) -> None:
    asyncio.run(_seed(db))


# -- independent SQL ------------------------------------------------------------------


@dataclass(frozen=True)
class Expected:
    db: AuditDatabase
    start: datetime
    end: datetime

    @property
    def postgres(self) -> bool:
        return self.db.database_url is not None

    @property
    def window(self) -> str:
        if self.postgres:
            return (
                f"timestamp >= '{self.start.isoformat()}' AND timestamp < '{self.end.isoformat()}'"
            )
        bound = "%Y-%m-%dT%H:%M:%S.000Z"
        return (
            f"timestamp >= '{self.start.strftime(bound)}' "
            f"AND timestamp < '{self.end.strftime(bound)}'"
        )

    def one(self, sql: str) -> dict[str, Any]:
        return self.db.rows(sql)[0]

    def counts(self) -> dict[str, Any]:
        return self.one(
            "SELECT count(*) AS turns, count(DISTINCT session_id) AS sessions, "
            "count(DISTINCT user_id) AS users, "
            "count(*) FILTER (WHERE error IS NOT NULL) AS errors, "
            "count(*) FILTER (WHERE user_feedback IS NOT NULL) AS rated, "
            "count(*) FILTER (WHERE user_feedback = 'positive') AS positive, "
            "count(*) FILTER (WHERE user_feedback = 'negative') AS negative, "
            "sum(prompt_tokens) AS prompt_tokens, sum(completion_tokens) AS completion_tokens "
            f"FROM conversation_log WHERE {self.window}"
        )

    def tool_count(self) -> str:
        return ("jsonb_array_length" if self.postgres else "json_array_length") + "(tool_calls)"

    def percentile(self, column: str, fraction: float, condition: str = "TRUE") -> int | None:
        where = f"{self.window} AND {column} IS NOT NULL AND {condition}"
        if self.postgres:
            sql = (
                f"SELECT percentile_disc({fraction}) WITHIN GROUP (ORDER BY {column}) AS v "
                f"FROM conversation_log WHERE {where}"
            )
        else:  # the smallest value whose cumulative distribution reaches the fraction
            sql = (
                f"SELECT min(v) AS v FROM (SELECT {column} AS v, cume_dist() OVER "
                f"(ORDER BY {column}) AS cd FROM conversation_log WHERE {where}) "
                f"WHERE cd >= {fraction}"
            )
        value = self.one(sql)["v"]
        return None if value is None else int(value)

    def tools(self) -> dict[str, tuple[int, int]]:
        if self.postgres:
            sql = (
                "SELECT call->>'name' AS name, count(*) AS calls, "
                "count(*) FILTER (WHERE jsonb_typeof(call->'error') <> 'null') AS errors "
                "FROM conversation_log, jsonb_array_elements(tool_calls) AS call "
                f"WHERE {self.window} GROUP BY 1"
            )
        else:
            sql = (
                "SELECT json_extract(call.value, '$.name') AS name, count(*) AS calls, "
                "count(*) FILTER (WHERE json_type(call.value, '$.error') <> 'null') AS errors "
                "FROM conversation_log, json_each(tool_calls) AS call "
                f"WHERE {self.window} GROUP BY 1"
            )
        return {r["name"]: (int(r["calls"]), int(r["errors"])) for r in self.db.rows(sql)}

    def agents(self) -> dict[str, dict[str, int]]:
        rows = self.db.rows(
            "SELECT agent_type, count(*) AS turns, "
            "count(*) FILTER (WHERE error IS NOT NULL) AS errors, "
            "count(*) FILTER (WHERE user_feedback = 'positive') AS positive, "
            "count(*) FILTER (WHERE user_feedback = 'negative') AS negative "
            f"FROM conversation_log WHERE {self.window} GROUP BY agent_type"
        )
        return {r["agent_type"]: {k: int(r[k]) for k in r if k != "agent_type"} for r in rows}

    def days(self) -> dict[str, int]:
        day = (
            "to_char(date_trunc('day', timestamp AT TIME ZONE 'UTC'), 'YYYY-MM-DD')"
            if self.postgres
            else "date(timestamp)"
        )
        rows = self.db.rows(
            f"SELECT {day} AS day, count(*) AS n FROM conversation_log "
            f"WHERE {self.window} GROUP BY 1"
        )
        return {r["day"]: int(r["n"]) for r in rows}

    def good_and_total(self, good: str, total: str = "TRUE") -> tuple[int, int]:
        row = self.one(
            f"SELECT count(*) FILTER (WHERE ({total}) AND ({good})) AS good, "
            f"count(*) FILTER (WHERE {total}) AS total "
            f"FROM conversation_log WHERE {self.window}"
        )
        return int(row["good"]), int(row["total"])

    def worst_ids(self, limit: int = 10) -> list[str]:
        rows = self.db.rows(
            f"SELECT message_id FROM conversation_log WHERE {self.window} "
            "AND user_feedback = 'negative' "
            "ORDER BY (feedback_comment IS NULL OR feedback_comment = ''), "
            f"timestamp DESC, message_id LIMIT {limit}"
        )
        return [r["message_id"] for r in rows]


# -- reading the page -----------------------------------------------------------------


class ReportPage(HTMLParser):
    """The page's figures (``data-figure`` -> ``data-value``), the ids of the
    worst-rated rows, every tag with its attributes and the text of user messages."""

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.figures: dict[str, str] = {}
        self.worst: list[str] = []
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.user_messages: list[str] = []
        self._in_message = False
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        self.tags.append((tag, found))
        if "data-figure" in found:
            self.figures[str(found["data-figure"])] = str(found.get("data-value") or "")
        if tag == "tr" and found.get("data-message-id"):
            self.worst.append(str(found["data-message-id"]))
        self._in_message = tag == "blockquote" and found.get("class") == "user-message"

    def handle_endtag(self, tag: str) -> None:
        if tag == "blockquote":
            self._in_message = False

    def handle_data(self, data: str) -> None:
        if self._in_message:
            self.user_messages.append(data)

    def number(self, key: str) -> float | None:
        text = self.figures[key]
        return None if text == "" else float(text)
