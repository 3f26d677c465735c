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

// PKCEMethodS256 is the only PKCE code_challenge_method accepted (RFC 7636
// 4.2; RFC 9700 2.1.1 rules out "plain").
const PKCEMethodS256 = "S256"

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
	// MatchRedirectURI); the exchange must present it again unchanged.
	RedirectURI string
	Scopes      []string
	// CodeChallenge is the PKCE S256 challenge: unpadded base64url of the
	// SHA-256 of the verifier, 43 characters. It is required for public
	// clients, and for all clients when OAUTH_ENABLE_PKCE is true.
	CodeChallenge string
	// CodeChallengeMethod must be "S256" when CodeChallenge is set.
	CodeChallengeMethod string
}

// Create issues an authorization code and returns its plaintext (shown
// once; only its digest is stored) and its row.
//
// It returns ErrInvalidInput for a malformed field, a PKCE method other than
// S256 (plain, or none with a challenge), a missing challenge where PKCE is
// required, a redirect URI the client did not register, a scope it did not
// register, or a client without the authorization_code grant; ErrNotFound if
// the client does not exist; ErrRevoked if it is revoked; and ErrConflict if
// the user does not exist.
func (r *AuthCodes) Create(ctx context.Context, in AuthCodeInput) (string, *models.AuthorizationCode, error) {
	const op = "create authorization code"
	if err := checkCodeInput(in); err != nil {
		return "", nil, fmt.Errorf("%s: %w", op, err)
	}
	if err := checkLifetime("authorization code", r.cfg().AuthCodeLifetime); err != nil {
		return "", nil, fmt.Errorf("%s: %w", op, err)
	}
	scopes, err := normalizeScopes(in.Scopes)
	if err != nil {
		return "", nil, fmt.Errorf("%s: %w", op, err)
	}
	code, err := newSecretToken()
	if err != nil {
		return "", nil, fmt.Errorf("%s: %w", op, err)
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
	err = r.transaction(ctx, func(tx *gorm.DB) error {
		now := r.now()
		client, err := activeClient(tx, in.ClientID)
		if err != nil {
			return err
		}
		switch {
		case !client.GrantTypes.Contains(GrantAuthorizationCode):
			return fmt.Errorf("client may not use the authorization_code grant: %w", ErrInvalidInput)
		case in.CodeChallenge == "" && !client.Confidential:
			return fmt.Errorf("PKCE is required for a public client: code_challenge is missing: %w", ErrInvalidInput)
		case in.CodeChallenge == "" && r.cfg().EnablePKCE:
			return fmt.Errorf("PKCE is required (OAUTH_ENABLE_PKCE): code_challenge is missing: %w", ErrInvalidInput)
		case !MatchRedirectURI(client.RedirectURIs, in.RedirectURI):
			return fmt.Errorf("redirect uri is not registered for the client: %w", ErrInvalidInput)
		}
		if err := allowedScopes(client, scopes); err != nil {
			return err
		}
		row.ExpiresAt, row.CreatedAt = now.Add(r.cfg().AuthCodeLifetime), now
		return tx.Create(row).Error
	})
	if err != nil {
		return "", nil, Translate(op, err)
	}
	return code, row, nil
}

// checkCodeInput validates the ids, the redirect URI's presence and the
// PKCE parameters.
func checkCodeInput(in AuthCodeInput) error {
	if err := validID("client id", in.ClientID); err != nil {
		return err
	}
	if err := validID("user id", in.UserID); err != nil {
		return err
	}
	if in.RedirectURI == "" || len(in.RedirectURI) > MaxRedirectURILength {
		return fmt.Errorf("redirect uri is empty or longer than %d bytes: %w", MaxRedirectURILength, ErrInvalidInput)
	}
	switch c, m := in.CodeChallenge, in.CodeChallengeMethod; {
	case c == "" && m == "":
		return nil
	case m == "":
		return fmt.Errorf("code_challenge_method is missing; only S256 is supported: %w", ErrInvalidInput)
	case m != PKCEMethodS256:
		return fmt.Errorf("code_challenge_method %q is not supported; only S256 is: %w", clip(m, 16), ErrInvalidInput)
	case !validChallenge(c):
		return fmt.Errorf("code_challenge is not an S256 challenge (43 base64url characters): %w", ErrInvalidInput)
	}
	return nil
}

// validChallenge reports whether c has the form of an S256 challenge:
// unpadded base64url of 32 bytes.
func validChallenge(c string) bool {
	if len(c) != 43 {
		return false
	}
	for i := 0; i < len(c); i++ {
		switch ch := c[i]; {
		case 'A' <= ch && ch <= 'Z', 'a' <= ch && ch <= 'z', '0' <= ch && ch <= '9', ch == '-', ch == '_':
		default:
			return false
		}
	}
	return true
}

// Exchange redeems an authorization code for a token pair (RFC 6749 4.1.3):
// an access token and a refresh token whose family is the code's id. The
// code is consumed by a conditional update that must change exactly one row,
// in the same transaction that issues the pair, so of any number of
// concurrent exchanges exactly one yields tokens.
//
// clientID must be the client the code was issued to, redirectURI must equal
// the one the code was issued for, and verifier must be given exactly when
// the code has a PKCE challenge; it must then be 43 to 128 characters of the
// RFC 7636 set whose S256 challenge matches (compared in constant time).
//
// Presenting a used code is a replay: the attempt is rolled back, then, in
// a transaction of its own that commits, the code and every token issued
// from it (its family, including rotated refresh tokens) are revoked and the
// event auth_code.replayed recorded, and Exchange returns ErrCodeReplayed
// (which matches ErrUsed).
// A used code stays distinguishable from an unknown one for as long as its
// row is kept.
//
// It returns ErrNoSigningKey if the configuration has no JWT secret,
// ErrNotFound for an unknown code, ErrInvalidCredentials if the code belongs
// to another client or the verifier does not match (the code stays usable
// in both cases), ErrCodeReplayed as above, ErrRevoked if the code or its
// client is revoked, ErrExpired if it expired, and ErrInvalidInput for a
// redirect URI that differs, a missing or superfluous verifier, or a
// malformed one.
func (r *AuthCodes) Exchange(ctx context.Context, code string, clientID models.UUID, redirectURI, verifier string) (*TokenPair, error) {
	const op = "exchange authorization code"
	digest, refresh, err := redeemStart(r.cfg(), "authorization code", code, clientID)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	now := r.now()
	var (
		pair *TokenPair
		used *models.AuthorizationCode
	)
	err = r.transaction(ctx, func(tx *gorm.DB) error {
		pair, used = nil, nil
		row, err := findCode(tx, digest)
		if err != nil {
			return err
		}
		if row.ClientID != clientID {
			return fmt.Errorf("authorization code was issued to another client: %w", ErrInvalidCredentials)
		}
		if row.UsedAt == nil {
			if err := checkExchange(row, now, redirectURI, verifier); err != nil {
				return err
			}
			client, err := activeClient(tx, clientID)
			if err != nil {
				return err
			}
			won, err := markUsed(tx, &models.AuthorizationCode{}, row.ID, now)
			if err != nil {
				return err
			}
			if won {
				g := grant{client: client, userID: &row.UserID, scopes: row.Scopes, familyID: row.ID}
				pair, err = issuePair(tx, r.cfg(), now, g, refresh)
				return err
			}
			// A concurrent exchange committed first: look again.
			if row, err = findCode(tx, digest); err != nil {
				return err
			}
			if row.UsedAt == nil {
				return fmt.Errorf("authorization code: %w", ErrRevoked)
			}
		}
		used = row
		return errPresentedAgain
	})
	// A replay rolled the attempt back; the revocation commits on its own.
	return r.redeemEnd(ctx, op, pair, err, func(tx *gorm.DB) error { return revokeReplayed(tx, used, now) }, ErrCodeReplayed)
}

// revokeReplayed revokes a replayed code and every token issued from it
// (the family with the code's id), and records the replay. The code is
// locked first, as revokeFamily's lock order asks.
func revokeReplayed(tx *gorm.DB, used *models.AuthorizationCode, now time.Time) error {
	if err := tx.Model(&models.AuthorizationCode{}).Where("id = ?", used.ID).Update("revoked", true).Error; err != nil {
		return err
	}
	n, err := revokeFamily(tx, used.ID, now)
	if err != nil {
		return err
	}
	return models.RecordActivity(tx, &used.UserID, hooks.EventAuthCodeReplayed, map[string]any{
		"code_id": used.ID, "client_id": used.ClientID, "revoked_rows": n,
	})
}

// checkExchange checks an unused code's state, redirect URI and PKCE
// verifier.
func checkExchange(row *models.AuthorizationCode, now time.Time, redirectURI, verifier string) error {
	if row.Revoked {
		return fmt.Errorf("authorization code: %w", ErrRevoked)
	}
	if !now.Before(row.ExpiresAt) {
		return fmt.Errorf("authorization code: %w", ErrExpired)
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
	switch {
	case challenge == "" && verifier != "":
		return fmt.Errorf("code_verifier given but the code has no code_challenge: %w", ErrInvalidInput)
	case challenge == "":
		return nil
	case verifier == "":
		return fmt.Errorf("code_verifier is missing: %w", ErrInvalidInput)
	case method != PKCEMethodS256:
		return fmt.Errorf("code was issued with an unsupported code_challenge_method: %w", ErrInvalidInput)
	case !hooks.ValidVerifier(verifier):
		return fmt.Errorf("code_verifier is not 43-128 characters of [A-Za-z0-9-._~]: %w", ErrInvalidInput)
	case !hooks.VerifyS256(challenge, verifier):
		return fmt.Errorf("code_verifier does not match the code_challenge: %w", ErrInvalidCredentials)
	}
	return nil
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
