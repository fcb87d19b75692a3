-- The reference customer-support and sales application: its staff directory, roles and
-- permissions, the customer data they guard, the business relations that justify access to
-- a customer, and the application's access log. Used by the demo, tests and benchmarks.

CREATE TABLE staff_users (
    id             BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
    login          VARCHAR(100)    NOT NULL,
    display_name   TEXT            NOT NULL,
    email          VARCHAR(254)    NOT NULL,
    department     VARCHAR(64)     NOT NULL,
    title          TEXT            NOT NULL,
    manager_id     BIGINT UNSIGNED NULL,
    status         VARCHAR(16)     NOT NULL DEFAULT 'active',
    mfa_enabled    TINYINT(1)      NOT NULL DEFAULT 0,
    password_algo  VARCHAR(32)     NOT NULL,
    is_superuser   TINYINT(1)      NOT NULL DEFAULT 0,
    last_login_at  DATETIME        NULL,
    created_at     DATETIME        NOT NULL,
    UNIQUE KEY staff_users_login (login),
    KEY staff_users_department (department),
    KEY staff_users_manager (manager_id),
    CONSTRAINT staff_users_status CHECK (status IN ('active', 'suspended', 'terminated'))
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE roles (
    id           INT UNSIGNED    NOT NULL AUTO_INCREMENT PRIMARY KEY,
    name         VARCHAR(190)    NOT NULL,
    description  TEXT            NOT NULL,
    owner_id     BIGINT UNSIGNED NULL,
    UNIQUE KEY roles_name (name),
    CONSTRAINT roles_owner FOREIGN KEY (owner_id) REFERENCES staff_users (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- role_id inherits every permission of parent_role_id.
CREATE TABLE role_inheritance (
    role_id         INT UNSIGNED NOT NULL,
    parent_role_id  INT UNSIGNED NOT NULL,
    PRIMARY KEY (role_id, parent_role_id),
    CONSTRAINT role_inheritance_role FOREIGN KEY (role_id) REFERENCES roles (id),
    CONSTRAINT role_inheritance_parent FOREIGN KEY (parent_role_id) REFERENCES roles (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE permissions (
    id           INT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
    perm_key     VARCHAR(100) NOT NULL,
    description  VARCHAR(500) NOT NULL DEFAULT '',
    UNIQUE KEY permissions_key (perm_key)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE role_permissions (
    role_id        INT UNSIGNED NOT NULL,
    permission_id  INT UNSIGNED NOT NULL,
    PRIMARY KEY (role_id, permission_id),
    KEY role_permissions_permission (permission_id),
    CONSTRAINT role_permissions_role FOREIGN KEY (role_id) REFERENCES roles (id),
    CONSTRAINT role_permissions_permission FOREIGN KEY (permission_id) REFERENCES permissions (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE user_roles (
    user_id     BIGINT UNSIGNED NOT NULL,
    role_id     INT UNSIGNED    NOT NULL,
    granted_at  DATETIME        NOT NULL,
    granted_by  BIGINT UNSIGNED NULL,
    expires_at  DATETIME        NULL,
    PRIMARY KEY (user_id, role_id),
    KEY user_roles_role (role_id),
    CONSTRAINT user_roles_user FOREIGN KEY (user_id) REFERENCES staff_users (id),
    CONSTRAINT user_roles_role FOREIGN KEY (role_id) REFERENCES roles (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- Permissions granted to a user directly, outside any role.
CREATE TABLE user_permissions (
    user_id        BIGINT UNSIGNED NOT NULL,
    permission_id  INT UNSIGNED    NOT NULL,
    granted_at     DATETIME        NOT NULL,
    granted_by     BIGINT UNSIGNED NULL,
    PRIMARY KEY (user_id, permission_id),
    KEY user_permissions_permission (permission_id),
    CONSTRAINT user_permissions_user FOREIGN KEY (user_id) REFERENCES staff_users (id),
    CONSTRAINT user_permissions_permission FOREIGN KEY (permission_id) REFERENCES permissions (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE customers (
    id          BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
    name        VARCHAR(200)    NOT NULL,
    email       VARCHAR(254)    NOT NULL,
    phone       VARCHAR(40)     NOT NULL,
    country     CHAR(2)         NOT NULL,
    card_last4  CHAR(4)         NULL,
    created_at  DATETIME        NOT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- A support ticket entitles its assignee to that customer's records.
CREATE TABLE support_tickets (
    id           BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
    customer_id  BIGINT UNSIGNED NOT NULL,
    assignee_id  BIGINT UNSIGNED NULL,
    subject      VARCHAR(300)    NOT NULL,
    status       VARCHAR(16)     NOT NULL,
    opened_at    DATETIME        NOT NULL,
    KEY support_tickets_assignee (assignee_id, customer_id),
    KEY support_tickets_customer (customer_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- A customer account entitles its owning sales rep to that customer's records.
CREATE TABLE customer_accounts (
    id           BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
    customer_id  BIGINT UNSIGNED NOT NULL,
    owner_id     BIGINT UNSIGNED NOT NULL,
    tier         VARCHAR(16)     NOT NULL,
    opened_at    DATETIME        NOT NULL,
    KEY customer_accounts_owner (owner_id, customer_id),
    KEY customer_accounts_customer (customer_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- The application's access log: one row per access to a protected resource.
CREATE TABLE access_log (
    id             BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
    occurred_at    DATETIME(3)     NOT NULL,
    user_id        BIGINT UNSIGNED NOT NULL,
    action         VARCHAR(100)    NOT NULL,
    resource_type  VARCHAR(32)     NOT NULL,
    resource_id    VARCHAR(64)     NOT NULL,
    outcome        VARCHAR(16)     NOT NULL,
    client_ip      VARCHAR(45)     NOT NULL,
    user_agent     VARCHAR(512)    NOT NULL,
    KEY access_log_user_time (user_id, occurred_at),
    KEY access_log_time (occurred_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
