-- authstore 000006 down: drops the OpenID provider adapter's table and client
-- columns (PostgreSQL). Pending logins and unredeemed codes are lost.
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
        FROM oauth_personal_access_tokens WHERE expires_at < CURRENT_TIMESTAMP;
DROP TABLE IF EXISTS oauth_auth_requests;
ALTER TABLE oauth_clients DROP COLUMN id_token_lifetime;
ALTER TABLE oauth_clients DROP COLUMN audiences;
ALTER TABLE oauth_clients DROP COLUMN post_logout_redirect_uris;
ALTER TABLE oauth_clients DROP COLUMN access_token_type;
ALTER TABLE oauth_clients DROP COLUMN token_endpoint_auth_method;
ALTER TABLE oauth_clients DROP COLUMN response_types;
