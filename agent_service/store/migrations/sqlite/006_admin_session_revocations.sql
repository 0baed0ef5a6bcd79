-- Signed-out /admin sessions (same columns as
-- migrations/postgres/006_admin_session_revocations.sql).

CREATE TABLE IF NOT EXISTS admin_session_revocations (
    nonce      TEXT PRIMARY KEY,
    username   TEXT NOT NULL,
    revoked_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    expires_at TEXT NOT NULL
);

CREATE INDEX IF NOT EXISTS idx_admin_session_revocations_expires
    ON admin_session_revocations (expires_at);
