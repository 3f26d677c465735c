package repositories

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/forgeauth/authstore/models"
	"github.com/forgeauth/authstore/protocol"
	"gorm.io/gorm"
)

// AccessTokens is the repository of JWT access tokens (table
// oauth_access_tokens). A token is an RFC 9068 JWT signed with the current
// signing key (SigningKeys), or, with no signing key, an HS256 JWT signed
// with the configuration's JWT secret (the legacy mode); its row, keyed by
// the jti, lets it be revoked before its exp and outlives that exp. The JWT
// itself is never stored.
type AccessTokens struct {
	base
}

// NewAccessTokens returns the access-token repository over db.
func NewAccessTokens(db *gorm.DB, opts Options) *AccessTokens {
	return &AccessTokens{base: newBase(db, opts)}
}

// WithTx returns a copy of r whose methods run inside tx (as savepoints).
func (r *AccessTokens) WithTx(tx *gorm.DB) *AccessTokens {
	return &AccessTokens{base: r.withTx(tx)}
}

// Issue issues an access token to a client, for a user (nil for a
// client-credentials grant, in which case sub is the client id), with the
// given scopes and, when familyID is set, as part of that grant. It stores
// the row (id = jti, expiry now + OAUTH_ACCESS_TOKEN_LIFETIME) and returns
// the row and the signed JWT.
//
// A token without a user is a client-credentials token: the client must be
// confidential and have registered client_credentials. A token endpoint
// serving that grant calls IssueClientCredentials, which takes the
// authenticated client.
//
// It returns ErrNoSigningKey if the Store has neither a current signing key
// nor a JWT secret, ErrInvalidInput for a malformed id, ErrInvalidScope for a malformed
// scope or one the client did not register, ErrUnauthorizedClient as
// above, ErrNotFound if the client does not exist, ErrRevoked if it is
// revoked and ErrMissingReferent if the user does not exist.
func (r *AccessTokens) Issue(ctx context.Context, clientID models.UUID, userID *models.UUID, scopes []string, familyID *models.UUID) (*models.AccessToken, string, error) {
	const op = "issue access token"
	keys, keyErr := r.tokenKeys(ctx)
	err := firstErr(keyErr, checkLifetime("access token", r.cfg().AccessTokenLifetime),
		validID("client id", clientID), validOptionalID("user id", userID), validOptionalID("family id", familyID))
	if err != nil {
		return nil, "", fmt.Errorf("%s: %w", op, err)
	}
	sc, err := normalizeScopes(scopes)
	if err != nil {
		return nil, "", fmt.Errorf("%s: %w", op, err)
	}
	type issued struct {
		row    *models.AccessToken
		signed string
	}
	out, err := inTx(ctx, r.base, func(tx *gorm.DB, now time.Time) (issued, error) {
		client, err := activeClient(tx, clientID)
		if err != nil {
			return issued{}, err
		}
		if err := allowedScopes(client, sc); err != nil {
			return issued{}, err
		}
		row, signed, err := issueAccess(tx, keys, r.cfg(), now, client, userID, sc, familyID)
		return issued{row, signed}, err
	})
	if err != nil {
		return nil, "", Translate(op, err)
	}
	return out.row, out.signed, nil
}

// IssueClientCredentials issues an access token to an authenticated
// client for itself (RFC 6749 4.4): its subject is the client, and it
// belongs to no grant, so there is no refresh token. Only a confidential
// client that registered client_credentials gets one.
//
// It returns ErrInvalidCredentials for a client that is not authenticated,
// ErrUnauthorizedClient for a public client or one without the
// client_credentials grant, ErrInvalidScope for a scope it did not
// register, ErrRevoked if it was revoked since it authenticated, and
// ErrNoSigningKey if the Store has neither a signing key nor a JWT secret.
func (r *AccessTokens) IssueClientCredentials(ctx context.Context, client AuthenticatedClient, scopes []string) (*models.AccessToken, string, error) {
	const op = "issue client credentials token"
	clientID, err := client.valid()
	if err != nil {
		return nil, "", fmt.Errorf("%s: %w", op, err)
	}
	return r.Issue(ctx, clientID, nil, scopes, nil)
}

