"""The tabs of the agent service's /admin page and the Grafana dashboard each embeds:
the one place the admin learns dashboard UIDs (the same constants the alerts link)."""

from __future__ import annotations

from dataclasses import dataclass

from specs.bestbox.alerts import (
    AGENT_PERFORMANCE,
    CONVERSATION_AUDIT,
    SYSTEM_HEALTH,
    USER_ANALYTICS,
)

__all__ = ["ADMIN_TABS", "AdminTab"]


@dataclass(frozen=True)
class AdminTab:
    slug: str  # /admin?tab=<slug>
    title: str
    dashboard_uid: str
    # Shows conversation content or user ids: the admin role only.
    admin_only: bool = False


ADMIN_TABS = (
    AdminTab("system", "System Health", SYSTEM_HEALTH),
    AdminTab("users", "User Analytics", USER_ANALYTICS),
    AdminTab("agents", "Agent Performance", AGENT_PERFORMANCE),
    AdminTab("conversations", "Conversation Audit", CONVERSATION_AUDIT, admin_only=True),
)
