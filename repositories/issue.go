package repositories

import (
	"errors"
	"fmt"
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
	// RefreshToken is the plaintext refresh token; only its digest is stored.
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
	// Scopes are the scopes granted.
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

// signingKey returns the HS256 key from cfg, or ErrNoSigningKey.
func signingKey(cfg config.Config) ([]byte, error) {
	key := []byte(cfg.JWTSecret.Reveal())
	if err := protocol.CheckHS256Key("JWT_SECRET", key); err != nil {
		return nil, fmt.Errorf("%w: %w", err, ErrNoSigningKey)
	}
	return key, nil
}

// checkPairConfig validates what issuing a token pair needs from cfg.
func checkPairConfig(cfg config.Config) error {
	return firstErr(
		func() error { _, err := signingKey(cfg); return err }(),
		checkLifetime("access token", cfg.AccessTokenLifetime),
		checkLifetime("refresh token", cfg.RefreshTokenLifetime),
	)
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
func issueAccess(tx *gorm.DB, cfg config.Config, now time.Time, client *models.Client, userID *models.UUID, scopes models.Strings, familyID *models.UUID) (*models.AccessToken, string, error) {
	key, err := signingKey(cfg)
	if err != nil {
		return nil, "", err
	}
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
	sub := client.ID.String()
	if userID != nil {
		sub = userID.String()
	}
	signed, err := protocol.SignAccessToken(key, protocol.NewClaims(cfg.JWTIssuer, sub, client.ID.String(), row.ID.String(), scopes, now, row.ExpiresAt))
	if err != nil {
		return nil, "", err
	}
	if err := tx.Create(row).Error; err != nil {
		return nil, "", err
	}
	return row, signed, nil
}

// grant describes the token pair issuePair creates.
type grant struct {
	client   *models.Client
	userID   *models.UUID
	scopes   models.Strings
	familyID models.UUID
	parentID *models.UUID
}

// issuePair creates an access token and a refresh token (whose plaintext,
// made before the transaction, is refresh) for g.
func issuePair(tx *gorm.DB, cfg config.Config, now time.Time, g grant, refresh string) (*TokenPair, error) {
	at, access, err := issueAccess(tx, cfg, now, g.client, g.userID, g.scopes, &g.familyID)
	if err != nil {
		return nil, err
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
	}
	if err := tx.Create(rt).Error; err != nil {
		return nil, err
	}
	return &TokenPair{
		AccessToken:      access,
		AccessTokenID:    at.ID,
		RefreshToken:     refresh,
		RefreshTokenID:   rt.ID,
		FamilyID:         g.familyID,
		TokenType:        protocol.TokenTypeBearer,
		ExpiresIn:        int64(cfg.AccessTokenLifetime / time.Second),
		ExpiresAt:        at.ExpiresAt,
		RefreshExpiresAt: rt.ExpiresAt,
		Scopes:           append([]string(nil), g.scopes...),
	}, nil
}

// redeemInput is what a code exchange and a refresh rotation both check
// before their transaction: a signing key, a plausible token and a client
// id. It returns the token's digest and the refresh token the grant will
// hand out, so no randomness is read inside the transaction. what names
// the token in errors.
func redeemInput(cfg config.Config, what, token string, clientID models.UUID) (digest, refresh string, err error) {
	if err := checkPairConfig(cfg); err != nil {
		return "", "", err
	}
	if token == "" || len(token) > maxTokenLength {
		return "", "", fmt.Errorf("%s: %w", what, ErrNotFound)
	}
	if !clientID.Valid() {
		return "", "", fmt.Errorf("client id is not a uuid: %w", ErrInvalidCredentials)
	}
	if refresh, err = newSecretToken(); err != nil {
		return "", "", err
	}
	return hooks.Digest(token), refresh, nil
}
