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

// AuthRequests is the repository of an OpenID provider's pending
// authorization requests (table oauth_auth_requests), for the provider
// adapter (package oidcstore). A request is created at the authorize
// endpoint, completed when a person logs in, given the digest of the code
// the provider issues for it, and redeemed once at the token endpoint,
// which issues its tokens as the grant (refresh-token family) whose id is
// the request's. A redeemed request is kept until it expires: a
// replayed code revokes what it issued.
type AuthRequests struct {
	base
}

// NewAuthRequests returns the authorization-request repository over db.
func NewAuthRequests(db *gorm.DB, opts Options) *AuthRequests {
	return &AuthRequests{base: newBase(db, opts)}
}

// WithTx returns a copy of r whose methods run inside tx (as savepoints).
// Inside a caller's transaction, the revocation that Redeem commits before
// returning ErrCodeReplayed lasts only if the caller commits.
func (r *AuthRequests) WithTx(tx *gorm.DB) *AuthRequests {
	return &AuthRequests{base: r.withTx(tx)}
}

// DefaultAuthRequestLifetime is how long a person has to log in when
// AuthRequestInput.Lifetime is zero.
const DefaultAuthRequestLifetime = 30 * time.Minute

// maxRequestText bounds the state, nonce, login hint, response mode and
// each prompt and AMR value of an authorization request.
const maxRequestText = 1024

// ResponseTypeCode is the one response type AuthRequests serves: the
// authorization code flow (OpenID Connect Core 3.1).
const ResponseTypeCode = "code"

// openIDScopes are the OpenID Connect scopes (Core 5.4, 11) a client may
// always ask for, whatever scopes it registered.
var openIDScopes = models.Strings{"openid", "profile", "email", scopeOfflineAccess}

// scopeOfflineAccess asks for a refresh token (OpenID Connect Core 11).
const scopeOfflineAccess = "offline_access"

// AuthRequestInput describes an authorization request the authorize
// endpoint received.
type AuthRequestInput struct {
	ClientID models.UUID
	// RedirectURI must be one the client registered (exact match, see
	// protocol.MatchRedirectURI).
	RedirectURI string
	// Scopes the client asks for: the OpenID Connect scopes (openid,
	// profile, email, offline_access) and, if it registered scopes, only
	// those.
	Scopes []string
	// State and Nonce are the client's values, returned with the code and
	// in the ID token.
	State, Nonce string
	// ResponseType must be "code" (ResponseTypeCode); ResponseMode is kept
	// as given.
	ResponseType, ResponseMode string
	// CodeChallenge and CodeChallengeMethod are the PKCE parameters:
	// method S256 only; required for a public client, and for every client
	// when OAUTH_ENABLE_PKCE is true.
	CodeChallenge, CodeChallengeMethod string
	// Prompt, MaxAge (seconds) and LoginHint are the OpenID Connect
	// parameters, kept for the login page.
	Prompt    []string
	MaxAge    *int64
	LoginHint string
	// Lifetime is how long the person has to log in; zero means
	// DefaultAuthRequestLifetime.
	Lifetime time.Duration
}

