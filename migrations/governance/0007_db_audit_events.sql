-- Events imported from the database's own audit-log files (`warden logs ingest
-- server-audit|audit-xml|audit-json FILE`), and the files they came from. A file is known
-- by the hash of its first event, which a rotated copy (server_audit.log -> .log.1) keeps:
-- `through_line` says how far it has been imported, so importing it again, or its rotated
-- copy, imports only what is new. Each event keeps its line and the SHA-256 of its raw
-- text. The statement text is data: stored and shown, never run.

CREATE TABLE warden_db_audit_files (
    id            BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
    -- server_audit | audit_xml | audit_json
    format        VARCHAR(16)     NOT NULL,
    first_event   BINARY(32)      NOT NULL,
    -- the path it was last imported from
    path          VARCHAR(1024)   NOT NULL,
    through_line  BIGINT UNSIGNED NOT NULL,
    first_import  DATETIME(6)     NOT NULL,
    last_import   DATETIME(6)     NOT NULL,
    UNIQUE KEY warden_db_audit_files_identity (format, first_event)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE warden_db_audit_events (
    id             BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
    file_id        BIGINT UNSIGNED NOT NULL,
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
    status         BIGINT          NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
