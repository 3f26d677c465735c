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

// AuthCodes is the repository of authorization codes (table
// oauth_authorization_codes). Codes are stored as SHA-256 digests, are
// single use, expire after OAUTH_AUTH_CODE_LIFETIME and are bound to their
// client and redirect URI.
type AuthCodes struct {
	base
}

// NewAuthCodes returns the authorization-code repository over db.
func NewAuthCodes(db *gorm.DB, opts Options) *AuthCodes {
	return &AuthCodes{base: newBase(db, opts)}
}

// WithTx returns a copy of r whose methods run inside tx (as savepoints).
// Inside a caller's transaction, the revocation that Exchange commits before
// returning ErrCodeReplayed lasts only if the caller commits.
func (r *AuthCodes) WithTx(tx *gorm.DB) *AuthCodes {
	return &AuthCodes{base: r.withTx(tx)}
}

// AuthCodeInput describes an authorization code to issue, from an approved
// authorization request.
type AuthCodeInput struct {
	ClientID models.UUID
	UserID   models.UUID
	// RedirectURI must match one of the client's registered URIs (see
	// protocol.MatchRedirectURI); the exchange must present it again
	// unchanged.
	RedirectURI string
	Scopes      []string
	// CodeChallenge is the PKCE S256 challenge: unpadded base64url of the
	// SHA-256 of the verifier, 43 characters. It is required for public
	// clients, and for all clients when OAUTH_ENABLE_PKCE is true.
	CodeChallenge string
	// CodeChallengeMethod must be "S256" when CodeChallenge is set.
	CodeChallengeMethod string
}

// Create issues an authorization code and returns its row and its
// plaintext (shown once; only its digest is stored).
//
// It returns ErrInvalidInput for a malformed field, a PKCE method other than
// S256 (plain, or none with a challenge), a missing challenge where PKCE is
// required, a redirect URI the client did not register, a scope it did not
// register (ErrInvalidScope, which matches ErrInvalidInput);
// ErrUnauthorizedClient for a client without the authorization_code grant;
// ErrNotFound if the client does not exist; ErrRevoked if it is revoked;
// ErrMissingReferent if the user does not exist; and ErrNoSigningKey,
// before anything else, when the Store has neither a current signing key
// nor a JWT secret (the exchange could not sign the tokens).
func (r *AuthCodes) Create(ctx context.Context, in AuthCodeInput) (*models.AuthorizationCode, string, error) {
	const op = "create authorization code"
	// The exchange will sign tokens: a Store with no key fails here, at the
	// start of the flow, not at its end.
	_, keyErr := r.tokenKeys(ctx)
	if err := firstErr(keyErr, checkCodeInput(in), checkLifetime("authorization code", r.cfg().AuthCodeLifetime)); err != nil {
		return nil, "", fmt.Errorf("%s: %w", op, err)
	}
	scopes, err := normalizeScopes(in.Scopes)
	if err != nil {
		return nil, "", fmt.Errorf("%s: %w", op, err)
	}
	code, err := newSecretToken()
	if err != nil {
		return nil, "", fmt.Errorf("%s: %w", op, err)
	}
	row := &models.AuthorizationCode{
		ID:          models.NewUUID(),
		CodeHash:    hooks.Digest(code),
		ClientID:    in.ClientID,
		UserID:      in.UserID,
		Scopes:      scopes,
		RedirectURI: in.RedirectURI,
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
		if err := allowedScopes(client, scopes); err != nil {
			return err
		}
		row.ExpiresAt, row.CreatedAt = now.Add(r.cfg().AuthCodeLifetime), now
		return tx.Create(row).Error
	})
	if err != nil {
		return nil, "", Translate(op, err)
	}
	return row, code, nil
}

// checkCodeInput validates the ids, the redirect URI's presence and the
// PKCE parameters.
func checkCodeInput(in AuthCodeInput) error {
	return firstErr(validID("client id", in.ClientID), validID("user id", in.UserID),
		checkRedirectInput(in.RedirectURI), invalid(protocol.CheckChallenge(in.CodeChallenge, in.CodeChallengeMethod)))
}

