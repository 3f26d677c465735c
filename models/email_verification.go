package models

import (
	"fmt"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/schema"
)

// EmailVerification is a token sent to an address (table email_verifications).
// It verifies only the address it was sent to.
type EmailVerification struct {
	ID         UUID       `gorm:"primaryKey;not null" json:"id"`
	UserID     UUID       `gorm:"not null;index" json:"user_id"`
	User       *User      `gorm:"constraint:OnDelete:CASCADE" json:"-"`
	Email      string     `gorm:"not null" json:"email"`
	TokenHash  string     `gorm:"not null;uniqueIndex" json:"-"`
	Token      string     `gorm:"-" json:"-"`
	ExpiresAt  time.Time  `gorm:"not null;index" json:"expires_at"`
	VerifiedAt *time.Time `json:"verified_at,omitempty"`
	CreatedAt  time.Time  `gorm:"not null" json:"created_at"`
}

// TableName returns "email_verifications", with the prefix and schema of a
// Store's tables (see Namer).
func (EmailVerification) TableName(n schema.Namer) string { return tableName(n, "email_verifications") }

// String describes the verification without its token.
func (v EmailVerification) String() string {
	return fmt.Sprintf("EmailVerification{ID:%s UserID:%s Email:%q Token:%s}", v.ID, v.UserID, v.Email, redacted)
}

// BeforeSave digests a plaintext token set on the value and clears it.
func (v *EmailVerification) BeforeSave(tx *gorm.DB) error {
	digestInto(&v.Token, &v.TokenHash)
	return nil
}

// BeforeCreate assigns the id and refuses a row without its digest.
func (v *EmailVerification) BeforeCreate(tx *gorm.DB) error { return createToken(&v.ID, v.TokenHash) }