// Validate checks an access token and returns its claims. The token must be
// a JWT of type at+jwt signed by a published signing key named by its kid,
// with that key's algorithm (RS256, ES256 or EdDSA: the algorithm is
// pinned to the key; "none", HS256 with the public key as its secret and
// every other algorithm are refused, as is the kid of a removed key), and
// carry the configured audience; or, in the legacy mode, an HS256 JWT
// without a kid signed with JWT_SECRET, with the client id as audience,
// accepted while JWT_SECRET is configured. It must have a good signature,
// come from the configured issuer, be unexpired by the store's clock, and
// its jti row must exist and not be revoked. A kid this process does not
// know reads the keys again (at most once a second), so another process's
// rotation is seen at once.
//
// The row is the authority (RFC 9068 4, SECURITY 36): a JWT whose subject,
// client (client_id and aud), scopes or expiry differ from its row is
// refused even when its signature is good, so a token re-signed with a
// leaked key and altered claims does not validate.
//
// It returns ErrNoSigningKey if the Store has neither signing keys nor a
// JWT secret, ErrExpired for an expired token, ErrInvalidCredentials for any other
// invalid JWT (bad signature, algorithm, type, issuer or claims),
// ErrNotFound if its row does not exist (it was deleted with its client or
// user) and ErrRevoked if it was revoked.
func (r *AccessTokens) Validate(ctx context.Context, token string) (*protocol.Claims, error) {
	const op = "validate access token"
	claims, aud, err := r.verify(ctx, token)
	switch {
	case errors.Is(err, ErrNoSigningKey):
		return nil, fmt.Errorf("%s: %w", op, err)
	case errors.Is(err, protocol.ErrTokenExpired):
		return nil, fmt.Errorf("%s: %w", op, ErrExpired)
	case errors.Is(err, protocol.ErrTokenInvalid):
		return nil, fmt.Errorf("%s: %w: %w", op, err, ErrInvalidCredentials)
	case err != nil:
		return nil, Translate(op, err) // the keys could not be read
	}
	jti := models.UUID(claims.ID)
	if validID("jti", jti) != nil {
		return nil, fmt.Errorf("%s: jti is not a uuid: %w", op, ErrInvalidCredentials)
	}
	var row models.AccessToken
	if err := r.conn(ctx).Where("id = ?", jti).Take(&row).Error; err != nil {
		return nil, Translate(op, err)
	}
	if what := claimsDiffer(claims, &row, aud); what != "" {
		return nil, fmt.Errorf("%s: jwt %s differs from its row: %w", op, what, ErrInvalidCredentials)
	}
	if row.Revoked {
		return nil, fmt.Errorf("%s: %w", op, ErrRevoked)
	}
	return claims, nil
}

// verify checks an access JWT's signature, type, issuer and expiry, with
// the key its header names: a signing key by kid (the algorithm pinned to
// the key's), or JWT_SECRET for an HS256 token without a kid (the legacy
// mode, accepted while JWT_SECRET is configured, so that tokens issued
// before the move to signing keys validate until they expire). It returns
// the claims and the audience they must carry: the configured one for a
// signed token, the client id for a legacy one. A token that names a
// removed or unknown kid, another algorithm than its key's, "none", or
// HS256 with a kid or without JWT_SECRET is protocol.ErrTokenInvalid; a
// Store with neither signing keys nor JWT_SECRET gives ErrNoSigningKey.
func (b base) verify(ctx context.Context, token string) (*protocol.Claims, func(clientID string) string, error) {
	cfg := b.cfg()
	secret, keyErr := signingKey(cfg)
	if keyErr != nil {
		// Neither key: say so before looking at the token.
		if has, err := b.hasSigningKeys(ctx); err != nil || !has {
			return nil, nil, firstErr(err, keyErr)
		}
	}
	h, err := protocol.PeekHeader(token)
	if err != nil {
		return nil, nil, err
	}
	ks := b.opts.SigningKeys
	if h.Alg == protocol.AlgorithmHS256 && h.Kid == "" {
		if keyErr != nil {
			return nil, nil, fmt.Errorf("%w: an HS256 token and no JWT_SECRET", protocol.ErrTokenInvalid)
		}
		claims, err := protocol.ParseAccessToken(token, secret, cfg.JWTIssuer, b.now)
		return claims, func(clientID string) string { return clientID }, err
	}
	if ks == nil {
		return nil, nil, fmt.Errorf("%w: no signing key validates it", protocol.ErrTokenInvalid)
	}
	kid := models.UUID(h.Kid)
	if validID("kid", kid) != nil {
		return nil, nil, fmt.Errorf("%w: its kid is not a key id", protocol.ErrTokenInvalid)
	}
	key, err := ks.verifier(ctx, b.db, kid)
	switch {
	case err != nil:
		return nil, nil, err
	case key == nil:
		return nil, nil, fmt.Errorf("%w: its kid is unknown or removed", protocol.ErrTokenInvalid)
	case key.row.Algorithm != h.Alg:
		return nil, nil, fmt.Errorf("%w: its alg is not its key's", protocol.ErrTokenInvalid)
	}
	claims, err := protocol.ParseAccessTokenWith(token, key.row.Algorithm, key.pub, cfg.JWTIssuer, b.now)
	audience := cfg.Audience()
	return claims, func(string) string { return audience }, err
}

