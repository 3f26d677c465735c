-- authstore 000001: authentication tables (MySQL, MariaDB).
-- Runs as-is: mysql DATABASE < 000001_create_auth_tables.up.sql

CREATE TABLE users (
    id char(36) NOT NULL,
    name longtext NOT NULL,
    email longtext NOT NULL,
    email_normalized varchar(255) NOT NULL,
    password longtext NOT NULL,
    email_verified_at datetime(6),
    two_factor_secret longtext,
    two_factor_recovery_codes longtext,
    two_factor_confirmed_at datetime(6),
    failed_logins bigint NOT NULL DEFAULT 0,
    last_failed_login_at datetime(6),
    created_at datetime(6) NOT NULL,
    updated_at datetime(6) NOT NULL,
    PRIMARY KEY (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
CREATE UNIQUE INDEX idx_users_email_normalized ON users (email_normalized);
CREATE INDEX idx_users_created_at ON users (created_at);

CREATE TABLE sessions (
    id char(36) NOT NULL,
    user_id char(36) NOT NULL,
    token_hash varchar(255) NOT NULL,
    ip_address longtext NOT NULL,
    user_agent longtext NOT NULL,
    remember boolean NOT NULL,
    last_activity_at datetime(6) NOT NULL,
    expires_at datetime(6) NOT NULL,
    created_at datetime(6) NOT NULL,
    PRIMARY KEY (id),
    CONSTRAINT fk_sessions_user FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
CREATE UNIQUE INDEX idx_sessions_token_hash ON sessions (token_hash);
CREATE INDEX idx_sessions_user_id ON sessions (user_id);
CREATE INDEX idx_sessions_last_activity_at ON sessions (last_activity_at);
CREATE INDEX idx_sessions_expires_at ON sessions (expires_at);

CREATE TABLE password_resets (
    id char(36) NOT NULL,
    user_id char(36) NOT NULL,
    email longtext NOT NULL,
    token_hash varchar(255) NOT NULL,
    expires_at datetime(6) NOT NULL,
    used_at datetime(6),
    created_at datetime(6) NOT NULL,
    PRIMARY KEY (id),
    CONSTRAINT fk_password_resets_user FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
CREATE UNIQUE INDEX idx_password_resets_token_hash ON password_resets (token_hash);
CREATE INDEX idx_password_resets_user_id ON password_resets (user_id);
CREATE INDEX idx_password_resets_expires_at ON password_resets (expires_at);

CREATE TABLE email_verifications (
    id char(36) NOT NULL,
    user_id char(36) NOT NULL,
    email longtext NOT NULL,
    token_hash varchar(255) NOT NULL,
    expires_at datetime(6) NOT NULL,
    verified_at datetime(6),
    created_at datetime(6) NOT NULL,
    PRIMARY KEY (id),
    CONSTRAINT fk_email_verifications_user FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
CREATE UNIQUE INDEX idx_email_verifications_token_hash ON email_verifications (token_hash);
CREATE INDEX idx_email_verifications_user_id ON email_verifications (user_id);
CREATE INDEX idx_email_verifications_expires_at ON email_verifications (expires_at);

-- The trail outlives the user: deleting a user sets user_id to NULL.
CREATE TABLE user_activity_log (
    id bigint NOT NULL AUTO_INCREMENT,
    user_id char(36),
    event varchar(255) NOT NULL,
    ip_address longtext NOT NULL,
    user_agent longtext NOT NULL,
    metadata longtext NOT NULL,
    created_at datetime(6) NOT NULL,
    PRIMARY KEY (id),
    CONSTRAINT fk_user_activity_log_user FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE SET NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
CREATE INDEX idx_user_activity_log_user_id ON user_activity_log (user_id);
CREATE INDEX idx_user_activity_log_event ON user_activity_log (event);
CREATE INDEX idx_user_activity_log_created_at ON user_activity_log (created_at);

-- Expired sessions, password resets and email verifications: what a purge removes.
CREATE VIEW expired_auth_records AS
    SELECT 'session' AS record_type, id, user_id, expires_at FROM sessions WHERE expires_at < UTC_TIMESTAMP(6)
    UNION ALL
    SELECT 'password_reset', id, user_id, expires_at FROM password_resets WHERE expires_at < UTC_TIMESTAMP(6)
    UNION ALL
    SELECT 'email_verification', id, user_id, expires_at FROM email_verifications WHERE expires_at < UTC_TIMESTAMP(6);
