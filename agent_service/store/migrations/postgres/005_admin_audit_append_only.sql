-- admin_audit is append-only, even for the agent service's own role: who did what in
-- /admin is evidence, and the role that writes it must not be able to rewrite it.
-- A trigger refuses UPDATE, DELETE and TRUNCATE (SQLSTATE 42501), and the role that
-- applies the migrations (the tables' owner under compose) gives up those privileges.
-- An owner could still drop the trigger or grant itself the privileges back: this
-- stops the service's own code and a stolen service connection issuing plain DML,
-- not a deliberate schema change by the owner. Idempotent: the compose init script
-- applies it before the service records it.

CREATE OR REPLACE FUNCTION admin_audit_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'admin_audit is append-only: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$;

CREATE OR REPLACE TRIGGER admin_audit_append_only
    BEFORE UPDATE OR DELETE ON admin_audit
    FOR EACH ROW EXECUTE FUNCTION admin_audit_append_only();

CREATE OR REPLACE TRIGGER admin_audit_no_truncate
    BEFORE TRUNCATE ON admin_audit
    FOR EACH STATEMENT EXECUTE FUNCTION admin_audit_append_only();

REVOKE UPDATE, DELETE, TRUNCATE ON admin_audit FROM CURRENT_USER;
