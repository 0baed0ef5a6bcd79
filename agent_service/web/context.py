"""What the web routes need besides the service's own dependencies, built by
``install_web`` and kept on ``app.state.web``; the routes read it through
agent_service.dependencies."""

from __future__ import annotations

from dataclasses import dataclass

from agent_service.web.auth import Authenticator
from agent_service.web.database import Database
from agent_service.web.rendering import Pages
from agent_service.web.status import ServiceProbe
from agent_service.web.tabs import AdminTab

__all__ = ["EXPORT_BATCH", "WebContext"]

EXPORT_BATCH = 1000


@dataclass
class WebContext:
    tabs: tuple[AdminTab, ...]
    auth: Authenticator
    # The audit store as the admin pages query it.
    db: Database
    probe: ServiceProbe
    pages: Pages
    export_batch_size: int = EXPORT_BATCH
