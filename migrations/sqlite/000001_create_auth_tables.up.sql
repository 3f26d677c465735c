-- authstore 000001: authentication tables (SQLite).
-- Runs as-is: sqlite3 authstore.db < 000001_create_auth_tables.up.sql

CREATE TABLE users (
    id text NOT NULL,
    name text NOT NULL,
    email text NOT NULL,
    email_normalized text NOT NULL,
    password text NOT NULL,
    email_verified_at datetime,
    two_factor_secret text,
    two_factor_recovery_codes text,
    two_factor_confirmed_at datetime,
    failed_logins integer NOT NULL DEFAULT 0,
    last_failed_login_at datetime,
    created_at datetime NOT NULL,
    updated_at datetime NOT NULL,
    PRIMARY KEY (id)
);
CREATE UNIQUE INDEX idx_users_email_normalized ON users (email_normalized);
CREATE INDEX idx_users_created_at ON users (created_at);

CREATE TABLE sessions (
    id text NOT NULL,
    user_id text NOT NULL,
    token_hash text NOT NULL,
    ip_address text NOT NULL,
    user_agent text NOT NULL,
    remember numeric NOT NULL,
    last_activity_at datetime NOT NULL,
    expires_at datetime NOT NULL,
    created_at datetime NOT NULL,
    PRIMARY KEY (id),
    CONSTRAINT fk_sessions_user FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
);
CREATE UNIQUE INDEX idx_sessions_token_hash ON sessions (token_hash);
CREATE INDEX idx_sessions_user_id ON sessions (user_id);
CREATE INDEX idx_sessions_last_activity_at ON sessions (last_activity_at);
CREATE INDEX idx_sessions_expires_at ON sessions (expires_at);

CREATE TABLE password_resets (
    id text NOT NULL,
    user_id text NOT NULL,
    email text NOT NULL,
    token_hash text NOT NULL,
    expires_at datetime NOT NULL,
    used_at datetime,
    created_at datetime NOT NULL,
    PRIMARY KEY (id),
    CONSTRAINT fk_password_resets_user FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
);
CREATE UNIQUE INDEX idx_password_resets_token_hash ON password_resets (token_hash);
CREATE INDEX idx_password_resets_user_id ON password_resets (user_id);
CREATE INDEX idx_password_resets_expires_at ON password_resets (expires_at);

CREATE TABLE email_verifications (
    id text NOT NULL,
    user_id text NOT NULL,
    email text NOT NULL,
    token_hash text NOT NULL,
    expires_at datetime NOT NULL,
    verified_at datetime,
    created_at datetime NOT NULL,
    PRIMARY KEY (id),
    CONSTRAINT fk_email_verifications_user FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
);
CREATE UNIQUE INDEX idx_email_verifications_token_hash ON email_verifications (token_hash);
CREATE INDEX idx_email_verifications_user_id ON email_verifications (user_id);
CREATE INDEX idx_email_verifications_expires_at ON email_verifications (expires_at);

-- The trail outlives the user: deleting a user sets user_id to NULL.
CREATE TABLE user_activity_log (
    id integer PRIMARY KEY AUTOINCREMENT NOT NULL,
    user_id text,
    event text NOT NULL,
    ip_address text NOT NULL,
    user_agent text NOT NULL,
    metadata text NOT NULL,
    created_at datetime NOT NULL,
    CONSTRAINT fk_user_activity_log_user FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE SET NULL
);
CREATE INDEX idx_user_activity_log_user_id ON user_activity_log (user_id);
CREATE INDEX idx_user_activity_log_event ON user_activity_log (event);
CREATE INDEX idx_user_activity_log_created_at ON user_activity_log (created_at);

-- Expired sessions, password resets and email verifications: what a purge removes.
CREATE VIEW expired_auth_records AS
    SELECT 'session' AS record_type, id, user_id, expires_at FROM sessions WHERE expires_at < CURRENT_TIMESTAMP
    UNION ALL
    SELECT 'password_reset', id, user_id, expires_at FROM password_resets WHERE expires_at < CURRENT_TIMESTAMP
    UNION ALL
    SELECT 'email_verification', id, user_id, expires_at FROM email_verifications WHERE expires_at < CURRENT_TIMESTAMP;
