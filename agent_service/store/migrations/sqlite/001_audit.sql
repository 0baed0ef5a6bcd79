-- The conversation audit log (SQLite, the embedded default). Same tables and columns
-- as migrations/postgres/001_audit.sql; JSON is stored as TEXT, times as ISO-8601 UTC.

CREATE TABLE IF NOT EXISTS user_sessions (
    session_id      TEXT    PRIMARY KEY,
    user_id         TEXT    NOT NULL,
    started_at      TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    last_active_at  TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    total_messages  INTEGER NOT NULL DEFAULT 0,
    agents_used     TEXT    NOT NULL DEFAULT '{}',
    metadata        TEXT    NOT NULL DEFAULT '{}'
);

CREATE INDEX IF NOT EXISTS idx_sessions_user ON user_sessions (user_id);
CREATE INDEX IF NOT EXISTS idx_sessions_started ON user_sessions (started_at DESC);

CREATE TABLE IF NOT EXISTS conversation_log (
    id                INTEGER PRIMARY KEY AUTOINCREMENT,
    message_id        TEXT    NOT NULL UNIQUE,
    session_id        TEXT    NOT NULL REFERENCES user_sessions (session_id),
    user_id           TEXT    NOT NULL,
    timestamp         TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    user_message      TEXT    NOT NULL,
    agent_response    TEXT    NOT NULL,
    agent_type        TEXT    NOT NULL,
    tool_calls        TEXT    NOT NULL DEFAULT '[]',
    latency_ms        INTEGER NOT NULL,
    ttft_ms           INTEGER,
    prompt_tokens     INTEGER NOT NULL DEFAULT 0,
    completion_tokens INTEGER NOT NULL DEFAULT 0,
    confidence        REAL,
    error             TEXT,
    user_feedback     TEXT    CHECK (user_feedback IN ('positive', 'negative')),
    feedback_comment  TEXT,
    feedback_at       TEXT,
    trace_id          TEXT
);

CREATE INDEX IF NOT EXISTS idx_conversations_session ON conversation_log (session_id);
CREATE INDEX IF NOT EXISTS idx_conversations_timestamp ON conversation_log (timestamp DESC);
CREATE INDEX IF NOT EXISTS idx_conversations_agent ON conversation_log (agent_type);
CREATE INDEX IF NOT EXISTS idx_conversations_user ON conversation_log (user_id);
CREATE INDEX IF NOT EXISTS idx_conversations_feedback ON conversation_log (user_feedback)
    WHERE user_feedback IS NOT NULL;
