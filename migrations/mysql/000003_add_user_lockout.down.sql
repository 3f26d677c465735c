-- authstore 000003 down: removes the account lockout columns (MySQL, MariaDB).
ALTER TABLE users DROP COLUMN lockouts;
ALTER TABLE users DROP COLUMN locked_until;