// Create records an authorization request and returns it.
//
// It returns ErrInvalidInput for a malformed field, a response type other
// than code, a PKCE method other than S256, a missing challenge where PKCE
// is required, or a redirect URI the client did not register;
// ErrInvalidScope for a scope it did not register; ErrUnauthorizedClient
// for a client without the authorization_code grant; ErrNotFound if the
// client does not exist and ErrRevoked if it is revoked.
func (r *AuthRequests) Create(ctx context.Context, in AuthRequestInput) (*models.AuthRequest, error) {
	const op = "create authorization request"
	if err := checkAuthRequestInput(in); err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	scopes, err := normalizeScopes(in.Scopes)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	lifetime := in.Lifetime
	if lifetime == 0 {
		lifetime = DefaultAuthRequestLifetime
	}
	row := &models.AuthRequest{
		ID:           models.NewUUID(),
		ClientID:     in.ClientID,
		RedirectURI:  in.RedirectURI,
		Scopes:       scopes,
		State:        in.State,
		Nonce:        in.Nonce,
		ResponseType: in.ResponseType,
		ResponseMode: in.ResponseMode,
		Prompt:       append(models.Strings{}, in.Prompt...),
		MaxAge:       in.MaxAge,
		LoginHint:    in.LoginHint,
		AMR:          models.Strings{},
	}
	if in.CodeChallenge != "" {
		challenge, method := in.CodeChallenge, in.CodeChallengeMethod
		row.CodeChallenge, row.CodeChallengeMethod = &challenge, &method
	}
	err = r.transaction(ctx, func(tx *gorm.DB, now time.Time) error {
		client, err := activeClient(tx, in.ClientID)
		if err != nil {
			return err
		}
		if err := checkAuthorization(client, r.cfg().EnablePKCE, in.CodeChallenge, in.RedirectURI); err != nil {
			return err
		}
		var registered []string
		for _, s := range scopes {
			if !openIDScopes.Contains(s) {
				registered = append(registered, s)
			}
		}
		if err := allowedScopes(client, registered); err != nil {
			return err
		}
		row.ExpiresAt, row.CreatedAt = now.Add(lifetime), now
		return tx.Create(row).Error
	})
	if err != nil {
		return nil, Translate(op, err)
	}
	return row, nil
}

// checkAuthRequestInput validates what Create checks before its
// transaction.
func checkAuthRequestInput(in AuthRequestInput) error {
	if err := firstErr(validID("client id", in.ClientID), checkRedirectInput(in.RedirectURI)); err != nil {
		return err
	}
	if in.ResponseType != ResponseTypeCode {
		return fmt.Errorf("response type %q is not %q: %w", clip(in.ResponseType, 32), ResponseTypeCode, ErrInvalidInput)
	}
	if in.MaxAge != nil && *in.MaxAge < 0 {
		return fmt.Errorf("max age is negative: %w", ErrInvalidInput)
	}
	if in.Lifetime < 0 {
		return fmt.Errorf("authorization request lifetime is negative: %w", ErrInvalidInput)
	}
	checks := []error{
		checkText("state", in.State, maxRequestText), checkText("nonce", in.Nonce, maxRequestText),
		checkLine("response mode", in.ResponseMode, maxRequestText), checkLine("login hint", in.LoginHint, maxRequestText),
		invalid(protocol.CheckChallenge(in.CodeChallenge, in.CodeChallengeMethod)),
	}
	for _, p := range in.Prompt {
		checks = append(checks, checkLine("prompt", p, maxRequestText))
	}
	return firstErr(checks...)
}

// Find returns the authorization request with the given id, for the login
// page and the provider's callback. It returns ErrInvalidInput for a
// malformed id, ErrNotFound if there is none, ErrExpired if it expired and
// ErrRevoked if its code was replayed.
func (r *AuthRequests) Find(ctx context.Context, id models.UUID) (*models.AuthRequest, error) {
	const op = "find authorization request"
	if err := validID("authorization request id", id); err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	var row models.AuthRequest
	if err := r.conn(ctx).Where("id = ?", id).Take(&row).Error; err != nil {
		return nil, Translate(op, err)
	}
	switch now := r.now(); {
	case row.Revoked:
		return nil, fmt.Errorf("%s: %w", op, ErrRevoked)
	case !now.Before(row.ExpiresAt):
		return nil, fmt.Errorf("%s: %w", op, ErrExpired)
	}
	return &row, nil
}

// Complete records that userID logged in for the request at authTime,
// by the methods amr (RFC 8176 values such as "pwd"), after which a code
// may be issued for it (SaveCode). A person may log in again until the
// code is issued; the last login counts.
//
// It returns ErrInvalidInput for a malformed id, a zero authTime or an AMR
// value that is not a short line, ErrNotFound if there is no such request,
// ErrExpired if it expired, ErrRevoked if it was revoked, ErrUsed if its
// code was issued already and ErrMissingReferent if the user does not
// exist.
func (r *AuthRequests) Complete(ctx context.Context, id, userID models.UUID, authTime time.Time, amr []string) error {
	return r.complete(ctx, "complete authorization request", id, userID, authTime, amr, nil)
}

