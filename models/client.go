package models

import (
	"fmt"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/schema"
)

// Client is an OAuth2 client application (table oauth_clients). A
// confidential client has an Argon2id secret; a public client has none.
type Client struct {
	ID     UUID   `gorm:"primaryKey;not null" json:"id"`
	UserID *UUID  `gorm:"index" json:"user_id,omitempty"`
	User   *User  `gorm:"constraint:OnDelete:CASCADE" json:"-"`
	Name   string `gorm:"not null" json:"name"`
	// SecretHash is the Argon2id PHC string of the secret; nil for a public
	// client.
	SecretHash *string `gorm:"column:secret" json:"-"`
	// Secret is a write-only plaintext: the BeforeSave hook hashes it.
	Secret               string    `gorm:"-" json:"-"`
	RedirectURIs         Strings   `gorm:"column:redirect_uris;not null" json:"redirect_uris"`
	GrantTypes           Strings   `gorm:"not null" json:"grant_types"`
	Scopes               Strings   `gorm:"not null" json:"scopes"`
	Confidential         bool      `gorm:"not null" json:"confidential"`
	PersonalAccessClient bool      `gorm:"not null" json:"personal_access_client"`
	Revoked              bool      `gorm:"not null" json:"revoked"`
	CreatedAt            time.Time `gorm:"not null" json:"created_at"`
	UpdatedAt            time.Time `gorm:"not null" json:"updated_at"`
}

// TableName returns "oauth_clients", with the prefix and schema of a
// Store's tables (see Namer).
func (Client) TableName(n schema.Namer) string { return tableName(n, "oauth_clients") }

// String describes the client without its secret.
func (c Client) String() string {
	return fmt.Sprintf("Client{ID:%s Name:%q Confidential:%t Secret:%s Revoked:%t}", c.ID, c.Name, c.Confidential, redacted, c.Revoked)
}

// BeforeSave hashes a plaintext Secret set on the value (with the
// session's hasher, see WithHasher) and clears it.
func (c *Client) BeforeSave(tx *gorm.DB) error {
	if c.Secret == "" {
		return nil
	}
	h, err := hasherOf(tx).Hash(c.Secret)
	if err != nil {
		return err
	}
	c.SecretHash, c.Secret = &h, ""
	return nil
}

// BeforeCreate assigns the id.
func (c *Client) BeforeCreate(tx *gorm.DB) error {
	ensureID(&c.ID)
	return nil
}
