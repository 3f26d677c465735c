-- authstore 000005 down: drops the signing keys (MySQL, MariaDB). Tokens they
-- signed no longer validate.
DROP TABLE IF EXISTS signing_keys;
