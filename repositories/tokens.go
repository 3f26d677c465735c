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
// revocation (RFC 7009); and an operator's, who holds no client
// credentials: what a token is and why it is or is not active (Inspect,
// InspectJTI, personal access tokens included), and the revocation of
// everything issued to a client (RevokeForClient). It reads tables
// oauth_access_tokens, oauth_refresh_tokens and
// oauth_personal_access_tokens and consumes nothing.
type Tokens struct {
	base
}

// NewTokens returns the introspection and revocation service over db.
func NewTokens(db *gorm.DB, opts Options) *Tokens { return &Tokens{base: newBase(db, opts)} }

// WithTx returns a copy of t whose methods run inside tx (as savepoints).
func (t *Tokens) WithTx(tx *gorm.DB) *Tokens { return &Tokens{base: t.withTx(tx)} }

// The token types of Introspection.TokenType and of Revoke's hint (RFC 7009
// 2.1), and of Inspection.TokenType.
const (
	TokenTypeAccess  = "access_token"
	TokenTypeRefresh = "refresh_token"
	// TokenTypePersonal is a personal access token; only Inspect reports
	// one (Introspect answers a client, and none is issued to a client).
	TokenTypePersonal = "personal_access_token"
)

// The states of Inspection.State: whether a token is active, and if not,
// why.
const (
	TokenActive  = "active"
	TokenExpired = "expired"
	TokenRevoked = "revoked"
	// TokenUsed is a refresh token already rotated.
	TokenUsed = "used"
	// TokenUnknown is a token no row backs: not one this store issued,
	// malformed, with a bad signature or claims, or whose row was deleted or
	// no longer agrees with its claims.
	TokenUnknown = "unknown"
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
// and ErrNoSigningKey if the Store has neither a signing key nor a JWT secret; database
// failures are returned as such. An inactive token is not an error.
func (t *Tokens) Introspect(ctx context.Context, client AuthenticatedClient, token string) (Introspection, error) {
	const op = "introspect token"
	clientID, err := client.valid()
	if err != nil {
		return Introspection{}, fmt.Errorf("%s: %w", op, err)
	}
	in, err := t.inspect(ctx, op, token)
	if err != nil || !in.Active || in.ClientID != clientID {
		return Introspection{}, err
	}
	return in.introspection(), nil
}

// Inspection is an operator's view of a token (Tokens.Inspect and
// InspectJTI). Unlike an Introspection, which says nothing about a token
// that is not active, it describes every token a row backs and says why it
// is not active. It never holds the token or its digest.
type Inspection struct {
	// Active is what Introspect answers the token's own client.
	Active bool
	// State is TokenActive, TokenExpired, TokenRevoked, TokenUsed or
	// TokenUnknown; for a used or expired token that is also revoked, the
	// first of used, revoked, expired.
	State string
	// TokenType is TokenTypeAccess, TokenTypeRefresh or TokenTypePersonal;
	// empty for an unknown token that is not a JWT. An expired access JWT
	// says no more than its type and state: its claims are not read once it
	// has expired.
	TokenType string
	// ID is the row's id: an access token's jti, a refresh or personal
	// token's id.
	ID models.UUID
	// ClientID is the client the token was issued to; empty for a
	// personal token.
	ClientID models.UUID
	// UserID is the token's user; nil for a client-credentials token.
	UserID *models.UUID
	// Subject is the user's id, or the client's for a client-credentials
	// token; SubjectType says which (SubjectUser, SubjectClient).
	Subject     string
	SubjectType string
	Scopes      []string
	// Name is a personal token's name.
	Name string
	// FamilyID is the grant (refresh-token family) of a refresh token, or
	// of an access token issued with one.
	FamilyID *models.UUID
	Revoked  bool
	// UsedAt is when a refresh token was rotated.
	UsedAt *time.Time
	// LastUsedAt is when a personal token was last used.
	LastUsedAt *time.Time
	IssuedAt   time.Time
	// ExpiresAt is nil for a personal token that does not expire.
	ExpiresAt *time.Time
	// AuthTime is when the person logged in for a refresh token's grant
	// (the authorization request's auth time, kept through rotation); nil
	// for other tokens, a grant without a login, or a refresh token issued
	// before migration 000009.
	AuthTime *time.Time
	// AMR is how the person logged in for a refresh token's grant (RFC
	// 8176 values such as "pwd", "otp"), like AuthTime; empty otherwise.
	AMR []string
}

// introspection is what Introspect answers about an active token.
func (in Inspection) introspection() Introspection {
	out := Introspection{Active: true, TokenType: in.TokenType, Scope: strings.Join(in.Scopes, " "), ClientID: in.ClientID,
		Subject: in.Subject, SubjectType: in.SubjectType, IssuedAt: in.IssuedAt}
	if in.ExpiresAt != nil {
		out.ExpiresAt = *in.ExpiresAt
	}
	if in.TokenType == TokenTypeAccess {
		out.JTI = in.ID
	}
	return out
}

// Inspect reports on a token for an operator, who is no client: which
// token it is (access JWT, refresh token or personal access token), whose,
// for which client and scopes, until when, and whether it is active or
// expired, revoked or used. It is Introspect's lookup without the client
// check, and it neither consumes the token nor records a use (a personal
// token's last use is left as it is), so it runs on a read-only Store. A
// token that no row backs is State TokenUnknown, not an error.
//
// It returns ErrNoSigningKey for an access JWT if the Store has neither a
// signing key nor a JWT secret; database failures are returned as such.
func (t *Tokens) Inspect(ctx context.Context, token string) (Inspection, error) {
	const op = "inspect token"
	if strings.HasPrefix(token, PersonalTokenPrefix) && len(token) <= maxTokenLength {
		var row models.PersonalAccessToken
		err := t.conn(ctx).Where("token_hash = ?", hooks.Digest(token)).Take(&row).Error
		switch {
		case err == nil:
			return personalInspection(&row, t.now()), nil
		case !errors.Is(err, gorm.ErrRecordNotFound):
			return Inspection{}, Translate(op, err)
		}
		// A refresh token may begin with the prefix too.
	}
	return t.inspect(ctx, op, token)
}

// InspectJTI reports on the access token with the given jti as Inspect
// does, from its row alone. It returns ErrInvalidInput for a malformed jti
// and ErrNotFound if no access token has it.
func (t *Tokens) InspectJTI(ctx context.Context, jti models.UUID) (Inspection, error) {
	const op = "inspect access token"
	if err := validID("jti", jti); err != nil {
		return Inspection{}, fmt.Errorf("%s: %w", op, err)
	}
	var row models.AccessToken
	if err := t.conn(ctx).Where("id = ?", jti).Take(&row).Error; err != nil {
		return Inspection{}, Translate(op, err)
	}
	return accessInspection(&row, t.now()), nil
}

// inspect is the lookup of Introspect and Inspect: an access JWT (verified,
// its row backing its claims) or a refresh token, described whatever its
// state. Anything else is TokenUnknown.
func (t *Tokens) inspect(ctx context.Context, op, token string) (Inspection, error) {
	unknown := Inspection{State: TokenUnknown}
	if token == "" {
		return unknown, nil
	}
	if looksLikeJWT(token) {
		row, expired, err := t.accessRow(ctx, token)
		switch {
		case err != nil:
			return Inspection{}, err
		case expired:
			return Inspection{State: TokenExpired, TokenType: TokenTypeAccess}, nil
		case row == nil:
			return Inspection{State: TokenUnknown, TokenType: TokenTypeAccess}, nil
		}
		return accessInspection(row, t.now()), nil
	}
	if len(token) > maxTokenLength {
		return unknown, nil
	}
	var row models.RefreshToken
	err := t.conn(ctx).Where("token_hash = ?", hooks.Digest(token)).Take(&row).Error
	switch {
	case errors.Is(err, gorm.ErrRecordNotFound):
		return unknown, nil
	case err != nil:
		return Inspection{}, Translate(op, err)
	}
	return refreshInspection(&row, t.now()), nil
}

// accessInspection describes an access token's row at now.
func accessInspection(row *models.AccessToken, now time.Time) Inspection {
	in := Inspection{TokenType: TokenTypeAccess, ID: row.ID, ClientID: row.ClientID, UserID: row.UserID,
		Scopes: row.Scopes, FamilyID: row.FamilyID, Revoked: row.Revoked, IssuedAt: row.CreatedAt, ExpiresAt: &row.ExpiresAt}
	in.Subject, in.SubjectType = subjectOf(row.UserID, row.ClientID)
	switch {
	case row.Revoked:
		in.State = TokenRevoked
	case !now.Before(row.ExpiresAt):
		in.State = TokenExpired
	default:
		in.State, in.Active = TokenActive, true
	}
	return in
}

// refreshInspection describes a refresh token's row at now; its state is
// whyNotUsable's answer.
func refreshInspection(row *models.RefreshToken, now time.Time) Inspection {
	in := Inspection{TokenType: TokenTypeRefresh, ID: row.ID, ClientID: row.ClientID, UserID: row.UserID,
		Scopes: row.Scopes, FamilyID: &row.FamilyID, Revoked: row.Revoked, UsedAt: row.UsedAt,
		IssuedAt: row.CreatedAt, ExpiresAt: &row.ExpiresAt, AuthTime: row.AuthTime, AMR: row.AMR}
	in.Subject, in.SubjectType = subjectOf(row.UserID, row.ClientID)
	err := whyNotUsable("refresh token", row.UsedAt, row.Revoked, row.ExpiresAt, now)
	switch {
	case err == nil:
		in.State, in.Active = TokenActive, true
	case errors.Is(err, ErrUsed):
		in.State = TokenUsed
	case errors.Is(err, ErrRevoked):
		in.State = TokenRevoked
	default:
		in.State = TokenExpired
	}
	return in
}

// personalInspection describes a personal token's row at now, with the
// checks of PersonalTokens.Find.
func personalInspection(row *models.PersonalAccessToken, now time.Time) Inspection {
	in := Inspection{TokenType: TokenTypePersonal, ID: row.ID, UserID: &row.UserID, Subject: row.UserID.String(),
		SubjectType: SubjectUser, Scopes: row.Scopes, Name: row.Name, Revoked: row.Revoked,
		LastUsedAt: row.LastUsedAt, IssuedAt: row.CreatedAt, ExpiresAt: row.ExpiresAt}
	switch {
	case row.Revoked:
		in.State = TokenRevoked
	case row.ExpiresAt != nil && !now.Before(*row.ExpiresAt):
		in.State = TokenExpired
	default:
		in.State, in.Active = TokenActive, true
	}
	return in
}

// RevokeForClient revokes every authorization code, refresh token and
// access token issued to a client and returns how many rows it revoked,
// leaving the client itself active (Clients.Revoke revokes the client as
// well); it records one token.revoked event when it revoked any. It
// returns ErrInvalidInput for a malformed client id and ErrNotFound if
// there is no such client.
func (t *Tokens) RevokeForClient(ctx context.Context, clientID models.UUID) (int64, error) {
	const op = "revoke client tokens"
	if err := validID("client id", clientID); err != nil {
		return 0, fmt.Errorf("%s: %w", op, err)
	}
	n, err := inTx(ctx, t.base, func(tx *gorm.DB, now time.Time) (int64, error) {
		var c models.Client
		if err := tx.Where("id = ?", clientID).Take(&c).Error; err != nil {
			return 0, err
		}
		n, err := revokeGrants(tx, "client_id", clientID, now)
		if err != nil || n == 0 {
			return n, err
		}
		return n, record(tx, now, c.UserID, models.EventTokenRevoked, map[string]any{
			"client_id": clientID, "revoked_rows": n,
		})
	})
	if err != nil {
		return 0, Translate(op, err)
	}
	return n, nil
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
// ErrNoSigningKey if the Store has neither a signing key nor a JWT secret.
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
	row, _, err := t.accessRow(ctx, token)
	if err != nil || row == nil {
		return err
	}
	if row.ClientID != clientID {
		return fmt.Errorf("%s: access token was issued to another client: %w", op, ErrInvalidCredentials)
	}
	return (&AccessTokens{base: t.base}).Revoke(ctx, row.ID)
}

// accessRow verifies an access JWT (signature, type, issuer, expiry) and
// returns its row when the row backs every claim; a token that fails any
// check gives a nil row and no error, and expired reports whether the
// check it failed was its expiry (its signature was good).
func (t *Tokens) accessRow(ctx context.Context, token string) (row *models.AccessToken, expired bool, err error) {
	claims, aud, err := t.verify(ctx, token)
	switch {
	case errors.Is(err, ErrNoSigningKey):
		return nil, false, err
	case err != nil && !errors.Is(err, protocol.ErrTokenExpired) && !errors.Is(err, protocol.ErrTokenInvalid):
		return nil, false, err // the keys could not be read
	case err != nil:
		return nil, errors.Is(err, protocol.ErrTokenExpired), nil
	}
	jti := models.UUID(claims.ID)
	if validID("jti", jti) != nil {
		return nil, false, nil
	}
	var r models.AccessToken
	err = t.conn(ctx).Where("id = ?", jti).Take(&r).Error
	switch {
	case errors.Is(err, gorm.ErrRecordNotFound):
		return nil, false, nil
	case err != nil:
		return nil, false, Translate("read access token", err)
	case claimsDiffer(claims, &r, aud) != "":
		return nil, false, nil
	}
	return &r, false, nil
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
