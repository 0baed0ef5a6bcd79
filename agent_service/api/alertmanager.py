"""Alertmanager's webhook payload (version "4"), validated: a malformed notification is a
422, never a 500. Only what the audit log keeps is modelled; other fields are ignored."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from agent_service.domain import AlertRecord, AlertStatus

__all__ = ["MAX_ALERTS", "AlertmanagerAlert", "AlertmanagerNotification"]

# One notification carries one alert group; Alertmanager's max_alerts is unlimited by
# default, so the bound is ours (the body size is bounded too).
MAX_ALERTS = 1000
# Column widths of alert_notifications (longer label values are cut, not refused: a
# refused notification would be lost, Alertmanager does not retry a 4xx).
ALERTNAME_CHARS = 200
SEVERITY_CHARS = 20

LabelSet = Annotated[dict[str, str], Field(max_length=200)]


class AlertmanagerAlert(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    status: AlertStatus
    labels: LabelSet
    annotations: LabelSet = Field(default_factory=dict)
    starts_at: datetime = Field(alias="startsAt")
    # "0001-01-01T00:00:00Z" (Go's zero time) while firing.
    ends_at: datetime | None = Field(default=None, alias="endsAt")
    generator_url: str = Field(default="", alias="generatorURL", max_length=4096)
    fingerprint: str = Field(min_length=1, max_length=64)

    def record(self, receiver: str, received_at: datetime) -> AlertRecord:
        ended = self.ends_at if self.status == "resolved" else None
        if ended is not None and ended.year <= 1:
            ended = None
        severity = self.labels.get("severity")
        return AlertRecord(
            received_at=received_at,
            receiver=receiver,
            status=self.status,
            alertname=self.labels.get("alertname", "")[:ALERTNAME_CHARS],
            severity=severity[:SEVERITY_CHARS] if severity is not None else None,
            labels=dict(self.labels),
            summary=self.annotations.get("summary"),
            starts_at=self.starts_at,
            ends_at=ended,
            fingerprint=self.fingerprint,
        )


class AlertmanagerNotification(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    version: str = Field(pattern=r"^4$")
    receiver: str = Field(min_length=1, max_length=100)
    status: AlertStatus
    alerts: list[AlertmanagerAlert] = Field(min_length=1, max_length=MAX_ALERTS)
    group_key: str = Field(default="", alias="groupKey", max_length=4096)

    def records(self, received_at: datetime) -> list[AlertRecord]:
        """One row per alert of the notification."""
        return [alert.record(self.receiver, received_at) for alert in self.alerts]
