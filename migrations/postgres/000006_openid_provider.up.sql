-- authstore 000006: the OpenID provider adapter's tables (PostgreSQL). Needs 000002.
-- Runs as-is: psql -v ON_ERROR_STOP=1 -f 000006_openid_provider.up.sql
-- oauth_clients gains the metadata a provider reads; NULL (rows written
-- before) reads as the defaults: response types ["code"], authentication
-- client_secret_basic (confidential) or none (public), JWT access tokens,
-- no post-logout URIs or further audiences, the access token's lifetime.
ALTER TABLE oauth_clients ADD COLUMN response_types text;
ALTER TABLE oauth_clients ADD COLUMN token_endpoint_auth_method text;
ALTER TABLE oauth_clients ADD COLUMN access_token_type text;
ALTER TABLE oauth_clients ADD COLUMN post_logout_redirect_uris text;
ALTER TABLE oauth_clients ADD COLUMN audiences text;
ALTER TABLE oauth_clients ADD COLUMN id_token_lifetime bigint;

-- A pending authorization request: what the client asked for, who logged
-- in, and the digest of its code (never the code). A redeemed request is
-- kept until it expires: a replayed code revokes the family whose id is
-- the request's.
CREATE TABLE oauth_auth_requests (
    id uuid NOT NULL,
    client_id uuid NOT NULL,
    redirect_uri text NOT NULL,
    scopes text NOT NULL,
    state text NOT NULL,
    nonce text NOT NULL,
    response_type text NOT NULL,
    response_mode text NOT NULL,
    code_challenge text,
    code_challenge_method text,
    prompt text NOT NULL,
    max_age bigint,
    login_hint text NOT NULL,
    user_id uuid,
    auth_time timestamptz,
    amr text NOT NULL,
    done boolean NOT NULL,
    code_hash text,
    used_at timestamptz,
    revoked boolean NOT NULL,
    expires_at timestamptz NOT NULL,
    created_at timestamptz NOT NULL,
    PRIMARY KEY (id),
    CONSTRAINT fk_oauth_auth_requests_client FOREIGN KEY (client_id) REFERENCES oauth_clients (id) ON DELETE CASCADE,
    CONSTRAINT fk_oauth_auth_requests_user FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
);
CREATE INDEX idx_oauth_auth_requests_client_id ON oauth_auth_requests (client_id);
CREATE INDEX idx_oauth_auth_requests_user_id ON oauth_auth_requests (user_id);
CREATE UNIQUE INDEX idx_oauth_auth_requests_code_hash ON oauth_auth_requests (code_hash);
CREATE INDEX idx_oauth_auth_requests_expires_at ON oauth_auth_requests (expires_at);

-- oauth_expired_tokens lists expired authorization requests too, as
-- Cleanup.Purge deletes them.
DROP VIEW IF EXISTS oauth_expired_tokens;
CREATE VIEW oauth_expired_tokens AS
    SELECT 'access_token' AS token_type, id, client_id, user_id, expires_at
        FROM oauth_access_tokens WHERE expires_at < CURRENT_TIMESTAMP
    UNION ALL
    SELECT 'refresh_token', r.id, r.client_id, r.user_id, r.expires_at
        FROM oauth_refresh_tokens r
        WHERE r.expires_at < CURRENT_TIMESTAMP
          AND NOT EXISTS (SELECT 1 FROM oauth_refresh_tokens f
                          WHERE f.family_id = r.family_id AND f.expires_at >= CURRENT_TIMESTAMP)
    UNION ALL
    SELECT 'authorization_code', id, client_id, user_id, expires_at
        FROM oauth_authorization_codes WHERE expires_at < CURRENT_TIMESTAMP
    UNION ALL
    SELECT 'personal_access_token', id, NULL, user_id, expires_at
        FROM oauth_personal_access_tokens WHERE expires_at < CURRENT_TIMESTAMP
    UNION ALL
    SELECT 'auth_request', id, client_id, user_id, expires_at
        FROM oauth_auth_requests WHERE expires_at < CURRENT_TIMESTAMP;
