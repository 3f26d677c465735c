package models

import (
	"fmt"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/schema"
)

// RefreshToken is one link of a refresh-token family (table
// oauth_refresh_tokens). Rotation marks it used and issues a child with the
// same FamilyID (and the same AuthTime and AMR); presenting a used token
// revokes the family.
type RefreshToken struct {
	ID        UUID   `gorm:"primaryKey;not null" json:"id"`
	TokenHash string `gorm:"not null;uniqueIndex" json:"-"`
	Token     string `gorm:"-" json:"-"`
	// AccessTokenID is the access token issued with this refresh token.
	AccessTokenID *UUID        `gorm:"index" json:"access_token_id,omitempty"`
	AccessToken   *AccessToken `gorm:"constraint:OnDelete:SET NULL" json:"-"`
	FamilyID      UUID         `gorm:"not null;index" json:"family_id"`
	ParentID      *UUID        `gorm:"index" json:"parent_id,omitempty"`
	ClientID      UUID         `gorm:"not null;index" json:"client_id"`
	Client        *Client      `gorm:"constraint:OnDelete:CASCADE" json:"-"`
	UserID        *UUID        `gorm:"index" json:"user_id,omitempty"`
	User          *User        `gorm:"constraint:OnDelete:CASCADE" json:"-"`
	Scopes        Strings      `gorm:"not null" json:"scopes"`
	UsedAt        *time.Time   `json:"used_at,omitempty"`
	Revoked       bool         `gorm:"not null" json:"revoked"`
	ExpiresAt     time.Time    `gorm:"not null;index" json:"expires_at"`
	CreatedAt     time.Time    `gorm:"not null" json:"created_at"`
	// AuthTime is when the person logged in for the grant: the auth time of
	// the authorization request whose code started the family (OpenID
	// Connect Core 12.2: a refreshed ID token's auth_time is the original
	// login's). Rotation copies it to the child. It is nil for a grant
	// without a login (RefreshTokens.Issue, AuthCodes.Exchange) and for rows
	// written before migration 000009.
	AuthTime *time.Time `json:"auth_time,omitempty"`
	// AMR is how the person logged in for the grant (RFC 8176 values such
	// as "pwd", "otp"), copied from the authorization request like
	// AuthTime and unchanged by rotation. It is empty for a grant without a
	// login (stored as []), and NULL, read as nil, in rows written before
	// migration 000009.
	AMR Strings `gorm:"column:amr" json:"amr,omitempty"`
}

// TableName returns "oauth_refresh_tokens", with the prefix and schema of a
// Store's tables (see Namer).
func (RefreshToken) TableName(n schema.Namer) string { return tableName(n, "oauth_refresh_tokens") }

// String describes the refresh token without its value.
func (t RefreshToken) String() string {
	return fmt.Sprintf("RefreshToken{ID:%s FamilyID:%s Token:%s}", t.ID, t.FamilyID, redacted)
}

// BeforeSave digests a plaintext token set on the value and clears it.
func (t *RefreshToken) BeforeSave(tx *gorm.DB) error {
	digestInto(&t.Token, &t.TokenHash)
	return nil
}

// BeforeCreate assigns the id, and the family of a first token, and
// refuses a row without its digest.
func (t *RefreshToken) BeforeCreate(tx *gorm.DB) error {
	err := createToken(&t.ID, t.TokenHash)
	if t.FamilyID == "" {
		t.FamilyID = t.ID
	}
	return err
}
