-- Alertmanager's notifications, one row per alert (same columns as
-- migrations/postgres/003_alert_notifications.sql; labels as JSON text).

CREATE TABLE IF NOT EXISTS alert_notifications (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    received_at  TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    receiver     TEXT    NOT NULL,
    status       TEXT    NOT NULL CHECK (status IN ('firing', 'resolved')),
    alertname    TEXT    NOT NULL,
    severity     TEXT,
    labels       TEXT    NOT NULL DEFAULT '{}',
    summary      TEXT,
    starts_at    TEXT    NOT NULL,
    ends_at      TEXT,
    fingerprint  TEXT    NOT NULL
);

CREATE INDEX IF NOT EXISTS idx_alert_notifications_received
    ON alert_notifications (received_at DESC);
CREATE INDEX IF NOT EXISTS idx_alert_notifications_fingerprint
    ON alert_notifications (fingerprint);
