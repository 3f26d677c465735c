// Package models holds authstore's ten GORM models, their table names and
// their hook methods.
//
// Secrets are written through fields tagged gorm:"-" (User.Password,
// Client.Secret, Session.Token, ...). A hook hashes or digests a plaintext
// that is set and clears it, so a loaded row is never hashed twice. Secret
// fields, plaintext or hashed, never serialise to JSON and are redacted by
// String.
package models

import (
	"fmt"
	"time"
)

// User is an account (table users). Email uniqueness is case-insensitive
// through EmailNormalized, which has a plain unique index.
type User struct {
	ID              UUID   `gorm:"primaryKey;not null" json:"id"`
	Name            string `gorm:"not null" json:"name"`
	Email           string `gorm:"not null" json:"email"`
	EmailNormalized string `gorm:"not null;uniqueIndex" json:"-"`
	// PasswordHash is the Argon2id PHC string (or an imported bcrypt hash).
	PasswordHash string `gorm:"column:password;not null" json:"-"`
	// Password is a write-only plaintext: the BeforeSave hook hashes it into
	// PasswordHash and clears it.
	Password               string     `gorm:"-" json:"-"`
	EmailVerifiedAt        *time.Time `json:"email_verified_at,omitempty"`
	TwoFactorSecret        *string    `json:"-"`
	TwoFactorRecoveryCodes *string    `json:"-"`
	TwoFactorConfirmedAt   *time.Time `json:"two_factor_confirmed_at,omitempty"`
	// FailedLogins counts failed logins since the last success; it is
	// incremented atomically in SQL.
	FailedLogins      int64      `gorm:"not null;default:0" json:"failed_logins"`
	LastFailedLoginAt *time.Time `json:"last_failed_login_at,omitempty"`
	CreatedAt         time.Time  `gorm:"not null;index" json:"created_at"`
	UpdatedAt         time.Time  `gorm:"not null" json:"updated_at"`

	// passwordSet tells AfterUpdate that BeforeSave hashed a new password.
	passwordSet bool
}

// TableName returns "users".
func (User) TableName() string { return "users" }

// String describes the user without its password hash or two-factor secrets.
func (u User) String() string {
	return fmt.Sprintf("User{ID:%s Name:%q Email:%q Password:%s}", u.ID, u.Name, u.Email, redacted)
}

// Session is a login session (table sessions). Its token is stored as a
// SHA-256 digest; the plaintext goes back to the caller once.
type Session struct {
	ID     UUID  `gorm:"primaryKey;not null" json:"id"`
	UserID UUID  `gorm:"not null;index" json:"user_id"`
	User   *User `gorm:"constraint:OnDelete:CASCADE" json:"-"`
	// TokenHash is the SHA-256 digest of the session token.
	TokenHash string `gorm:"not null;uniqueIndex" json:"-"`
	// Token is a write-only plaintext: the BeforeCreate hook digests it.
	Token          string    `gorm:"-" json:"-"`
	IPAddress      string    `gorm:"not null" json:"ip_address"`
	UserAgent      string    `gorm:"not null" json:"user_agent"`
	Remember       bool      `gorm:"not null" json:"remember"`
	LastActivityAt time.Time `gorm:"not null;index" json:"last_activity_at"`
	// ExpiresAt is the absolute limit of the session.
	ExpiresAt time.Time `gorm:"not null;index" json:"expires_at"`
	CreatedAt time.Time `gorm:"not null" json:"created_at"`
}

// TableName returns "sessions".
func (Session) TableName() string { return "sessions" }

// String describes the session without its token.
func (s Session) String() string {
	return fmt.Sprintf("Session{ID:%s UserID:%s Token:%s ExpiresAt:%s}", s.ID, s.UserID, redacted, s.ExpiresAt.Format(time.RFC3339))
}

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

// TableName returns "password_resets".
func (PasswordReset) TableName() string { return "password_resets" }

// String describes the reset without its token.
func (r PasswordReset) String() string {
	return fmt.Sprintf("PasswordReset{ID:%s UserID:%s Token:%s}", r.ID, r.UserID, redacted)
}

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

// TableName returns "email_verifications".
func (EmailVerification) TableName() string { return "email_verifications" }

// String describes the verification without its token.
func (v EmailVerification) String() string {
	return fmt.Sprintf("EmailVerification{ID:%s UserID:%s Email:%q Token:%s}", v.ID, v.UserID, v.Email, redacted)
}

// Activity is one row of the append-only audit trail (table
// user_activity_log). Its user reference is set to NULL when the user is
// deleted: the trail outlives the user.
type Activity struct {
	ID        int64  `gorm:"primaryKey;autoIncrement;not null" json:"id"`
	UserID    *UUID  `gorm:"index" json:"user_id,omitempty"`
	User      *User  `gorm:"constraint:OnDelete:SET NULL" json:"-"`
	Event     string `gorm:"not null;index" json:"event"`
	IPAddress string `gorm:"not null" json:"ip_address"`
	UserAgent string `gorm:"not null" json:"user_agent"`
	// Metadata is a JSON object of event details; it never holds a secret.
	Metadata  string    `gorm:"not null" json:"metadata"`
	CreatedAt time.Time `gorm:"not null;index" json:"created_at"`
}

// TableName returns "user_activity_log".
func (Activity) TableName() string { return "user_activity_log" }

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

// TableName returns "oauth_clients".
func (Client) TableName() string { return "oauth_clients" }

// String describes the client without its secret.
func (c Client) String() string {
	return fmt.Sprintf("Client{ID:%s Name:%q Confidential:%t Secret:%s Revoked:%t}", c.ID, c.Name, c.Confidential, redacted, c.Revoked)
}

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

// TableName returns "oauth_access_tokens".
func (AccessToken) TableName() string { return "oauth_access_tokens" }

// RefreshToken is one link of a refresh-token family (table
// oauth_refresh_tokens). Rotation marks it used and issues a child with the
// same FamilyID; presenting a used token revokes the family.
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
}

// TableName returns "oauth_refresh_tokens".
func (RefreshToken) TableName() string { return "oauth_refresh_tokens" }

// String describes the refresh token without its value.
func (t RefreshToken) String() string {
	return fmt.Sprintf("RefreshToken{ID:%s FamilyID:%s Token:%s}", t.ID, t.FamilyID, redacted)
}

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

// TableName returns "oauth_authorization_codes".
func (AuthorizationCode) TableName() string { return "oauth_authorization_codes" }

// String describes the code without its value.
func (c AuthorizationCode) String() string {
	return fmt.Sprintf("AuthorizationCode{ID:%s ClientID:%s Code:%s}", c.ID, c.ClientID, redacted)
}

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

// TableName returns "oauth_personal_access_tokens".
func (PersonalAccessToken) TableName() string { return "oauth_personal_access_tokens" }

// String describes the token without its value.
func (t PersonalAccessToken) String() string {
	return fmt.Sprintf("PersonalAccessToken{ID:%s UserID:%s Prefix:%q Token:%s}", t.ID, t.UserID, t.Prefix, redacted)
}

const redacted = "[redacted]"

// All returns one value of each model, ordered so that foreign keys resolve
// (users first).
func All() []any {
	return []any{
		&User{}, &Session{}, &PasswordReset{}, &EmailVerification{}, &Activity{},
		&Client{}, &AccessToken{}, &RefreshToken{}, &AuthorizationCode{}, &PersonalAccessToken{},
	}
}
