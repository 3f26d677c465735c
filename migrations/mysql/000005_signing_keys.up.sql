-- authstore 000005: signing keys of access tokens (MySQL, MariaDB).
-- Runs as-is: mysql DATABASE < 000005_signing_keys.up.sql
-- id is the JWT "kid". private_key holds only an envelope ciphertext
-- (AES-256-GCM, bound to this table, column and row); public_key is a JWK.
-- slot is 'current' or 'next' while the key is one, NULL afterwards: its
-- unique index keeps one current key and one next key at most, whatever
-- concurrent rotations do.
CREATE TABLE signing_keys (
    id char(36) NOT NULL,
    algorithm longtext NOT NULL,
    state varchar(255) NOT NULL,
    slot varchar(255),
    public_key longtext NOT NULL,
    private_key longtext NOT NULL,
    activates_at datetime(6) NOT NULL,
    retired_at datetime(6),
    remove_at datetime(6),
    created_at datetime(6) NOT NULL,
    updated_at datetime(6) NOT NULL,
    PRIMARY KEY (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
CREATE INDEX idx_signing_keys_state ON signing_keys (state);
CREATE UNIQUE INDEX idx_signing_keys_slot ON signing_keys (slot);
CREATE INDEX idx_signing_keys_remove_at ON signing_keys (remove_at);
