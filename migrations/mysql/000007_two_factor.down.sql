-- authstore 000007 down: removes two-factor authentication (MySQL, MariaDB). Users'
-- factors stay in users.two_factor_secret but are no longer asked for.
DROP TABLE IF EXISTS two_factor_challenges;
DROP TABLE IF EXISTS two_factor_used_steps;
DROP TABLE IF EXISTS recovery_codes;
ALTER TABLE sessions DROP COLUMN second_factor_at;
ALTER TABLE sessions DROP COLUMN assurance_level;
