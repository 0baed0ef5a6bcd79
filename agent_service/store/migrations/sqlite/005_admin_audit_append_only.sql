-- admin_audit is append-only (as migrations/postgres/005_admin_audit_append_only.sql):
-- triggers refuse UPDATE and DELETE. SQLite has no roles: whoever can open the file
-- can drop the triggers; they stop the service's own code and plain DML.

CREATE TRIGGER IF NOT EXISTS admin_audit_no_update
    BEFORE UPDATE ON admin_audit
    BEGIN SELECT RAISE(ABORT, 'admin_audit is append-only: UPDATE refused'); END;

CREATE TRIGGER IF NOT EXISTS admin_audit_no_delete
    BEFORE DELETE ON admin_audit
    BEGIN SELECT RAISE(ABORT, 'admin_audit is append-only: DELETE refused'); END;
