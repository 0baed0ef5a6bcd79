"""Service settings, read once from the environment and passed explicitly."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["Settings"]


def _flag(value: str | None) -> bool:
    return (value or "").strip().lower() in ("1", "true", "yes", "on")


@dataclass(frozen=True)
class Settings:
    host: str = "127.0.0.1"
    port: int = 8000
    # PostgreSQL audit log (postgresql://...); unset: the embedded SQLite file.
    database_url: str | None = None
    sqlite_path: Path = Path("bestbox-audit.sqlite3")
    # OpenTelemetry: OTLP/HTTP traces when an endpoint is set.
    otlp_endpoint: str | None = None
    otlp_timeout_s: float = 1.0
    # Message text on spans only when explicitly enabled (privacy: audit log only).
    capture_message_content: bool = False
    service_name: str = "bestbox-agent-api"
    # The LLM: the remaining variables are read by agent_service.llm.factory.
    llm_env: Mapping[str, str] = field(default_factory=dict)
    audit_queue_size: int = 10_000
    recent_messages: int = 100_000  # message ids kept in memory for /feedback
    # /admin: scrypt hashes (`agent-service hash-password`) of the admin and viewer
    # passwords; a role without a hash cannot sign in. Never in a repr or a log line.
    admin_password_hash: str | None = field(default=None, repr=False)
    viewer_password_hash: str | None = field(default=None, repr=False)
    # Signs the admin session cookies; random per process when unset.
    admin_session_secret: str | None = field(default=None, repr=False)
    # Grafana as the browser reaches it; set: the admin tabs embed the dashboards.
    grafana_url: str | None = None
    # Prometheus for the reports' uptime and SLO figures; unset: audit-log figures only.
    prometheus_url: str | None = field(default=None, repr=False)  # may hold credentials

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        return cls(
            host=env.get("AGENT_HOST", "127.0.0.1"),
            port=int(env.get("AGENT_PORT", "8000")),
            database_url=env.get("DATABASE_URL") or None,
            sqlite_path=Path(env.get("AUDIT_SQLITE_PATH", "bestbox-audit.sqlite3")),
            otlp_endpoint=env.get("OTEL_EXPORTER_OTLP_ENDPOINT") or None,
            otlp_timeout_s=float(env.get("OTEL_EXPORTER_OTLP_TIMEOUT_S", "1")),
            capture_message_content=_flag(env.get("OTEL_CAPTURE_MESSAGE_CONTENT")),
            service_name=env.get("OTEL_SERVICE_NAME", "bestbox-agent-api"),
            llm_env={k: v for k, v in env.items() if k.startswith(("LLM_", "SCRIPTED_"))},
            admin_password_hash=env.get("ADMIN_PASSWORD_HASH") or None,
            viewer_password_hash=env.get("VIEWER_PASSWORD_HASH") or None,
            admin_session_secret=env.get("ADMIN_SESSION_SECRET") or None,
            grafana_url=(env.get("GRAFANA_URL") or "").rstrip("/") or None,
            prometheus_url=env.get("PROMETHEUS_URL") or None,
        )
