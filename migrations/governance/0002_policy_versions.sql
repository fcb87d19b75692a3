-- Policy versions: every applied policy document, whole, with its SHA-256, author and
-- comment. Versions are only ever added; the newest is the policy in force.

CREATE TABLE warden_policy_versions (
    version     INT UNSIGNED  NOT NULL PRIMARY KEY,
    body        MEDIUMTEXT    NOT NULL,
    sha256      CHAR(64)      NOT NULL,
    author      VARCHAR(190)  NOT NULL,
    comment     VARCHAR(2000) NOT NULL,
    applied_at  DATETIME(6)   NOT NULL,
    KEY warden_policy_versions_sha (sha256)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
