"""What the service's routes need, built once by ``create_app`` and kept on
``app.state.services``; the routes read it through agent_service.dependencies."""

from __future__ import annotations

from dataclasses import dataclass

from prometheus_client import CollectorRegistry

from agent_service.engine import ChatEngine, RecentMessages
from agent_service.llm.base import ChatModel
from agent_service.settings import Settings
from agent_service.store import AuditStore
from agent_service.store.writer import AuditWriter
from agent_service.telemetry.metrics import ServiceMetrics
from agent_service.telemetry.tracing import Tracing
from stackgen.spec import Stack

__all__ = ["Services"]


@dataclass
class Services:
    """Everything a request needs, built by create_app (tests pass their own)."""

    settings: Settings
    metrics: ServiceMetrics
    tracing: Tracing
    model: ChatModel
    store: AuditStore
    writer: AuditWriter
    engine: ChatEngine
    recent: RecentMessages
    # The spec the service runs: its catalog, services, dashboards and alerts.
    stack: Stack
    # Where the catalog's metrics live (what /metrics exposes).
    registry: CollectorRegistry
