"""How often each alert reached a receiver as firing and as resolved (pure): the proof
that an HA pair of Prometheus and a gossip cluster of Alertmanagers notify once."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from stackgen.verify.webhook import Notification

__all__ = ["Deliveries", "count_deliveries", "other_alerts"]


@dataclass(frozen=True)
class Deliveries:
    alertname: str
    # Notifications that carried the alert firing / resolved, by receiver path.
    firing: tuple[str, ...]
    resolved: tuple[str, ...]

    @property
    def exactly_once(self) -> bool:
        return len(self.firing) == 1 and len(self.resolved) == 1


def _statuses(notification: Notification, alertname: str) -> set[str]:
    return {
        str(alert.get("status"))
        for alert in notification.payload.get("alerts", [])
        if alert.get("labels", {}).get("alertname") == alertname
    }


def count_deliveries(
    notifications: Iterable[Notification], alertname: str, since: float
) -> Deliveries:
    """Notifications since ``since`` (time.time()) that carried ``alertname``."""
    firing: list[str] = []
    resolved: list[str] = []
    for notification in notifications:
        if notification.received_at < since:
            continue
        statuses = _statuses(notification, alertname)
        if "firing" in statuses:
            firing.append(notification.path)
        if "resolved" in statuses:
            resolved.append(notification.path)
    return Deliveries(alertname, tuple(firing), tuple(resolved))


def other_alerts(notifications: Iterable[Notification], expected: set[str]) -> list[str]:
    """Alert names notified that are not among ``expected``."""
    names = {
        str(alert.get("labels", {}).get("alertname"))
        for notification in notifications
        for alert in notification.payload.get("alerts", [])
    }
    return sorted(names - expected)
