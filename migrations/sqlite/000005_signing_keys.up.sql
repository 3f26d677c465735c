-- authstore 000005: signing keys of access tokens (SQLite).
-- Runs as-is: sqlite3 authstore.db < 000005_signing_keys.up.sql
-- id is the JWT "kid". private_key holds only an envelope ciphertext
-- (AES-256-GCM, bound to this table, column and row); public_key is a JWK.
-- slot is 'current' or 'next' while the key is one, NULL afterwards: its
-- unique index keeps one current key and one next key at most, whatever
-- concurrent rotations do.
CREATE TABLE signing_keys (
    id text NOT NULL,
    algorithm text NOT NULL,
    state text NOT NULL,
    slot text,
    public_key text NOT NULL,
    private_key text NOT NULL,
    activates_at datetime NOT NULL,
    retired_at datetime,
    remove_at datetime,
    created_at datetime NOT NULL,
    updated_at datetime NOT NULL,
    PRIMARY KEY (id)
);
CREATE INDEX idx_signing_keys_state ON signing_keys (state);
CREATE UNIQUE INDEX idx_signing_keys_slot ON signing_keys (slot);
CREATE INDEX idx_signing_keys_remove_at ON signing_keys (remove_at);
