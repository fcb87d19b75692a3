-- Findings: each check run, what it found, and the snapshot of who-has-what it saw.
-- A finding is keyed by its fingerprint, so the same departure is one row over time:
-- first and last seen, resolved when it disappears, reopened when it returns. Triage and
-- the check's own transitions are kept as events.

CREATE TABLE warden_check_runs (
    id              BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
    ran_at          DATETIME(6)     NOT NULL,
    actor           VARCHAR(190)    NOT NULL,
    policy_version  INT UNSIGNED    NOT NULL,
    policy_sha256   CHAR(64)        NOT NULL,
    evaluated       INT UNSIGNED    NOT NULL,
    compliant       INT UNSIGNED    NOT NULL,
    found           INT UNSIGNED    NOT NULL,
    opened          INT UNSIGNED    NOT NULL,
    reopened        INT UNSIGNED    NOT NULL,
    fixed           INT UNSIGNED    NOT NULL,
    -- Every grant at the time of the check (warden_core::snapshot).
    snapshot        LONGBLOB        NOT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE warden_findings (
    id           BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
    fingerprint  CHAR(32)        NOT NULL,
    kind         VARCHAR(32)     NOT NULL,
    severity     VARCHAR(8)      NOT NULL,
    subject      VARCHAR(190)    NOT NULL,
    subject_id   BIGINT          NOT NULL,
    department   VARCHAR(190)    NULL,
    detail       TEXT            NOT NULL,
    evidence     MEDIUMTEXT      NOT NULL,
    fix          TEXT            NOT NULL,
    -- open | acknowledged | resolved
    status       VARCHAR(16)     NOT NULL,
    first_seen   DATETIME(6)     NOT NULL,
    last_seen    DATETIME(6)     NOT NULL,
    last_run     BIGINT UNSIGNED NOT NULL,
    resolved_at  DATETIME(6)     NULL,
    UNIQUE KEY warden_findings_fingerprint (fingerprint),
    KEY warden_findings_status (status, severity),
    KEY warden_findings_kind (kind),
    KEY warden_findings_subject (subject)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE warden_finding_events (
    id          BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
    finding_id  BIGINT UNSIGNED NOT NULL,
    occurred_at DATETIME(6)     NOT NULL,
    actor       VARCHAR(190)    NOT NULL,
    -- acknowledged | resolved | reopened (triage); fixed | reappeared (a check)
    action      VARCHAR(16)     NOT NULL,
    comment     VARCHAR(2000)   NOT NULL,
    run_id      BIGINT UNSIGNED NULL,
    KEY warden_finding_events_finding (finding_id, id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
