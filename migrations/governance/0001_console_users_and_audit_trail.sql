-- Warden's own tables start with who may use the console, and the audit trail every change
-- made through Warden appends to (seq, hash chain over the previous hash and the event).

CREATE TABLE warden_console_users (
    login       VARCHAR(190) NOT NULL PRIMARY KEY,
    role        VARCHAR(16)  NOT NULL,
    created_at  DATETIME(6)  NOT NULL,
    created_by  VARCHAR(190) NOT NULL,
    CONSTRAINT warden_console_users_role CHECK (role IN ('officer', 'reviewer', 'auditor'))
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE warden_audit_events (
    seq          BIGINT UNSIGNED NOT NULL PRIMARY KEY,
    occurred_at  DATETIME(6)     NOT NULL,
    actor        VARCHAR(190)    NOT NULL,
    db_account   VARCHAR(300)    NOT NULL,
    action       VARCHAR(64)     NOT NULL,
    target       VARCHAR(500)    NOT NULL,
    details      LONGTEXT        NOT NULL,
    prev_hash    CHAR(64)        NOT NULL,
    hash         CHAR(64)        NOT NULL,
    KEY warden_audit_events_time (occurred_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- The head of the chain, one row, locked by every append so events are strictly sequential.
CREATE TABLE warden_audit_head (
    id    TINYINT UNSIGNED NOT NULL PRIMARY KEY,
    seq   BIGINT UNSIGNED  NOT NULL,
    hash  CHAR(64)         NOT NULL,
    CONSTRAINT warden_audit_head_single CHECK (id = 1)
) ENGINE=InnoDB;

INSERT INTO warden_audit_head (id, seq, hash)
VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000');
