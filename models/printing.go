package models

// Printing: every model that holds a secret (a plaintext written through a
// gorm:"-" field, a hash, a digest, a two-factor secret) prints redacted
// under every verb. String (declared beside each model) describes it
// briefly; GoString prints every field, the secrets masked; Format makes
// every verb print one of the two. JSON needs nothing: secret fields are
// tagged json:"-". See package internal/redact for what fmt cannot be
// kept from.

import (
	"fmt"

	"github.com/forgeauth/authstore/internal/redact"
)

// Each *Fields type is its model without methods: the masked copy that
// GoString prints.
type (
	userFields                User
	clientFields              Client
	sessionFields             Session
	passwordResetFields       PasswordReset
	emailVerificationFields   EmailVerification
	refreshTokenFields        RefreshToken
	authorizationCodeFields   AuthorizationCode
	personalAccessTokenFields PersonalAccessToken
	signingKeyFields          SigningKey
	recoveryCodeFields        RecoveryCode
	challengeFields           TwoFactorChallenge
)

// GoString returns u as a Go composite literal with its password,
// password hash and two-factor secrets masked.
func (u User) GoString() string {
	u.Password, u.PasswordHash = redact.String(u.Password), redact.String(u.PasswordHash)
	u.TwoFactorSecret, u.TwoFactorRecoveryCodes = redact.Pointer(u.TwoFactorSecret), redact.Pointer(u.TwoFactorRecoveryCodes)
	return redact.GoSyntax("models.User", userFields(u))
}

// Format implements fmt.Formatter: %#v prints u.GoString(), every other
// verb u.String(), so that no verb prints a secret.
func (u User) Format(f fmt.State, verb rune) { redact.Format(f, verb, u.String(), u.GoString()) }

// GoString returns c as a Go composite literal with its secret and secret
// hash masked.
func (c Client) GoString() string {
	c.Secret, c.SecretHash = redact.String(c.Secret), redact.Pointer(c.SecretHash)
	return redact.GoSyntax("models.Client", clientFields(c))
}

// Format implements fmt.Formatter: %#v prints c.GoString(), every other
// verb c.String().
func (c Client) Format(f fmt.State, verb rune) { redact.Format(f, verb, c.String(), c.GoString()) }

// GoString returns s as a Go composite literal with its token and digest
// masked.
func (s Session) GoString() string {
	s.Token, s.TokenHash = redact.String(s.Token), redact.String(s.TokenHash)
	return redact.GoSyntax("models.Session", sessionFields(s))
}

// Format implements fmt.Formatter: %#v prints s.GoString(), every other
// verb s.String().
func (s Session) Format(f fmt.State, verb rune) { redact.Format(f, verb, s.String(), s.GoString()) }

// GoString returns r as a Go composite literal with its token and digest
// masked.
func (r PasswordReset) GoString() string {
	r.Token, r.TokenHash = redact.String(r.Token), redact.String(r.TokenHash)
	return redact.GoSyntax("models.PasswordReset", passwordResetFields(r))
}

// Format implements fmt.Formatter: %#v prints r.GoString(), every other
// verb r.String().
func (r PasswordReset) Format(f fmt.State, verb rune) {
	redact.Format(f, verb, r.String(), r.GoString())
}

// GoString returns v as a Go composite literal with its token and digest
// masked.
func (v EmailVerification) GoString() string {
	v.Token, v.TokenHash = redact.String(v.Token), redact.String(v.TokenHash)
	return redact.GoSyntax("models.EmailVerification", emailVerificationFields(v))
}

// Format implements fmt.Formatter: %#v prints v.GoString(), every other
// verb v.String().
func (v EmailVerification) Format(f fmt.State, verb rune) {
	redact.Format(f, verb, v.String(), v.GoString())
}

// GoString returns t as a Go composite literal with its token and digest
// masked.
func (t RefreshToken) GoString() string {
	t.Token, t.TokenHash = redact.String(t.Token), redact.String(t.TokenHash)
	return redact.GoSyntax("models.RefreshToken", refreshTokenFields(t))
}

// Format implements fmt.Formatter: %#v prints t.GoString(), every other
// verb t.String().
func (t RefreshToken) Format(f fmt.State, verb rune) {
	redact.Format(f, verb, t.String(), t.GoString())
}

// GoString returns c as a Go composite literal with its code and digest
// masked. The PKCE challenge is printed: it is public (the authorization
// request carries it).
func (c AuthorizationCode) GoString() string {
	c.Code, c.CodeHash = redact.String(c.Code), redact.String(c.CodeHash)
	return redact.GoSyntax("models.AuthorizationCode", authorizationCodeFields(c))
}

// Format implements fmt.Formatter: %#v prints c.GoString(), every other
// verb c.String().
func (c AuthorizationCode) Format(f fmt.State, verb rune) {
	redact.Format(f, verb, c.String(), c.GoString())
}

// GoString returns t as a Go composite literal with its token and digest
// masked; Prefix, the display prefix, is printed.
func (t PersonalAccessToken) GoString() string {
	t.Token, t.TokenHash = redact.String(t.Token), redact.String(t.TokenHash)
	return redact.GoSyntax("models.PersonalAccessToken", personalAccessTokenFields(t))
}

// Format implements fmt.Formatter: %#v prints t.GoString(), every other
// verb t.String().
func (t PersonalAccessToken) Format(f fmt.State, verb rune) {
	redact.Format(f, verb, t.String(), t.GoString())
}

// GoString returns k as a Go composite literal with its private key (a
// ciphertext, masked all the same) left out.
func (k SigningKey) GoString() string {
	k.PrivateKey = redact.String(k.PrivateKey)
	return redact.GoSyntax("models.SigningKey", signingKeyFields(k))
}

// Format implements fmt.Formatter: %#v prints k.GoString(), every other
// verb k.String().
func (k SigningKey) Format(f fmt.State, verb rune) { redact.Format(f, verb, k.String(), k.GoString()) }

// GoString returns c as a Go composite literal with its digest masked.
func (c RecoveryCode) GoString() string {
	c.CodeHash = redact.String(c.CodeHash)
	return redact.GoSyntax("models.RecoveryCode", recoveryCodeFields(c))
}

// Format implements fmt.Formatter: %#v prints c.GoString(), every other
// verb c.String().
func (c RecoveryCode) Format(f fmt.State, verb rune) {
	redact.Format(f, verb, c.String(), c.GoString())
}

// GoString returns c as a Go composite literal with its token and digest
// masked.
func (c TwoFactorChallenge) GoString() string {
	c.Token, c.TokenHash = redact.String(c.Token), redact.String(c.TokenHash)
	return redact.GoSyntax("models.TwoFactorChallenge", challengeFields(c))
}

// Format implements fmt.Formatter: %#v prints c.GoString(), every other
// verb c.String().
func (c TwoFactorChallenge) Format(f fmt.State, verb rune) {
	redact.Format(f, verb, c.String(), c.GoString())
}
