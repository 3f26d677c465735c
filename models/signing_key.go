package models

import (
	"fmt"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/schema"
)

// States of a signing key (SigningKey.State), in lifecycle order. A key is
// published in the JWKS from creation; a next key signs from ActivatesAt,
// when it becomes current and the current key retires; a retired key
// validates until RemoveAt, when every token it signed has expired, and is
// then removed (Cleanup.Purge deletes its row).
const (
	// KeyStateNext is a key published in the JWKS that does not sign yet.
	KeyStateNext = "next"
	// KeyStateCurrent is the one key that signs.
	KeyStateCurrent = "current"
	// KeyStateRetired is a key that no longer signs and still validates.
	KeyStateRetired = "retired"
	// KeyStateRemoved is a retired key past its RemoveAt: it validates
	// nothing and its row is purged. It is never stored; a retired row past
	// its expiry reads as removed.
	KeyStateRemoved = "removed"
)

// SigningKey is an asymmetric key that signs access tokens (table
// signing_keys). Its id is the JWT "kid". The private key is stored only
// as an envelope ciphertext (package envelope) bound to this table, the
// column private_key and the row's id; the public key is a JWK.
type SigningKey struct {
	// ID is the key id, the "kid" of the JWTs it signs and of its JWK.
	ID UUID `gorm:"primaryKey;not null" json:"kid"`
	// Algorithm is the JWS "alg": RS256, ES256 or EdDSA.
	Algorithm string `gorm:"not null" json:"alg"`
	// State is next, current or retired (see KeyStateNext).
	State string `gorm:"not null;index" json:"state"`
	// Slot is the state of a next or current key and NULL otherwise; its
	// unique index lets one key at most hold each of the two, whatever
	// concurrent rotations do.
	Slot *string `gorm:"uniqueIndex" json:"-"`
	// PublicKey is the public JWK (RFC 7517), as JSON.
	PublicKey string `gorm:"not null" json:"public_jwk"`
	// PrivateKey is the PKCS #8 private key sealed by package envelope.
	PrivateKey string `gorm:"not null" json:"-"`
	// ActivatesAt is when the key signs (becomes current), at the earliest.
	ActivatesAt time.Time `gorm:"not null" json:"activates_at"`
	// RetiredAt is when the key stopped signing.
	RetiredAt *time.Time `json:"retired_at,omitempty"`
	// RemoveAt is when a retired key is removed: the latest expiry of a
	// token it can have signed.
	RemoveAt  *time.Time `gorm:"index" json:"remove_at,omitempty"`
	CreatedAt time.Time  `gorm:"not null" json:"created_at"`
	UpdatedAt time.Time  `gorm:"not null" json:"updated_at"`
}

// TableName returns "signing_keys", with the prefix and schema of a Store's
// tables (see Namer).
func (SigningKey) TableName(n schema.Namer) string { return tableName(n, "signing_keys") }

// BeforeCreate assigns the id (the kid) if it is not set. The hook cannot
// encrypt a private key (that needs the Store's master key); a row without
// its ciphertext is refused by the NOT NULL column's check in the
// repository, which is the only writer.
func (k *SigningKey) BeforeCreate(tx *gorm.DB) error {
	ensureID(&k.ID)
	return nil
}

// StateAt returns the key's state at now: its stored state, or
// KeyStateRemoved for a retired key past its RemoveAt.
func (k *SigningKey) StateAt(now time.Time) string {
	if k.State == KeyStateRetired && k.RemoveAt != nil && !now.Before(*k.RemoveAt) {
		return KeyStateRemoved
	}
	return k.State
}

// String describes the key without its private key.
func (k SigningKey) String() string {
	return fmt.Sprintf("SigningKey{ID:%s Algorithm:%s State:%s PrivateKey:%s}", k.ID, k.Algorithm, k.State, redacted)
}
