package models

import (
	"fmt"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/schema"
)

// PasswordReset is an outstanding password-reset request (table
// password_resets).
type PasswordReset struct {
	ID        UUID       `gorm:"primaryKey;not null" json:"id"`
	UserID    UUID       `gorm:"not null;index" json:"user_id"`
	User      *User      `gorm:"constraint:OnDelete:CASCADE" json:"-"`
	Email     string     `gorm:"not null" json:"email"`
	TokenHash string     `gorm:"not null;uniqueIndex" json:"-"`
	Token     string     `gorm:"-" json:"-"`
	ExpiresAt time.Time  `gorm:"not null;index" json:"expires_at"`
	UsedAt    *time.Time `json:"used_at,omitempty"`
	CreatedAt time.Time  `gorm:"not null" json:"created_at"`
}

// TableName returns "password_resets", with the prefix and schema of a
// Store's tables (see Namer).
func (PasswordReset) TableName(n schema.Namer) string { return tableName(n, "password_resets") }

// String describes the reset without its token.
func (r PasswordReset) String() string {
	return fmt.Sprintf("PasswordReset{ID:%s UserID:%s Token:%s}", r.ID, r.UserID, redacted)
}

// BeforeSave digests a plaintext token set on the value and clears it.
func (r *PasswordReset) BeforeSave(tx *gorm.DB) error {
	digestInto(&r.Token, &r.TokenHash)
	return nil
}

// BeforeCreate assigns the id and refuses a row without its digest.
func (r *PasswordReset) BeforeCreate(tx *gorm.DB) error { return createToken(&r.ID, r.TokenHash) }
