package repositories

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/forgeauth/authstore/config"
	"github.com/forgeauth/authstore/hooks"
	"github.com/forgeauth/authstore/models"
	"github.com/forgeauth/authstore/protocol"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// Issuing, shared by every grant: the client check, the access token (row
// and JWT) and the refresh token a grant hands out.

// TokenPair is what a token endpoint hands back for a grant: a signed JWT
// access token and a refresh token, each shown once. Its String and GoString
// leave both tokens out, so printing a pair never leaks them.
type TokenPair struct {
	// AccessToken is the signed JWT.
	AccessToken string
	// AccessTokenID is the JWT's jti, the id of its oauth_access_tokens row.
	AccessTokenID models.UUID
	// RefreshToken is the plaintext refresh token; only its digest is
	// stored. It is empty when the client did not register the
	// refresh_token grant.
	RefreshToken string
	// RefreshTokenID is the id of the refresh token's row.
	RefreshTokenID models.UUID
	// FamilyID is the grant: every token rotated from the first refresh
	// token (or issued from one authorization code) shares it.
	FamilyID models.UUID
	// TokenType is "Bearer".
	TokenType string
	// ExpiresIn is the access token's lifetime in seconds (RFC 6749 5.1).
	ExpiresIn int64
	// ExpiresAt is when the access token expires.
	ExpiresAt time.Time
	// RefreshExpiresAt is when the refresh token expires.
	RefreshExpiresAt time.Time
	// Scopes are the access token's scopes: the grant's, or fewer when a
	// refresh asked for fewer (the refresh token keeps the grant's).
	Scopes []string
}

const redacted = "[redacted]"

// String describes the pair without its tokens.
func (p TokenPair) String() string {
	return fmt.Sprintf("TokenPair{AccessTokenID:%s RefreshTokenID:%s FamilyID:%s AccessToken:%s RefreshToken:%s ExpiresIn:%d Scopes:%q}",
		p.AccessTokenID, p.RefreshTokenID, p.FamilyID, redacted, redacted, p.ExpiresIn, p.Scopes)
}

// GoString is String, so %#v does not print the tokens either.
func (p TokenPair) GoString() string { return p.String() }

// signingKey returns the HS256 key from cfg, or ErrNoSigningKey with what
// to do about it. It never says JWT_SECRET is empty when the process has
// it set: then the Store was built without the configuration that holds
// it (authstore.New reads no environment).
func signingKey(cfg config.Config) ([]byte, error) {
	key := []byte(cfg.JWTSecret.Reveal())
	if len(key) == 0 {
		if os.Getenv("JWT_SECRET") != "" {
			return nil, fmt.Errorf("%w: JWT_SECRET is set in the environment but not in this Store's configuration; "+
				"load it with config.Load() and pass authstore.WithConfig(cfg) (authstore.New reads no environment)", ErrNoSigningKey)
		}
		return nil, fmt.Errorf("%w: set JWT_SECRET (at least %d bytes, e.g. from `openssl rand -base64 48`) and load it with config.Load(), "+
			"or set config.Config.JWTSecret, and pass authstore.WithConfig(cfg)", ErrNoSigningKey, protocol.MinHS256KeyLength)
	}
	if err := protocol.CheckHS256Key("JWT_SECRET", key); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrNoSigningKey, err)
	}
	return key, nil
}

// checkPairConfig validates the lifetimes issuing a token pair needs from
// cfg (the keys are tokenKeys').
func checkPairConfig(cfg config.Config) error {
	return firstErr(
		checkLifetime("access token", cfg.AccessTokenLifetime),
		checkLifetime("refresh token", cfg.RefreshTokenLifetime),
	)
}

// tokenKeys are the keys a call that issues tokens uses, read before its
// transaction: the current signing key (RFC 9068 tokens, RS256, ES256 or
// EdDSA), or, when there is none, HS256 with JWT_SECRET (the legacy mode);
// and the key of refresh-token rotation (childToken).
type tokenKeys struct {
	signer *ringSigner
	// secret is JWT_SECRET, which signs HS256 tokens when signer is nil.
	secret []byte
	// rotation keys childToken: JWT_SECRET when set, or a key derived
	// from the master encryption key.
	rotation []byte
	issuer   string
	audience string
}

