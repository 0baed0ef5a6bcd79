-- Audit records the database refused for good (same columns as
-- migrations/postgres/004_audit_dead_letters.sql; the record as JSON text).

CREATE TABLE IF NOT EXISTS audit_dead_letters (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    at           TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    kind         TEXT    NOT NULL CHECK (kind IN ('turn', 'feedback')),
    message_id   TEXT    NOT NULL,
    record       TEXT    NOT NULL,
    error_class  TEXT    NOT NULL,
    sqlstate     TEXT,
    error        TEXT    NOT NULL,
    fingerprint  TEXT    NOT NULL UNIQUE
);

CREATE INDEX IF NOT EXISTS idx_audit_dead_letters_at ON audit_dead_letters (at DESC);
