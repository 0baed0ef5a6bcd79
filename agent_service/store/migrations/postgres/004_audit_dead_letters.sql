-- Audit records the database refused for good (a data error, a constraint: see
-- agent_service/store/errors.py), set aside by the writer so the rows after them are
-- written. Each keeps the whole record (its spool line's JSON, text escaped like every
-- other column) and why it was refused.

CREATE TABLE IF NOT EXISTS audit_dead_letters (
    id           BIGSERIAL    PRIMARY KEY,
    at           TIMESTAMPTZ  NOT NULL DEFAULT now(),  -- when it was refused
    kind         VARCHAR(20)  NOT NULL CHECK (kind IN ('turn', 'feedback')),
    message_id   TEXT         NOT NULL,  -- unbounded: it may be what was refused
    record       JSONB        NOT NULL,  -- the record as the spool held it
    error_class  TEXT         NOT NULL,  -- e.g. StringDataRightTruncationError
    sqlstate     VARCHAR(5),             -- e.g. 22001; NULL for a client-side error
    error        TEXT         NOT NULL,  -- the database's message
    fingerprint  VARCHAR(64)  NOT NULL UNIQUE  -- sha256 of the record: kept once
);

CREATE INDEX IF NOT EXISTS idx_audit_dead_letters_at ON audit_dead_letters (at DESC);
