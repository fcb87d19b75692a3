-- The server keeps the trail (issue 16). Each event now carries the canonical text its hash
-- is over: the chain trigger that `warden migrate` creates with Warden's definer account
-- (warden-core's server_roles.rs) checks it against the columns and the account that
-- connected, hashes it, and advances the head. Events written before this have none.
ALTER TABLE warden_audit_events ADD COLUMN body LONGTEXT NULL;

-- What `warden migrate` last set up on the server (roles, grants, the chain trigger), as
-- the SHA-256 of its statements: the same plan again changes nothing, whoever runs it.
CREATE TABLE warden_server_roles (
    id           TINYINT UNSIGNED NOT NULL PRIMARY KEY,
    plan_sha256  CHAR(64)         NOT NULL,
    applied_at   DATETIME(6)      NOT NULL,
    CONSTRAINT warden_server_roles_single CHECK (id = 1)
) ENGINE=InnoDB;