// CompleteFromSession records, as Complete does, that the person of a live
// login session logged in for the request without a login page (single
// sign-on): the session's user, its start as the auth time, the methods
// amr. In the same transaction it checks the session still exists (a
// logout meanwhile refuses the sign-on) and writes a login.session
// activity row with the request's client id and the session id, the IP
// address and user agent of ctx's request metadata.
//
// It returns Complete's errors, ErrInvalidInput for a nil session and
// ErrNotFound (naming the session) when the session has ended.
func (r *AuthRequests) CompleteFromSession(ctx context.Context, id models.UUID, session *models.Session, amr []string) error {
	const op = "complete authorization request from session"
	if session == nil {
		return fmt.Errorf("%s: session is nil: %w", op, ErrInvalidInput)
	}
	if err := validID("session id", session.ID); err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	return r.complete(ctx, op, id, session.UserID, session.CreatedAt, amr, session)
}

// complete is Complete, and CompleteFromSession when session is not nil.
func (r *AuthRequests) complete(ctx context.Context, op string, id, userID models.UUID, authTime time.Time, amr []string, session *models.Session) error {
	checks := []error{validID("authorization request id", id), validID("user id", userID)}
	if authTime.IsZero() {
		checks = append(checks, fmt.Errorf("auth time is zero: %w", ErrInvalidInput))
	}
	for _, m := range amr {
		checks = append(checks, checkLine("amr", m, maxRequestText))
	}
	if err := firstErr(checks...); err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	at := clampTime(authTime).Truncate(time.Microsecond)
	err := r.transaction(ctx, func(tx *gorm.DB, now time.Time) error {
		res := tx.Model(&models.AuthRequest{}).Where("id = ?", id).
			Where("code_hash IS NULL AND used_at IS NULL AND revoked = ? AND expires_at > ?", false, now).
			Updates(map[string]any{"user_id": userID, "auth_time": at, "amr": append(models.Strings{}, amr...), "done": true})
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected != 1 {
			return whyNotPending(tx, id, now)
		}
		if session == nil {
			return nil
		}
		var n int64
		if err := tx.Model(&models.Session{}).Where("id = ? AND user_id = ? AND expires_at > ?", session.ID, userID, now).Count(&n).Error; err != nil {
			return err
		}
		if n == 0 {
			return fmt.Errorf("session %s has ended: %w", session.ID, ErrNotFound)
		}
		var clientID models.UUID
		if err := tx.Model(&models.AuthRequest{}).Where("id = ?", id).Select("client_id").Scan(&clientID).Error; err != nil {
			return err
		}
		return record(tx, now, &userID, models.EventLoginSession, map[string]any{"client_id": clientID, "session_id": session.ID})
	})
	return Translate(op, err)
}

// whyNotPending explains why a request could not be completed or given a
// code: it does not exist, was revoked, expired, or has a code already.
func whyNotPending(tx *gorm.DB, id models.UUID, now time.Time) error {
	var row models.AuthRequest
	if err := tx.Where("id = ?", id).Take(&row).Error; err != nil {
		return err
	}
	switch {
	case row.Revoked:
		return fmt.Errorf("authorization request: %w", ErrRevoked)
	case !now.Before(row.ExpiresAt):
		return fmt.Errorf("authorization request: %w", ErrExpired)
	case row.UsedAt != nil:
		return fmt.Errorf("authorization request: its code was redeemed: %w", ErrUsed)
	case row.CodeHash != nil:
		return fmt.Errorf("authorization request: a code was issued for it: %w", ErrUsed)
	case !row.Done:
		return fmt.Errorf("authorization request: nobody has logged in for it: %w", ErrInvalidInput)
	}
	return fmt.Errorf("authorization request: %w", ErrConcurrentChange)
}

