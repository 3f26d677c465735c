package integration

// Tests of repositories.AccessTokens (table oauth_access_tokens): each
// method's success and error paths, and SECURITY.md 21 (JWT validation).

import (
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/forgeauth/authstore"
	"github.com/forgeauth/authstore/config"
	"github.com/forgeauth/authstore/models"
	"github.com/forgeauth/authstore/protocol"
	"github.com/forgeauth/authstore/repositories"
	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/require"
)

// signJWT signs claims with method and key, with the given typ header
// ("" for none).
func signJWT(t *testing.T, method jwt.SigningMethod, key any, typ string, claims jwt.Claims) string {
	t.Helper()
	tok := jwt.NewWithClaims(method, claims)
	if typ == "" {
		delete(tok.Header, "typ")
	} else {
		tok.Header["typ"] = typ
	}
	s, err := tok.SignedString(key)
	require.NoError(t, err)
	return s
}

// unverifiedClaims parses a JWT without verifying it, for forging variants.
func unverifiedClaims(t *testing.T, token string) *protocol.Claims {
	t.Helper()
	c := &protocol.Claims{}
	_, _, err := jwt.NewParser().ParseUnverified(token, c)
	require.NoError(t, err)
	return c
}

func TestAccessTokensIssueValidateRevoke(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b Backend) {
		f := newFixture(t, b)
		ctx := requestCtx()
		uid := f.user(t, "u@example.com").ID
		c := f.publicClient(t)

		t.Run("Issue", func(t *testing.T) {
			row, jwtStr, err := f.s.AccessTokens.Issue(ctx, c.ID, &uid, []string{"read", "write"}, nil)
			require.NoError(t, err)
			require.True(t, row.ExpiresAt.Equal(f.clock.Now().Add(time.Hour)), "expires_at = now + OAUTH_ACCESS_TOKEN_LIFETIME")
			claims, err := f.s.AccessTokens.Validate(ctx, jwtStr)
			require.NoError(t, err)
			require.Equal(t, string(row.ID), claims.ID)
			require.Equal(t, string(uid), claims.Subject)
			require.Equal(t, []string{string(c.ID)}, []string(claims.Audience))
			require.Equal(t, "authstore", claims.Issuer)
			require.Equal(t, "read write", claims.Scope)
			require.Equal(t, []string{"read", "write"}, claims.Scopes())
			require.Equal(t, string(c.ID), claims.ClientID)
			require.Equal(t, f.clock.Now().Truncate(time.Second).Unix(), claims.IssuedAt.Unix())
			require.EqualValues(t, 3600, claims.ExpiresAt.Unix()-claims.IssuedAt.Unix())
		})

		t.Run("ClientCredentials", func(t *testing.T) {
			// SECURITY 37: a public client never receives a client-credentials token.
			_, _, err := f.s.AccessTokens.IssueClientCredentials(ctx, authed(f.s, c.ID), nil)
			require.ErrorIs(t, err, repositories.ErrUnauthorizedClient, "a public client got a client-credentials token")
			_, _, err = f.s.AccessTokens.Issue(ctx, c.ID, nil, nil, nil)
			require.ErrorIs(t, err, repositories.ErrUnauthorizedClient, "Issue without a user for a public client")
			_, _, err = f.s.AccessTokens.IssueClientCredentials(ctx, repositories.AuthenticatedClient{}, nil)
			require.ErrorIs(t, err, repositories.ErrInvalidCredentials, "an unauthenticated client got a token")
			c, _ := f.confidentialClient(t, nil)
			row, jwtStr, err := f.s.AccessTokens.IssueClientCredentials(ctx, authed(f.s, c.ID), nil)
			require.NoError(t, err)
			require.Nil(t, row.UserID)
			claims, err := f.s.AccessTokens.Validate(ctx, jwtStr)
			require.NoError(t, err)
			require.Equal(t, string(c.ID), claims.Subject, "sub is the client for a client-credentials token")
		})

		t.Run("IssueErrors", func(t *testing.T) {
			ghost := models.NewUUID()
			before := snapshotTables(t, f.s.DB())
			_, _, err := f.s.AccessTokens.Issue(ctx, models.NewUUID(), &uid, nil, nil)
			require.ErrorIs(t, err, repositories.ErrNotFound, "unknown client")
			_, _, err = f.s.AccessTokens.Issue(ctx, "bad", &uid, nil, nil)
			require.ErrorIs(t, err, repositories.ErrInvalidInput, "malformed client id")
			_, _, err = f.s.AccessTokens.Issue(ctx, c.ID, &ghost, nil, nil)
			require.ErrorIs(t, err, repositories.ErrMissingReferent, "unknown user")
			_, _, err = f.s.AccessTokens.Issue(ctx, c.ID, &uid, []string{"delete"}, nil)
			require.ErrorIs(t, err, repositories.ErrInvalidInput, "scope the client did not register")
			require.Contains(t, err.Error(), `"delete"`)
			require.Equal(t, before, snapshotTables(t, f.s.DB()))

			// A store over the same database opened without a signing key.
			nokey := f.sibling(t, authstore.WithConfig(f.configWith(func(c *config.Config) { c.JWTSecret = "" })))
			_, _, err = nokey.AccessTokens.Issue(ctx, c.ID, &uid, nil, nil)
			require.ErrorIs(t, err, repositories.ErrNoSigningKey)
			_, err = nokey.AccessTokens.Validate(ctx, "x.y.z")
			require.ErrorIs(t, err, repositories.ErrNoSigningKey)
			_, err = nokey.RefreshTokens.Issue(ctx, c.ID, &uid, nil)
			require.ErrorIs(t, err, repositories.ErrNoSigningKey)
			require.Equal(t, before, snapshotTables(t, f.s.DB()))
		})

		t.Run("Revoke", func(t *testing.T) {
			row, jwtStr, err := f.s.AccessTokens.Issue(ctx, c.ID, &uid, nil, nil)
			require.NoError(t, err)
			before := countEvents(t, f.s.DB(), models.EventTokenRevoked)
			require.NoError(t, f.s.AccessTokens.Revoke(ctx, row.ID))
			_, err = f.s.AccessTokens.Validate(ctx, jwtStr)
			require.ErrorIs(t, err, repositories.ErrRevoked)
			require.NoError(t, f.s.AccessTokens.Revoke(ctx, row.ID), "revoking twice")
			require.NoError(t, f.s.AccessTokens.Revoke(ctx, models.NewUUID()), "revoking an unknown jti")
			require.NoError(t, f.s.AccessTokens.Revoke(ctx, "not-a-jti"), "revoking a malformed jti")
			require.EqualValues(t, before+1, countEvents(t, f.s.DB(), models.EventTokenRevoked), "one token.revoked row")
			a := lastEvent(t, f.s.DB(), models.EventTokenRevoked)
			require.Equal(t, &uid, a.UserID)
		})

		t.Run("RevokeForUserAndClient", func(t *testing.T) {
			other := f.user(t, "other@example.com").ID
			c2 := f.publicClient(t)
			var mine, theirs []string
			for range 2 {
				_, j, err := f.s.AccessTokens.Issue(ctx, c.ID, &uid, nil, nil)
				require.NoError(t, err)
				mine = append(mine, j)
				_, j, err = f.s.AccessTokens.Issue(ctx, c2.ID, &other, nil, nil)
				require.NoError(t, err)
				theirs = append(theirs, j)
			}
			n, err := f.s.AccessTokens.RevokeForUser(ctx, uid)
			require.NoError(t, err)
			require.GreaterOrEqual(t, n, int64(2))
			for _, j := range mine {
				_, err := f.s.AccessTokens.Validate(ctx, j)
				require.ErrorIs(t, err, repositories.ErrRevoked)
			}
			for _, j := range theirs {
				_, err := f.s.AccessTokens.Validate(ctx, j)
				require.NoError(t, err, "another user's token was revoked")
			}
			n, err = f.s.AccessTokens.RevokeForUser(ctx, uid)
			require.NoError(t, err)
			require.Zero(t, n, "second RevokeForUser revoked again")

			n, err = f.s.AccessTokens.RevokeForClient(ctx, c2.ID)
			require.NoError(t, err)
			require.EqualValues(t, 2, n)
			for _, j := range theirs {
				_, err := f.s.AccessTokens.Validate(ctx, j)
				require.ErrorIs(t, err, repositories.ErrRevoked)
			}
			_, err = f.s.AccessTokens.RevokeForClient(ctx, "bad")
			require.ErrorIs(t, err, repositories.ErrInvalidInput)
		})
	})
}

