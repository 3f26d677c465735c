package oidcstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/forgeauth/authstore"
	"github.com/forgeauth/authstore/models"
	"github.com/forgeauth/authstore/protocol"
	"github.com/forgeauth/authstore/repositories"
	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

// ErrInvalidToken means a bearer token is not a valid access token of the
// provider: too long, malformed, not signed by a published key of the
// Store under that key's algorithm, of another issuer or audience, not yet
// valid, or its row is missing or names another client or subject. It is
// also ErrInvalidCredentials. An expired or revoked token is ErrInvalidToken
// too, and also repositories.ErrExpired or repositories.ErrRevoked.
var ErrInvalidToken = fmt.Errorf("oidcstore: invalid access token: %w", repositories.ErrInvalidCredentials)

// verifyLeeway is how far a token's iat and nbf may lie ahead of the
// Store's clock: the clock skew allowed between provider processes and the
// resource server.
const verifyLeeway = time.Minute

// accessTokenAlgorithms are the algorithms the Store signs with; any other
// (HS256, none) is refused before a key is looked at.
var accessTokenAlgorithms = []jose.SignatureAlgorithm{jose.RS256, jose.ES256, jose.EdDSA}

// Verifier checks the access tokens the provider issues (JWTs with typ
// JWT, iss the provider's issuer URL and jti the row id in
// oauth_access_tokens) for a resource server that shares the provider's
// database. Build it once with NewVerifier; it is safe for concurrent use.
// Every Verify reads the token's row, so a revoked token fails at once;
// the published keys come from the Store's key cache
// (SigningKeys.PublicKey: the cache AccessTokens.Validate reads).
type Verifier struct {
	store    *authstore.Store
	issuer   string
	audience string
}

// VerifierOption configures NewVerifier.
type VerifierOption func(*Verifier) error

// WithAudience makes Verify refuse a token whose aud does not contain
// audience (a client id, or one of a client's further audiences).
func WithAudience(audience string) VerifierOption {
	return func(v *Verifier) error {
		if audience == "" {
			return fmt.Errorf("oidcstore: audience is empty: %w", repositories.ErrInvalidInput)
		}
		v.audience = audience
		return nil
	}
}

// NewVerifier returns a Verifier of the access tokens the provider at
// issuer (its issuer URL, exactly as the provider was built with it)
// issues from store's database. It returns an error wrapping
// repositories.ErrInvalidInput for a nil store, an empty issuer or a bad
// option.
func NewVerifier(store *authstore.Store, issuer string, opts ...VerifierOption) (*Verifier, error) {
	if store == nil {
		return nil, fmt.Errorf("oidcstore: store is nil: %w", repositories.ErrInvalidInput)
	}
	if issuer == "" {
		return nil, fmt.Errorf("oidcstore: issuer is empty: %w", repositories.ErrInvalidInput)
	}
	v := &Verifier{store: store, issuer: issuer}
	for _, o := range opts {
		if err := o(v); err != nil {
			return nil, err
		}
	}
	return v, nil
}

// AccessToken is a verified access token: what its row says, which is the
// authority (the claims of the JWT agree with it).
type AccessToken struct {
	// ID is the token's jti, its row id in oauth_access_tokens.
	ID models.UUID
	// ClientID is the client the token was issued to.
	ClientID models.UUID
	// UserID is the token's user; nil for a client-credentials token.
	UserID *models.UUID
	// Subject is the user's id, or the client's for a client-credentials
	// token; SubjectType says which (repositories.SubjectUser,
	// repositories.SubjectClient).
	Subject     string
	SubjectType string
	// Scopes are the scopes the token was issued with.
	Scopes []string
	// Audience is the token's aud claim.
	Audience []string
	// FamilyID is the grant the token was issued with, if any.
	FamilyID  *models.UUID
	IssuedAt  time.Time
	ExpiresAt time.Time
}

// HasScope reports whether the token was issued with scope.
func (t *AccessToken) HasScope(scope string) bool { return slices.Contains(t.Scopes, scope) }

// accessClaims are the claims of a provider's access token Verify reads.
type accessClaims struct {
	jwt.Claims
	ClientID string `json:"client_id"`
}

// Verify checks token, cheapest first: its size, that it is a JWS with one
// signature under RS256, ES256 or EdDSA, typ JWT and a kid, signed by the
// Store's published key of that kid (next, current, or retired and not
// removed: SigningKeys.PublicKey) whose algorithm is the header's; then that iss is the
// Verifier's issuer, exp is after the Store's clock, iat and nbf are not
// ahead of it (by more than a minute), aud holds the Verifier's audience
// if it has one; then that the jti row exists, is the access token of the
// token's client and subject, and is neither revoked (by RFC 7009
// revocation, a revoked grant, a reused refresh token's family, a replayed
// code or a logout) nor expired. It returns the row's description.
//
// Every refusal wraps ErrInvalidToken (and so ErrInvalidCredentials); an
// expired token wraps repositories.ErrExpired too, a revoked one
// repositories.ErrRevoked. Another error (the database unreachable) wraps
// neither. No error holds the token.
func (v *Verifier) Verify(ctx context.Context, token string) (*AccessToken, error) {
	c, err := parseAccessToken(ctx, v.store, token)
	if err != nil {
		return nil, err
	}
	now := v.store.Now()
	switch {
	case c.Issuer != v.issuer:
		return nil, fmt.Errorf("%w: another issuer", ErrInvalidToken)
	case !now.Before(c.Expiry.Time()):
		return nil, fmt.Errorf("%w: %w", ErrInvalidToken, repositories.ErrExpired)
	case c.IssuedAt != nil && c.IssuedAt.Time().After(now.Add(verifyLeeway)):
		return nil, fmt.Errorf("%w: issued in the future", ErrInvalidToken)
	case c.NotBefore != nil && c.NotBefore.Time().After(now.Add(verifyLeeway)):
		return nil, fmt.Errorf("%w: not yet valid", ErrInvalidToken)
	case v.audience != "" && !slices.Contains(c.Audience, v.audience):
		return nil, fmt.Errorf("%w: another audience", ErrInvalidToken)
	}
	in, err := tokenRow(ctx, v.store, c)
	if err != nil {
		return nil, err
	}
	switch in.State {
	case repositories.TokenActive:
	case repositories.TokenRevoked:
		return nil, fmt.Errorf("%w: %w", ErrInvalidToken, repositories.ErrRevoked)
	case repositories.TokenExpired:
		return nil, fmt.Errorf("%w: %w", ErrInvalidToken, repositories.ErrExpired)
	default:
		return nil, fmt.Errorf("%w: not active", ErrInvalidToken)
	}
	out := &AccessToken{ID: in.ID, ClientID: in.ClientID, UserID: in.UserID, Subject: in.Subject, SubjectType: in.SubjectType,
		Scopes: in.Scopes, Audience: slices.Clone([]string(c.Audience)), FamilyID: in.FamilyID, IssuedAt: in.IssuedAt}
	if in.ExpiresAt != nil {
		out.ExpiresAt = *in.ExpiresAt
	}
	return out, nil
}

