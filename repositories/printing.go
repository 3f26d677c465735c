package repositories

// Printing: no value of this package prints a secret, under any verb.
//
// A repository holds the Store's configuration (the JWT secret, the
// DATABASE_URL and its password) in unexported fields, which fmt would
// walk without asking the configuration to redact itself; it prints as
// its type's name alone, under every verb and in slog. The values calls
// take or return that hold a secret (UserInput's passwords, TokenPair's
// tokens, the hashes of ImportUser and ImportClient) print and marshal to
// JSON with it masked. See package internal/redact for what fmt cannot be
// kept from.

import (
	"encoding/json"
	"fmt"
	"log/slog"

	"github.com/forgeauth/authstore/internal/redact"
)

// repository returns how a repository of type name prints.
func repository(name string) string { return "repositories." + name + "{" + redact.Mask + "}" }

// String returns the repository's type name: it holds the configuration.
func (r Users) String() string { return repository("Users") }

// GoString is String.
func (r Users) GoString() string { return r.String() }

// Format implements fmt.Formatter: every verb prints r.String().
func (r Users) Format(f fmt.State, verb rune) { redact.Format(f, verb, r.String(), r.GoString()) }

// LogValue implements slog.LogValuer: r.String().
func (r Users) LogValue() slog.Value { return slog.StringValue(r.String()) }

// String returns the repository's type name: it holds the configuration.
func (r Sessions) String() string { return repository("Sessions") }

// GoString is String.
func (r Sessions) GoString() string { return r.String() }

// Format implements fmt.Formatter: every verb prints r.String().
func (r Sessions) Format(f fmt.State, verb rune) { redact.Format(f, verb, r.String(), r.GoString()) }

// LogValue implements slog.LogValuer: r.String().
func (r Sessions) LogValue() slog.Value { return slog.StringValue(r.String()) }

// String returns the repository's type name: it holds the configuration.
func (r PasswordResets) String() string { return repository("PasswordResets") }

// GoString is String.
func (r PasswordResets) GoString() string { return r.String() }

// Format implements fmt.Formatter: every verb prints r.String().
func (r PasswordResets) Format(f fmt.State, verb rune) {
	redact.Format(f, verb, r.String(), r.GoString())
}

// LogValue implements slog.LogValuer: r.String().
func (r PasswordResets) LogValue() slog.Value { return slog.StringValue(r.String()) }

// String returns the repository's type name: it holds the configuration.
func (r EmailVerifications) String() string { return repository("EmailVerifications") }

// GoString is String.
func (r EmailVerifications) GoString() string { return r.String() }

// Format implements fmt.Formatter: every verb prints r.String().
func (r EmailVerifications) Format(f fmt.State, verb rune) {
	redact.Format(f, verb, r.String(), r.GoString())
}

// LogValue implements slog.LogValuer: r.String().
func (r EmailVerifications) LogValue() slog.Value { return slog.StringValue(r.String()) }

// String returns the repository's type name: it holds the configuration.
func (r ActivityLog) String() string { return repository("ActivityLog") }

// GoString is String.
func (r ActivityLog) GoString() string { return r.String() }

// Format implements fmt.Formatter: every verb prints r.String().
func (r ActivityLog) Format(f fmt.State, verb rune) { redact.Format(f, verb, r.String(), r.GoString()) }

// LogValue implements slog.LogValuer: r.String().
func (r ActivityLog) LogValue() slog.Value { return slog.StringValue(r.String()) }

// String returns the repository's type name: it holds the configuration.
func (c Cleanup) String() string { return repository("Cleanup") }

// GoString is String.
func (c Cleanup) GoString() string { return c.String() }

// Format implements fmt.Formatter: every verb prints c.String().
func (c Cleanup) Format(f fmt.State, verb rune) { redact.Format(f, verb, c.String(), c.GoString()) }

// LogValue implements slog.LogValuer: c.String().
func (c Cleanup) LogValue() slog.Value { return slog.StringValue(c.String()) }

// String returns the repository's type name: it holds the configuration.
func (r Clients) String() string { return repository("Clients") }

// GoString is String.
func (r Clients) GoString() string { return r.String() }

// Format implements fmt.Formatter: every verb prints r.String().
func (r Clients) Format(f fmt.State, verb rune) { redact.Format(f, verb, r.String(), r.GoString()) }

// LogValue implements slog.LogValuer: r.String().
func (r Clients) LogValue() slog.Value { return slog.StringValue(r.String()) }

// String returns the repository's type name: it holds the configuration.
func (r AccessTokens) String() string { return repository("AccessTokens") }

