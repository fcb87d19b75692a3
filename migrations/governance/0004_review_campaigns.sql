-- Access review campaigns (and the grants their remediation removed, kept for undo): each (user, role) pair in scope at launch is an item with the
-- reviewer's context and Warden's suggestion. A decision is written once: `version` is
-- the optimistic lock and `decision_key` the caller's idempotency key.

CREATE TABLE warden_campaigns (
    id              BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
    name            VARCHAR(190)    NOT NULL,
    scope           TEXT            NOT NULL,
    reviewer_rule   VARCHAR(16)     NOT NULL,
    fallback        VARCHAR(190)    NOT NULL,
    undecided       VARCHAR(8)      NOT NULL,
    due             DATE            NOT NULL,
    policy_version  INT UNSIGNED    NULL,
    status          VARCHAR(16)     NOT NULL,
    created_by      VARCHAR(190)    NOT NULL,
    created_at      DATETIME(6)     NOT NULL,
    closed_at       DATETIME(6)     NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE warden_review_items (
    id            BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
    campaign_id   BIGINT UNSIGNED NOT NULL,
    user_id       BIGINT          NOT NULL,
    login         VARCHAR(190)    NOT NULL,
    department    VARCHAR(190)    NULL,
    role_id       BIGINT          NOT NULL,
    role          VARCHAR(190)    NOT NULL,
    reviewer      VARCHAR(190)    NOT NULL,
    granted_at    DATETIME        NULL,
    granted_by    VARCHAR(190)    NULL,
    baseline      VARCHAR(8)      NOT NULL,
    outside       TEXT            NOT NULL,
    sod           TEXT            NOT NULL,
    last_used     DATETIME        NULL,
    suggestion    VARCHAR(8)      NOT NULL,
    reason        VARCHAR(500)    NOT NULL,
    decision      VARCHAR(8)      NULL,
    decided_by    VARCHAR(190)    NULL,
    decided_at    DATETIME(6)     NULL,
    comment       VARCHAR(2000)   NULL,
    decision_key  VARCHAR(64)     NULL,
    version       INT UNSIGNED    NOT NULL DEFAULT 0,
    -- revoked | absent (already gone) | restored (undone), once remediated
    remediation   VARCHAR(16)     NULL,
    UNIQUE KEY warden_review_items_key (decision_key),
    KEY warden_review_items_campaign (campaign_id, reviewer),
    KEY warden_review_items_user (campaign_id, user_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE warden_remediations (
    id          BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
    campaign_id BIGINT UNSIGNED NOT NULL,
    item_id     BIGINT UNSIGNED NOT NULL,
    user_id     BIGINT          NOT NULL,
    role_id     BIGINT          NOT NULL,
    -- The application's row as it was, column by column (JSON), to put back on undo.
    removed_row MEDIUMTEXT      NOT NULL,
    removed_at  DATETIME(6)     NOT NULL,
    undone_at   DATETIME(6)     NULL,
    KEY warden_remediations_campaign (campaign_id, user_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
