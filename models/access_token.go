package models

import (
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/schema"
)

// AccessToken tracks an issued JWT access token by its jti (table
// oauth_access_tokens). The JWT itself is never stored; the row lets a token
// be revoked before its exp, and outlives that exp.
type AccessToken struct {
	ID       UUID    `gorm:"primaryKey;not null" json:"id"`
	ClientID UUID    `gorm:"not null;index" json:"client_id"`
	Client   *Client `gorm:"constraint:OnDelete:CASCADE" json:"-"`
	UserID   *UUID   `gorm:"index" json:"user_id,omitempty"`
	User     *User   `gorm:"constraint:OnDelete:CASCADE" json:"-"`
	// FamilyID is the grant the token belongs to (the refresh-token family),
	// so revoking the grant reaches its access tokens.
	FamilyID  *UUID     `gorm:"index" json:"family_id,omitempty"`
	Name      string    `gorm:"not null" json:"name"`
	Scopes    Strings   `gorm:"not null" json:"scopes"`
	Revoked   bool      `gorm:"not null" json:"revoked"`
	ExpiresAt time.Time `gorm:"not null;index" json:"expires_at"`
	CreatedAt time.Time `gorm:"not null" json:"created_at"`
	UpdatedAt time.Time `gorm:"not null" json:"updated_at"`
}

// TableName returns "oauth_access_tokens", with the prefix and schema of a
// Store's tables (see Namer).
func (AccessToken) TableName(n schema.Namer) string { return tableName(n, "oauth_access_tokens") }

// BeforeCreate assigns the id (the JWT's jti) if it is not set. The row
// holds no secret: the JWT is never stored.
func (t *AccessToken) BeforeCreate(tx *gorm.DB) error {
	ensureID(&t.ID)
	return nil
}