// GoString is String.
func (r AccessTokens) GoString() string { return r.String() }

// Format implements fmt.Formatter: every verb prints r.String().
func (r AccessTokens) Format(f fmt.State, verb rune) {
	redact.Format(f, verb, r.String(), r.GoString())
}

// LogValue implements slog.LogValuer: r.String().
func (r AccessTokens) LogValue() slog.Value { return slog.StringValue(r.String()) }

// String returns the repository's type name: it holds the configuration.
func (r RefreshTokens) String() string { return repository("RefreshTokens") }

// GoString is String.
func (r RefreshTokens) GoString() string { return r.String() }

// Format implements fmt.Formatter: every verb prints r.String().
func (r RefreshTokens) Format(f fmt.State, verb rune) {
	redact.Format(f, verb, r.String(), r.GoString())
}

// LogValue implements slog.LogValuer: r.String().
func (r RefreshTokens) LogValue() slog.Value { return slog.StringValue(r.String()) }

// String returns the repository's type name: it holds the configuration.
func (r AuthCodes) String() string { return repository("AuthCodes") }

// GoString is String.
func (r AuthCodes) GoString() string { return r.String() }

// Format implements fmt.Formatter: every verb prints r.String().
func (r AuthCodes) Format(f fmt.State, verb rune) { redact.Format(f, verb, r.String(), r.GoString()) }

// LogValue implements slog.LogValuer: r.String().
func (r AuthCodes) LogValue() slog.Value { return slog.StringValue(r.String()) }

// String returns the repository's type name: it holds the configuration.
func (r PersonalTokens) String() string { return repository("PersonalTokens") }

// GoString is String.
func (r PersonalTokens) GoString() string { return r.String() }

// Format implements fmt.Formatter: every verb prints r.String().
func (r PersonalTokens) Format(f fmt.State, verb rune) {
	redact.Format(f, verb, r.String(), r.GoString())
}

// LogValue implements slog.LogValuer: r.String().
func (r PersonalTokens) LogValue() slog.Value { return slog.StringValue(r.String()) }

// String returns the repository's type name: it holds the configuration.
func (g Grants) String() string { return repository("Grants") }

// GoString is String.
func (g Grants) GoString() string { return g.String() }

// Format implements fmt.Formatter: every verb prints g.String().
func (g Grants) Format(f fmt.State, verb rune) { redact.Format(f, verb, g.String(), g.GoString()) }

// LogValue implements slog.LogValuer: g.String().
func (g Grants) LogValue() slog.Value { return slog.StringValue(g.String()) }

// String returns the repository's type name: it holds the configuration.
func (t Tokens) String() string { return repository("Tokens") }

// GoString is String.
func (t Tokens) GoString() string { return t.String() }

// Format implements fmt.Formatter: every verb prints t.String().
func (t Tokens) Format(f fmt.State, verb rune) { redact.Format(f, verb, t.String(), t.GoString()) }

// LogValue implements slog.LogValuer: t.String().
func (t Tokens) LogValue() slog.Value { return slog.StringValue(t.String()) }

// Each *Fields type is its type without methods: the masked copy that
// String, GoString and MarshalJSON print.
type (
	userInputFields    UserInput
	importUserFields   ImportUser
	importClientFields ImportClient
	tokenPairFields    TokenPair
)

func (in UserInput) masked() userInputFields {
	in.Password, in.PasswordConfirmation = redact.String(in.Password), redact.String(in.PasswordConfirmation)
	return userInputFields(in)
}

// String returns in's fields, as %+v prints them, with the password and
// its confirmation masked.
func (in UserInput) String() string { return redact.Fields("repositories.UserInput", in.masked()) }

// GoString returns in as a Go composite literal, with the password and its
// confirmation masked.
func (in UserInput) GoString() string {
	return redact.GoSyntax("repositories.UserInput", in.masked())
}

// Format implements fmt.Formatter: %#v prints in.GoString(), every other
// verb in.String().
func (in UserInput) Format(f fmt.State, verb rune) {
	redact.Format(f, verb, in.String(), in.GoString())
}

// MarshalJSON encodes in's fields with the password and its confirmation
// masked.
func (in UserInput) MarshalJSON() ([]byte, error) { return json.Marshal(in.masked()) }

func (u ImportUser) masked() importUserFields {
	u.PasswordHash = redact.String(u.PasswordHash)
	return importUserFields(u)
}

// String returns u's fields, as %+v prints them, with the password hash
// masked.
func (u ImportUser) String() string { return redact.Fields("repositories.ImportUser", u.masked()) }

