-- Who did what in /admin: sign-ins (and refused ones), exports, conversation views,
-- sign-outs. Written by agent_service.web before the action's result is returned.

CREATE TABLE IF NOT EXISTS admin_audit (
    id        BIGSERIAL    PRIMARY KEY,
    at        TIMESTAMPTZ  NOT NULL DEFAULT now(),
    username  VARCHAR(64)  NOT NULL,   -- the account signed in as (admin, viewer)
    role      VARCHAR(20),             -- NULL for a refused sign-in
    action    VARCHAR(40)  NOT NULL,   -- login, login_failed, logout, export, view_conversation
    target    TEXT,                    -- what the action touched (filters, session id)
    ip        VARCHAR(64)
);

CREATE INDEX IF NOT EXISTS idx_admin_audit_at ON admin_audit (at DESC);
