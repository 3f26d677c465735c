package repositories

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/forgeauth/authstore/hooks"
	"github.com/forgeauth/authstore/models"
	"gorm.io/gorm"
)

// RefreshTokens is the repository of refresh tokens (table
// oauth_refresh_tokens). Tokens are stored as SHA-256 digests. Each grant is
// a family: rotation marks a token used and issues a child with the same
// FamilyID; presenting a used token again revokes the whole family (RFC 9700
// 4.14.2).
type RefreshTokens struct {
	base
	grace *graceCache // nil: no grace window
}

// NewRefreshTokens returns the refresh-token repository over db, with no
// grace window.
func NewRefreshTokens(db *gorm.DB, opts Options) *RefreshTokens {
	return &RefreshTokens{base: newBase(db, opts)}
}

// WithTx returns a copy of r whose methods run inside tx (as savepoints). It
// shares r's grace-window cache.
//
// Inside a caller's transaction, the family revocation that Rotate commits
// before returning ErrReused is only a savepoint: the caller must commit its
// transaction for the revocation to last.
func (r *RefreshTokens) WithTx(tx *gorm.DB) *RefreshTokens {
	return &RefreshTokens{base: r.withTx(tx), grace: r.grace}
}

// WithGraceWindow returns a copy of r with a grace window of d (SECURITY
// 10): a token presented again within d of its rotation, while the child it
// got is still unused and unrevoked, returns that same child pair and
// creates no row, instead of counting as reuse. Past d, reuse revokes the
// family as usual. d <= 0 turns the window off (the default).
//
// The window is served from a bounded (1024 entries), process-local cache
// mapping the digest of a rotated token to the pair its rotation returned,
// because only digests are stored: a retry that reaches another process, or
// arrives after a restart or an eviction, counts as reuse. The cache holds
// issued tokens in memory for as long as an entry lives.
func (r *RefreshTokens) WithGraceWindow(d time.Duration) *RefreshTokens {
	out := &RefreshTokens{base: r.base}
	if d > 0 {
		out.grace = &graceCache{window: d, entries: newLRU[string, graceEntry](defaultCacheSize)}
	}
	return out
}

// Issue starts a new grant (a new family) for a client and a user (nil for
// a grant without a user): it issues an access token and a refresh token,
// in one transaction, and returns both. The refresh token expires after
// OAUTH_REFRESH_TOKEN_LIFETIME.
//
// It returns ErrNoSigningKey if the configuration has no JWT secret,
// ErrInvalidInput for a malformed id or scope (or a scope the client did not
// register), ErrNotFound if the client does not exist, ErrRevoked if it is
// revoked and ErrConflict if the user does not exist.
func (r *RefreshTokens) Issue(ctx context.Context, clientID models.UUID, userID *models.UUID, scopes []string) (*TokenPair, error) {
	const op = "issue refresh token"
	if err := checkPairConfig(r.cfg()); err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	for _, err := range []error{validID("client id", clientID), validOptionalID("user id", userID)} {
		if err != nil {
			return nil, fmt.Errorf("%s: %w", op, err)
		}
	}
	sc, err := normalizeScopes(scopes)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	refresh, err := newSecretToken()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	var pair *TokenPair
	err = r.transaction(ctx, func(tx *gorm.DB) error {
		now := r.now()
		client, err := activeClient(tx, clientID)
		if err != nil {
			return err
		}
		if err := allowedScopes(client, sc); err != nil {
			return err
		}
		pair, err = issuePair(tx, r.cfg(), now, grant{client: client, userID: userID, scopes: sc, familyID: models.NewUUID()}, refresh)
		return err
	})
	if err != nil {
		return nil, Translate(op, err)
	}
	return pair, nil
}