// GoString returns u as a Go composite literal, with the password hash
// masked.
func (u ImportUser) GoString() string { return redact.GoSyntax("repositories.ImportUser", u.masked()) }

// Format implements fmt.Formatter: %#v prints u.GoString(), every other
// verb u.String().
func (u ImportUser) Format(f fmt.State, verb rune) { redact.Format(f, verb, u.String(), u.GoString()) }

// MarshalJSON encodes u's fields with the password hash masked. An export
// that must carry the hash (the CLI's export) writes PasswordHash itself.
func (u ImportUser) MarshalJSON() ([]byte, error) { return json.Marshal(u.masked()) }

func (c ImportClient) masked() importClientFields {
	c.SecretHash = redact.Pointer(c.SecretHash)
	return importClientFields(c)
}

// String returns c's fields, as %+v prints them, with the secret hash
// masked.
func (c ImportClient) String() string {
	return redact.Fields("repositories.ImportClient", c.masked())
}

// GoString returns c as a Go composite literal, with the secret hash
// masked.
func (c ImportClient) GoString() string {
	return redact.GoSyntax("repositories.ImportClient", c.masked())
}

// Format implements fmt.Formatter: %#v prints c.GoString(), every other
// verb c.String().
func (c ImportClient) Format(f fmt.State, verb rune) {
	redact.Format(f, verb, c.String(), c.GoString())
}

// MarshalJSON encodes c's fields with the secret hash masked. An export
// that must carry the hash (the CLI's export) writes SecretHash itself.
func (c ImportClient) MarshalJSON() ([]byte, error) { return json.Marshal(c.masked()) }

// Format implements fmt.Formatter: %#v prints p.GoString(), every other
// verb p.String(), so that no verb prints a token.
func (p TokenPair) Format(f fmt.State, verb rune) { redact.Format(f, verb, p.String(), p.GoString()) }

// MarshalJSON encodes p's fields with both tokens masked: a token
// endpoint writes its response (RFC 6749 5.1) from AccessToken and
// RefreshToken itself.
func (p TokenPair) MarshalJSON() ([]byte, error) {
	p.AccessToken, p.RefreshToken = redact.String(p.AccessToken), redact.String(p.RefreshToken)
	return json.Marshal(tokenPairFields(p))
}

// String describes the authenticated client by its id: the row it holds has the
// client's secret hash.
func (a AuthenticatedClient) String() string {
	return "repositories.AuthenticatedClient{ID:" + a.ID().String() + "}"
}

// GoString is String.
func (a AuthenticatedClient) GoString() string { return a.String() }

// Format implements fmt.Formatter: every verb prints a.String().
func (a AuthenticatedClient) Format(f fmt.State, verb rune) {
	redact.Format(f, verb, a.String(), a.GoString())
}

// LogValue implements slog.LogValuer: the client's id.
func (a AuthenticatedClient) LogValue() slog.Value {
	return slog.GroupValue(slog.String("id", a.ID().String()))
}

// String returns the repository's type name: it holds the configuration
// and the decrypted current signing key.
func (r SigningKeys) String() string { return repository("SigningKeys") }

// GoString is String.
func (r SigningKeys) GoString() string { return r.String() }

// Format implements fmt.Formatter: every verb prints r.String().
func (r SigningKeys) Format(f fmt.State, verb rune) { redact.Format(f, verb, r.String(), r.GoString()) }

// LogValue implements slog.LogValuer: r.String().
func (r SigningKeys) LogValue() slog.Value { return slog.StringValue(r.String()) }

// String returns the repository's type name: it holds the configuration.
func (r AuthRequests) String() string { return repository("AuthRequests") }

// GoString is String.
func (r AuthRequests) GoString() string { return r.String() }

// Format implements fmt.Formatter: every verb prints r.String().
func (r AuthRequests) Format(f fmt.State, verb rune) {
	redact.Format(f, verb, r.String(), r.GoString())
}

// LogValue implements slog.LogValuer: r.String().
func (r AuthRequests) LogValue() slog.Value { return slog.StringValue(r.String()) }

// String names the repository, never its configuration or recovery keys.
func (r TwoFactor) String() string { return repository("TwoFactor") }

// GoString is String.
func (r TwoFactor) GoString() string { return r.String() }

// Format implements fmt.Formatter: every verb prints r.String().
func (r TwoFactor) Format(f fmt.State, verb rune) { redact.Format(f, verb, r.String(), r.GoString()) }

// LogValue implements slog.LogValuer: r.String().
func (r TwoFactor) LogValue() slog.Value { return slog.StringValue(r.String()) }
