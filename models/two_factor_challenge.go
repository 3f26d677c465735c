package models

import (
	"fmt"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/schema"
)

// TwoFactorChallenge is a login whose password was verified and whose
// second factor is still owed (table two_factor_challenges). Its token is
// handed to the caller once and stored as a SHA-256 digest; it is short
// lived (TwoFactorChallengeLifetime) and used once, by the completion
// that verifies the second factor.
type TwoFactorChallenge struct {
	ID     UUID  `gorm:"primaryKey;not null" json:"id"`
	UserID UUID  `gorm:"not null;index" json:"user_id"`
	User   *User `gorm:"constraint:OnDelete:CASCADE" json:"-"`
	// TokenHash is the SHA-256 digest of the challenge token.
	TokenHash string `gorm:"not null;uniqueIndex" json:"-"`
	// Token is a write-only plaintext: the BeforeSave hook digests it.
	Token     string     `gorm:"-" json:"-"`
	ExpiresAt time.Time  `gorm:"not null;index" json:"expires_at"`
	UsedAt    *time.Time `json:"used_at,omitempty"`
	CreatedAt time.Time  `gorm:"not null" json:"created_at"`
}

// TwoFactorChallengeLifetime is how long a second-factor challenge may be
// completed after the password was verified.
const TwoFactorChallengeLifetime = 5 * time.Minute

// TableName returns "two_factor_challenges", with the prefix and schema
// of a Store's tables (see Namer).
func (TwoFactorChallenge) TableName(n schema.Namer) string {
	return tableName(n, "two_factor_challenges")
}

// String describes the challenge without its token.
func (c TwoFactorChallenge) String() string {
	return fmt.Sprintf("TwoFactorChallenge{ID:%s UserID:%s Token:%s ExpiresAt:%s}", c.ID, c.UserID, redacted, c.ExpiresAt.Format(time.RFC3339))
}

// BeforeSave digests a plaintext token set on the value and clears it.
func (c *TwoFactorChallenge) BeforeSave(tx *gorm.DB) error {
	digestInto(&c.Token, &c.TokenHash)
	return nil
}

// BeforeCreate assigns the id and refuses a row without its digest.
func (c *TwoFactorChallenge) BeforeCreate(tx *gorm.DB) error { return createToken(&c.ID, c.TokenHash) }
