"""The incident log of /admin: the Alertmanager notifications the webhook recorded,
newest first (agent_service/api/alerts.py writes them)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from agent_service.web.database import Database

__all__ = ["AlertEntry", "recent_alerts"]


@dataclass(frozen=True)
class AlertEntry:
    received_at: datetime | None
    receiver: str
    status: str
    alertname: str
    severity: str | None
    labels: dict[str, str]
    summary: str | None
    starts_at: datetime | None
    ends_at: datetime | None


def _labels(value: object) -> dict[str, str]:
    # JSON text on SQLite; asyncpg returns JSONB as text too (no codec is set).
    decoded = json.loads(value) if isinstance(value, str) else value
    return {str(k): str(v) for k, v in decoded.items()} if isinstance(decoded, dict) else {}


async def recent_alerts(db: Database, limit: int = 200) -> list[AlertEntry]:
    rows = await db.fetch(
        "SELECT received_at, receiver, status, alertname, severity, labels, summary, "
        "starts_at, ends_at FROM alert_notifications ORDER BY received_at DESC, id DESC "
        "LIMIT ?",
        (limit,),
    )
    return [
        AlertEntry(
            received_at=db.read_time(r["received_at"]),
            receiver=r["receiver"],
            status=r["status"],
            alertname=r["alertname"],
            severity=r["severity"],
            labels=_labels(r["labels"]),
            summary=r["summary"],
            starts_at=db.read_time(r["starts_at"]),
            ends_at=db.read_time(r["ends_at"]),
        )
        for r in rows
    ]