// Rotate exchanges a refresh token for a new access token and a new refresh
// token of the same family (RFC 6749 6), atomically: the presented token is
// marked used by a conditional update that must change exactly one row, and
// the child and its access token are inserted in the same transaction, so
// of any number of concurrent rotations of one token exactly one succeeds.
// requestedScopes may narrow the grant (empty keeps it); they never widen
// it.
//
// Presenting a used token is reuse: the attempt is rolled back, then, in a
// transaction of its own that commits, every refresh and access token of
// its family is revoked and the event refresh_token.reused recorded, and
// Rotate returns ErrReused. Concurrent presentations of one token therefore
// leave one winner whose family is then revoked by the losers, as RFC 9700
// 4.14.2 asks. With a grace window (WithGraceWindow), a retry within the
// window gets the same child instead.
//
// It returns ErrNoSigningKey if the configuration has no JWT secret,
// ErrNotFound for an unknown token, ErrInvalidCredentials if the token was
// issued to another client (the token stays usable), ErrRevoked if it or its
// client is revoked, ErrExpired if it expired, ErrInvalidInput if a
// requested scope was not granted, and ErrReused as above.
func (r *RefreshTokens) Rotate(ctx context.Context, token string, clientID models.UUID, requestedScopes []string) (*TokenPair, error) {
	const op = "rotate refresh token"
	digest, next, err := redeemStart(r.cfg(), "refresh token", token, clientID)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	requested, err := normalizeScopes(requestedScopes)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	now := r.now()
	var (
		pair *TokenPair
		used *models.RefreshToken
	)
	err = r.transaction(ctx, func(tx *gorm.DB) error {
		pair, used = nil, nil
		row, err := findRefresh(tx, digest)
		if err != nil {
			return err
		}
		if row.ClientID != clientID {
			return fmt.Errorf("refresh token was issued to another client: %w", ErrInvalidCredentials)
		}
		if row.UsedAt == nil && !row.Revoked {
			if !now.Before(row.ExpiresAt) {
				return fmt.Errorf("refresh token: %w", ErrExpired)
			}
			scopes := row.Scopes
			if len(requested) > 0 {
				if s, ok := subset(requested, row.Scopes); !ok {
					return fmt.Errorf("scope %q was not granted; refresh cannot widen scope: %w", s, ErrInvalidInput)
				}
				scopes = requested
			}
			client, err := activeClient(tx, clientID)
			if err != nil {
				return err
			}
			won, err := markUsed(tx, &models.RefreshToken{}, row.ID, now)
			if err != nil {
				return err
			}
			if won {
				g := grant{client: client, userID: row.UserID, scopes: scopes, familyID: row.FamilyID, parentID: &row.ID}
				if pair, err = issuePair(tx, r.cfg(), now, g, next); err != nil {
					return err
				}
				if r.grace != nil {
					r.grace.entries.put(digest, graceEntry{pair: *pair, usedAt: now})
				}
				return nil
			}
			// A concurrent rotation of this token committed first (on
			// PostgreSQL the update waited for it): look again.
			if row, err = findRefresh(tx, digest); err != nil {
				return err
			}
		}
		if row.UsedAt == nil {
			return fmt.Errorf("refresh token: %w", ErrRevoked)
		}
		if p, ok, err := r.graceRetry(tx, digest, row, now); err != nil || ok {
			pair = p
			return err
		}
		used = row
		return errPresentedAgain
	})
	// A reuse rolled the attempt back; the revocation commits on its own.
	return r.redeemEnd(ctx, op, pair, err, func(tx *gorm.DB) error { return revokeReused(tx, used, now) }, ErrReused)
}

// revokeReused revokes the family of a refresh token presented again after
// its rotation, and records the reuse.
func revokeReused(tx *gorm.DB, used *models.RefreshToken, now time.Time) error {
	n, err := revokeFamily(tx, used.FamilyID, now)
	if err != nil {
		return err
	}
	return models.RecordActivity(tx, used.UserID, hooks.EventRefreshTokenReused, map[string]any{
		"token_id": used.ID, "family_id": used.FamilyID, "client_id": used.ClientID, "revoked_rows": n,
	})
}