// InspectAccessToken describes token as an operator sees it, whatever its
// issuer: when it is an access token of a provider on store's database
// (checked as Verify checks it, but for any iss and aud), it returns its
// row's inspection (active, revoked or expired) and its iss; an expired
// token says no more than that (state TokenExpired), as Tokens.Inspect.
// For anything else it returns state TokenUnknown and an empty issuer. A
// resource server uses a Verifier instead, which checks the issuer.
func InspectAccessToken(ctx context.Context, store *authstore.Store, token string) (repositories.Inspection, string, error) {
	none := repositories.Inspection{State: repositories.TokenUnknown, TokenType: repositories.TokenTypeAccess}
	c, err := parseAccessToken(ctx, store, token)
	switch {
	case errors.Is(err, ErrInvalidToken):
		return none, "", nil
	case err != nil:
		return none, "", err
	case c.Issuer == "":
		return none, "", nil
	case !store.Now().Before(c.Expiry.Time()):
		return repositories.Inspection{State: repositories.TokenExpired, TokenType: repositories.TokenTypeAccess}, c.Issuer, nil
	}
	in, err := tokenRow(ctx, store, c)
	switch {
	case errors.Is(err, ErrInvalidToken):
		return none, "", nil
	case err != nil:
		return none, "", err
	}
	return in, c.Issuer, nil
}

// parseAccessToken checks token's form and signature and returns its
// claims, with jti, client_id and exp present. Any refusal is
// ErrInvalidToken.
func parseAccessToken(ctx context.Context, store *authstore.Store, token string) (*accessClaims, error) {
	if len(token) > protocol.MaxJWTLength || strings.Count(token, ".") != 2 {
		return nil, fmt.Errorf("%w: not a compact JWS of at most %d bytes", ErrInvalidToken, protocol.MaxJWTLength)
	}
	jws, err := jose.ParseSigned(token, accessTokenAlgorithms)
	if err != nil || len(jws.Signatures) != 1 {
		return nil, fmt.Errorf("%w: not a JWS signed with RS256, ES256 or EdDSA", ErrInvalidToken)
	}
	header := jws.Signatures[0].Header
	if typ, _ := header.ExtraHeaders[jose.HeaderType].(string); !strings.EqualFold(typ, "JWT") {
		return nil, fmt.Errorf("%w: typ is not JWT", ErrInvalidToken)
	}
	if header.KeyID == "" {
		return nil, fmt.Errorf("%w: no kid", ErrInvalidToken)
	}
	key, err := store.Keys.PublicKey(ctx, models.UUID(header.KeyID))
	switch {
	case errors.Is(err, repositories.ErrNotFound) || errors.Is(err, repositories.ErrInvalidInput):
		return nil, fmt.Errorf("%w: no published key of that kid", ErrInvalidToken)
	case err != nil:
		return nil, fmt.Errorf("oidcstore: verify access token: %w", err)
	case key.Algorithm != header.Algorithm:
		return nil, fmt.Errorf("%w: alg is not its key's", ErrInvalidToken)
	}
	payload, err := jws.Verify(key.Key)
	if err != nil {
		return nil, fmt.Errorf("%w: bad signature", ErrInvalidToken)
	}
	var c accessClaims
	if err := json.Unmarshal(payload, &c); err != nil || c.ID == "" || c.ClientID == "" || c.Expiry == nil {
		return nil, fmt.Errorf("%w: claims missing or malformed", ErrInvalidToken)
	}
	return &c, nil
}

// tokenRow returns the inspection of c's jti row, which must be the access
// token of c's client and subject; otherwise ErrInvalidToken.
func tokenRow(ctx context.Context, store *authstore.Store, c *accessClaims) (repositories.Inspection, error) {
	in, err := store.Tokens.InspectJTI(ctx, models.UUID(c.ID))
	switch {
	case errors.Is(err, repositories.ErrNotFound) || errors.Is(err, repositories.ErrInvalidInput):
		return repositories.Inspection{}, fmt.Errorf("%w: no such token", ErrInvalidToken)
	case err != nil:
		return repositories.Inspection{}, fmt.Errorf("oidcstore: verify access token: %w", err)
	case in.TokenType != repositories.TokenTypeAccess || string(in.ClientID) != c.ClientID || in.Subject != c.Subject:
		return repositories.Inspection{}, fmt.Errorf("%w: the token's row names another client or subject", ErrInvalidToken)
	}
	return in, nil
}
