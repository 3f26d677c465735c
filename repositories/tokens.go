package repositories

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/forgeauth/authstore/hooks"
	"github.com/forgeauth/authstore/models"
	"github.com/forgeauth/authstore/protocol"
	"gorm.io/gorm"
)

// Tokens answers a token endpoint's questions about a token it is handed
// as a string, access JWT or refresh token: introspection (RFC 7662) and
// revocation (RFC 7009). It reads tables oauth_access_tokens and
// oauth_refresh_tokens and consumes nothing.
type Tokens struct {
	base
}

// NewTokens returns the introspection and revocation service over db.
func NewTokens(db *gorm.DB, opts Options) *Tokens { return &Tokens{base: newBase(db, opts)} }

// WithTx returns a copy of t whose methods run inside tx (as savepoints).
func (t *Tokens) WithTx(tx *gorm.DB) *Tokens { return &Tokens{base: t.withTx(tx)} }

// The token types of Introspection.TokenType and of Revoke's hint (RFC 7009
// 2.1).
const (
	TokenTypeAccess  = "access_token"
	TokenTypeRefresh = "refresh_token"
)

// The subject types of Introspection.SubjectType.
const (
	SubjectUser   = "user"
	SubjectClient = "client"
)

// Introspection is what an introspection response (RFC 7662 2.2) carries
// about a token. An inactive token carries nothing else.
type Introspection struct {
	Active bool
	// TokenType is TokenTypeAccess or TokenTypeRefresh.
	TokenType string
	// Scope is the space-separated list of the token's scopes.
	Scope    string
	ClientID models.UUID
	// Subject is the user's id, or the client's for a client-credentials
	// token; SubjectType says which (SubjectUser, SubjectClient).
	Subject     string
	SubjectType string
	ExpiresAt   time.Time
	IssuedAt    time.Time
	// JTI is the access token's jti (its row's id); empty for a refresh
	// token.
	JTI models.UUID
}

// MarshalJSON writes the RFC 7662 response members: active, and for an
// active token scope, client_id, sub, token_type, exp, iat and jti (times
// in seconds since the epoch).
func (i Introspection) MarshalJSON() ([]byte, error) {
	if !i.Active {
		return []byte(`{"active":false}`), nil
	}
	type response struct {
		Active      bool   `json:"active"`
		Scope       string `json:"scope,omitempty"`
		ClientID    string `json:"client_id"`
		Subject     string `json:"sub"`
		SubjectType string `json:"subject_type"`
		TokenType   string `json:"token_type"`
		Exp         int64  `json:"exp"`
		Iat         int64  `json:"iat"`
		JTI         string `json:"jti,omitempty"`
	}
	return json.Marshal(response{true, i.Scope, i.ClientID.String(), i.Subject, i.SubjectType, i.TokenType,
		i.ExpiresAt.Unix(), i.IssuedAt.Unix(), i.JTI.String()})
}

// Introspect reports on a token without consuming it (RFC 7662; SECURITY
// 39), for the authenticated client that asks: a token of another client,
// or an unknown, malformed, expired, used or revoked one, is inactive, and
// nothing tells those apart. An access token must also pass everything
// AccessTokens.Validate checks, its row agreeing with its claims.
//
// It returns ErrInvalidCredentials for a client that is not authenticated
// and ErrNoSigningKey if the configuration has no JWT secret; database
// failures are returned as such. An inactive token is not an error.
func (t *Tokens) Introspect(ctx context.Context, client AuthenticatedClient, token string) (Introspection, error) {
	const op = "introspect token"
	clientID, err := client.valid()
	if err != nil {
		return Introspection{}, fmt.Errorf("%s: %w", op, err)
	}
	if token == "" {
		return Introspection{}, nil
	}
	if looksLikeJWT(token) {
		claims, row, err := t.accessRow(ctx, token)
		if err != nil || row == nil || row.Revoked || row.ClientID != clientID || !t.now().Before(row.ExpiresAt) {
			return Introspection{}, err
		}
		in := Introspection{Active: true, TokenType: TokenTypeAccess, Scope: claims.Scope, ClientID: row.ClientID,
			ExpiresAt: row.ExpiresAt, IssuedAt: row.CreatedAt, JTI: row.ID}
		in.Subject, in.SubjectType = subjectOf(row.UserID, row.ClientID)
		return in, nil
	}
	if len(token) > maxTokenLength {
		return Introspection{}, nil
	}
	var row models.RefreshToken
	err = t.conn(ctx).Where("token_hash = ?", hooks.Digest(token)).Take(&row).Error
	switch {
	case errors.Is(err, gorm.ErrRecordNotFound):
		return Introspection{}, nil
	case err != nil:
		return Introspection{}, Translate(op, err)
	case row.ClientID != clientID || whyNotUsable("refresh token", row.UsedAt, row.Revoked, row.ExpiresAt, t.now()) != nil:
		return Introspection{}, nil
	}
	in := Introspection{Active: true, TokenType: TokenTypeRefresh, Scope: strings.Join(row.Scopes, " "), ClientID: row.ClientID,
		ExpiresAt: row.ExpiresAt, IssuedAt: row.CreatedAt}
	in.Subject, in.SubjectType = subjectOf(row.UserID, row.ClientID)
	return in, nil
}

