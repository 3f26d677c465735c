-- authstore 000008: expired_auth_records lists the spent two-factor challenges (MySQL, MariaDB). Needs 000007.
-- Runs as-is: mysql DATABASE < 000008_expired_two_factor_challenges.up.sql
-- A challenge is spent once it expired or was used (it is single use): the
-- view lists both, as Cleanup.Purge deletes both.
DROP VIEW IF EXISTS expired_auth_records;
CREATE VIEW expired_auth_records AS
    SELECT 'session' AS record_type, id, user_id, expires_at FROM sessions WHERE expires_at < UTC_TIMESTAMP(6)
    UNION ALL
    SELECT 'password_reset', id, user_id, expires_at FROM password_resets WHERE expires_at < UTC_TIMESTAMP(6)
    UNION ALL
    SELECT 'email_verification', id, user_id, expires_at FROM email_verifications WHERE expires_at < UTC_TIMESTAMP(6)
    UNION ALL
    SELECT 'two_factor_challenge', id, user_id, expires_at FROM two_factor_challenges
        WHERE expires_at < UTC_TIMESTAMP(6) OR used_at IS NOT NULL;