// SaveCode records the digest of the code the provider issued for a
// completed request (never the code); the code then expires after
// OAUTH_AUTH_CODE_LIFETIME. A code saved again before it is redeemed
// replaces the earlier one, which stops working.
//
// It returns ErrInvalidInput for a malformed id, an empty or overlong code
// or a request nobody has logged in for, ErrNotFound if there is no such
// request, ErrExpired if it expired, ErrRevoked if it was revoked and
// ErrUsed if its code was redeemed already.
func (r *AuthRequests) SaveCode(ctx context.Context, id models.UUID, code string) error {
	const op = "save authorization code"
	if err := validID("authorization request id", id); err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	if code == "" || len(code) > maxTokenLength {
		return fmt.Errorf("%s: code is empty or longer than %d bytes: %w", op, maxTokenLength, ErrInvalidInput)
	}
	if err := checkLifetime("authorization code", r.cfg().AuthCodeLifetime); err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	digest := hooks.Digest(code)
	err := r.transaction(ctx, func(tx *gorm.DB, now time.Time) error {
		res := tx.Model(&models.AuthRequest{}).Where("id = ?", id).
			Where("done = ? AND used_at IS NULL AND revoked = ? AND expires_at > ?", true, false, now).
			Updates(map[string]any{"code_hash": digest, "expires_at": now.Add(r.cfg().AuthCodeLifetime)})
		if res.Error != nil || res.RowsAffected == 1 {
			return res.Error
		}
		return whyNotPending(tx, id, now)
	})
	return Translate(op, err)
}

// Redeem consumes a code and issues its tokens (RFC 6749 4.1.3): in one
// transaction, a conditional update that must change exactly one row marks
// the code used, and the tokens are issued as the grant (refresh-token
// family) whose id is the request's, for its user and scopes: an access
// token and, when the request asked for offline_access (OpenID Connect
// Core 11) and the client registered the refresh_token grant, a refresh
// token, which records the request's auth time and AMR (the login an ID
// token issued on a later refresh reports). So of any number of concurrent
// redemptions of one code exactly one yields tokens; the others, and every
// later one, are replays. The caller then checks the client, redirect URI
// and PKCE verifier before it hands the tokens out (a failed check leaves
// them unknown to anyone: the refresh token's plaintext is only in the
// returned pair). The pair's AccessToken is a JWT signed as
// AccessTokens.Issue signs; a provider that signs its own JWT uses
// AccessTokenID as its jti.
//
// Presenting a used code is a replay: a second transaction of its own,
// which commits, revokes the request and every token issued from it (the
// family with the request's id) and records the event auth_code.replayed,
// and Redeem returns ErrCodeReplayed (which matches ErrUsed). A used code
// stays distinguishable from an unknown one until its request expires.
//
// It returns ErrNotFound for an unknown, empty or overlong code,
// ErrExpired if it expired, ErrRevoked if it or its client was revoked,
// ErrUnauthorizedClient if the client lost the authorization_code grant,
// ErrNoSigningKey if the Store has neither a signing key nor a JWT secret,
// and ErrCodeReplayed as above.
func (r *AuthRequests) Redeem(ctx context.Context, code string) (*models.AuthRequest, *TokenPair, error) {
	const op = "redeem authorization code"
	keys, keyErr := r.tokenKeys(ctx)
	if err := firstErr(keyErr, checkPairConfig(r.cfg())); err != nil {
		return nil, nil, fmt.Errorf("%s: %w", op, err)
	}
	if code == "" || len(code) > maxTokenLength {
		return nil, nil, fmt.Errorf("%s: authorization code: %w", op, ErrNotFound)
	}
	digest := hooks.Digest(code)
	refresh, err := newSecretToken()
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", op, err)
	}
	type redemption struct {
		row      *models.AuthRequest
		pair     *TokenPair
		replayed bool
	}
	out, err := inTx(ctx, r.base, func(tx *gorm.DB, now time.Time) (redemption, error) {
		row, err := findRequestByCode(tx, digest)
		if err != nil {
			return redemption{}, err
		}
		if whyNotUsable("authorization code", row.UsedAt, row.Revoked, row.ExpiresAt, now) == nil {
			client, err := activeClient(tx, row.ClientID)
			if err != nil {
				return redemption{}, err
			}
			if err := requireGrant(client, protocol.GrantAuthorizationCode); err != nil {
				return redemption{}, err
			}
			won, err := consume(tx, authRequestUse, row.ID, now)
			if err != nil {
				return redemption{}, err
			}
			if won {
				row.UsedAt = &now
				pair, err := r.issue(tx, keys, now, client, row, refresh)
				return redemption{row: row, pair: pair}, err
			}
			// A concurrent redemption committed first: look again.
			if row, err = findRequestByCode(tx, digest); err != nil {
				return redemption{}, err
			}
		}
		if err := replayed("authorization code", row.UsedAt, row.Revoked, row.ExpiresAt, now); err != nil {
			return redemption{}, err
		}
		return redemption{row: row, replayed: true}, nil
	})
	if err != nil {
		return nil, nil, Translate(op, err)
	}
	if out.replayed {
		return nil, nil, r.revokeThenFail(ctx, op, func(tx *gorm.DB, now time.Time) error { return revokeReplayedRequest(tx, now, out.row) }, ErrCodeReplayed)
	}
	return out.row, out.pair, nil
}

