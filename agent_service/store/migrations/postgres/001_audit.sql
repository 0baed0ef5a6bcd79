-- The conversation audit log (PostgreSQL): user_sessions and conversation_log,
-- with message id, time to first token, token counts, error and
-- feedback comment. Applied idempotently at start-up and by `agent-service migrate`.

CREATE TABLE IF NOT EXISTS user_sessions (
    session_id      VARCHAR(64)  PRIMARY KEY,
    user_id         VARCHAR(255) NOT NULL,
    started_at      TIMESTAMPTZ  NOT NULL DEFAULT now(),
    last_active_at  TIMESTAMPTZ  NOT NULL DEFAULT now(),
    total_messages  INTEGER      NOT NULL DEFAULT 0,
    agents_used     JSONB        NOT NULL DEFAULT '{}'::jsonb,  -- {"erp": 5, "crm": 2}
    metadata        JSONB        NOT NULL DEFAULT '{}'::jsonb
);

CREATE INDEX IF NOT EXISTS idx_sessions_user ON user_sessions (user_id);
CREATE INDEX IF NOT EXISTS idx_sessions_started ON user_sessions (started_at DESC);

CREATE TABLE IF NOT EXISTS conversation_log (
    id                BIGSERIAL    PRIMARY KEY,
    message_id        VARCHAR(64)  NOT NULL UNIQUE,  -- what /feedback rates; replay key
    session_id        VARCHAR(64)  NOT NULL REFERENCES user_sessions (session_id),
    user_id           VARCHAR(255) NOT NULL,
    timestamp         TIMESTAMPTZ  NOT NULL DEFAULT now(),
    user_message      TEXT         NOT NULL,
    agent_response    TEXT         NOT NULL,
    agent_type        VARCHAR(50)  NOT NULL,
    tool_calls        JSONB        NOT NULL DEFAULT '[]'::jsonb,  -- [{"name", "arguments", "latency_ms", "error"}]
    latency_ms        INTEGER      NOT NULL,
    ttft_ms           INTEGER,                      -- NULL when no token was streamed
    prompt_tokens     INTEGER      NOT NULL DEFAULT 0,
    completion_tokens INTEGER      NOT NULL DEFAULT 0,
    confidence        DOUBLE PRECISION,             -- the router's confidence
    error             TEXT,                         -- NULL when the turn succeeded
    user_feedback     VARCHAR(20)  CHECK (user_feedback IN ('positive', 'negative')),
    feedback_comment  TEXT,
    feedback_at       TIMESTAMPTZ,
    trace_id          VARCHAR(32)                   -- links to the trace in Jaeger
);

CREATE INDEX IF NOT EXISTS idx_conversations_session ON conversation_log (session_id);
CREATE INDEX IF NOT EXISTS idx_conversations_timestamp ON conversation_log (timestamp DESC);
CREATE INDEX IF NOT EXISTS idx_conversations_agent ON conversation_log (agent_type);
CREATE INDEX IF NOT EXISTS idx_conversations_user ON conversation_log (user_id);
CREATE INDEX IF NOT EXISTS idx_conversations_feedback ON conversation_log (user_feedback)
    WHERE user_feedback IS NOT NULL;