// TestAccessTokensJWTValidation checks that an access token validates
// only with a good HS256 signature, unexpired by the store's clock, from the
// configured issuer, with a jti row that is not revoked; and that the
// revocation row outlives the token's exp.
//
// SECURITY 21: a JWT access token validates only with a good signature, unexpired, and a jti row that is not revoked; the revocation row outlives exp.
func TestAccessTokensJWTValidation(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b Backend) {
		f := newFixture(t, b)
		ctx := requestCtx()
		uid := f.user(t, "u@example.com").ID
		pub := f.publicClient(t)
		row, good, err := f.s.AccessTokens.Issue(ctx, pub.ID, &uid, []string{"read"}, nil)
		require.NoError(t, err)
		// The fake clock is months behind the real one: a pass here shows
		// expiry is judged by the store's clock.
		_, err = f.s.AccessTokens.Validate(ctx, good)
		require.NoError(t, err)

		t.Run("Forgeries", func(t *testing.T) {
			key := []byte(jwtSecret)
			claims := func(edit func(*protocol.Claims)) *protocol.Claims {
				c := unverifiedClaims(t, good)
				edit(c)
				return c
			}
			same := func(*protocol.Claims) {}
			parts := strings.Split(good, ".")
			widened, err := json.Marshal(claims(func(c *protocol.Claims) { c.Scope = "read admin" }))
			require.NoError(t, err)
			sig := []byte(parts[2])
			sig[len(sig)/2] ^= 1
			for name, tok := range map[string]string{
				"alg none":          signJWT(t, jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, "at+jwt", claims(same)),
				"HS512 same key":    signJWT(t, jwt.SigningMethodHS512, key, "at+jwt", claims(same)),
				"HS384 same key":    signJWT(t, jwt.SigningMethodHS384, key, "at+jwt", claims(same)),
				"other key":         signJWT(t, jwt.SigningMethodHS256, []byte("another-secret-0123456789abcdef-xyz"), "at+jwt", claims(same)),
				"no typ":            signJWT(t, jwt.SigningMethodHS256, key, "", claims(same)),
				"typ JWT":           signJWT(t, jwt.SigningMethodHS256, key, "JWT", claims(same)),
				"other issuer":      signJWT(t, jwt.SigningMethodHS256, key, "at+jwt", claims(func(c *protocol.Claims) { c.Issuer = "evil" })),
				"no exp":            signJWT(t, jwt.SigningMethodHS256, key, "at+jwt", claims(func(c *protocol.Claims) { c.ExpiresAt = nil })),
				"future iat":        signJWT(t, jwt.SigningMethodHS256, key, "at+jwt", claims(func(c *protocol.Claims) { c.IssuedAt = jwt.NewNumericDate(f.clock.Now().Add(time.Hour)) })),
				"other client_id":   signJWT(t, jwt.SigningMethodHS256, key, "at+jwt", claims(func(c *protocol.Claims) { c.ClientID = string(models.NewUUID()) })),
				"payload swapped":   parts[0] + "." + base64.RawURLEncoding.EncodeToString(widened) + "." + parts[2],
				"signature flipped": parts[0] + "." + parts[1] + "." + string(sig),
				"signature dropped": parts[0] + "." + parts[1] + ".",
				"garbage":           "not.a.jwt",
				"empty":             "",
			} {
				_, err := f.s.AccessTokens.Validate(ctx, tok)
				require.ErrorIs(t, err, repositories.ErrInvalidCredentials, "%s: Validate = %v; want ErrInvalidCredentials", name, err)
			}
			_, err = f.s.AccessTokens.Validate(ctx, good)
			require.NoError(t, err)
		})

		t.Run("Expiry", func(t *testing.T) {
			f.clock.Advance(59*time.Minute + 59*time.Second)
			_, err := f.s.AccessTokens.Validate(ctx, good)
			require.NoError(t, err, "valid 1 s before exp")
			f.clock.Advance(time.Second)
			_, err = f.s.AccessTokens.Validate(ctx, good)
			require.ErrorIs(t, err, repositories.ErrExpired)
		})

		t.Run("RevocationOutlivesExp", func(t *testing.T) {
			r2, tok, err := f.s.AccessTokens.Issue(ctx, pub.ID, &uid, nil, nil)
			require.NoError(t, err)
			require.NoError(t, f.s.AccessTokens.Revoke(ctx, r2.ID))
			_, err = f.s.AccessTokens.Validate(ctx, tok)
			require.ErrorIs(t, err, repositories.ErrRevoked)
			f.clock.Advance(2 * time.Hour)
			_, err = f.s.AccessTokens.Validate(ctx, tok)
			require.ErrorIs(t, err, repositories.ErrExpired)
			var kept models.AccessToken
			require.NoError(t, f.s.DB().Where("id = ?", r2.ID).Take(&kept).Error, "the revocation row is gone after exp")
			require.True(t, kept.Revoked)
			// The first token, never revoked, is refused after exp as well.
			_, err = f.s.AccessTokens.Validate(ctx, good)
			require.ErrorIs(t, err, repositories.ErrExpired)
			require.EqualValues(t, 1, countRows(t, f.s.DB(), "oauth_access_tokens", "id = ?", row.ID))
		})

		t.Run("MissingRow", func(t *testing.T) {
			r3, tok, err := f.s.AccessTokens.Issue(ctx, pub.ID, &uid, nil, nil)
			require.NoError(t, err)
			require.NoError(t, f.s.DB().Delete(&models.AccessToken{}, "id = ?", r3.ID).Error)
			_, err = f.s.AccessTokens.Validate(ctx, tok)
			require.ErrorIs(t, err, repositories.ErrNotFound)
		})
	})
}
