-- authstore 000004 down: emails compared trimmed and lower-cased again (MySQL, MariaDB).
-- The Migrator writes the earlier form (Go's strings.ToLower) back into
-- users.email_normalized for every address that is not printable ASCII,
-- in this migration's transaction, before these statements run; the
-- others are the same in both forms. Applied by hand, this file refuses to
-- run while such a row exists: roll it back with authstore migrate down 1.
CREATE TEMPORARY TABLE IF NOT EXISTS authstore_000004_check (
    emails_needing_go bigint,
    CONSTRAINT apply_000004_with_authstore_migrate CHECK (emails_needing_go = 0)
);
INSERT INTO authstore_000004_check (emails_needing_go)
SELECT count(*) FROM users WHERE email NOT REGEXP '^[ -~]*$' AND @authstore_emails_normalised IS NULL;
DROP TEMPORARY TABLE authstore_000004_check;
SET @authstore_emails_normalised = NULL;
