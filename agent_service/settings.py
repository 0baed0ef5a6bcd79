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
    # The local spool every audit record is appended to (and fsynced) before its
    # response completes; None: records wait in memory only (lost if the process dies).
    audit_spool_dir: Path | None = None
    audit_spool_max_bytes: int = 256 * 1024 * 1024
    audit_flush_interval_s: float = 0.2
    # PostgreSQL: turns older than this many days are removed, a whole month's
    # partition at a time once its every turn is older; None keeps them all.
    audit_retention_days: int | None = 365
    # How long a response waits for its record to reach the spool (a dead disk must
    # not hang every answer); on timeout the answer goes out and a warning is logged.
    audit_ack_timeout_s: float = 5.0
    recent_messages: int = 100_000  # message ids kept in memory for /feedback
    # /admin: scrypt hashes (`agent-service hash-password`) of the admin and viewer
    # passwords; a role without a hash cannot sign in. Never in a repr or a log line.
    admin_password_hash: str | None = field(default=None, repr=False)
    viewer_password_hash: str | None = field(default=None, repr=False)
    # Signs the admin session cookies; random per process when unset.
    admin_session_secret: str | None = field(default=None, repr=False)
    # The bearer token Alertmanager's webhook calls carry (`stackgen secrets` writes it);
    # unset: /alerts refuses every call.
    alert_webhook_token: str | None = field(default=None, repr=False)
    # Grafana as the browser reaches it; set: the admin tabs embed the dashboards.
    grafana_url: str | None = None
    # Prometheus for the reports' uptime and SLO figures; unset: audit-log figures only.
    prometheus_url: str | None = field(default=None, repr=False)  # may hold credentials
    # Shutdown is bounded: the writer drains for this long (the rest stays in the
    # spool), then tracing gets what is left of ``shutdown_timeout_s``.
    audit_drain_timeout_s: float = 2.0
    shutdown_timeout_s: float = 4.0
    # Proxies (IP addresses or CIDR networks) whose X-Forwarded-For / X-Forwarded-Proto
    # are believed; none by default: the client is the TCP peer, whatever it claims.
    trusted_proxies: tuple[str, ...] = ()
    # The largest request body accepted anywhere (413 beyond, before it is read); some
    # routes have a lower bound of their own (the admin forms, the alert webhook).
    max_body_bytes: int = 4 * 1024 * 1024
    # /docs, /redoc and /openapi.json: off unless asked for (they describe every
    # endpoint and the UIs load scripts from a CDN).
    api_docs: bool = False
    # scrypt runs in its own pool (never the one the audit spool's fsync uses); beyond
    # ``password_hash_max_pending`` checks at once a sign-in is answered 429.
    password_hash_workers: int = 2
    password_hash_max_pending: int = 8
    # Failed sign-ins per client address and per account: this many are free, then each
    # further one doubles the wait (from ``login_backoff_base_s`` up to the maximum).
    login_free_attempts: int = 5
    login_backoff_base_s: float = 1.0
    login_backoff_max_s: float = 900.0
    # Only for measuring the cost of instrumentation (bench/): off turns metrics,
    # spans and the audit log off together.
    telemetry: bool = True

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
            alert_webhook_token=(env.get("ALERT_WEBHOOK_TOKEN") or "").strip() or None,
            grafana_url=(env.get("GRAFANA_URL") or "").rstrip("/") or None,
            prometheus_url=env.get("PROMETHEUS_URL") or None,
            audit_spool_dir=_spool_dir(env.get("AUDIT_SPOOL_DIR", DEFAULT_SPOOL_DIR)),
            audit_spool_max_bytes=int(
                env.get("AUDIT_SPOOL_MAX_BYTES", str(cls.audit_spool_max_bytes))
            ),
            audit_flush_interval_s=float(
                env.get("AUDIT_FLUSH_INTERVAL_S", str(cls.audit_flush_interval_s))
            ),
            audit_retention_days=_retention_days(env.get("AUDIT_RETENTION_DAYS", "")),
            telemetry=(env.get("BESTBOX_TELEMETRY", "on").strip().lower() != "off"),
            trusted_proxies=_list(env.get("TRUSTED_PROXIES", "")),
            max_body_bytes=int(env.get("MAX_BODY_BYTES", str(cls.max_body_bytes))),
            api_docs=_flag(env.get("API_DOCS")),
            password_hash_workers=int(
                env.get("PASSWORD_HASH_WORKERS", str(cls.password_hash_workers))
            ),
            password_hash_max_pending=int(
                env.get("PASSWORD_HASH_MAX_PENDING", str(cls.password_hash_max_pending))
            ),
        )


DEFAULT_SPOOL_DIR = "bestbox-audit-spool"


def _list(value: str) -> tuple[str, ...]:
    """A comma- or space-separated list."""
    return tuple(item for item in value.replace(",", " ").split() if item)


def _retention_days(value: str) -> int | None:
    """AUDIT_RETENTION_DAYS: a positive number of days; ``0``, ``off`` or ``none`` keeps
    every turn; empty is the default."""
    value = value.strip().lower()
    if not value:
        return Settings.audit_retention_days
    if value in ("0", "off", "none"):
        return None
    days = int(value)
    if days < 1:
        raise ValueError(f"AUDIT_RETENTION_DAYS must be a positive number of days, not {value}")
    return days


def _spool_dir(value: str) -> Path | None:
    """AUDIT_SPOOL_DIR; empty or ``none`` turns the spool off."""
    value = value.strip()
    return None if value.lower() in ("", "none", "off") else Path(value)
