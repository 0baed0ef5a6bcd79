"""How often each alert reached a receiver as firing and as resolved (pure): the proof
that an HA pair of Prometheus and a gossip cluster of Alertmanagers notify once."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import yaml

from stackgen.spec import duration_seconds
from stackgen.verify.webhook import Notification

__all__ = ["Deliveries", "count_deliveries", "flush_cycle_s", "last_status", "other_alerts"]

# Alertmanager's defaults where a route sets none.
DEFAULT_GROUP_WAIT = "30s"
DEFAULT_GROUP_INTERVAL = "5m"


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


def last_status(notifications: Iterable[Notification], alertname: str) -> str | None:
    """ "firing" if the latest notification carrying ``alertname`` has it firing (for any
    of its label sets), "resolved" if only resolved there, None if none carried it."""
    last: set[str] = set()
    for notification in sorted(notifications, key=lambda n: n.received_at):
        statuses = _statuses(notification, alertname)
        if statuses:
            last = statuses
    if not last:
        return None
    return "firing" if "firing" in last else "resolved"


def other_alerts(notifications: Iterable[Notification], expected: set[str]) -> list[str]:
    """Alert names notified that are not among ``expected``."""
    names = {
        str(alert.get("labels", {}).get("alertname"))
        for notification in notifications
        for alert in notification.payload.get("alerts", [])
    }
    return sorted(names - expected)


def _settings(route: Mapping[str, Any], key: str, inherited: str) -> list[float]:
    value = str(route.get(key, inherited))
    found = [duration_seconds(value)]
    for child in route.get("routes", []) or []:
        found += _settings(child, key, value)
    return found


def flush_cycle_s(alertmanager_yml: str) -> float:
    """The longest group_wait plus the longest group_interval of the routing tree, in
    seconds: a cluster member (re)started at t has flushed each of its groups twice by
    t + this, so a duplicate it would send has been sent by then."""
    route = (yaml.safe_load(alertmanager_yml) or {}).get("route") or {}
    wait = max(_settings(route, "group_wait", DEFAULT_GROUP_WAIT))
    return wait + max(_settings(route, "group_interval", DEFAULT_GROUP_INTERVAL))
