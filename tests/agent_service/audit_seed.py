"""Seeded audit data for the web tests: turns and feedback written through the real
store (either backend), with the plain Python records kept to compute expectations
independently of the SQL under test."""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from fractions import Fraction

from agent_service.domain import FeedbackRecord, ToolCall, TurnRecord
from agent_service.store import AuditStore
from specs.bestbox.metrics import AGENT_TYPES

NOW = datetime(2026, 11, 20, 12, 0, 0, tzinfo=UTC)


@dataclass(frozen=True)
class Seeded:
    turns: list[TurnRecord]
    ratings: dict[str, FeedbackRecord]  # by message id


def make_turns(count: int = 240, seed: int = 7, now: datetime = NOW) -> Seeded:
    """Turns spread over the last 30 hours (some outside a 24 h window), with tool calls
    (some failing), errors, TTFT missing on errors, and about a third rated."""
    rng = random.Random(seed)
    turns: list[TurnRecord] = []
    ratings: dict[str, FeedbackRecord] = {}
    for n in range(count):
        error = "llm timeout" if rng.random() < 0.08 else None
        tools = tuple(
            ToolCall(
                name=rng.choice(["erp_orders", "crm_lookup", "kb_search"]),
                arguments={"q": n},
                result=None,
                error="boom" if rng.random() < 0.15 else None,
                latency_ms=rng.uniform(1, 50),
            )
            for _ in range(rng.randint(0, 3))
        )
        turn = TurnRecord(
            message_id=f"m-{seed}-{n:05d}",
            session_id=f"s-{seed}-{rng.randint(0, 40):03d}",
            user_id=f"user-{rng.randint(0, 15)}",
            timestamp=now - timedelta(minutes=rng.randint(1, 30 * 60)),
            user_message=f"question {n} about {rng.choice(['orders', 'invoices', 'VPN'])}",
            agent_response=f"answer {n}" + (" 100% sure" if n % 17 == 0 else ""),
            agent_type=rng.choice(AGENT_TYPES),
            tool_calls=tools,
            latency_ms=rng.randint(50, 20_000),
            ttft_ms=None if error else rng.randint(20, 4_000),
            prompt_tokens=rng.randint(10, 500),
            completion_tokens=rng.randint(5, 400),
            confidence=0.8,
            error=error,
            trace_id=f"{n:032x}",
        )
        turns.append(turn)
        if rng.random() < 0.35:
            rating = "positive" if rng.random() < 0.7 else "negative"
            ratings[turn.message_id] = FeedbackRecord(
                turn.message_id, rating, "=cmd|' /C calc'!A0" if n % 5 == 0 else None, now
            )
    return Seeded(turns, ratings)


async def write_seed(store: AuditStore, seeded: Seeded) -> None:
    await store.migrate()
    await store.write([*seeded.turns, *seeded.ratings.values()])


def nearest_rank(values: list[int], p: float) -> int | None:
    """The value at rank ceil(p * n) of the sorted values (the definition under test is
    PostgreSQL's percentile_disc)."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(Fraction(p).limit_denominator(10_000) * len(ordered)))
    return ordered[rank - 1]