// tokenKeys returns the keys of a call that issues tokens, or
// ErrNoSigningKey saying what to configure.
func (b base) tokenKeys(ctx context.Context) (tokenKeys, error) {
	cfg := b.cfg()
	k := tokenKeys{issuer: cfg.JWTIssuer, audience: cfg.Audience()}
	secret, secretErr := signingKey(cfg)
	if secretErr == nil {
		k.secret, k.rotation = secret, secret
	}
	if ks := b.opts.SigningKeys; ks != nil {
		s, err := ks.currentSigner(ctx, b.db)
		if err != nil {
			return tokenKeys{}, err
		}
		k.signer = s
	}
	if k.signer == nil {
		return k, secretErr
	}
	if k.rotation == nil {
		d, ok := b.opts.Encryption.(interface{ DeriveKey(purpose string) []byte })
		if !ok {
			return tokenKeys{}, fmt.Errorf("%w: refresh-token rotation needs JWT_SECRET with a master key provider other than the local one", ErrNoSigningKey)
		}
		k.rotation = d.DeriveKey("refresh-token rotation")
	}
	return k, nil
}

// sign signs the JWT of an access token row: every claim comes from the
// row (sub is the user, or the client without one; iat its creation), so
// signing a row again gives a token with the same claims. With a signing
// key the token is RFC 9068's, its aud the configured audience; in the
// legacy mode it is HS256 with the client id as aud, as before.
func (k tokenKeys) sign(row *models.AccessToken) (string, error) {
	sub := row.ClientID.String()
	if row.UserID != nil {
		sub = row.UserID.String()
	}
	var signed string
	var err error
	if k.signer == nil {
		signed, err = protocol.SignAccessToken(k.secret, protocol.NewClaims(k.issuer, sub, row.ClientID.String(), row.ID.String(), row.Scopes, row.CreatedAt, row.ExpiresAt))
	} else {
		c := protocol.NewAudienceClaims(k.issuer, k.audience, sub, row.ClientID.String(), row.ID.String(), row.Scopes, row.CreatedAt, row.ExpiresAt)
		signed, err = protocol.SignAccessTokenWith(k.signer.alg, string(k.signer.kid), k.signer.priv, c)
	}
	if err == nil && len(signed) > protocol.MaxJWTLength {
		// The input limits make this impossible for scopes given since
		// they were set; a client registered before may hold more.
		return "", fmt.Errorf("access token: the granted scopes make a JWT longer than %d bytes, which Validate would refuse: %w", protocol.MaxJWTLength, ErrInvalidScope)
	}
	return signed, err
}

// newSecretToken returns a fresh 256-bit token, wrapping a random-source
// failure.
func newSecretToken() (string, error) {
	t, err := hooks.NewToken()
	if err != nil {
		return "", fmt.Errorf("generate token: %w", err)
	}
	return t, nil
}

// activeClient loads a client that exists and is not revoked, for a grant.
//
// It takes FOR SHARE (PostgreSQL; SQLite runs one writer at a time anyway):
// a Clients.Revoke that starts meanwhile waits for this grant to commit and
// then revokes what it issued, and a grant that starts after the revocation
// sees it, so no token outlives its client's revocation.
func activeClient(tx *gorm.DB, id models.UUID) (*models.Client, error) {
	return lockActiveClient(tx, id, clause.LockingStrengthShare)
}

// lockActiveClient is activeClient with the given row lock; a caller that
// goes on to update the client row takes FOR UPDATE from the start, so two
// such callers queue instead of deadlocking on a lock upgrade.
func lockActiveClient(tx *gorm.DB, id models.UUID, strength string) (*models.Client, error) {
	var c models.Client
	err := tx.Clauses(clause.Locking{Strength: strength}).Where("id = ?", id).Take(&c).Error
	if err != nil {
		if errors.Is(err, gorm.ErrRecordNotFound) {
			return nil, fmt.Errorf("client %s: %w", id, ErrNotFound)
		}
		return nil, err
	}
	if c.Revoked {
		return nil, fmt.Errorf("client %s: %w", id, ErrRevoked)
	}
	return &c, nil
}

// issueAccess creates an access token row and signs its JWT, at now, the
// transaction's clock reading.
func issueAccess(tx *gorm.DB, k tokenKeys, cfg config.Config, now time.Time, client *models.Client, userID *models.UUID, scopes models.Strings, familyID *models.UUID) (*models.AccessToken, string, error) {
	row := &models.AccessToken{
		ID:        models.NewUUID(),
		ClientID:  client.ID,
		UserID:    userID,
		FamilyID:  familyID,
		Scopes:    scopes,
		ExpiresAt: now.Add(cfg.AccessTokenLifetime),
		CreatedAt: now,
		UpdatedAt: now,
	}
	if userID == nil {
		if err := requireClientCredentials(client); err != nil {
			return nil, "", err // a token with the client as its subject is a client-credentials token
		}
	}
	signed, err := k.sign(row)
	if err != nil {
		return nil, "", err
	}
	if err := tx.Create(row).Error; err != nil {
		return nil, "", err
	}
	return row, signed, nil
}

