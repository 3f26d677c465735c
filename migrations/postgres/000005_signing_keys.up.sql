-- authstore 000005: signing keys of access tokens (PostgreSQL).
-- Runs as-is: psql -v ON_ERROR_STOP=1 -f 000005_signing_keys.up.sql
-- id is the JWT "kid". private_key holds only an envelope ciphertext
-- (AES-256-GCM, bound to this table, column and row); public_key is a JWK.
-- slot is 'current' or 'next' while the key is one, NULL afterwards: its
-- unique index keeps one current key and one next key at most, whatever
-- concurrent rotations do.
CREATE TABLE signing_keys (
    id uuid NOT NULL,
    algorithm text NOT NULL,
    state text NOT NULL,
    slot text,
    public_key text NOT NULL,
    private_key text NOT NULL,
    activates_at timestamptz NOT NULL,
    retired_at timestamptz,
    remove_at timestamptz,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL,
    PRIMARY KEY (id)
);
CREATE INDEX idx_signing_keys_state ON signing_keys (state);
CREATE UNIQUE INDEX idx_signing_keys_slot ON signing_keys (slot);
CREATE INDEX idx_signing_keys_remove_at ON signing_keys (remove_at);
