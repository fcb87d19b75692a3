-- Console users are database accounts (issue 16): each row names the account the server
-- authenticates for that person, and the actor of a session is the row whose account is
-- the session's CURRENT_USER(). Rows are written only by Warden's definer routines
-- (warden_console_user_put) and the first migrate; accounts are created, re-granted and
-- locked by warden_console_account_apply.
--
-- login_key is the login in the one identity form (NFKC, case folded; warden-core's
-- console::identity), binary-collated, so two spellings of one person are one row for the
-- server too. account_managed is false for the administrator who became the first officer:
-- Warden records their account but never alters, locks or re-grants it. account_reset
-- marks a removed user brought back: their account gets a new expired password, once;
-- account_end_sessions, a removed or re-roled one: the sessions they have open are ended. Rows from before this migration get their lower-cased login, which is that
-- form for every ASCII login; a removed user keeps their row, locked.
ALTER TABLE warden_console_users
    ADD COLUMN login_key    VARCHAR(190) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NULL,
    ADD COLUMN account_user VARCHAR(80)  CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NULL,
    ADD COLUMN account_host VARCHAR(255) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NULL,
    ADD COLUMN locked_at    DATETIME(6)  NULL,
    ADD COLUMN account_managed BOOLEAN NOT NULL DEFAULT TRUE,
    ADD COLUMN account_reset   BOOLEAN NOT NULL DEFAULT FALSE,
    ADD COLUMN account_end_sessions BOOLEAN NOT NULL DEFAULT FALSE;

UPDATE warden_console_users SET login_key = LOWER(login);

ALTER TABLE warden_console_users
    MODIFY login_key VARCHAR(190) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
    ADD CONSTRAINT warden_console_users_login_key UNIQUE (login_key),
    ADD CONSTRAINT warden_console_users_account UNIQUE (account_user);

-- The prefix of the account names Warden creates: empty unless several governed databases
-- share one server (`warden migrate --account-prefix`).
ALTER TABLE warden_server_roles
    ADD COLUMN account_prefix VARCHAR(24) NOT NULL DEFAULT '';

-- Review items carry their reviewer's and their reviewed person's logins in the identity
-- form too: the reviewers' definer view (warden_my_review_items) shows each session only
-- the items whose reviewer_key is its console user's login_key, and the reassignment
-- routine refuses an item to the person it reviews.
ALTER TABLE warden_review_items
    ADD COLUMN login_key    VARCHAR(190) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NULL,
    ADD COLUMN reviewer_key VARCHAR(190) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NULL;

UPDATE warden_review_items SET login_key = LOWER(login), reviewer_key = LOWER(reviewer);

ALTER TABLE warden_review_items
    MODIFY login_key    VARCHAR(190) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
    MODIFY reviewer_key VARCHAR(190) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
    ADD KEY warden_review_items_reviewer_key (reviewer_key, campaign_id);

-- The application's grant table that remediation works on, fixed by the administrator at
-- `warden migrate` from the mapping. Only the definer's routines read it; no console role
-- writes it, so nobody can point the routines at another table.
CREATE TABLE warden_grant_target (
    id           TINYINT UNSIGNED NOT NULL PRIMARY KEY,
    table_name   VARCHAR(64)      NOT NULL,
    user_column  VARCHAR(64)      NOT NULL,
    role_column  VARCHAR(64)      NOT NULL,
    -- When the grant was made (NULL when the mapping names no such column): a row is
    -- removed only while it is still the grant the campaign reviewed.
    granted_at_column VARCHAR(64) NULL,
    recorded_at  DATETIME(6)      NOT NULL,
    CONSTRAINT warden_grant_target_single CHECK (id = 1)
) ENGINE=InnoDB;

-- Every call of Warden's definer routines, written by the routine itself (no console role
-- may write here): what was called, by which account, on what, and the trail's head at
-- the time. `audit verify` matches each call with the audit event that records it, so a
-- routine called around Warden (a raw CALL that no event records) is reported.
CREATE TABLE warden_routine_calls (
    id          BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
    routine     VARCHAR(64)     NOT NULL,
    db_account  VARCHAR(300)    NOT NULL,
    subject     VARCHAR(190)    NOT NULL,
    head_seq    BIGINT UNSIGNED NOT NULL,
    called_at   DATETIME(6)     NOT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
