-- conversation_log.session_id must name a row of user_sessions, checked once a
-- statement instead of once a row: the foreign key ran one locking look-up in
-- user_sessions for every row a COPY inserts (a third of a bulk insert's time); the
-- trigger below joins the statement's new rows to user_sessions once. The same rule,
-- both ways:
-- - rows inserted (or a session_id changed) must name an existing session, which is
--   locked FOR KEY SHARE as the foreign key would lock it, so a concurrent DELETE of
--   it waits for the inserting transaction and then meets the guard below;
-- - a session that rows still name cannot be deleted nor its session_id changed.
-- Both raise foreign_key_violation (SQLSTATE 23503), like the foreign key.
-- Idempotent (the compose init script applies every migration file again).

ALTER TABLE conversation_log DROP CONSTRAINT IF EXISTS conversation_log_session_id_fkey;

CREATE OR REPLACE FUNCTION conversation_log_sessions_exist() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    named text[];
    locked bigint;
    missing text;
BEGIN
    -- One pass over the new rows; one index look-up a session they name.
    SELECT array_agg(DISTINCT n.session_id) INTO named FROM new_rows n;
    PERFORM 1 FROM user_sessions s WHERE s.session_id = ANY (named) FOR KEY SHARE OF s;
    GET DIAGNOSTICS locked = ROW_COUNT;
    IF locked < coalesce(cardinality(named), 0) THEN
        SELECT m INTO missing FROM unnest(named) AS m
        WHERE NOT EXISTS (SELECT 1 FROM user_sessions s WHERE s.session_id = m) LIMIT 1;
        RAISE EXCEPTION 'conversation_log: session_id % is not in user_sessions', missing
            USING ERRCODE = 'foreign_key_violation', TABLE = 'conversation_log',
                  CONSTRAINT = 'conversation_log_session_id_check';
    END IF;
    RETURN NULL;
END;
$$;

CREATE OR REPLACE FUNCTION conversation_log_session_exists() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM 1 FROM user_sessions s WHERE s.session_id = NEW.session_id FOR KEY SHARE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'conversation_log: session_id % is not in user_sessions',
                NEW.session_id
            USING ERRCODE = 'foreign_key_violation', TABLE = 'conversation_log',
                  CONSTRAINT = 'conversation_log_session_id_check';
    END IF;
    RETURN NULL;
END;
$$;

CREATE OR REPLACE FUNCTION user_sessions_unreferenced() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM conversation_log c WHERE c.session_id = OLD.session_id) THEN
        RAISE EXCEPTION 'user_sessions: session % is still named by conversation_log',
                OLD.session_id
            USING ERRCODE = 'foreign_key_violation', TABLE = 'user_sessions',
                  CONSTRAINT = 'conversation_log_session_id_check';
    END IF;
    RETURN CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
END;
$$;

CREATE OR REPLACE TRIGGER conversation_log_sessions_exist
    AFTER INSERT ON conversation_log
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION conversation_log_sessions_exist();

CREATE OR REPLACE TRIGGER conversation_log_session_changed
    AFTER UPDATE OF session_id ON conversation_log
    FOR EACH ROW WHEN (OLD.session_id IS DISTINCT FROM NEW.session_id)
    EXECUTE FUNCTION conversation_log_session_exists();

CREATE OR REPLACE TRIGGER user_sessions_unreferenced
    BEFORE DELETE ON user_sessions
    FOR EACH ROW EXECUTE FUNCTION user_sessions_unreferenced();

CREATE OR REPLACE TRIGGER user_sessions_renamed
    BEFORE UPDATE OF session_id ON user_sessions
    FOR EACH ROW WHEN (OLD.session_id IS DISTINCT FROM NEW.session_id)
    EXECUTE FUNCTION user_sessions_unreferenced();
