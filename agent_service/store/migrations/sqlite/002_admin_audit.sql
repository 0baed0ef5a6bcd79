-- Who did what in /admin (same columns as migrations/postgres/002_admin_audit.sql).

CREATE TABLE IF NOT EXISTS admin_audit (
    id        INTEGER PRIMARY KEY AUTOINCREMENT,
    at        TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    username  TEXT    NOT NULL,
    role      TEXT,
    action    TEXT    NOT NULL,
    target    TEXT,
    ip        TEXT
);

CREATE INDEX IF NOT EXISTS idx_admin_audit_at ON admin_audit (at DESC);
