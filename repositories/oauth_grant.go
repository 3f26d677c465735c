package repositories

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/forgeauth/authstore/config"
	"github.com/forgeauth/authstore/hooks"
	"github.com/forgeauth/authstore/models"
	"github.com/golang-jwt/jwt/v5"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

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

// String describes the pair without its tokens.
func (p TokenPair) String() string {
	return fmt.Sprintf("TokenPair{AccessTokenID:%s RefreshTokenID:%s FamilyID:%s AccessToken:%s RefreshToken:%s ExpiresIn:%d Scopes:%q}",
		p.AccessTokenID, p.RefreshTokenID, p.FamilyID, redacted, redacted, p.ExpiresIn, p.Scopes)
}

// GoString is String, so %#v does not print the tokens either.
func (p TokenPair) GoString() string { return p.String() }

const redacted = "[redacted]"

// Claims are the claims of an access token JWT (RFC 9068): iss, sub (the
// user, or the client for a client-credentials grant), aud (the client),
// exp, iat, jti (the id of the token's row), client_id and scope.
type Claims struct {
	jwt.RegisteredClaims
	// ClientID is the client the token was issued to.
	ClientID string `json:"client_id"`
	// Scope is the space-separated list of granted scopes.
	Scope string `json:"scope,omitempty"`
}

// Scopes returns the granted scopes as a list.
func (c *Claims) Scopes() []string { return strings.Fields(c.Scope) }

// accessTokenType is the JWT "typ" header of access tokens (RFC 9068 2.1),
// so that another JWT signed with the same key is not taken for one.
const accessTokenType = "at+jwt"

// minSigningKeyLength is the least number of bytes of an HS256 key.
const minSigningKeyLength = 32

// signingKey returns the HS256 key from cfg, or ErrNoSigningKey.
func signingKey(cfg config.Config) ([]byte, error) {
	key := cfg.JWTSecret.Reveal()
	if key == "" {
		return nil, fmt.Errorf("JWT_SECRET is empty: %w", ErrNoSigningKey)
	}
	if len(key) < minSigningKeyLength {
		return nil, fmt.Errorf("JWT_SECRET is shorter than %d bytes: %w", minSigningKeyLength, ErrNoSigningKey)
	}
	return []byte(key), nil
}

// checkLifetime refuses a non-positive lifetime from a hand-built Config.
func checkLifetime(name string, d time.Duration) error {
	if d <= 0 {
		return fmt.Errorf("%s lifetime is not positive: %w", name, ErrInvalidInput)
	}
	return nil
}

// validID refuses an id that is not a canonical UUID, so that no malformed
// id reaches a PostgreSQL uuid column.
func validID(what string, id models.UUID) error {
	if !id.Valid() {
		return fmt.Errorf("%s is not a uuid: %w", what, ErrInvalidInput)
	}
	return nil
}

// validOptionalID is validID for an optional id.
func validOptionalID(what string, id *models.UUID) error {
	if id == nil {
		return nil
	}
	return validID(what, *id)
}

// activeClient loads a client that exists and is not revoked.
func activeClient(tx *gorm.DB, id models.UUID) (*models.Client, error) {
	// FOR SHARE (PostgreSQL; SQLite runs one writer at a time anyway): a
	// Clients.Revoke that starts meanwhile waits for this grant to commit
	// and then revokes what it issued, and a grant that starts after the
	// revocation sees it, so no token outlives its client's revocation.
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

// issueAccess creates an access token row and signs its JWT. now is the
// operation's one clock reading.
func issueAccess(tx *gorm.DB, cfg config.Config, now time.Time, client *models.Client, userID *models.UUID, scopes models.Strings, familyID *models.UUID) (string, *models.AccessToken, error) {
	key, err := signingKey(cfg)
	if err != nil {
		return "", nil, err
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
	claims := Claims{
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer:    cfg.JWTIssuer,
			Subject:   sub,
			Audience:  jwt.ClaimStrings{client.ID.String()},
			ExpiresAt: jwt.NewNumericDate(row.ExpiresAt),
			IssuedAt:  jwt.NewNumericDate(now),
			ID:        row.ID.String(),
		},
		ClientID: client.ID.String(),
		Scope:    strings.Join(scopes, " "),
	}
	tok := jwt.NewWithClaims(jwt.SigningMethodHS256, claims)
	tok.Header["typ"] = accessTokenType
	signed, err := tok.SignedString(key)
	if err != nil {
		return "", nil, fmt.Errorf("sign access token: %w", err)
	}
	if err := tx.Create(row).Error; err != nil {
		return "", nil, err
	}
	return signed, row, nil
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
	access, at, err := issueAccess(tx, cfg, now, g.client, g.userID, g.scopes, &g.familyID)
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
		TokenType:        "Bearer",
		ExpiresIn:        int64(cfg.AccessTokenLifetime / time.Second),
		ExpiresAt:        at.ExpiresAt,
		RefreshExpiresAt: rt.ExpiresAt,
		Scopes:           append([]string(nil), g.scopes...),
	}, nil
}

