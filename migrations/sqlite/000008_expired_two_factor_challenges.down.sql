-- authstore 000008 down: expired_auth_records without the two-factor challenges (SQLite).
DROP VIEW IF EXISTS expired_auth_records;
CREATE VIEW expired_auth_records AS
    SELECT 'session' AS record_type, id, user_id, expires_at FROM sessions WHERE expires_at < CURRENT_TIMESTAMP
    UNION ALL
    SELECT 'password_reset', id, user_id, expires_at FROM password_resets WHERE expires_at < CURRENT_TIMESTAMP
    UNION ALL
    SELECT 'email_verification', id, user_id, expires_at FROM email_verifications WHERE expires_at < CURRENT_TIMESTAMP;
