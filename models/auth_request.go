package models

import (
	"fmt"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/schema"
)

// AuthRequest is a pending OpenID Connect authorization request of the
// provider adapter (table oauth_auth_requests, package oidcstore): what the
// client asked for at the authorize endpoint, then who logged in and when,
// then the digest of the code issued for it. The code is redeemed once
// (UsedAt); a redeemed request is kept until it expires, so that a replayed
// code is told from an unknown one and revokes what the first redemption
// issued (the tokens of the family whose id is the request's).
type AuthRequest struct {
	ID       UUID    `gorm:"primaryKey;not null" json:"id"`
	ClientID UUID    `gorm:"not null;index" json:"client_id"`
	Client   *Client `gorm:"constraint:OnDelete:CASCADE" json:"-"`
	// RedirectURI is the registered URI the code goes to.
	RedirectURI string  `gorm:"column:redirect_uri;not null" json:"redirect_uri"`
	Scopes      Strings `gorm:"not null" json:"scopes"`
	// State is the client's opaque value, returned with the code.
	State string `gorm:"not null" json:"-"`
	// Nonce is the client's value for the ID token (OpenID Connect Core
	// 3.1.2.1).
	Nonce        string `gorm:"not null" json:"-"`
	ResponseType string `gorm:"not null" json:"response_type"`
	ResponseMode string `gorm:"not null" json:"response_mode"`
	// CodeChallenge and CodeChallengeMethod are the PKCE parameters (RFC
	// 7636); the method is S256 when a challenge is set.
	CodeChallenge       *string `json:"-"`
	CodeChallengeMethod *string `json:"code_challenge_method,omitempty"`
	// Prompt and MaxAge are the OpenID Connect prompt values and max_age in
	// seconds (nil when not asked).
	Prompt    Strings `gorm:"not null" json:"prompt"`
	MaxAge    *int64  `json:"max_age,omitempty"`
	LoginHint string  `gorm:"not null" json:"-"`
	// UserID, AuthTime and AMR say who logged in, when and how; Done is set
	// with them.
	UserID   *UUID      `gorm:"index" json:"user_id,omitempty"`
	User     *User      `gorm:"constraint:OnDelete:CASCADE" json:"-"`
	AuthTime *time.Time `json:"auth_time,omitempty"`
	AMR      Strings    `gorm:"column:amr;not null" json:"amr"`
	Done     bool       `gorm:"not null" json:"done"`
	// CodeHash is the SHA-256 digest of the code issued for the request;
	// nil until one is.
	CodeHash *string `gorm:"uniqueIndex" json:"-"`
	// UsedAt is when the code was redeemed, and the request's tokens
	// issued.
	UsedAt  *time.Time `json:"used_at,omitempty"`
	Revoked bool       `gorm:"not null" json:"revoked"`
	// ExpiresAt ends the login first, then, once a code is issued, the
	// code (OAUTH_AUTH_CODE_LIFETIME).
	ExpiresAt time.Time `gorm:"not null;index" json:"expires_at"`
	CreatedAt time.Time `gorm:"not null" json:"created_at"`
}

// TableName returns "oauth_auth_requests", with the prefix and schema of a
// Store's tables (see Namer).
func (AuthRequest) TableName(n schema.Namer) string { return tableName(n, "oauth_auth_requests") }

// String describes the request without its state, nonce, PKCE challenge or
// code.
func (a AuthRequest) String() string {
	return fmt.Sprintf("AuthRequest{ID:%s ClientID:%s Done:%t Code:%s}", a.ID, a.ClientID, a.Done, redacted)
}

// BeforeCreate assigns the id.
func (a *AuthRequest) BeforeCreate(tx *gorm.DB) error {
	ensureID(&a.ID)
	return nil
}