// checkRedirectInput refuses an empty or overlong redirect URI argument.
func checkRedirectInput(uri string) error {
	if uri == "" || len(uri) > protocol.MaxRedirectURILength {
		return fmt.Errorf("redirect uri is empty or longer than %d bytes: %w", protocol.MaxRedirectURILength, ErrInvalidInput)
	}
	return nil
}

// checkAuthorization is what an authorization request needs of its client,
// for a code (AuthCodes.Create) or a provider's request
// (AuthRequests.Create): the authorization_code grant, a PKCE challenge
// from a public client (from every client when enablePKCE), and a
// registered redirect URI.
func checkAuthorization(client *models.Client, enablePKCE bool, challenge, redirectURI string) error {
	if err := requireGrant(client, protocol.GrantAuthorizationCode); err != nil {
		return err
	}
	switch {
	case challenge == "" && !client.Confidential:
		return fmt.Errorf("PKCE is required for a public client: code_challenge is missing: %w", ErrInvalidInput)
	case challenge == "" && enablePKCE:
		return fmt.Errorf("PKCE is required (OAUTH_ENABLE_PKCE): code_challenge is missing: %w", ErrInvalidInput)
	case !protocol.MatchRedirectURI(client.RedirectURIs, redirectURI):
		return fmt.Errorf("redirect uri is not registered for the client: %w", ErrInvalidInput)
	}
	return nil
}

// Exchange redeems an authorization code for a token pair (RFC 6749 4.1.3):
// an access token and a refresh token whose family is the code's id. The
// code is consumed by a conditional update that must change exactly one row,
// in the same transaction that issues the pair, so of any number of
// concurrent exchanges exactly one yields tokens.
//
// client must be the authenticated client the code was issued to, with the
// authorization_code grant (a refresh token comes with the pair only if it
// also registered refresh_token); redirectURI must equal
// the one the code was issued for, and verifier must be given exactly when
// the code has a PKCE challenge; it must then be 43 to 128 characters of the
// RFC 7636 set whose S256 challenge matches (compared in constant time).
//
// Presenting a used code is a replay: the exchange's transaction changes
// nothing, then a second transaction of its own, which commits, revokes the
// code and every token issued from it (its family, including rotated
// refresh tokens) and records the event auth_code.replayed, and Exchange
// returns ErrCodeReplayed (which matches ErrUsed). A used code stays
// distinguishable from an unknown one for as long as its row is kept.
//
// It returns ErrNoSigningKey if the Store has neither a signing key nor a JWT secret,
// ErrNotFound for an unknown code, ErrInvalidCredentials for a client that
// is not authenticated, a code that belongs to another client or a
// verifier that does not match (the code stays usable in those cases),
// ErrUnauthorizedClient if the client lost the authorization_code grant,
// ErrCodeReplayed as above, ErrRevoked if the code or its client is revoked, ErrExpired if it
// expired, and ErrInvalidInput for a redirect URI that differs, a missing
// or superfluous verifier, or a malformed one.
func (r *AuthCodes) Exchange(ctx context.Context, client AuthenticatedClient, code, redirectURI, verifier string) (*TokenPair, error) {
	const op = "exchange authorization code"
	keys, clientID, digest, err := redeemInput(ctx, r.base, "authorization code", code, client)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	refresh, err := newSecretToken()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	out, err := inTx(ctx, r.base, func(tx *gorm.DB, now time.Time) (exchange, error) {
		return r.exchange(tx, keys, now, digest, clientID, redirectURI, verifier, refresh)
	})
	if err != nil {
		return nil, Translate(op, err)
	}
	if out.replayed != nil {
		return nil, r.revokeThenFail(ctx, op, func(tx *gorm.DB, now time.Time) error { return revokeReplayed(tx, now, out.replayed) }, ErrCodeReplayed)
	}
	return out.pair, nil
}