// checkPairConfig validates what issuing a token pair needs from cfg.
func checkPairConfig(cfg config.Config) error {
	if _, err := signingKey(cfg); err != nil {
		return err
	}
	if err := checkLifetime("access token", cfg.AccessTokenLifetime); err != nil {
		return err
	}
	return checkLifetime("refresh token", cfg.RefreshTokenLifetime)
}

// maxRevokePasses bounds revokeGrants' passes.
const maxRevokePasses = 5

// revokeFamily revokes every refresh and access token of a grant and
// returns how many rows it changed. Revoked rows are left alone, so it is
// idempotent.
//
// Lock order: every OAuth revocation locks authorization codes, then
// refresh tokens, then access tokens, so two revocations never wait on
// each other in a cycle on PostgreSQL. A pass repeats while it changes
// rows: under PostgreSQL's READ COMMITTED an UPDATE that waited for a
// concurrent rotation does not see the child that rotation inserted, but
// the next statement does.
func revokeFamily(tx *gorm.DB, familyID models.UUID, now time.Time) (int64, error) {
	return revokeGrants(tx, "family_id", familyID, now)
}

// revokeGrants revokes every authorization code (when the table has the
// column), refresh token and access token whose column equals value, in
// the lock order codes, refresh tokens, access tokens, and repeats until a
// pass changes nothing: on PostgreSQL an UPDATE that waited on a concurrent
// rotation or exchange does not see the rows that rotation inserted, so one
// pass could leave a freshly issued token alive.
func revokeGrants(tx *gorm.DB, column string, value any, now time.Time) (int64, error) {
	tables := []any{&models.RefreshToken{}, &models.AccessToken{}}
	if column != "family_id" {
		tables = append([]any{&models.AuthorizationCode{}}, tables...)
	}
	var total int64
	for range maxRevokePasses {
		var pass int64
		for _, m := range tables {
			set := map[string]any{"revoked": true}
			if _, ok := m.(*models.AccessToken); ok {
				set["updated_at"] = now
			}
			res := tx.Model(m).Where(column+" = ?", value).Where("revoked = ?", false).Updates(set)
			if res.Error != nil {
				return 0, res.Error
			}
			pass += res.RowsAffected
		}
		if pass == 0 {
			break
		}
		total += pass
	}
	return total, nil
}

// errPresentedAgain ends, by rolling it back, the transaction of a
// rotation or exchange that found its token or code already used. The
// rollback releases every row lock the transaction took (on PostgreSQL a
// conditional UPDATE that matched nothing after waiting may still hold one),
// and the revocation then runs in a transaction of its own, which takes its
// locks in the order revokeFamily documents.
var errPresentedAgain = errors.New("presented again")

// newSecretToken returns a fresh 256-bit token, wrapping a random-source
// failure.
func newSecretToken() (string, error) {
	t, err := hooks.NewToken()
	if err != nil {
		return "", fmt.Errorf("generate token: %w", err)
	}
	return t, nil
}

// markUsed is the single-use step of codes and refresh tokens: a
// conditional update that exactly one of any number of concurrent callers
// wins (on PostgreSQL the losers wait for the winner's commit, then match
// nothing). It reports whether this caller won.
func markUsed(tx *gorm.DB, model any, id models.UUID, now time.Time) (bool, error) {
	res := tx.Model(model).Where("id = ?", id).Where("used_at IS NULL").Where("revoked = ?", false).Update("used_at", now)
	return res.RowsAffected == 1, res.Error
}

// redeemStart checks what a code exchange and a refresh rotation both take
// (a signing key, a plausible token, a client id), returns the token's
// digest, and makes the refresh token the grant will hand out, so no
// randomness is read inside the transaction. what names the token in
// errors.
func redeemStart(cfg config.Config, what, token string, clientID models.UUID) (digest, refresh string, err error) {
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

// redeemEnd finishes a code exchange or refresh rotation whose transaction
// returned err. When the token was presented again (errPresentedAgain) the
// attempt has rolled back, releasing its locks; revoke then runs in a
// transaction of its own, so the revocation commits although the call fails
// with sentinel.
func (b base) redeemEnd(ctx context.Context, op string, pair *TokenPair, err error, revoke func(tx *gorm.DB) error, sentinel error) (*TokenPair, error) {
	if errors.Is(err, errPresentedAgain) {
		if err := b.transaction(ctx, revoke); err != nil {
			return nil, Translate(op, err)
		}
		return nil, fmt.Errorf("%s: %w", op, sentinel)
	}
	if err != nil {
		return nil, Translate(op, err)
	}
	return pair, nil
}
