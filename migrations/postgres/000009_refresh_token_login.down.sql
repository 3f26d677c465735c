-- authstore 000009 down: refresh tokens forget the login of their grant
-- (PostgreSQL). ID tokens issued on a refresh then carry no auth_time or amr.
ALTER TABLE oauth_refresh_tokens DROP COLUMN amr;
ALTER TABLE oauth_refresh_tokens DROP COLUMN auth_time;
