-- One import of an audit-log file at a time, on a cluster too (issue 18): GET_LOCK is a
-- server's own, and a Galera node refuses it outright, so the file's row says who is
-- importing it (an id the import chose, kept when it moves to another node) and when it
-- last showed life. A claim left by an import that died is taken over after ten minutes
-- without a sign of life (the server's clock, UTC).
ALTER TABLE warden_db_audit_files
    ADD COLUMN claimed_by VARCHAR(64) NULL,
    ADD COLUMN claimed_at DATETIME(6) NULL;
