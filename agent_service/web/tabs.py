"""What an /admin tab is to the service. The tabs themselves are the stack's (they embed
its dashboards); this is only their shape, so that the web package names no spec."""

from __future__ import annotations

from typing import Protocol

__all__ = ["AdminTab"]


class AdminTab(Protocol):
    @property
    def slug(self) -> str:  # /admin?tab=<slug>
        ...

    @property
    def title(self) -> str: ...

    @property
    def dashboard_uid(self) -> str: ...

    @property
    def admin_only(self) -> bool:  # shows conversation content or user ids
        ...
