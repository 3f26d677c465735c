package models

import (
	"fmt"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/schema"
)

// RecoveryCode is one of a user's two-factor recovery codes
// (table recovery_codes). The code itself is shown once; the
// row holds its HMAC-SHA-256 digest under the recovery key
// (AUTHSTORE_RECOVERY_KEY) and that key's version, never the code or its
// plain digest. A code is used once: UsedAt is set by a conditional
// update.
type RecoveryCode struct {
	ID     UUID  `gorm:"primaryKey;not null" json:"id"`
	UserID UUID  `gorm:"not null;index" json:"user_id"`
	User   *User `gorm:"constraint:OnDelete:CASCADE" json:"-"`
	// CodeHash is the hex HMAC-SHA-256 of the normalised code under the
	// recovery key KeyVersion names.
	CodeHash string `gorm:"not null;uniqueIndex" json:"-"`
	// KeyVersion is the check value of the recovery key that made
	// CodeHash ("hmac:" and 16 hex digits), never the key.
	KeyVersion string     `gorm:"not null" json:"key_version"`
	UsedAt     *time.Time `json:"used_at,omitempty"`
	CreatedAt  time.Time  `gorm:"not null" json:"created_at"`
}

// TableName returns "recovery_codes", with the prefix and
// schema of a Store's tables (see Namer).
func (RecoveryCode) TableName(n schema.Namer) string {
	return tableName(n, "recovery_codes")
}

// String describes the code without its digest.
func (c RecoveryCode) String() string {
	return fmt.Sprintf("RecoveryCode{ID:%s UserID:%s CodeHash:%s}", c.ID, c.UserID, redacted)
}

// BeforeCreate assigns the id and refuses a row without its digest.
func (c *RecoveryCode) BeforeCreate(tx *gorm.DB) error {
	return createToken(&c.ID, c.CodeHash)
}