// childToken returns the refresh token a rotation of parent hands out:
// HMAC-SHA-256 of parent under a key derived from JWT_SECRET (or, without
// one, from the master encryption key) for this use alone, unpadded
// base64url (256 bits). Only the key's holder can compute it, and any
// process can compute it again, which is what lets a retry within the
// reuse interval get the same child without any state.
func (t tokenKeys) childToken(parent string) (string, error) {
	if len(t.rotation) == 0 {
		return "", fmt.Errorf("%w: no key for refresh-token rotation", ErrNoSigningKey)
	}
	k := hmac.New(sha256.New, t.rotation)
	k.Write([]byte("authstore refresh-token rotation v1"))
	m := hmac.New(sha256.New, k.Sum(nil))
	m.Write([]byte(parent))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil)), nil
}

// grant describes the token pair issuePair creates. scopes are the
// grant's, which the refresh token keeps; accessScopes, when set, narrow
// the access token alone (a refresh that asks for less, RFC 6749 6).
// authTime and amr are the login the grant came from (an authorization
// request's, or the parent refresh token's on rotation), which the refresh
// token keeps; nil for a grant without one.
type grant struct {
	client       *models.Client
	userID       *models.UUID
	scopes       models.Strings
	accessScopes models.Strings
	familyID     models.UUID
	parentID     *models.UUID
	authTime     *time.Time
	amr          models.Strings
}

// issuePair creates an access token and, when the client registered the
// refresh_token grant, a refresh token (whose plaintext, made before the
// transaction, is refresh) for g. Without that grant the pair has no
// refresh token.
func issuePair(tx *gorm.DB, k tokenKeys, cfg config.Config, now time.Time, g grant, refresh string) (*TokenPair, error) {
	accessScopes := g.scopes
	if g.accessScopes != nil {
		accessScopes = g.accessScopes
	}
	at, access, err := issueAccess(tx, k, cfg, now, g.client, g.userID, accessScopes, &g.familyID)
	if err != nil {
		return nil, err
	}
	pair := &TokenPair{
		AccessToken:   access,
		AccessTokenID: at.ID,
		FamilyID:      g.familyID,
		TokenType:     protocol.TokenTypeBearer,
		ExpiresIn:     int64(cfg.AccessTokenLifetime / time.Second),
		ExpiresAt:     at.ExpiresAt,
		Scopes:        append([]string(nil), accessScopes...),
	}
	if !g.client.GrantTypes.Contains(protocol.GrantRefreshToken) {
		return pair, nil
	}
	rt := &models.RefreshToken{
		ID:            models.NewUUID(),
		TokenHash:     hooks.Digest(refresh),
		AccessTokenID: &at.ID,
		FamilyID:      g.familyID,
		ParentID:      g.parentID,
		ClientID:      g.client.ID,
		UserID:        g.userID,
		Scopes:        g.scopes,
		ExpiresAt:     now.Add(cfg.RefreshTokenLifetime),
		CreatedAt:     now,
		AuthTime:      g.authTime,
		AMR:           g.amr,
	}
	if err := tx.Create(rt).Error; err != nil {
		return nil, err
	}
	pair.RefreshToken, pair.RefreshTokenID, pair.RefreshExpiresAt = refresh, rt.ID, rt.ExpiresAt
	return pair, nil
}

// redeemInput is what a code exchange and a refresh rotation both check
// before their transaction: the keys, an authenticated client and a
// plausible token. It returns the keys, the client's id and the token's
// digest. what names the token in errors.
func redeemInput(ctx context.Context, b base, what, token string, client AuthenticatedClient) (keys tokenKeys, clientID models.UUID, digest string, err error) {
	if keys, err = b.tokenKeys(ctx); err != nil {
		return tokenKeys{}, "", "", err
	}
	if err := checkPairConfig(b.cfg()); err != nil {
		return tokenKeys{}, "", "", err
	}
	if clientID, err = client.valid(); err != nil {
		return tokenKeys{}, "", "", err
	}
	if token == "" || len(token) > maxTokenLength {
		return tokenKeys{}, "", "", fmt.Errorf("%s: %w", what, ErrNotFound)
	}
	return keys, clientID, hooks.Digest(token), nil
}

// requireGrant refuses a client that did not register grantType.
func requireGrant(c *models.Client, grantType string) error {
	if !c.GrantTypes.Contains(grantType) {
		return fmt.Errorf("client may not use the %s grant: %w", grantType, ErrUnauthorizedClient)
	}
	return nil
}

// requireClientCredentials refuses a client that may not get a token of
// its own: only a confidential client that registered client_credentials
// may (RFC 6749 4.4: never a public client).
func requireClientCredentials(c *models.Client) error {
	if !c.Confidential {
		return fmt.Errorf("a public client cannot use the client_credentials grant: %w", ErrUnauthorizedClient)
	}
	return requireGrant(c, protocol.GrantClientCredentials)
}
