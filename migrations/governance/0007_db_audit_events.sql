-- Events imported from the database's own audit-log files (`warden logs ingest
-- server-audit|audit-xml|audit-json FILE`): each with the file and line it came from and
-- the SHA-256 of its raw text, unique, so importing the same file again (or its rotated
-- copy) imports nothing twice. The statement text is data: stored and shown, never run.

CREATE TABLE warden_db_audit_events (
    id             BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
    -- server_audit | audit_xml | audit_json
    format         VARCHAR(16)     NOT NULL,
    source_file    VARCHAR(1024)   NOT NULL,
    line           BIGINT UNSIGNED NOT NULL,
    hash           BINARY(32)      NOT NULL,
    occurred_at    DATETIME(6)     NOT NULL,
    db_user        VARCHAR(512)    NOT NULL,
    client_host    VARCHAR(255)    NOT NULL,
    connection_id  BIGINT          NULL,
    query_id       BIGINT          NULL,
    operation      VARCHAR(64)     NOT NULL,
    db_name        VARCHAR(255)    NULL,
    object         MEDIUMTEXT      NULL,
    status         BIGINT          NULL,
    imported_at    DATETIME(6)     NOT NULL,
    UNIQUE KEY warden_db_audit_events_hash (hash),
    KEY warden_db_audit_events_time (occurred_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