// exchange is the outcome of an exchange's transaction: the pair issued, or
// the used code that was presented again.
type exchange struct {
	pair     *TokenPair
	replayed *models.AuthorizationCode
}

// exchange is the transaction of Exchange.
func (r *AuthCodes) exchange(tx *gorm.DB, keys tokenKeys, now time.Time, digest string, clientID models.UUID, redirectURI, verifier, refresh string) (exchange, error) {
	row, err := findCode(tx, digest)
	if err != nil {
		return exchange{}, err
	}
	if row.ClientID != clientID {
		return exchange{}, fmt.Errorf("authorization code was issued to another client: %w", ErrInvalidCredentials)
	}
	if row.UsedAt == nil {
		if err := checkExchange(row, now, redirectURI, verifier); err != nil {
			return exchange{}, err
		}
		client, err := activeClient(tx, clientID)
		if err != nil {
			return exchange{}, err
		}
		if err := requireGrant(client, protocol.GrantAuthorizationCode); err != nil {
			return exchange{}, err
		}
		won, err := consume(tx, codeUse, row.ID, now)
		if err != nil {
			return exchange{}, err
		}
		if won {
			g := grant{client: client, userID: &row.UserID, scopes: row.Scopes, familyID: row.ID}
			pair, err := issuePair(tx, keys, r.cfg(), now, g, refresh)
			return exchange{pair: pair}, err
		}
		// A concurrent exchange committed first: look again.
		if row, err = findCode(tx, digest); err != nil {
			return exchange{}, err
		}
	}
	if err := replayed("authorization code", row.UsedAt, row.Revoked, row.ExpiresAt, now); err != nil {
		return exchange{}, err
	}
	return exchange{replayed: row}, nil
}

// revokeReplayed revokes a replayed code and every token issued from it
// (the family with the code's id), and records the replay. The code is
// locked first, as revokeGrants' lock order asks.
func revokeReplayed(tx *gorm.DB, now time.Time, used *models.AuthorizationCode) error {
	if err := tx.Model(&models.AuthorizationCode{}).Where("id = ?", used.ID).Update("revoked", true).Error; err != nil {
		return err
	}
	n, err := revokeFamily(tx, used.ID, now)
	if err != nil {
		return err
	}
	return record(tx, now, &used.UserID, models.EventAuthCodeReplayed, map[string]any{
		"code_id": used.ID, "client_id": used.ClientID, "revoked_rows": n,
	})
}

// checkExchange checks an unused code's state, redirect URI and PKCE
// verifier.
func checkExchange(row *models.AuthorizationCode, now time.Time, redirectURI, verifier string) error {
	if err := whyNotUsable("authorization code", row.UsedAt, row.Revoked, row.ExpiresAt, now); err != nil {
		return err
	}
	if redirectURI != row.RedirectURI {
		return fmt.Errorf("redirect uri differs from the authorization request's: %w", ErrInvalidInput)
	}
	var challenge, method string
	if row.CodeChallenge != nil {
		challenge = *row.CodeChallenge
	}
	if row.CodeChallengeMethod != nil {
		method = *row.CodeChallengeMethod
	}
	err := protocol.CheckPKCE(challenge, method, verifier)
	if errors.Is(err, protocol.ErrVerifierMismatch) {
		return fmt.Errorf("%w: %w", err, ErrInvalidCredentials)
	}
	return invalid(err)
}

// findCode loads an authorization code by digest.
func findCode(tx *gorm.DB, digest string) (*models.AuthorizationCode, error) {
	var row models.AuthorizationCode
	if err := tx.Where("code_hash = ?", digest).Take(&row).Error; err != nil {
		if errors.Is(err, gorm.ErrRecordNotFound) {
			return nil, fmt.Errorf("authorization code: %w", ErrNotFound)
		}
		return nil, err
	}
	return &row, nil
}
