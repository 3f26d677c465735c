-- authstore 000009 up: refresh tokens keep the login of their grant (PostgreSQL).
-- Runs as-is: psql -v ON_ERROR_STOP=1 -f 000009_refresh_token_login.up.sql
-- auth_time and amr are the auth time and authentication methods (RFC 8176)
-- of the authorization request whose code started the family; rotation copies
-- them to the child, so an ID token issued on a refresh carries the original
-- login's auth_time and amr (OpenID Connect Core 12.2). A grant without a
-- login has a NULL auth_time and an empty amr ([]); tokens issued before this
-- migration have both NULL, and their refreshed ID tokens no auth_time or amr.
ALTER TABLE oauth_refresh_tokens ADD COLUMN auth_time timestamptz;
ALTER TABLE oauth_refresh_tokens ADD COLUMN amr text;
