-- Access-log scans: each run of the detectors (`warden logs scan`), and per source the
-- checkpoint the next incremental scan starts after. A detector hit is a finding in
-- warden_findings like a policy's (same triage); its `last_run` is the warden_log_scans id
-- that last added rows to it, and its evidence lists the log rows' ids.

CREATE TABLE warden_log_scans (
    id              BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
    ran_at          DATETIME(6)     NOT NULL,
    actor           VARCHAR(190)    NOT NULL,
    -- `app`: the application's access-log table through the mapping
    source          VARCHAR(64)     NOT NULL,
    full_scan       BOOLEAN         NOT NULL,
    -- rows with from_id < id <= to_id were read
    from_id         BIGINT          NOT NULL,
    to_id           BIGINT          NOT NULL,
    scanned         BIGINT UNSIGNED NOT NULL,
    -- rows without an id, time, user or action: counted, never silently dropped
    skipped         BIGINT UNSIGNED NOT NULL,
    found           INT UNSIGNED    NOT NULL,
    opened          INT UNSIGNED    NOT NULL,
    policy_version  INT UNSIGNED    NOT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE warden_log_checkpoints (
    source      VARCHAR(64)     NOT NULL PRIMARY KEY,
    last_id     BIGINT          NOT NULL,
    scan_id     BIGINT UNSIGNED NOT NULL,
    updated_at  DATETIME(6)     NOT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
