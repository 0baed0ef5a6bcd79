-- Signed-out /admin sessions, by the nonce their cookie carries, until the cookie
-- would have expired anyway: a sign-out outlives a restart (and holds for every
-- replica). Written by agent_service.web before the sign-out is answered.
-- (004 is the dead-letter table.)

CREATE TABLE IF NOT EXISTS admin_session_revocations (
    nonce      VARCHAR(64)  PRIMARY KEY,
    username   VARCHAR(64)  NOT NULL,
    revoked_at TIMESTAMPTZ  NOT NULL DEFAULT now(),
    expires_at TIMESTAMPTZ  NOT NULL   -- the session's own end: the row is useless after
);

CREATE INDEX IF NOT EXISTS idx_admin_session_revocations_expires
    ON admin_session_revocations (expires_at);
