-- authstore 000007 up: two-factor authentication, TOTP and recovery codes (SQLite).
-- Runs as-is: sqlite3 authstore.db < 000007_two_factor.up.sql
-- The TOTP secret lives in users.two_factor_secret (000001), sealed by package
-- envelope and bound to that column and the user's row; users.two_factor_confirmed_at
-- says the factor counts. Sessions record how their user authenticated: 1 a
-- password alone, 2 a password and a second factor (NIST SP 800-63B's AAL1, AAL2).
ALTER TABLE sessions ADD COLUMN assurance_level integer NOT NULL DEFAULT 1;
ALTER TABLE sessions ADD COLUMN second_factor_at datetime;
-- One row per recovery code: its HMAC-SHA-256 digest under AUTHSTORE_RECOVERY_KEY
-- and that key's check value; used_at is set once, by a conditional update.
CREATE TABLE recovery_codes (
    id text NOT NULL,
    user_id text NOT NULL,
    code_hash text NOT NULL,
    key_version text NOT NULL,
    used_at datetime,
    created_at datetime NOT NULL,
    PRIMARY KEY (id),
    CONSTRAINT fk_recovery_codes_user FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
);
CREATE UNIQUE INDEX idx_recovery_codes_code_hash ON recovery_codes (code_hash);
CREATE INDEX idx_recovery_codes_user_id ON recovery_codes (user_id);
-- The TOTP time steps each user has spent: the unique index accepts a step once.
CREATE TABLE two_factor_used_steps (
    id text NOT NULL,
    user_id text NOT NULL,
    step integer NOT NULL,
    used_at datetime NOT NULL,
    PRIMARY KEY (id),
    CONSTRAINT fk_two_factor_used_steps_user FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
);
CREATE UNIQUE INDEX idx_two_factor_used_steps_user_step ON two_factor_used_steps (user_id, step);
CREATE INDEX idx_two_factor_used_steps_used_at ON two_factor_used_steps (used_at);
-- Logins whose password was verified and whose second factor is owed: the
-- challenge token's SHA-256 digest, short lived, used once.
CREATE TABLE two_factor_challenges (
    id text NOT NULL,
    user_id text NOT NULL,
    token_hash text NOT NULL,
    expires_at datetime NOT NULL,
    used_at datetime,
    created_at datetime NOT NULL,
    PRIMARY KEY (id),
    CONSTRAINT fk_two_factor_challenges_user FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
);
CREATE UNIQUE INDEX idx_two_factor_challenges_token_hash ON two_factor_challenges (token_hash);
CREATE INDEX idx_two_factor_challenges_user_id ON two_factor_challenges (user_id);
CREATE INDEX idx_two_factor_challenges_expires_at ON two_factor_challenges (expires_at);