// Revoke revokes a token the authenticated client presents (RFC 7009):
// an access JWT (its row), or a refresh token (its whole grant, refresh and
// access tokens, as RefreshTokens.Revoke does). hint (token_type_hint) is
// accepted and not needed: the token's form says which it is. An unknown,
// malformed, expired or already revoked token is success and changes
// nothing (RFC 7009 2.2; SECURITY 39).
//
// It returns ErrInvalidCredentials for a client that is not authenticated
// or a token issued to another client (nothing is revoked), and
// ErrNoSigningKey if the configuration has no JWT secret.
func (t *Tokens) Revoke(ctx context.Context, client AuthenticatedClient, token, hint string) error {
	const op = "revoke token"
	clientID, err := client.valid()
	if err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	switch {
	case token == "":
		return nil
	case looksLikeJWT(token):
		return t.revokeAccess(ctx, op, clientID, token)
	}
	return (&RefreshTokens{base: t.base}).Revoke(ctx, client, token)
}

// revokeAccess revokes the row of an access JWT issued to clientID.
func (t *Tokens) revokeAccess(ctx context.Context, op string, clientID models.UUID, token string) error {
	_, row, err := t.accessRow(ctx, token)
	if err != nil || row == nil {
		return err
	}
	if row.ClientID != clientID {
		return fmt.Errorf("%s: access token was issued to another client: %w", op, ErrInvalidCredentials)
	}
	return (&AccessTokens{base: t.base}).Revoke(ctx, row.ID)
}

// accessRow verifies an access JWT (signature, type, issuer, expiry) and
// returns its claims and its row when the row backs every claim; a token
// that fails any check gives nil and no error.
func (t *Tokens) accessRow(ctx context.Context, token string) (*protocol.Claims, *models.AccessToken, error) {
	key, err := signingKey(t.cfg())
	if err != nil {
		return nil, nil, err
	}
	claims, err := protocol.ParseAccessToken(token, key, t.cfg().JWTIssuer, t.now)
	if err != nil {
		return nil, nil, nil
	}
	jti := models.UUID(claims.ID)
	if !jti.Valid() {
		return nil, nil, nil
	}
	var row models.AccessToken
	err = t.conn(ctx).Where("id = ?", jti).Take(&row).Error
	switch {
	case errors.Is(err, gorm.ErrRecordNotFound):
		return nil, nil, nil
	case err != nil:
		return nil, nil, Translate("read access token", err)
	case claimsDiffer(claims, &row) != "":
		return nil, nil, nil
	}
	return claims, &row, nil
}

// looksLikeJWT reports whether token has a JWS compact serialisation's
// three parts; refresh tokens are unpadded base64url with no dot.
func looksLikeJWT(token string) bool { return strings.Count(token, ".") == 2 }

// subjectOf returns a token's subject and its type.
func subjectOf(userID *models.UUID, clientID models.UUID) (string, string) {
	if userID != nil {
		return userID.String(), SubjectUser
	}
	return clientID.String(), SubjectClient
}
