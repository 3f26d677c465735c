package repositories

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/forgeauth/authstore/hooks"
	"github.com/forgeauth/authstore/models"
	"github.com/forgeauth/authstore/protocol"
	"gorm.io/gorm"
)

// RefreshTokens is the repository of refresh tokens (table
// oauth_refresh_tokens). Tokens are stored as SHA-256 digests. Each grant is
// a family: rotation marks a token used and issues a child with the same
// FamilyID; presenting a used token again revokes the whole family (RFC 9700
// 4.14.2).
type RefreshTokens struct {
	base
}

// NewRefreshTokens returns the refresh-token repository over db. Its reuse
// interval is opts.Config.RefreshReuseInterval (OAUTH_REFRESH_REUSE_INTERVAL;
// 0, the default, turns it off): a token presented again within the
// interval of its rotation, while the child it got is still unused and
// unrevoked, gets that same child pair and creates no row, instead of
// counting as reuse; past the interval, reuse revokes the family as usual.
// Nothing about it is kept in memory: the child is derived from the
// presented token with a key derived from JWT_SECRET, so any process, or
// one started since, answers a retry alike.
func NewRefreshTokens(db *gorm.DB, opts Options) *RefreshTokens {
	return &RefreshTokens{base: newBase(db, opts)}
}

// WithTx returns a copy of r whose methods run inside tx (as savepoints).
//
// Inside a caller's transaction, the family revocation that Rotate commits
// before returning ErrReused is only a savepoint: the caller must commit its
// transaction for the revocation to last.
func (r *RefreshTokens) WithTx(tx *gorm.DB) *RefreshTokens {
	return &RefreshTokens{base: r.withTx(tx)}
}

