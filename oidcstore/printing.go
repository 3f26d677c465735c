package oidcstore

// Printing: no value of this package prints a secret, under any verb. The
// Storage holds the Store (its configuration) and the crypto key, the
// Verifier the Store; a request, a client and a grant hold the client's
// state, nonce, PKCE challenge and secret hash; the signing key is the
// private key. Each prints as String says, under every verb and in slog.
// An AccessToken holds no secret (ids, scopes and times) and prints as Go
// prints it.

import (
	"fmt"
	"log/slog"

	"github.com/forgeauth/authstore/internal/redact"
)

// String returns the type's name: the Storage holds the Store and the
// crypto key.
func (s Storage) String() string { return "oidcstore.Storage{" + redact.Mask + "}" }

// GoString is String.
func (s Storage) GoString() string { return s.String() }

// Format implements fmt.Formatter: every verb prints s.String().
func (s Storage) Format(f fmt.State, verb rune) { redact.Format(f, verb, s.String(), s.GoString()) }

// LogValue implements slog.LogValuer: s.String().
func (s Storage) LogValue() slog.Value { return slog.StringValue(s.String()) }

// String describes the request by its ids alone.
func (a AuthRequest) String() string {
	return fmt.Sprintf("oidcstore.AuthRequest{ID:%s ClientID:%s Done:%t}", a.row.ID, a.row.ClientID, a.row.Done)
}

// GoString is String.
func (a AuthRequest) GoString() string { return a.String() }

// Format implements fmt.Formatter: every verb prints a.String().
func (a AuthRequest) Format(f fmt.State, verb rune) { redact.Format(f, verb, a.String(), a.GoString()) }

// LogValue implements slog.LogValuer: a.String().
func (a AuthRequest) LogValue() slog.Value { return slog.StringValue(a.String()) }

// String describes the client without its secret hash.
func (c Client) String() string {
	return fmt.Sprintf("oidcstore.Client{ID:%s Name:%q Confidential:%t}", c.row.ID, c.row.Name, c.row.Confidential)
}

// GoString is String.
func (c Client) GoString() string { return c.String() }

// Format implements fmt.Formatter: every verb prints c.String().
func (c Client) Format(f fmt.State, verb rune) { redact.Format(f, verb, c.String(), c.GoString()) }

// LogValue implements slog.LogValuer: c.String().
func (c Client) LogValue() slog.Value { return slog.StringValue(c.String()) }

// String describes the grant by its ids alone.
func (r RefreshTokenRequest) String() string {
	return fmt.Sprintf("oidcstore.RefreshTokenRequest{ID:%s ClientID:%s}", r.in.ID, r.in.ClientID)
}

// GoString is String.
func (r RefreshTokenRequest) GoString() string { return r.String() }

// Format implements fmt.Formatter: every verb prints r.String().
func (r RefreshTokenRequest) Format(f fmt.State, verb rune) {
	redact.Format(f, verb, r.String(), r.GoString())
}

// LogValue implements slog.LogValuer: r.String().
func (r RefreshTokenRequest) LogValue() slog.Value { return slog.StringValue(r.String()) }

// String describes the key by its kid and algorithm: it is the private key.
func (k signingKey) String() string {
	return "oidcstore.signingKey{kid:" + k.jwk.KeyID + " alg:" + k.jwk.Algorithm + " " + redact.Mask + "}"
}

// GoString is String.
func (k signingKey) GoString() string { return k.String() }

// Format implements fmt.Formatter: every verb prints k.String().
func (k signingKey) Format(f fmt.State, verb rune) { redact.Format(f, verb, k.String(), k.GoString()) }

// LogValue implements slog.LogValuer: k.String().
func (k signingKey) LogValue() slog.Value { return slog.StringValue(k.String()) }

// String describes the verifier by the issuer and audience it expects: it
// holds the Store (its configuration).
func (v Verifier) String() string {
	return fmt.Sprintf("oidcstore.Verifier{Issuer:%q Audience:%q %s}", v.issuer, v.audience, redact.Mask)
}

// GoString is String.
func (v Verifier) GoString() string { return v.String() }

// Format implements fmt.Formatter: every verb prints v.String().
func (v Verifier) Format(f fmt.State, verb rune) { redact.Format(f, verb, v.String(), v.GoString()) }

// LogValue implements slog.LogValuer: v.String().
func (v Verifier) LogValue() slog.Value { return slog.StringValue(v.String()) }
