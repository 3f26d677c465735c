-- authstore 000002 down: drops the OAuth2 tables (MySQL, MariaDB).
DROP VIEW IF EXISTS oauth_expired_tokens;
DROP TABLE IF EXISTS oauth_personal_access_tokens;
DROP TABLE IF EXISTS oauth_authorization_codes;
DROP TABLE IF EXISTS oauth_refresh_tokens;
DROP TABLE IF EXISTS oauth_access_tokens;
DROP TABLE IF EXISTS oauth_clients;