// graceRetry returns the pair a rotation of row gave, if row was rotated
// within the grace window and that child is still unused and unrevoked.
func (r *RefreshTokens) graceRetry(tx *gorm.DB, digest string, row *models.RefreshToken, now time.Time) (*TokenPair, bool, error) {
	if r.grace == nil || row.Revoked || now.Sub(*row.UsedAt) > r.grace.window {
		return nil, false, nil
	}
	e, ok := r.grace.entries.get(digest)
	if !ok || !e.usedAt.Equal(*row.UsedAt) {
		return nil, false, nil
	}
	var live int64
	err := tx.Model(&models.RefreshToken{}).Where("id = ?", e.pair.RefreshTokenID).Where("used_at IS NULL").
		Where("revoked = ?", false).Count(&live).Error
	if err != nil || live != 1 {
		return nil, false, err
	}
	err = tx.Model(&models.AccessToken{}).Where("id = ?", e.pair.AccessTokenID).Where("revoked = ?", false).Count(&live).Error
	if err != nil || live != 1 {
		return nil, false, err
	}
	p := e.pair
	p.Scopes = append([]string(nil), e.pair.Scopes...)
	return &p, true, nil
}

// findRefresh loads a refresh token by digest.
func findRefresh(tx *gorm.DB, digest string) (*models.RefreshToken, error) {
	var row models.RefreshToken
	if err := tx.Where("token_hash = ?", digest).Take(&row).Error; err != nil {
		if errors.Is(err, gorm.ErrRecordNotFound) {
			return nil, fmt.Errorf("refresh token: %w", ErrNotFound)
		}
		return nil, err
	}
	return &row, nil
}

// Revoke revokes a refresh token's grant (RFC 7009 2.1): every refresh and
// access token of its family, and records it (event token.revoked).
// Revoking a revoked or unknown token is not an error and changes nothing.
// It returns ErrInvalidCredentials if the token was issued to another client
// than clientID (the client making the request).
func (r *RefreshTokens) Revoke(ctx context.Context, token string, clientID models.UUID) error {
	const op = "revoke refresh token"
	if token == "" || len(token) > maxTokenLength {
		return nil
	}
	if !clientID.Valid() {
		return fmt.Errorf("%s: client id is not a uuid: %w", op, ErrInvalidCredentials)
	}
	digest := hooks.Digest(token)
	err := r.transaction(ctx, func(tx *gorm.DB) error {
		now := r.now()
		row, err := findRefresh(tx, digest)
		if errors.Is(err, ErrNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		if row.ClientID != clientID {
			return fmt.Errorf("refresh token was issued to another client: %w", ErrInvalidCredentials)
		}
		n, err := revokeFamily(tx, row.FamilyID, now)
		if err != nil || n == 0 {
			return err
		}
		return models.RecordActivity(tx, row.UserID, hooks.EventTokenRevoked, map[string]any{
			"token_type": "refresh_token", "token_id": row.ID, "family_id": row.FamilyID, "client_id": row.ClientID, "revoked_rows": n,
		})
	})
	return Translate(op, err)
}

// RevokeForUser revokes every authorization code, refresh and access token of a user (for
// example after a password change) and returns how many rows it revoked; it
// records one token.revoked event when it revoked any. It returns
// ErrInvalidInput for a malformed user id.
func (r *RefreshTokens) RevokeForUser(ctx context.Context, userID models.UUID) (int64, error) {
	const op = "revoke user refresh tokens"
	if err := validID("user id", userID); err != nil {
		return 0, fmt.Errorf("%s: %w", op, err)
	}
	var n int64
	err := r.transaction(ctx, func(tx *gorm.DB) error {
		n = 0
		now := r.now()
		var err error
		if n, err = revokeGrants(tx, "user_id", userID, now); err != nil || n == 0 {
			return err
		}
		return models.RecordActivity(tx, &userID, hooks.EventTokenRevoked, map[string]any{
			"token_type": "refresh_token", "user_id": userID, "revoked_rows": n,
		})
	})
	if err != nil {
		return 0, Translate(op, err)
	}
	return n, nil
}
