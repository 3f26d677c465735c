-- authstore 000002: OAuth2 tables (MySQL, MariaDB). Needs 000001 (users).
-- Runs as-is: mysql DATABASE < 000002_create_oauth_tables.up.sql

CREATE TABLE oauth_clients (
    id char(36) NOT NULL,
    user_id char(36),
    name longtext NOT NULL,
    secret longtext,
    redirect_uris text NOT NULL,
    grant_types text NOT NULL,
    scopes text NOT NULL,
    confidential boolean NOT NULL,
    personal_access_client boolean NOT NULL,
    revoked boolean NOT NULL,
    created_at datetime(6) NOT NULL,
    updated_at datetime(6) NOT NULL,
    PRIMARY KEY (id),
    CONSTRAINT fk_oauth_clients_user FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
CREATE INDEX idx_oauth_clients_user_id ON oauth_clients (user_id);

-- id is the JWT's jti; the JWT itself is never stored.
CREATE TABLE oauth_access_tokens (
    id char(36) NOT NULL,
    client_id char(36) NOT NULL,
    user_id char(36),
    family_id char(36),
    name longtext NOT NULL,
    scopes text NOT NULL,
    revoked boolean NOT NULL,
    expires_at datetime(6) NOT NULL,
    created_at datetime(6) NOT NULL,
    updated_at datetime(6) NOT NULL,
    PRIMARY KEY (id),
    CONSTRAINT fk_oauth_access_tokens_client FOREIGN KEY (client_id) REFERENCES oauth_clients (id) ON DELETE CASCADE,
    CONSTRAINT fk_oauth_access_tokens_user FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
CREATE INDEX idx_oauth_access_tokens_client_id ON oauth_access_tokens (client_id);
CREATE INDEX idx_oauth_access_tokens_user_id ON oauth_access_tokens (user_id);
CREATE INDEX idx_oauth_access_tokens_family_id ON oauth_access_tokens (family_id);
CREATE INDEX idx_oauth_access_tokens_expires_at ON oauth_access_tokens (expires_at);

CREATE TABLE oauth_refresh_tokens (
    id char(36) NOT NULL,
    token_hash varchar(255) NOT NULL,
    access_token_id char(36),
    family_id char(36) NOT NULL,
    parent_id char(36),
    client_id char(36) NOT NULL,
    user_id char(36),
    scopes text NOT NULL,
    used_at datetime(6),
    revoked boolean NOT NULL,
    expires_at datetime(6) NOT NULL,
    created_at datetime(6) NOT NULL,
    PRIMARY KEY (id),
    CONSTRAINT fk_oauth_refresh_tokens_access_token FOREIGN KEY (access_token_id) REFERENCES oauth_access_tokens (id) ON DELETE SET NULL,
    CONSTRAINT fk_oauth_refresh_tokens_client FOREIGN KEY (client_id) REFERENCES oauth_clients (id) ON DELETE CASCADE,
    CONSTRAINT fk_oauth_refresh_tokens_user FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
CREATE UNIQUE INDEX idx_oauth_refresh_tokens_token_hash ON oauth_refresh_tokens (token_hash);
CREATE INDEX idx_oauth_refresh_tokens_access_token_id ON oauth_refresh_tokens (access_token_id);
CREATE INDEX idx_oauth_refresh_tokens_family_id ON oauth_refresh_tokens (family_id);
CREATE INDEX idx_oauth_refresh_tokens_parent_id ON oauth_refresh_tokens (parent_id);
CREATE INDEX idx_oauth_refresh_tokens_client_id ON oauth_refresh_tokens (client_id);
CREATE INDEX idx_oauth_refresh_tokens_user_id ON oauth_refresh_tokens (user_id);
CREATE INDEX idx_oauth_refresh_tokens_expires_at ON oauth_refresh_tokens (expires_at);

CREATE TABLE oauth_authorization_codes (
    id char(36) NOT NULL,
    code_hash varchar(255) NOT NULL,
    client_id char(36) NOT NULL,
    user_id char(36) NOT NULL,
    scopes text NOT NULL,
    redirect_uri longtext NOT NULL,
    code_challenge longtext,
    code_challenge_method longtext,
    used_at datetime(6),
    revoked boolean NOT NULL,
    expires_at datetime(6) NOT NULL,
    created_at datetime(6) NOT NULL,
    PRIMARY KEY (id),
    CONSTRAINT fk_oauth_authorization_codes_client FOREIGN KEY (client_id) REFERENCES oauth_clients (id) ON DELETE CASCADE,
    CONSTRAINT fk_oauth_authorization_codes_user FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
CREATE UNIQUE INDEX idx_oauth_authorization_codes_code_hash ON oauth_authorization_codes (code_hash);
CREATE INDEX idx_oauth_authorization_codes_client_id ON oauth_authorization_codes (client_id);
CREATE INDEX idx_oauth_authorization_codes_user_id ON oauth_authorization_codes (user_id);
CREATE INDEX idx_oauth_authorization_codes_expires_at ON oauth_authorization_codes (expires_at);

CREATE TABLE oauth_personal_access_tokens (
    id char(36) NOT NULL,
    user_id char(36) NOT NULL,
    name longtext NOT NULL,
    token_hash varchar(255) NOT NULL,
    prefix longtext NOT NULL,
    scopes text NOT NULL,
    last_used_at datetime(6),
    revoked boolean NOT NULL,
    expires_at datetime(6),
    created_at datetime(6) NOT NULL,
    updated_at datetime(6) NOT NULL,
    PRIMARY KEY (id),
    CONSTRAINT fk_oauth_personal_access_tokens_user FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
CREATE UNIQUE INDEX idx_oauth_personal_access_tokens_token_hash ON oauth_personal_access_tokens (token_hash);
CREATE INDEX idx_oauth_personal_access_tokens_user_id ON oauth_personal_access_tokens (user_id);
CREATE INDEX idx_oauth_personal_access_tokens_expires_at ON oauth_personal_access_tokens (expires_at);

-- Expired OAuth tokens and codes: what a purge removes. A refresh token stays
-- out of it while any token of its family is unexpired (reuse detection needs it).
CREATE VIEW oauth_expired_tokens AS
    SELECT 'access_token' AS token_type, id, client_id, user_id, expires_at
        FROM oauth_access_tokens WHERE expires_at < UTC_TIMESTAMP(6)
    UNION ALL
    SELECT 'refresh_token', r.id, r.client_id, r.user_id, r.expires_at
        FROM oauth_refresh_tokens r
        WHERE r.expires_at < UTC_TIMESTAMP(6)
          AND NOT EXISTS (SELECT 1 FROM oauth_refresh_tokens f
                          WHERE f.family_id = r.family_id AND f.expires_at >= UTC_TIMESTAMP(6))
    UNION ALL
    SELECT 'authorization_code', id, client_id, user_id, expires_at
        FROM oauth_authorization_codes WHERE expires_at < UTC_TIMESTAMP(6)
    UNION ALL
    SELECT 'personal_access_token', id, NULL, user_id, expires_at
        FROM oauth_personal_access_tokens WHERE expires_at < UTC_TIMESTAMP(6);
