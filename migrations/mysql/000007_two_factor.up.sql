-- authstore 000007 up: two-factor authentication, TOTP and recovery codes (MySQL, MariaDB).
-- Runs as-is: mysql DATABASE < 000007_two_factor.up.sql
-- The TOTP secret lives in users.two_factor_secret (000001), sealed by package
-- envelope and bound to that column and the user's row; users.two_factor_confirmed_at
-- says the factor counts. Sessions record how their user authenticated: 1 a
-- password alone, 2 a password and a second factor (NIST SP 800-63B's AAL1, AAL2).
ALTER TABLE sessions ADD COLUMN assurance_level bigint NOT NULL DEFAULT 1;
ALTER TABLE sessions ADD COLUMN second_factor_at datetime(6);
-- One row per recovery code: its HMAC-SHA-256 digest under AUTHSTORE_RECOVERY_KEY
-- and that key's check value; used_at is set once, by a conditional update.
CREATE TABLE recovery_codes (
    id char(36) NOT NULL,
    user_id char(36) NOT NULL,
    code_hash varchar(255) NOT NULL,
    key_version longtext NOT NULL,
    used_at datetime(6),
    created_at datetime(6) NOT NULL,
    PRIMARY KEY (id),
    CONSTRAINT fk_recovery_codes_user FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
CREATE UNIQUE INDEX idx_recovery_codes_code_hash ON recovery_codes (code_hash);
CREATE INDEX idx_recovery_codes_user_id ON recovery_codes (user_id);
-- The TOTP time steps each user has spent: the unique index accepts a step once.
CREATE TABLE two_factor_used_steps (
    id char(36) NOT NULL,
    user_id char(36) NOT NULL,
    step bigint NOT NULL,
    used_at datetime(6) NOT NULL,
    PRIMARY KEY (id),
    CONSTRAINT fk_two_factor_used_steps_user FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
CREATE UNIQUE INDEX idx_two_factor_used_steps_user_step ON two_factor_used_steps (user_id, step);
CREATE INDEX idx_two_factor_used_steps_used_at ON two_factor_used_steps (used_at);
-- Logins whose password was verified and whose second factor is owed: the
-- challenge token's SHA-256 digest, short lived, used once.
CREATE TABLE two_factor_challenges (
    id char(36) NOT NULL,
    user_id char(36) NOT NULL,
    token_hash varchar(255) NOT NULL,
    expires_at datetime(6) NOT NULL,
    used_at datetime(6),
    created_at datetime(6) NOT NULL,
    PRIMARY KEY (id),
    CONSTRAINT fk_two_factor_challenges_user FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
CREATE UNIQUE INDEX idx_two_factor_challenges_token_hash ON two_factor_challenges (token_hash);
CREATE INDEX idx_two_factor_challenges_user_id ON two_factor_challenges (user_id);
CREATE INDEX idx_two_factor_challenges_expires_at ON two_factor_challenges (expires_at);
