package models

import (
	"fmt"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/schema"
)

// The values of Client.TokenEndpointAuthMethod (RFC 7591 2) and
// Client.AccessTokenType.
const (
	AuthMethodBasic = "client_secret_basic"
	AuthMethodPost  = "client_secret_post"
	AuthMethodNone  = "none"
	// AccessTokenJWT is a JWT access token (RFC 9068); the default.
	AccessTokenJWT = "jwt"
	// AccessTokenOpaque is an OpenID provider's opaque bearer token.
	AccessTokenOpaque = "opaque"
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
	Secret               string  `gorm:"-" json:"-"`
	RedirectURIs         Strings `gorm:"column:redirect_uris;not null" json:"redirect_uris"`
	GrantTypes           Strings `gorm:"not null" json:"grant_types"`
	Scopes               Strings `gorm:"not null" json:"scopes"`
	Confidential         bool    `gorm:"not null" json:"confidential"`
	PersonalAccessClient bool    `gorm:"not null" json:"personal_access_client"`
	Revoked              bool    `gorm:"not null" json:"revoked"`
	// The metadata an OpenID provider reads (package oidcstore); NULL in
	// rows written before migration 000006, which read as the defaults.
	//
	// ResponseTypes are the authorize response types the client may ask
	// for; empty means ["code"].
	ResponseTypes Strings `json:"response_types"`
	// TokenEndpointAuthMethod is client_secret_basic, client_secret_post or
	// none; nil means client_secret_basic for a confidential client and
	// none for a public one.
	TokenEndpointAuthMethod *string `json:"token_endpoint_auth_method,omitempty"`
	// AccessTokenType is "jwt" or "opaque" (the provider's encrypted bearer
	// token); nil means jwt.
	AccessTokenType *string `json:"access_token_type,omitempty"`
	// PostLogoutRedirectURIs are where the end-session endpoint may send
	// the browser back to; matched exactly.
	PostLogoutRedirectURIs Strings `gorm:"column:post_logout_redirect_uris" json:"post_logout_redirect_uris"`
	// Audiences are further audiences of the client's access tokens
	// (besides its own id), such as resource servers that introspect them.
	Audiences Strings `json:"audiences"`
	// IDTokenLifetime is the ID token's lifetime in seconds; nil means the
	// access token's.
	IDTokenLifetime *int64    `json:"id_token_lifetime,omitempty"`
	CreatedAt       time.Time `gorm:"not null" json:"created_at"`
	UpdatedAt       time.Time `gorm:"not null" json:"updated_at"`
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