// Issue starts a new grant (a new family) for a client and a user (nil for
// a grant without a user): it issues an access token and a refresh token,
// in one transaction, and returns both. The refresh token expires after
// OAUTH_REFRESH_TOKEN_LIFETIME. No login is recorded on it (its AuthTime is
// nil and its AMR empty): a grant that follows a login is issued by
// AuthRequests.Redeem.
//
// It returns ErrNoSigningKey if the Store has neither a signing key nor a JWT secret,
// ErrInvalidInput for a malformed id, ErrInvalidScope for a malformed scope
// or one the client did not register, ErrUnauthorizedClient if the client
// did not register the refresh_token grant (or, for a grant without a
// user, client_credentials), ErrNotFound if the client does not exist,
// ErrRevoked if it is revoked and ErrMissingReferent if the user does not
// exist.
func (r *RefreshTokens) Issue(ctx context.Context, clientID models.UUID, userID *models.UUID, scopes []string) (*TokenPair, error) {
	const op = "issue refresh token"
	keys, keyErr := r.tokenKeys(ctx)
	if err := firstErr(keyErr, checkPairConfig(r.cfg()), validID("client id", clientID), validOptionalID("user id", userID)); err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	sc, err := normalizeScopes(scopes)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	refresh, err := newSecretToken()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	pair, err := inTx(ctx, r.base, func(tx *gorm.DB, now time.Time) (*TokenPair, error) {
		client, err := activeClient(tx, clientID)
		if err != nil {
			return nil, err
		}
		if err := requireGrant(client, protocol.GrantRefreshToken); err != nil {
			return nil, err
		}
		if err := allowedScopes(client, sc); err != nil {
			return nil, err
		}
		return issuePair(tx, keys, r.cfg(), now, grant{client: client, userID: userID, scopes: sc, familyID: models.NewUUID()}, refresh)
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
// requestedScopes may narrow the access token issued (empty keeps the
// grant's scope); they never widen it, and the new refresh token keeps the
// grant's scope, so a later refresh may ask again for any of it (RFC 6749
// 6, SECURITY 38). The new refresh token also keeps the presented one's
// AuthTime and AMR, the login the grant came from, unchanged (nil in a row
// written before migration 000009, which rotates all the same): a refresh
// neither renews nor upgrades the login.
//
// Presenting a used token is reuse: the rotation's transaction changes
// nothing, then a second transaction of its own, which commits, revokes
// every refresh and access token of the family and records the event
// refresh_token.reused, and Rotate returns ErrReused. Concurrent
// presentations of one token therefore leave one winner whose family is
// then revoked by the losers, as RFC 9700 4.14.2 asks. Within the reuse
// interval (OAUTH_REFRESH_REUSE_INTERVAL) a retry, from any process, gets
// the same child instead and creates nothing.
//
// client must be the authenticated client the token was issued to, with
// the refresh_token grant.
//
// It returns ErrNoSigningKey if the Store has neither a signing key nor a JWT secret,
// ErrNotFound for an unknown token, ErrInvalidCredentials for a client that
// is not authenticated or a token issued to another client (the token
// stays usable), ErrUnauthorizedClient if the client lost the
// refresh_token grant, ErrRevoked if the token or its client is revoked,
// ErrExpired if it expired, ErrInvalidScope if a requested scope was not
// granted, and ErrReused as above.
func (r *RefreshTokens) Rotate(ctx context.Context, client AuthenticatedClient, token string, requestedScopes []string) (*TokenPair, error) {
	const op = "rotate refresh token"
	keys, clientID, digest, err := redeemInput(ctx, r.base, "refresh token", token, client)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	next, err := keys.childToken(token)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	requested, err := normalizeScopes(requestedScopes)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	out, err := inTx(ctx, r.base, func(tx *gorm.DB, now time.Time) (rotation, error) {
		return r.rotate(tx, keys, now, digest, clientID, requested, next)
	})
	if err != nil {
		return nil, Translate(op, err)
	}
	if out.reused != nil {
		return nil, r.revokeThenFail(ctx, op, func(tx *gorm.DB, now time.Time) error { return revokeReused(tx, now, out.reused) }, ErrReused)
	}
	return out.pair, nil
}

// rotation is the outcome of a rotation's transaction: a new pair (or, for
// a retry within the grace window, the pair the first rotation gave), or
// the used token that was presented again.
type rotation struct {
	pair   *TokenPair
	reused *models.RefreshToken
}

// rotate is the transaction of Rotate.
func (r *RefreshTokens) rotate(tx *gorm.DB, keys tokenKeys, now time.Time, digest string, clientID models.UUID, requested models.Strings, next string) (rotation, error) {
	row, err := findRefresh(tx, digest)
	if err != nil {
		return rotation{}, err
	}
	if row.ClientID != clientID {
		return rotation{}, fmt.Errorf("refresh token was issued to another client: %w", ErrInvalidCredentials)
	}
	if whyNotUsable("refresh token", row.UsedAt, row.Revoked, row.ExpiresAt, now) == nil {
		var narrowed models.Strings // nil: the access token gets the grant's scope
		if len(requested) > 0 {
			if s, missing := protocol.MissingScope(requested, row.Scopes); missing {
				return rotation{}, fmt.Errorf("scope %q was not granted; refresh cannot widen scope: %w", s, ErrInvalidScope)
			}
			narrowed = requested
		}
		client, err := activeClient(tx, clientID)
		if err != nil {
			return rotation{}, err
		}
		if err := requireGrant(client, protocol.GrantRefreshToken); err != nil {
			return rotation{}, err
		}
		won, err := consume(tx, refreshUse, row.ID, now)
		if err != nil {
			return rotation{}, err
		}
		if won {
			// The child keeps the grant's login (auth time and methods)
			// from its parent's row, never from the request.
			g := grant{client: client, userID: row.UserID, scopes: row.Scopes, accessScopes: narrowed, familyID: row.FamilyID, parentID: &row.ID,
				authTime: row.AuthTime, amr: row.AMR}
			pair, err := issuePair(tx, keys, r.cfg(), now, g, next)
			return rotation{pair: pair}, err
		}
		// A concurrent rotation of this token committed first (on
		// PostgreSQL the update waited for it): look again.
		if row, err = findRefresh(tx, digest); err != nil {
			return rotation{}, err
		}
	}
	if err := replayed("refresh token", row.UsedAt, row.Revoked, row.ExpiresAt, now); err != nil {
		return rotation{}, err
	}
	pair, err := r.reissue(tx, keys, now, row, next)
	if err != nil || pair != nil {
		return rotation{pair: pair}, err
	}
	return rotation{reused: row}, nil
}

// revokeReused revokes the family of a refresh token presented again after
// its rotation, and records the reuse.
func revokeReused(tx *gorm.DB, now time.Time, used *models.RefreshToken) error {
	n, err := revokeFamily(tx, used.FamilyID, now)
	if err != nil {
		return err
	}
	return record(tx, now, used.UserID, models.EventRefreshTokenReused, map[string]any{
		"token_id": used.ID, "family_id": used.FamilyID, "client_id": used.ClientID, "revoked_rows": n,
	})
}

// reissue answers a retry of a refresh token rotated within the reuse
// interval (OAUTH_REFRESH_REUSE_INTERVAL; SECURITY 40) with the pair its
// rotation gave, creating nothing: the child's plaintext is derived from
// the presented token (childToken), so any process recomputes it, and the
// access JWT is signed again from its row, which gives the same token. It
// returns nil when row was not rotated within the interval, or its child
// is used, revoked or expired, or the child's access token is revoked:
// then the presentation is reuse.
func (r *RefreshTokens) reissue(tx *gorm.DB, keys tokenKeys, now time.Time, row *models.RefreshToken, child string) (*TokenPair, error) {
	interval := r.cfg().RefreshReuseInterval
	if interval <= 0 || row.Revoked || row.UsedAt == nil || now.Sub(*row.UsedAt) > interval {
		return nil, nil
	}
	var next models.RefreshToken
	err := tx.Where("token_hash = ? AND parent_id = ?", hooks.Digest(child), row.ID).Take(&next).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, nil
	}
	if err != nil || whyNotUsable("refresh token", next.UsedAt, next.Revoked, next.ExpiresAt, now) != nil || next.AccessTokenID == nil {
		return nil, err
	}
	var at models.AccessToken
	if err := tx.Where("id = ?", *next.AccessTokenID).Take(&at).Error; err != nil {
		if errors.Is(err, gorm.ErrRecordNotFound) {
			return nil, nil
		}
		return nil, err
	}
	if at.Revoked || !now.Before(at.ExpiresAt) {
		return nil, nil
	}
	access, err := keys.sign(&at)
	if err != nil {
		return nil, err
	}
	return &TokenPair{
		AccessToken: access, AccessTokenID: at.ID, RefreshToken: child, RefreshTokenID: next.ID,
		FamilyID: next.FamilyID, TokenType: protocol.TokenTypeBearer, ExpiresIn: int64(r.cfg().AccessTokenLifetime / time.Second),
		ExpiresAt: at.ExpiresAt, RefreshExpiresAt: next.ExpiresAt, Scopes: append([]string(nil), at.Scopes...),
	}, nil
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
// It returns ErrInvalidCredentials for a client that is not authenticated
// or a token issued to another client than client (the one making the
// request).
func (r *RefreshTokens) Revoke(ctx context.Context, client AuthenticatedClient, token string) error {
	const op = "revoke refresh token"
	clientID, err := client.valid()
	if err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	if token == "" || len(token) > maxTokenLength {
		return nil
	}
	digest := hooks.Digest(token)
	err = r.transaction(ctx, func(tx *gorm.DB, now time.Time) error {
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
		return record(tx, now, row.UserID, models.EventTokenRevoked, map[string]any{
			"token_type": "refresh_token", "token_id": row.ID, "family_id": row.FamilyID, "client_id": row.ClientID, "revoked_rows": n,
		})
	})
	return Translate(op, err)
}

// RevokeForUser revokes every authorization code, refresh and access token
// of a user (for example after a password change) and returns how many
// rows it revoked; it records one token.revoked event when it revoked any.
// It returns ErrInvalidInput for a malformed user id.
func (r *RefreshTokens) RevokeForUser(ctx context.Context, userID models.UUID) (int64, error) {
	const op = "revoke user refresh tokens"
	if err := validID("user id", userID); err != nil {
		return 0, fmt.Errorf("%s: %w", op, err)
	}
	n, err := inTx(ctx, r.base, func(tx *gorm.DB, now time.Time) (int64, error) {
		n, err := revokeGrants(tx, "user_id", userID, now)
		if err != nil || n == 0 {
			return n, err
		}
		return n, record(tx, now, &userID, models.EventTokenRevoked, map[string]any{
			"token_type": "refresh_token", "user_id": userID, "revoked_rows": n,
		})
	})
	if err != nil {
		return 0, Translate(op, err)
	}
	return n, nil
}
