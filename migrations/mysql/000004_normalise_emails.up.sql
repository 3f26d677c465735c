-- authstore 000004 up: emails compared in their NFKC case-folded form (MySQL, MariaDB).
-- users.email_normalized (with its unique index since 000001) held the
-- trimmed, lower-cased address; from this version it holds the form of
-- models.NormalizeEmail: invisible characters removed, Unicode NFKC, full
-- case folding, so that addresses that look the same are one account. For an
-- address of printable ASCII the two forms are the same: those rows need
-- nothing. Other rows are normalised in Go, because SQL cannot do it the
-- same way on every database: PostgreSQL's normalize() and lower() follow
-- the server's Unicode version and the database's locale, and lower() is not
-- case folding (ß, ﬃ). authstore's Migrator (authstore migrate up,
-- authstore.WithMigrate) normalises them in this migration's transaction
-- before these statements run, after refusing, with nothing changed, when
-- two addresses would become the same (migrations.ErrEmailCollision names
-- both users). Applied by hand (psql -f, sqlite3 <, mysql <, authstore migrate sql),
-- this file refuses to run while a row holds an address that is not
-- printable ASCII: the check constraint named below fails. Apply it with
-- authstore migrate up.
CREATE TEMPORARY TABLE IF NOT EXISTS authstore_000004_check (
    emails_needing_go bigint,
    CONSTRAINT apply_000004_with_authstore_migrate CHECK (emails_needing_go = 0)
);
INSERT INTO authstore_000004_check (emails_needing_go)
SELECT count(*) FROM users WHERE email NOT REGEXP '^[ -~]*$' AND @authstore_emails_normalised IS NULL;
DROP TEMPORARY TABLE authstore_000004_check;
SET @authstore_emails_normalised = NULL;