// issue issues the tokens of a request whose code this transaction
// consumed: a pair when the request asked for offline_access and the
// client registered refresh_token, else an access token alone. The
// refresh token keeps the request's login (auth time and AMR).
func (r *AuthRequests) issue(tx *gorm.DB, keys tokenKeys, now time.Time, client *models.Client, row *models.AuthRequest, refresh string) (*TokenPair, error) {
	if row.UserID == nil {
		return nil, fmt.Errorf("authorization request: nobody logged in for it: %w", ErrInvalidInput)
	}
	if row.Scopes.Contains(scopeOfflineAccess) && client.GrantTypes.Contains(protocol.GrantRefreshToken) {
		g := grant{client: client, userID: row.UserID, scopes: row.Scopes, familyID: row.ID, authTime: row.AuthTime, amr: row.AMR}
		return issuePair(tx, keys, r.cfg(), now, g, refresh)
	}
	at, access, err := issueAccess(tx, keys, r.cfg(), now, client, row.UserID, row.Scopes, &row.ID)
	if err != nil {
		return nil, err
	}
	return &TokenPair{AccessToken: access, AccessTokenID: at.ID, FamilyID: row.ID, TokenType: protocol.TokenTypeBearer,
		ExpiresIn: int64(r.cfg().AccessTokenLifetime / time.Second), ExpiresAt: at.ExpiresAt, Scopes: append([]string(nil), row.Scopes...)}, nil
}

// revokeReplayedRequest revokes a request whose code was replayed and every
// token issued from it (the family with the request's id), and records the
// replay.
func revokeReplayedRequest(tx *gorm.DB, now time.Time, used *models.AuthRequest) error {
	if err := tx.Model(&models.AuthRequest{}).Where("id = ?", used.ID).Update("revoked", true).Error; err != nil {
		return err
	}
	n, err := revokeFamily(tx, used.ID, now)
	if err != nil {
		return err
	}
	return record(tx, now, used.UserID, models.EventAuthCodeReplayed, map[string]any{
		"auth_request_id": used.ID, "client_id": used.ClientID, "revoked_rows": n,
	})
}

// findRequestByCode loads an authorization request by its code's digest.
func findRequestByCode(tx *gorm.DB, digest string) (*models.AuthRequest, error) {
	var row models.AuthRequest
	if err := tx.Where("code_hash = ?", digest).Take(&row).Error; err != nil {
		if errors.Is(err, gorm.ErrRecordNotFound) {
			return nil, fmt.Errorf("authorization code: %w", ErrNotFound)
		}
		return nil, err
	}
	return &row, nil
}

// Delete deletes a request whose code was not redeemed (the provider's
// DeleteAuthRequest). A redeemed request is kept until it expires, so that
// a replay of its code is recognised; deleting it, an unknown request, or
// one already deleted changes nothing and is not an error. It returns
// ErrInvalidInput for a malformed id.
func (r *AuthRequests) Delete(ctx context.Context, id models.UUID) error {
	const op = "delete authorization request"
	if err := validID("authorization request id", id); err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	err := r.transaction(ctx, func(tx *gorm.DB, now time.Time) error {
		return tx.Where("id = ? AND used_at IS NULL", id).Delete(&models.AuthRequest{}).Error
	})
	return Translate(op, err)
}
