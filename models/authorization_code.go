package models

import (
	"fmt"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/schema"
)

// AuthorizationCode is an authorization code with its PKCE challenge (table
// oauth_authorization_codes).
type AuthorizationCode struct {
	ID                  UUID       `gorm:"primaryKey;not null" json:"id"`
	CodeHash            string     `gorm:"not null;uniqueIndex" json:"-"`
	Code                string     `gorm:"-" json:"-"`
	ClientID            UUID       `gorm:"not null;index" json:"client_id"`
	Client              *Client    `gorm:"constraint:OnDelete:CASCADE" json:"-"`
	UserID              UUID       `gorm:"not null;index" json:"user_id"`
	User                *User      `gorm:"constraint:OnDelete:CASCADE" json:"-"`
	Scopes              Strings    `gorm:"not null" json:"scopes"`
	RedirectURI         string     `gorm:"column:redirect_uri;not null" json:"redirect_uri"`
	CodeChallenge       *string    `json:"-"`
	CodeChallengeMethod *string    `json:"code_challenge_method,omitempty"`
	UsedAt              *time.Time `json:"used_at,omitempty"`
	Revoked             bool       `gorm:"not null" json:"revoked"`
	ExpiresAt           time.Time  `gorm:"not null;index" json:"expires_at"`
	CreatedAt           time.Time  `gorm:"not null" json:"created_at"`
}

// TableName returns "oauth_authorization_codes", with the prefix and schema of a
// Store's tables (see Namer).
func (AuthorizationCode) TableName(n schema.Namer) string {
	return tableName(n, "oauth_authorization_codes")
}

// String describes the code without its value.
func (c AuthorizationCode) String() string {
	return fmt.Sprintf("AuthorizationCode{ID:%s ClientID:%s Code:%s}", c.ID, c.ClientID, redacted)
}

// BeforeSave digests a plaintext code set on the value and clears it.
func (c *AuthorizationCode) BeforeSave(tx *gorm.DB) error {
	digestInto(&c.Code, &c.CodeHash)
	return nil
}

// BeforeCreate assigns the id and refuses a row without its digest.
func (c *AuthorizationCode) BeforeCreate(tx *gorm.DB) error { return createToken(&c.ID, c.CodeHash) }