// hasSigningKeys reports whether the Store has signing keys.
func (b base) hasSigningKeys(ctx context.Context) (bool, error) {
	if b.opts.SigningKeys == nil {
		return false, nil
	}
	return b.opts.SigningKeys.hasKeys(ctx, b.db)
}

// claimsDiffer names the first claim of c that its row does not back, or
// returns "". aud gives the audience a token of the row's client carries.
func claimsDiffer(c *protocol.Claims, row *models.AccessToken, aud func(clientID string) string) string {
	sub := row.ClientID.String()
	if row.UserID != nil {
		sub = row.UserID.String()
	}
	got, _ := c.GetAudience()
	switch {
	case c.Subject != sub:
		return "sub"
	case c.ClientID != row.ClientID.String():
		return "client_id"
	case len(got) != 1 || got[0] != aud(row.ClientID.String()):
		return "aud"
	case !slices.Equal(c.Scopes(), []string(row.Scopes)):
		return "scope"
	case c.ExpiresAt == nil || c.ExpiresAt.Unix() != row.ExpiresAt.Unix():
		return "exp"
	}
	return ""
}

// Revoke revokes the access token with the given jti and records it (event
// token.revoked). Following RFC 7009, revoking a revoked or unknown token
// (or a malformed jti) is not an error and changes nothing.
func (r *AccessTokens) Revoke(ctx context.Context, jti models.UUID) error {
	const op = "revoke access token"
	if validID("jti", jti) != nil {
		return nil // RFC 7009 2.2: a malformed jti is an unknown one
	}
	err := r.transaction(ctx, func(tx *gorm.DB, now time.Time) error {
		var row models.AccessToken
		if err := tx.Where("id = ?", jti).Take(&row).Error; err != nil {
			if errors.Is(err, gorm.ErrRecordNotFound) {
				return nil
			}
			return err
		}
		res := tx.Model(&models.AccessToken{}).Where("id = ?", jti).Where("revoked = ?", false).
			Updates(map[string]any{"revoked": true, "updated_at": now})
		if res.Error != nil || res.RowsAffected == 0 {
			return res.Error
		}
		return record(tx, now, row.UserID, models.EventTokenRevoked,
			map[string]any{"token_type": "access_token", "token_id": jti, "client_id": row.ClientID})
	})
	return Translate(op, err)
}

// RevokeForUser revokes every access token of a user and returns how many it
// revoked; it records one token.revoked event when it revoked any. It
// returns ErrInvalidInput for a malformed user id.
func (r *AccessTokens) RevokeForUser(ctx context.Context, userID models.UUID) (int64, error) {
	return r.revokeWhere(ctx, "revoke user access tokens", "user_id", userID, &userID)
}

// RevokeForClient revokes every access token issued to a client and returns
// how many it revoked; it records one token.revoked event when it revoked
// any. It returns ErrInvalidInput for a malformed client id.
func (r *AccessTokens) RevokeForClient(ctx context.Context, clientID models.UUID) (int64, error) {
	return r.revokeWhere(ctx, "revoke client access tokens", "client_id", clientID, nil)
}

func (r *AccessTokens) revokeWhere(ctx context.Context, op, column string, id models.UUID, userID *models.UUID) (int64, error) {
	if err := validID(column, id); err != nil {
		return 0, fmt.Errorf("%s: %w", op, err)
	}
	n, err := inTx(ctx, r.base, func(tx *gorm.DB, now time.Time) (int64, error) {
		res := tx.Model(&models.AccessToken{}).Where(column+" = ?", id).Where("revoked = ?", false).
			Updates(map[string]any{"revoked": true, "updated_at": now})
		if res.Error != nil || res.RowsAffected == 0 {
			return 0, res.Error
		}
		return res.RowsAffected, record(tx, now, userID, models.EventTokenRevoked,
			map[string]any{"token_type": "access_token", column: id, "count": res.RowsAffected})
	})
	if err != nil {
		return 0, Translate(op, err)
	}
	return n, nil
}
