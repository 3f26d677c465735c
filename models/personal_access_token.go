package models

import (
	"fmt"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/schema"
)

// PersonalAccessToken is a long-lived token a user makes for scripts (table
// oauth_personal_access_tokens). Prefix is the recognisable start of the
// token kept for display.
type PersonalAccessToken struct {
	ID         UUID       `gorm:"primaryKey;not null" json:"id"`
	UserID     UUID       `gorm:"not null;index" json:"user_id"`
	User       *User      `gorm:"constraint:OnDelete:CASCADE" json:"-"`
	Name       string     `gorm:"not null" json:"name"`
	TokenHash  string     `gorm:"not null;uniqueIndex" json:"-"`
	Token      string     `gorm:"-" json:"-"`
	Prefix     string     `gorm:"not null" json:"prefix"`
	Scopes     Strings    `gorm:"not null" json:"scopes"`
	LastUsedAt *time.Time `json:"last_used_at,omitempty"`
	Revoked    bool       `gorm:"not null" json:"revoked"`
	ExpiresAt  *time.Time `gorm:"index" json:"expires_at,omitempty"`
	CreatedAt  time.Time  `gorm:"not null" json:"created_at"`
	UpdatedAt  time.Time  `gorm:"not null" json:"updated_at"`
}

// TableName returns "oauth_personal_access_tokens", with the prefix and schema of a
// Store's tables (see Namer).
func (PersonalAccessToken) TableName(n schema.Namer) string {
	return tableName(n, "oauth_personal_access_tokens")
}

// String describes the token without its value.
func (t PersonalAccessToken) String() string {
	return fmt.Sprintf("PersonalAccessToken{ID:%s UserID:%s Prefix:%q Token:%s}", t.ID, t.UserID, t.Prefix, redacted)
}

// BeforeSave digests a plaintext token set on the value and clears it.
func (t *PersonalAccessToken) BeforeSave(tx *gorm.DB) error {
	digestInto(&t.Token, &t.TokenHash)
	return nil
}

// BeforeCreate assigns the id and refuses a row without its digest.
func (t *PersonalAccessToken) BeforeCreate(tx *gorm.DB) error {
	return createToken(&t.ID, t.TokenHash)
}
