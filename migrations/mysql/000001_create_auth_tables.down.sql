-- authstore 000001 down: drops the authentication tables (MySQL, MariaDB).
DROP VIEW IF EXISTS expired_auth_records;
DROP TABLE IF EXISTS user_activity_log;
DROP TABLE IF EXISTS email_verifications;
DROP TABLE IF EXISTS password_resets;
DROP TABLE IF EXISTS sessions;
DROP TABLE IF EXISTS users;
