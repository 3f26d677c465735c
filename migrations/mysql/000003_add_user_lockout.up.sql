-- authstore 000003 up: account lockout after consecutive failed logins (MySQL, MariaDB).
-- locked_until: logins are refused until then; lockouts: how many locks
-- since the last successful login, so each lock lasts longer.
ALTER TABLE users ADD COLUMN locked_until datetime(6);
ALTER TABLE users ADD COLUMN lockouts bigint NOT NULL DEFAULT 0;
