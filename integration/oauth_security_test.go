package integration

// SECURITY.md properties 1-4 and 7-22 for the OAuth tables, one named test
// each (TestOAuthSecurityNN...), run on every backend. Properties 9 and 13
// (concurrency) and 29 (all-or-nothing) are in oauth_fault_test.go.

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"testing/iotest"
	"time"

	"github.com/forgeauth/authstore/config"
	"github.com/forgeauth/authstore/hooks"
	"github.com/forgeauth/authstore/models"
	"github.com/forgeauth/authstore/repositories"
	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/require"
	"gorm.io/gorm"
)

// oauthUniqueIndex reports whether table has a unique index on exactly
// column.
func oauthUniqueIndex(t *testing.T, db *gorm.DB, table, column string) bool {
	t.Helper()
	var n int64
	if db.Dialector.Name() == "postgres" {
		require.NoError(t, db.Raw(`SELECT count(*) FROM pg_indexes WHERE schemaname = CURRENT_SCHEMA() AND tablename = ?
			AND indexdef LIKE 'CREATE UNIQUE INDEX %' AND indexdef LIKE ?`, table, "%("+column+")").Scan(&n).Error)
		return n > 0
	}
	require.NoError(t, db.Raw(`SELECT count(*) FROM pragma_index_list(?) AS il WHERE il."unique" = 1
		AND (SELECT count(*) FROM pragma_index_info(il.name)) = 1
		AND (SELECT name FROM pragma_index_info(il.name)) = ?`, table, column).Scan(&n).Error)
	return n > 0
}

// oauthSign signs claims with method and key, with the given typ header
// ("" for none).
func oauthSign(t *testing.T, method jwt.SigningMethod, key any, typ string, claims jwt.Claims) string {
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

// oauthClaims parses a JWT without verifying it, for forging variants.
func oauthClaims(t *testing.T, token string) *repositories.Claims {
	t.Helper()
	c := &repositories.Claims{}
	_, _, err := jwt.NewParser().ParseUnverified(token, c)
	require.NoError(t, err)
	return c
}

// TestOAuthSecurity01NoPlaintextAtRest issues one of every OAuth secret
// (client secret, rotated secret, authorization code, PKCE verifier, refresh
// token, rotated refresh token, access JWT, personal token) and scans every
// column of every table for each raw value: zero matches. The digests are
// found, which proves the scan finds what is there.
func TestOAuthSecurity01NoPlaintextAtRest(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b Backend) {
		e := newOAuthEnv(t, b)
		ctx := requestCtx()
		uid := e.user(t, "scan@example.com")
		c, secret := e.confidentialClient(t, &uid)
		rotated, err := e.clients.RotateSecret(ctx, c.ID)
		require.NoError(t, err)
		pub := e.publicClient(t)
		code, verifier := e.code(t, pub.ID, uid)
		pair, err := e.codes.Exchange(ctx, code, pub.ID, oauthRedirect, verifier)
		require.NoError(t, err)
		next, err := e.refresh.Rotate(ctx, pair.RefreshToken, pub.ID, nil)
		require.NoError(t, err)
		_, err = e.refresh.Rotate(ctx, pair.RefreshToken, pub.ID, nil) // reuse: activity metadata
		require.ErrorIs(t, err, repositories.ErrReused)
		_, err = e.codes.Exchange(ctx, code, pub.ID, oauthRedirect, verifier) // replay
		require.ErrorIs(t, err, repositories.ErrCodeReplayed)
		unused, _ := e.code(t, pub.ID, uid)
		ccJWT, _, err := e.access.Issue(ctx, c.ID, nil, nil, nil)
		require.NoError(t, err)
		pat, _, err := e.pats.Create(ctx, uid, "scan", nil, nil)
		require.NoError(t, err)
		_, err = e.pats.Find(ctx, pat)
		require.NoError(t, err)

		raw := map[string]string{
			"client secret":         secret,
			"rotated client secret": rotated,
			"authorization code":    code,
			"unused code":           unused,
			"pkce verifier":         verifier,
			"refresh token":         pair.RefreshToken,
			"rotated refresh token": next.RefreshToken,
			"access jwt":            pair.AccessToken,
			"access jwt signature":  pair.AccessToken[strings.LastIndex(pair.AccessToken, ".")+1:],
			"client jwt":            ccJWT,
			"jwt secret":            oauthJWTSecret,
			"personal token":        pat,
			"personal token body":   strings.TrimPrefix(pat, repositories.PersonalTokenPrefix),
		}
		for name, v := range raw {
			found, _ := scanForSecrets(t, e.s.DB, map[string]string{name: v})
			require.Empty(t, found, "the %s is stored in plaintext", name)
		}
		// Positive control: the same scan finds the digests, each in exactly
		// one column.
		for _, tc := range []struct{ needle, want string }{
			{hooks.Digest(next.RefreshToken), "oauth_refresh_tokens.token_hash"},
			{hooks.Digest(unused), "oauth_authorization_codes.code_hash"},
			{hooks.Digest(pat), "oauth_personal_access_tokens.token_hash"},
		} {
			found, _ := scanForSecrets(t, e.s.DB, map[string]string{"digest": tc.needle})
			require.Equal(t, []string{"digest in " + tc.want}, found)
		}
	})
}

// TestOAuthSecurity02TokenEntropy checks that every generated token carries
// 32 bytes (256 bits), that tokens differ, and that a failing random source
// is an error that writes nothing, never a fallback.
func TestOAuthSecurity02TokenEntropy(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b Backend) {
		e := newOAuthEnv(t, b)
		ctx := requestCtx()
		uid := e.user(t, "u@example.com")
		c, secret := e.confidentialClient(t, &uid)
		pub := e.publicClient(t)
		code, verifier := e.code(t, pub.ID, uid)
		pair := e.pair(t, pub.ID, &uid)
		pat, _, err := e.pats.Create(ctx, uid, "x", nil, nil)
		require.NoError(t, err)
		for name, tok := range map[string]string{
			"client secret": secret, "authorization code": code, "refresh token": pair.RefreshToken,
			"personal token": strings.TrimPrefix(pat, repositories.PersonalTokenPrefix),
		} {
			rawBytes, err := base64.RawURLEncoding.Strict().DecodeString(tok)
			require.NoError(t, err, name)
			require.Len(t, rawBytes, 32, "%s carries %d bits; want 256", name, 8*len(rawBytes))
		}
		seen := map[string]bool{}
		for range 20 {
			p := e.pair(t, pub.ID, &uid)
			require.False(t, seen[p.RefreshToken], "duplicate refresh token")
			seen[p.RefreshToken] = true
		}

		t.Run("FailingRandomSource", func(t *testing.T) {
			saved := rand.Reader
			rand.Reader = iotest.ErrReader(errors.New("entropy exhausted"))
			defer func() { rand.Reader = saved }()
			before := snapshotTables(t, e.s.DB)
			_, _, err := e.clients.Create(ctx, repositories.ClientInput{Name: "x", RedirectURIs: []string{oauthRedirect}, Confidential: true})
			require.ErrorIs(t, err, hooks.ErrRandom, "Clients.Create")
			_, err = e.clients.RotateSecret(ctx, c.ID)
			require.ErrorIs(t, err, hooks.ErrRandom, "RotateSecret")
			_, err = e.refresh.Issue(ctx, pub.ID, &uid, nil)
			require.ErrorIs(t, err, hooks.ErrRandom, "RefreshTokens.Issue")
			_, err = e.refresh.Rotate(ctx, pair.RefreshToken, pub.ID, nil)
			require.ErrorIs(t, err, hooks.ErrRandom, "Rotate")
			_, _, err = e.codes.Create(ctx, repositories.AuthCodeInput{ClientID: pub.ID, UserID: uid, RedirectURI: oauthRedirect,
				CodeChallenge: hooks.S256Challenge(verifier), CodeChallengeMethod: "S256"})
			require.ErrorIs(t, err, hooks.ErrRandom, "AuthCodes.Create")
			_, err = e.codes.Exchange(ctx, code, pub.ID, oauthRedirect, verifier)
			require.ErrorIs(t, err, hooks.ErrRandom, "Exchange")
			_, _, err = e.pats.Create(ctx, uid, "x", nil, nil)
			require.ErrorIs(t, err, hooks.ErrRandom, "PersonalTokens.Create")
			require.Equal(t, before, snapshotTables(t, e.s.DB), "a failed random source wrote rows")
		})
		// With the source back, the untouched code and token still work.
		_, err = e.codes.Exchange(ctx, code, pub.ID, oauthRedirect, verifier)
		require.NoError(t, err)
		_, err = e.refresh.Rotate(ctx, pair.RefreshToken, pub.ID, nil)
		require.NoError(t, err)
	})
}

// TestOAuthSecurity03LookupsAreExact checks that digests and jti are unique
// and indexed, and that a token differing by one character or in case is
// not found.
func TestOAuthSecurity03LookupsAreExact(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b Backend) {
		e := newOAuthEnv(t, b)
		ctx := requestCtx()
		uid := e.user(t, "u@example.com")
		pub := e.publicClient(t)

		t.Run("UniqueIndexes", func(t *testing.T) {
			for _, tc := range [][2]string{
				{"oauth_refresh_tokens", "token_hash"}, {"oauth_authorization_codes", "code_hash"},
				{"oauth_personal_access_tokens", "token_hash"}, {"oauth_access_tokens", "id"},
			} {
				require.True(t, oauthUniqueIndex(t, e.s.DB, tc[0], tc[1]), "%s.%s has no unique index", tc[0], tc[1])
			}
		})

		t.Run("DuplicatesRefused", func(t *testing.T) {
			p := e.pair(t, pub.ID, &uid)
			code, _ := e.code(t, pub.ID, uid)
			pat, _, err := e.pats.Create(ctx, uid, "x", nil, nil)
			require.NoError(t, err)
			now := e.clock.Now()
			db := e.s.DB.WithContext(ctx)
			for name, row := range map[string]any{
				"refresh digest": &models.RefreshToken{TokenHash: hooks.Digest(p.RefreshToken), ClientID: pub.ID, Scopes: models.Strings{}, ExpiresAt: now},
				"code digest":    &models.AuthorizationCode{CodeHash: hooks.Digest(code), ClientID: pub.ID, UserID: uid, RedirectURI: oauthRedirect, ExpiresAt: now},
				"pat digest":     &models.PersonalAccessToken{TokenHash: hooks.Digest(pat), UserID: uid, Name: "dup", Prefix: "asp_"},
				"jti":            &models.AccessToken{ID: p.AccessTokenID, ClientID: pub.ID, ExpiresAt: now},
			} {
				err := repositories.Translate("insert "+name, db.Create(row).Error)
				require.ErrorIs(t, err, repositories.ErrDuplicate, "a second row with the same %s: %v", name, err)
			}
		})

		t.Run("RefreshToken", func(t *testing.T) {
			p := e.pair(t, pub.ID, &uid)
			for name, m := range tokenMutations(p.RefreshToken) {
				_, err := e.refresh.Rotate(ctx, m, pub.ID, nil)
				require.ErrorIs(t, err, repositories.ErrNotFound, "refresh token, %s", name)
				require.NoError(t, e.refresh.Revoke(ctx, m, pub.ID), "revoking a near miss is a no-op")
			}
			_, err := e.refresh.Rotate(ctx, p.RefreshToken, pub.ID, nil)
			require.NoError(t, err, "the near misses touched the real token")
		})

		t.Run("AuthorizationCode", func(t *testing.T) {
			code, verifier := e.code(t, pub.ID, uid)
			for name, m := range tokenMutations(code) {
				_, err := e.codes.Exchange(ctx, m, pub.ID, oauthRedirect, verifier)
				require.ErrorIs(t, err, repositories.ErrNotFound, "code, %s", name)
			}
			_, err := e.codes.Exchange(ctx, code, pub.ID, oauthRedirect, verifier)
			require.NoError(t, err)
		})

		t.Run("PersonalToken", func(t *testing.T) {
			pat, _, err := e.pats.Create(ctx, uid, "x", nil, nil)
			require.NoError(t, err)
			for name, m := range tokenMutations(pat) {
				_, err := e.pats.Find(ctx, m)
				require.ErrorIs(t, err, repositories.ErrNotFound, "personal token, %s", name)
			}
			_, err = e.pats.Find(ctx, pat)
			require.NoError(t, err)
		})

		t.Run("ClientSecret", func(t *testing.T) {
			c, secret := e.confidentialClient(t, nil)
			for name, m := range tokenMutations(secret) {
				_, err := e.clients.ValidateCredentials(ctx, c.ID, m)
				require.ErrorIs(t, err, repositories.ErrInvalidCredentials, "client secret, %s", name)
			}
			_, err := e.clients.ValidateCredentials(ctx, c.ID, secret)
			require.NoError(t, err)
		})

		t.Run("JTI", func(t *testing.T) {
			jwtStr, row, err := e.access.Issue(ctx, pub.ID, &uid, nil, nil)
			require.NoError(t, err)
			key := []byte(oauthJWTSecret)
			id := string(row.ID)
			last := "0"
			if strings.HasSuffix(id, "0") {
				last = "1"
			}
			for name, jti := range map[string]string{
				"one character changed": id[:len(id)-1] + last, // still a canonical UUID
				"upper case":            strings.ToUpper(string(row.ID)),
			} {
				claims := oauthClaims(t, jwtStr)
				claims.ID = jti
				forged := oauthSign(t, jwt.SigningMethodHS256, key, "at+jwt", claims)
				_, err := e.access.Validate(ctx, forged)
				want := repositories.ErrNotFound // looked up, no such row
				if name == "upper case" {
					want = repositories.ErrInvalidCredentials // not a canonical jti
				}
				require.ErrorIs(t, err, want, "jti %s", name)
			}
			_, err = e.access.Validate(ctx, jwtStr)
			require.NoError(t, err)
		})
	})
}

var phcRE = regexp.MustCompile(`^\$argon2id\$v=19\$m=\d+,t=\d+,p=\d+\$[A-Za-z0-9+/]+\$[A-Za-z0-9+/]+$`)

// TestOAuthSecurity04ClientSecretsAreArgon2id checks that client secrets are
// stored as Argon2id PHC strings at or above OWASP's floor with a salt of
// at least 16 bytes, and that equal secrets hash differently.
func TestOAuthSecurity04ClientSecretsAreArgon2id(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b Backend) {
		e := newOAuthEnv(t, b)
		ctx := requestCtx()
		c, _ := e.confidentialClient(t, nil)
		check := func(hash string) hooks.Params {
			t.Helper()
			require.Regexp(t, phcRE, hash)
			p, err := hooks.ParseArgon2id(hash)
			require.NoError(t, err)
			require.NoError(t, p.Validate(), "the stored hash is below the OWASP floor: %+v", p)
			require.GreaterOrEqual(t, p.SaltLength, uint32(16))
			return p
		}
		var stored string
		require.NoError(t, e.s.DB.Raw("SELECT secret FROM oauth_clients WHERE id = ?", c.ID).Scan(&stored).Error)
		check(stored)
		_, err := e.clients.RotateSecret(ctx, c.ID)
		require.NoError(t, err)
		var rotated string
		require.NoError(t, e.s.DB.Raw("SELECT secret FROM oauth_clients WHERE id = ?", c.ID).Scan(&rotated).Error)
		check(rotated)
		require.NotEqual(t, stored, rotated)

		// Equal secrets (set by a host through the model hook) hash
		// differently and each verifies.
		var hashes []string
		for i := range 2 {
			m := &models.Client{Name: fmt.Sprint("host ", i), Secret: "the same secret", Confidential: true}
			require.NoError(t, e.s.DB.WithContext(ctx).Create(m).Error)
			require.Empty(t, m.Secret, "the hook left the plaintext on the value")
			check(*m.SecretHash)
			ok, err := hooks.DefaultHasher().Verify(*m.SecretHash, "the same secret")
			require.NoError(t, err)
			require.True(t, ok)
			hashes = append(hashes, *m.SecretHash)
		}
		require.NotEqual(t, hashes[0], hashes[1], "two equal secrets hash the same")
	})
}

// TestOAuthSecurity07RotationMarksUsed checks that each refresh issues a new
// token and marks the old one used, so a family never has two active
// tokens.
func TestOAuthSecurity07RotationMarksUsed(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b Backend) {
		e := newOAuthEnv(t, b)
		ctx := requestCtx()
		uid := e.user(t, "u@example.com")
		pub := e.publicClient(t)
		p := e.pair(t, pub.ID, &uid)
		active := func() int64 {
			return countRows(t, e.s.DB, "oauth_refresh_tokens", "family_id = ? AND used_at IS NULL AND revoked = ?", p.FamilyID, false)
		}
		require.EqualValues(t, 1, active())
		seen := map[string]bool{p.RefreshToken: true}
		cur := p
		for i := range 4 {
			e.clock.Advance(time.Minute)
			next, err := e.refresh.Rotate(ctx, cur.RefreshToken, pub.ID, nil)
			require.NoError(t, err, "rotation %d", i)
			require.False(t, seen[next.RefreshToken], "rotation %d returned an old token", i)
			seen[next.RefreshToken] = true
			var old models.RefreshToken
			require.NoError(t, e.s.DB.Where("id = ?", cur.RefreshTokenID).Take(&old).Error)
			require.NotNil(t, old.UsedAt, "rotation %d left the old token unused", i)
			require.True(t, old.UsedAt.Equal(e.clock.Now()), "used_at = %v; want %v", old.UsedAt, e.clock.Now())
			require.EqualValues(t, 1, active(), "after rotation %d the family has %d active tokens", i, active())
			cur = next
		}
		require.EqualValues(t, 5, countRows(t, e.s.DB, "oauth_refresh_tokens", "family_id = ?", p.FamilyID))
	})
}

// TestOAuthSecurity08ReuseRevokesFamily checks that presenting a used
// refresh token revokes every refresh and access token of its family,
// returns ErrReused, records refresh_token.reused, and that the revocation
// is visible from a fresh connection although the call failed.
func TestOAuthSecurity08ReuseRevokesFamily(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b Backend) {
		e := newOAuthEnv(t, b)
		ctx := requestCtx()
		uid := e.user(t, "u@example.com")
		pub := e.publicClient(t)
		p := e.pair(t, pub.ID, &uid)
		other := e.pair(t, pub.ID, &uid) // another grant of the same user and client
		p2, err := e.refresh.Rotate(ctx, p.RefreshToken, pub.ID, nil)
		require.NoError(t, err)
		p3, err := e.refresh.Rotate(ctx, p2.RefreshToken, pub.ID, nil)
		require.NoError(t, err)

		_, err = e.refresh.Rotate(ctx, p.RefreshToken, pub.ID, nil) // the stolen first token
		require.ErrorIs(t, err, repositories.ErrReused)

		fresh := oauthFreshDB(t, e)
		require.EqualValues(t, 3, countRows(t, fresh, "oauth_refresh_tokens", "family_id = ?", p.FamilyID))
		require.Zero(t, countRows(t, fresh, "oauth_refresh_tokens", "family_id = ? AND revoked = ?", p.FamilyID, false), "refresh tokens of the family survived")
		require.EqualValues(t, 3, countRows(t, fresh, "oauth_access_tokens", "family_id = ? AND revoked = ?", p.FamilyID, true))
		require.Zero(t, countRows(t, fresh, "oauth_access_tokens", "family_id = ? AND revoked = ?", p.FamilyID, false), "access tokens of the family survived")
		require.EqualValues(t, 1, countRows(t, fresh, "user_activity_log", "event = ? AND user_id = ?", string(hooks.EventRefreshTokenReused), uid))

		for _, at := range []string{p.AccessToken, p2.AccessToken, p3.AccessToken} {
			_, err := e.access.Validate(ctx, at)
			require.ErrorIs(t, err, repositories.ErrRevoked)
		}
		_, err = e.refresh.Rotate(ctx, p3.RefreshToken, pub.ID, nil)
		require.ErrorIs(t, err, repositories.ErrRevoked, "the newest token of a revoked family still works")
		_, err = e.refresh.Rotate(ctx, p2.RefreshToken, pub.ID, nil)
		require.ErrorIs(t, err, repositories.ErrReused, "every presentation of a used token is reuse")

		// The other grant is untouched.
		_, err = e.access.Validate(ctx, other.AccessToken)
		require.NoError(t, err)
		_, err = e.refresh.Rotate(ctx, other.RefreshToken, pub.ID, nil)
		require.NoError(t, err)
	})
}

// TestOAuthSecurity10GraceWindow checks the optional grace window: off by
// default; on, a retry within it returns the same child and creates no row;
// past it, or once the child was used, reuse revokes the family.
func TestOAuthSecurity10GraceWindow(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b Backend) {
		e := newOAuthEnv(t, b)
		ctx := requestCtx()
		uid := e.user(t, "u@example.com")
		pub := e.publicClient(t)

		t.Run("OffByDefault", func(t *testing.T) {
			p := e.pair(t, pub.ID, &uid)
			_, err := e.refresh.Rotate(ctx, p.RefreshToken, pub.ID, nil)
			require.NoError(t, err)
			_, err = e.refresh.Rotate(ctx, p.RefreshToken, pub.ID, nil)
			require.ErrorIs(t, err, repositories.ErrReused, "an immediate retry without a grace window")
		})

		grace := e.refresh.WithGraceWindow(30 * time.Second)

		t.Run("RetryWithinWindow", func(t *testing.T) {
			p := e.pair(t, pub.ID, &uid)
			child, err := grace.Rotate(ctx, p.RefreshToken, pub.ID, nil)
			require.NoError(t, err)
			e.clock.Advance(10 * time.Second)
			before := snapshotTables(t, e.s.DB)
			again, err := grace.Rotate(ctx, p.RefreshToken, pub.ID, nil)
			require.NoError(t, err)
			require.Equal(t, child.RefreshToken, again.RefreshToken, "the retry got another child")
			require.Equal(t, child.AccessToken, again.AccessToken)
			require.Equal(t, before, snapshotTables(t, e.s.DB), "the retry wrote rows")
			// The child works normally.
			_, err = grace.Rotate(ctx, child.RefreshToken, pub.ID, nil)
			require.NoError(t, err)
			// Now that the child is used, a retry of the parent is reuse.
			_, err = grace.Rotate(ctx, p.RefreshToken, pub.ID, nil)
			require.ErrorIs(t, err, repositories.ErrReused)
			require.Zero(t, countRows(t, e.s.DB, "oauth_refresh_tokens", "family_id = ? AND revoked = ?", p.FamilyID, false))
		})

		t.Run("PastWindow", func(t *testing.T) {
			p := e.pair(t, pub.ID, &uid)
			child, err := grace.Rotate(ctx, p.RefreshToken, pub.ID, nil)
			require.NoError(t, err)
			e.clock.Advance(31 * time.Second)
			_, err = grace.Rotate(ctx, p.RefreshToken, pub.ID, nil)
			require.ErrorIs(t, err, repositories.ErrReused)
			_, err = e.access.Validate(ctx, child.AccessToken)
			require.ErrorIs(t, err, repositories.ErrRevoked, "reuse past the window left the child's access token alive")
			_, err = grace.Rotate(ctx, child.RefreshToken, pub.ID, nil)
			require.ErrorIs(t, err, repositories.ErrRevoked)
		})

		t.Run("ConcurrentRetries", func(t *testing.T) {
			p := e.pair(t, pub.ID, &uid)
			oauthWarmPool(t, e)
			const n = 20
			pairs := make([]*repositories.TokenPair, n)
			errs := make([]error, n)
			barrier(n, func(i int) { pairs[i], errs[i] = grace.Rotate(ctx, p.RefreshToken, pub.ID, nil) })
			oauthRequireNoLockErrors(t, errs)
			for i := range n {
				require.NoError(t, errs[i], "goroutine %d", i)
				require.Equal(t, pairs[0].RefreshToken, pairs[i].RefreshToken, "goroutine %d got another child", i)
			}
			require.EqualValues(t, 2, countRows(t, e.s.DB, "oauth_refresh_tokens", "family_id = ?", p.FamilyID))
		})
	})
}

// TestOAuthSecurity11BindingAndScope checks that a refresh token is bound to
// its client (another client's attempt fails and does not burn it) and that
// scope never widens on refresh.
func TestOAuthSecurity11BindingAndScope(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b Backend) {
		e := newOAuthEnv(t, b)
		ctx := requestCtx()
		uid := e.user(t, "u@example.com")
		pub := e.publicClient(t)
		thief := e.publicClient(t)
		p := e.pair(t, pub.ID, &uid, "read", "write")

		before := snapshotTables(t, e.s.DB)
		_, err := e.refresh.Rotate(ctx, p.RefreshToken, thief.ID, nil)
		require.ErrorIs(t, err, repositories.ErrInvalidCredentials)
		require.ErrorIs(t, e.refresh.Revoke(ctx, p.RefreshToken, thief.ID), repositories.ErrInvalidCredentials, "another client revoked the token")
		_, err = e.refresh.Rotate(ctx, p.RefreshToken, pub.ID, []string{"read", "admin"})
		require.ErrorIs(t, err, repositories.ErrInvalidInput, "refresh widened the scope")
		require.Contains(t, err.Error(), `"admin"`)
		require.Equal(t, before, snapshotTables(t, e.s.DB), "a refused refresh burned or changed the token")

		narrow, err := e.refresh.Rotate(ctx, p.RefreshToken, pub.ID, []string{"read"})
		require.NoError(t, err)
		require.Equal(t, []string{"read"}, narrow.Scopes)
		claims, err := e.access.Validate(ctx, narrow.AccessToken)
		require.NoError(t, err)
		require.Equal(t, "read", claims.Scope)
		_, err = e.refresh.Rotate(ctx, narrow.RefreshToken, pub.ID, []string{"read", "write"})
		require.ErrorIs(t, err, repositories.ErrInvalidInput, "a narrowed grant widened back")
		again, err := e.refresh.Rotate(ctx, narrow.RefreshToken, pub.ID, nil)
		require.NoError(t, err)
		require.Equal(t, []string{"read"}, again.Scopes)
	})
}

// TestOAuthSecurity12CleanupKeepsReuseDetection checks that the purge keeps
// used refresh tokens of a live family, so reuse is still detected, while
// deleting families that are wholly expired.
func TestOAuthSecurity12CleanupKeepsReuseDetection(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b Backend) {
		e := newOAuthEnv(t, b)
		ctx := requestCtx()
		uid := e.user(t, "u@example.com")
		pub := e.publicClient(t)
		cleanup := repositories.NewCleanup(e.s.DB, e.opts)
		live := e.pair(t, pub.ID, &uid)
		dead := e.pair(t, pub.ID, &uid)
		e.clock.Advance(29 * 24 * time.Hour)
		child, err := e.refresh.Rotate(ctx, live.RefreshToken, pub.ID, nil)
		require.NoError(t, err)
		e.clock.Advance(2 * 24 * time.Hour) // the first tokens are past their 30 days; the child is not

		_, err = cleanup.Purge(ctx, repositories.PurgeOptions{})
		require.NoError(t, err)
		require.Zero(t, countRows(t, e.s.DB, "oauth_refresh_tokens", "family_id = ?", dead.FamilyID), "the purge kept an expired family")
		require.EqualValues(t, 2, countRows(t, e.s.DB, "oauth_refresh_tokens", "family_id = ?", live.FamilyID), "the purge deleted a used token of a live family")

		_, err = e.refresh.Rotate(ctx, live.RefreshToken, pub.ID, nil)
		require.ErrorIs(t, err, repositories.ErrReused, "reuse was not detected after a purge")
		_, err = e.refresh.Rotate(ctx, child.RefreshToken, pub.ID, nil)
		require.ErrorIs(t, err, repositories.ErrRevoked)
	})
}

// TestOAuthSecurity14CodeReplay checks that replaying a used code fails with
// ErrCodeReplayed, revokes every token issued from it (rotated ones
// included), and that a used code stays distinguishable from an unknown one
// until it expires.
func TestOAuthSecurity14CodeReplay(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b Backend) {
		e := newOAuthEnv(t, b)
		ctx := requestCtx()
		uid := e.user(t, "u@example.com")
		pub := e.publicClient(t)
		code, verifier := e.code(t, pub.ID, uid)
		p, err := e.codes.Exchange(ctx, code, pub.ID, oauthRedirect, verifier)
		require.NoError(t, err)
		p2, err := e.refresh.Rotate(ctx, p.RefreshToken, pub.ID, nil)
		require.NoError(t, err)
		unrelated := e.pair(t, pub.ID, &uid)

		_, err = e.codes.Exchange(ctx, code, pub.ID, oauthRedirect, verifier)
		require.ErrorIs(t, err, repositories.ErrCodeReplayed)
		require.ErrorIs(t, err, repositories.ErrUsed)

		fresh := oauthFreshDB(t, e)
		require.Zero(t, countRows(t, fresh, "oauth_refresh_tokens", "family_id = ? AND revoked = ?", p.FamilyID, false))
		require.Zero(t, countRows(t, fresh, "oauth_access_tokens", "family_id = ? AND revoked = ?", p.FamilyID, false))
		require.EqualValues(t, 1, countRows(t, fresh, "user_activity_log", "event = ? AND user_id = ?", string(hooks.EventAuthCodeReplayed), uid))
		for _, at := range []string{p.AccessToken, p2.AccessToken} {
			_, err := e.access.Validate(ctx, at)
			require.ErrorIs(t, err, repositories.ErrRevoked)
		}
		_, err = e.refresh.Rotate(ctx, p2.RefreshToken, pub.ID, nil)
		require.ErrorIs(t, err, repositories.ErrRevoked)
		_, err = e.access.Validate(ctx, unrelated.AccessToken)
		require.NoError(t, err, "the replay revoked another grant")

		// Used and unknown codes stay distinguishable up to the expiry.
		e.clock.Advance(599 * time.Second)
		_, err = e.codes.Exchange(ctx, code, pub.ID, oauthRedirect, verifier)
		require.ErrorIs(t, err, repositories.ErrCodeReplayed)
		_, err = e.codes.Exchange(ctx, "unknown-code", pub.ID, oauthRedirect, verifier)
		require.ErrorIs(t, err, repositories.ErrNotFound)
		require.False(t, errors.Is(err, repositories.ErrUsed))
	})
}

// TestOAuthSecurity15CodeExpiryAndBinding checks that codes expire after at
// most 600 s (the default) and are bound to their client and redirect URI.
func TestOAuthSecurity15CodeExpiryAndBinding(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b Backend) {
		e := newOAuthEnv(t, b)
		ctx := requestCtx()
		uid := e.user(t, "u@example.com")
		pub := e.publicClient(t)
		other := e.publicClient(t)
		require.Equal(t, 600*time.Second, config.Default().AuthCodeLifetime)

		expiring, v1 := e.code(t, pub.ID, uid)
		almost, v2 := e.code(t, pub.ID, uid)
		var row models.AuthorizationCode
		require.NoError(t, e.s.DB.Where("code_hash = ?", hooks.Digest(expiring)).Take(&row).Error)
		require.LessOrEqual(t, row.ExpiresAt.Sub(row.CreatedAt), 600*time.Second)

		before := snapshotTables(t, e.s.DB)
		_, err := e.codes.Exchange(ctx, almost, other.ID, oauthRedirect, v2)
		require.ErrorIs(t, err, repositories.ErrInvalidCredentials, "another client exchanged the code")
		for _, uri := range []string{oauthRedirect + "/", oauthRedirect + "?x=1", "https://app.example.com/CB", oauthLoopback, ""} {
			_, err = e.codes.Exchange(ctx, almost, pub.ID, uri, v2)
			require.ErrorIs(t, err, repositories.ErrInvalidInput, "redirect uri %q accepted", uri)
		}
		require.Equal(t, before, snapshotTables(t, e.s.DB), "a refused exchange burned the code")

		e.clock.Advance(599 * time.Second)
		_, err = e.codes.Exchange(ctx, almost, pub.ID, oauthRedirect, v2)
		require.NoError(t, err, "a code 599 s old")
		e.clock.Advance(time.Second)
		_, err = e.codes.Exchange(ctx, expiring, pub.ID, oauthRedirect, v1)
		require.ErrorIs(t, err, repositories.ErrExpired, "a code 600 s old")
	})
}

// TestOAuthSecurity16PKCE checks S256-only PKCE: plain or a missing method
// is refused, a verifier without a challenge and a challenge without a
// verifier are refused, verifiers must be 43-128 characters of the RFC 7636
// set, and PKCE is required for public clients and, with OAUTH_ENABLE_PKCE,
// for all. (The comparison is hooks.VerifyS256, subtle.ConstantTimeCompare.)
func TestOAuthSecurity16PKCE(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b Backend) {
		e := newOAuthEnv(t, b)
		ctx := requestCtx()
		uid := e.user(t, "u@example.com")
		pub := e.publicClient(t)
		conf, _ := e.confidentialClient(t, nil)
		const rfcVerifier, rfcChallenge = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk", "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
		in := func(client models.UUID, challenge, method string) repositories.AuthCodeInput {
			return repositories.AuthCodeInput{ClientID: client, UserID: uid, RedirectURI: oauthRedirect, CodeChallenge: challenge, CodeChallengeMethod: method}
		}

		t.Run("CreateRefuses", func(t *testing.T) {
			before := snapshotTables(t, e.s.DB)
			for name, x := range map[string]repositories.AuthCodeInput{
				"plain":                     in(pub.ID, rfcVerifier, "plain"),
				"plain on confidential":     in(conf.ID, rfcVerifier, "plain"),
				"challenge without method":  in(pub.ID, rfcChallenge, ""),
				"lower-case s256":           in(pub.ID, rfcChallenge, "s256"),
				"method without challenge":  in(pub.ID, "", "S256"),
				"malformed challenge":       in(pub.ID, rfcChallenge[:42]+"=", "S256"),
				"short challenge":           in(pub.ID, rfcChallenge[:42], "S256"),
				"public without PKCE":       in(pub.ID, "", ""),
				"confidential without PKCE": in(conf.ID, "", ""), // OAUTH_ENABLE_PKCE defaults to true
			} {
				_, _, err := e.codes.Create(ctx, x)
				require.ErrorIs(t, err, repositories.ErrInvalidInput, "%s: Create = %v; want ErrInvalidInput", name, err)
			}
			require.Equal(t, before, snapshotTables(t, e.s.DB))
		})

		t.Run("RFC7636AppendixB", func(t *testing.T) {
			code, _, err := e.codes.Create(ctx, in(pub.ID, rfcChallenge, "S256"))
			require.NoError(t, err)
			_, err = e.codes.Exchange(ctx, code, pub.ID, oauthRedirect, rfcVerifier)
			require.NoError(t, err)
		})

		t.Run("ExchangeRefuses", func(t *testing.T) {
			code, verifier := e.code(t, pub.ID, uid)
			before := snapshotTables(t, e.s.DB)
			other, _ := hooks.NewPKCEVerifier()
			for name, tc := range map[string]struct {
				v    string
				want error
			}{
				"no verifier":      {"", repositories.ErrInvalidInput},
				"wrong verifier":   {other, repositories.ErrInvalidCredentials},
				"42 characters":    {verifier[:42], repositories.ErrInvalidInput},
				"129 characters":   {verifier + strings.Repeat("a", 86), repositories.ErrInvalidInput},
				"bad character":    {verifier[:42] + "+", repositories.ErrInvalidInput},
				"the challenge":    {hooks.S256Challenge(verifier), repositories.ErrInvalidCredentials},
				"case-swapped":     {strings.ToUpper(verifier), repositories.ErrInvalidCredentials},
				"verifier + space": {verifier + " ", repositories.ErrInvalidInput},
			} {
				_, err := e.codes.Exchange(ctx, code, pub.ID, oauthRedirect, tc.v)
				require.ErrorIs(t, err, tc.want, "%s: Exchange = %v; want %v", name, err, tc.want)
			}
			require.Equal(t, before, snapshotTables(t, e.s.DB), "a refused verifier burned the code")
			_, err := e.codes.Exchange(ctx, code, pub.ID, oauthRedirect, verifier)
			require.NoError(t, err)
		})

		t.Run("MaxLengthVerifier", func(t *testing.T) {
			v := strings.Repeat("a-._~Z9", 19)[:128]
			code, _, err := e.codes.Create(ctx, in(pub.ID, hooks.S256Challenge(v), "S256"))
			require.NoError(t, err)
			_, err = e.codes.Exchange(ctx, code, pub.ID, oauthRedirect, v)
			require.NoError(t, err)
		})

		t.Run("PKCEDisabled", func(t *testing.T) {
			off := repositories.NewAuthCodes(e.s.DB, repositories.Options{Config: func() config.Config {
				c := e.opts.Config
				c.EnablePKCE = false
				return c
			}()})
			_, _, err := off.Create(ctx, in(pub.ID, "", ""))
			require.ErrorIs(t, err, repositories.ErrInvalidInput, "a public client needs PKCE whatever the setting")
			code, _, err := off.Create(ctx, in(conf.ID, "", ""))
			require.NoError(t, err, "a confidential client without PKCE when OAUTH_ENABLE_PKCE=false")
			_, err = off.Exchange(ctx, code, conf.ID, oauthRedirect, rfcVerifier)
			require.ErrorIs(t, err, repositories.ErrInvalidInput, "a verifier for a code without a challenge")
			_, err = off.Exchange(ctx, code, conf.ID, oauthRedirect, "")
			require.NoError(t, err)
		})
	})
}

// TestOAuthSecurity17RedirectURIsMatchExactly checks registration-time
// validation and exact matching at use, where only a loopback IP URI may
// vary its port, and that the exchange wants the URI the code was issued
// for.
func TestOAuthSecurity17RedirectURIsMatchExactly(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b Backend) {
		e := newOAuthEnv(t, b)
		ctx := requestCtx()
		uid := e.user(t, "u@example.com")
		for _, bad := range []string{"https://a.example/cb#f", "http://a.example/cb", "javascript:alert(1)", "/cb", "https://u:p@a.example/cb", "myapp:/cb"} {
			_, _, err := e.clients.Create(ctx, repositories.ClientInput{Name: "x", RedirectURIs: []string{oauthRedirect, bad}})
			require.ErrorIs(t, err, repositories.ErrInvalidInput, "registered %q", bad)
			require.Contains(t, err.Error(), "redirect uri")
		}
		c, _, err := e.clients.Create(ctx, repositories.ClientInput{Name: "native", RedirectURIs: []string{oauthRedirect, oauthLoopback, "http://[::1]/cb", "com.example.app:/cb"}})
		require.NoError(t, err)
		v, _ := hooks.NewPKCEVerifier()
		create := func(uri string) (string, error) {
			code, _, err := e.codes.Create(ctx, repositories.AuthCodeInput{ClientID: c.ID, UserID: uid, RedirectURI: uri, CodeChallenge: hooks.S256Challenge(v), CodeChallengeMethod: "S256"})
			return code, err
		}
		for _, uri := range []string{
			oauthRedirect + "/", "https://app.example.com/CB", "https://APP.example.com/cb", oauthRedirect + "?x=1",
			oauthRedirect + "#x", "https://app.example.com/c", oauthRedirect + "b", "https://app.example.com:443/cb",
			"http://app.example.com/cb", "http://127.0.0.1:8080/cb/", "http://127.0.0.1:8080/cb?x", "http://localhost:8080/cb",
			"https://127.0.0.1:8080/cb", "com.example.app:/cb/", "com.example.app:/CB",
		} {
			_, err := create(uri)
			require.ErrorIs(t, err, repositories.ErrInvalidInput, "redirect uri %q accepted", uri)
		}
		for _, uri := range []string{oauthRedirect, oauthLoopback, "http://127.0.0.1:51234/cb", "http://127.0.0.1/cb", "http://[::1]:4000/cb", "com.example.app:/cb"} {
			_, err := create(uri)
			require.NoError(t, err, "redirect uri %q refused", uri)
		}
		code, err := create("http://127.0.0.1:51234/cb")
		require.NoError(t, err)
		_, err = e.codes.Exchange(ctx, code, c.ID, oauthLoopback, v)
		require.ErrorIs(t, err, repositories.ErrInvalidInput, "the exchange must repeat the port the code was issued for")
		_, err = e.codes.Exchange(ctx, code, c.ID, "http://127.0.0.1:51234/cb", v)
		require.NoError(t, err)
	})
}

// TestOAuthSecurity18ClientSecrets checks that a client secret is shown once,
// and that a wrong secret, an unknown (or malformed) client id, a public
// client and a revoked client fail the same way after the same Argon2id
// work.
func TestOAuthSecurity18ClientSecrets(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b Backend) {
		e := newOAuthEnv(t, b)
		ctx := requestCtx()
		c, secret := e.confidentialClient(t, nil)
		revoked, revokedSecret := e.confidentialClient(t, nil)
		require.NoError(t, e.clients.Revoke(ctx, revoked.ID))
		pub := e.publicClient(t)

		t.Run("ShownOnce", func(t *testing.T) {
			got, err := e.clients.Find(ctx, c.ID)
			require.NoError(t, err)
			require.Empty(t, got.Secret)
			require.NotContains(t, *got.SecretHash, secret)
			js, err := json.Marshal(got)
			require.NoError(t, err)
			require.NotContains(t, string(js), *got.SecretHash, "the hash serialises to JSON")
			require.NotContains(t, fmt.Sprintf("%v %+v %s", got, got, got), *got.SecretHash, "the hash prints")
			list, err := e.clients.List(ctx, 100, 0)
			require.NoError(t, err)
			for _, x := range list {
				require.Empty(t, x.Secret)
			}
		})

		t.Run("SameFailure", func(t *testing.T) {
			mem := uint64(hooks.DefaultHasher().Params().Memory) * 1024
			var msgs []string
			for name, tc := range map[string]struct {
				id     models.UUID
				secret string
			}{
				"wrong secret":    {c.ID, secret[:len(secret)-1] + "x"},
				"unknown client":  {models.NewUUID(), secret},
				"malformed id":    {"not-a-client", secret},
				"public client":   {pub.ID, secret},
				"revoked client":  {revoked.ID, revokedSecret},
				"empty secret":    {c.ID, ""},
				"overlong secret": {c.ID, strings.Repeat("s", 100000)},
				"upper-case id":   {models.UUID(strings.ToUpper(string(c.ID))), secret},
				"other's secret":  {c.ID, revokedSecret},
			} {
				var err error
				n := allocatedBytes(func() { _, err = e.clients.ValidateCredentials(ctx, tc.id, tc.secret) })
				require.ErrorIs(t, err, repositories.ErrInvalidCredentials, name)
				msgs = append(msgs, err.Error())
				// One Argon2id run allocates the hasher's memory once.
				require.GreaterOrEqual(t, n, mem, "%s: %d bytes allocated; want one Argon2id run (%d)", name, n, mem)
				require.Less(t, n, 2*mem, "%s: %d bytes allocated; want exactly one Argon2id run", name, n)
			}
			for _, m := range msgs {
				require.Equal(t, msgs[0], m, "failures are told apart by their message")
			}
			var n uint64
			var err error
			n = allocatedBytes(func() { _, err = e.clients.ValidateCredentials(ctx, c.ID, secret) })
			require.NoError(t, err)
			require.GreaterOrEqual(t, n, mem, "the first good verification")
		})
	})
}

// TestOAuthSecurity19RevokeOrDeleteKillsTokens checks that revoking or
// deleting a client, or deleting a user, kills all their tokens and codes.
func TestOAuthSecurity19RevokeOrDeleteKillsTokens(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b Backend) {
		e := newOAuthEnv(t, b)
		ctx := requestCtx()
		uid := e.user(t, "u@example.com")
		type grantOf struct {
			pair     *repositories.TokenPair
			ccJWT    string
			code, cv string
		}
		grantFor := func(client models.UUID, user models.UUID) grantOf {
			p := e.pair(t, client, &user)
			cc, _, err := e.access.Issue(ctx, client, nil, nil, nil)
			require.NoError(t, err)
			code, cv := e.code(t, client, user)
			return grantOf{p, cc, code, cv}
		}
		dead := func(g grantOf, client models.UUID, want error) {
			t.Helper()
			for _, at := range []string{g.pair.AccessToken, g.ccJWT} {
				_, err := e.access.Validate(ctx, at)
				require.ErrorIs(t, err, want, "access token")
			}
			_, err := e.refresh.Rotate(ctx, g.pair.RefreshToken, client, nil)
			require.ErrorIs(t, err, want, "refresh token")
			_, err = e.codes.Exchange(ctx, g.code, client, oauthRedirect, g.cv)
			require.ErrorIs(t, err, want, "authorization code")
		}

		t.Run("RevokeClient", func(t *testing.T) {
			c, secret := e.confidentialClient(t, nil)
			g := grantFor(c.ID, uid)
			other := e.publicClient(t)
			og := grantFor(other.ID, uid)
			require.NoError(t, e.clients.Revoke(ctx, c.ID))
			dead(g, c.ID, repositories.ErrRevoked)
			_, err := e.clients.ValidateCredentials(ctx, c.ID, secret)
			require.ErrorIs(t, err, repositories.ErrInvalidCredentials)
			for _, table := range []string{"oauth_access_tokens", "oauth_refresh_tokens", "oauth_authorization_codes"} {
				require.Zero(t, countRows(t, e.s.DB, table, "client_id = ? AND revoked = ?", c.ID, false), "%s of a revoked client", table)
			}
			_, _, err = e.access.Issue(ctx, c.ID, nil, nil, nil)
			require.ErrorIs(t, err, repositories.ErrRevoked)
			_, err = e.refresh.Issue(ctx, c.ID, &uid, nil)
			require.ErrorIs(t, err, repositories.ErrRevoked)
			a := oauthLastEvent(t, e.s.DB, hooks.EventClientRevoked)
			require.Contains(t, a.Metadata, string(c.ID))
			// Another client's grant is untouched.
			_, err = e.access.Validate(ctx, og.pair.AccessToken)
			require.NoError(t, err)
		})

		t.Run("DeleteClient", func(t *testing.T) {
			c := e.publicClient(t)
			g := grantFor(c.ID, uid)
			require.NoError(t, e.clients.Delete(ctx, c.ID))
			dead(g, c.ID, repositories.ErrNotFound)
			for _, table := range []string{"oauth_access_tokens", "oauth_refresh_tokens", "oauth_authorization_codes"} {
				require.Zero(t, countRows(t, e.s.DB, table, "client_id = ?", c.ID), "%s rows of a deleted client", table)
			}
		})

		t.Run("DeleteUser", func(t *testing.T) {
			victim := e.user(t, "victim@example.com")
			unowned := e.publicClient(t)
			c := e.publicClient(t)
			g := grantFor(c.ID, victim)
			ownedClient, _, err := e.clients.Create(ctx, repositories.ClientInput{Name: "owned", RedirectURIs: []string{oauthRedirect}, UserID: &victim})
			require.NoError(t, err)
			pat, _, err := e.pats.Create(ctx, victim, "x", nil, nil)
			require.NoError(t, err)
			require.NoError(t, e.s.DB.WithContext(ctx).Delete(&models.User{}, "id = ?", victim).Error)
			for _, at := range []string{g.pair.AccessToken} {
				_, err := e.access.Validate(ctx, at)
				require.ErrorIs(t, err, repositories.ErrNotFound)
			}
			_, err = e.refresh.Rotate(ctx, g.pair.RefreshToken, c.ID, nil)
			require.ErrorIs(t, err, repositories.ErrNotFound)
			_, err = e.codes.Exchange(ctx, g.code, c.ID, oauthRedirect, g.cv)
			require.ErrorIs(t, err, repositories.ErrNotFound)
			_, err = e.pats.Find(ctx, pat)
			require.ErrorIs(t, err, repositories.ErrNotFound)
			_, err = e.clients.Find(ctx, ownedClient.ID)
			require.ErrorIs(t, err, repositories.ErrNotFound, "a client owned by a deleted user survived")
			_, err = e.clients.Find(ctx, unowned.ID)
			require.NoError(t, err)
			// The client-credentials token of c had no user and lives on.
			_, err = e.access.Validate(ctx, g.ccJWT)
			require.NoError(t, err)
		})
	})
}

// TestOAuthSecurity20RevokeRefreshToken checks RFC 7009: revoking a refresh
// token revokes the access tokens of its grant; revoking twice is a no-op;
// revoking an unknown token is not an error.
func TestOAuthSecurity20RevokeRefreshToken(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b Backend) {
		e := newOAuthEnv(t, b)
		ctx := requestCtx()
		uid := e.user(t, "u@example.com")
		pub := e.publicClient(t)
		p := e.pair(t, pub.ID, &uid)
		p2, err := e.refresh.Rotate(ctx, p.RefreshToken, pub.ID, nil)
		require.NoError(t, err)
		other := e.pair(t, pub.ID, &uid)

		require.NoError(t, e.refresh.Revoke(ctx, p2.RefreshToken, pub.ID))
		for _, at := range []string{p.AccessToken, p2.AccessToken} {
			_, err := e.access.Validate(ctx, at)
			require.ErrorIs(t, err, repositories.ErrRevoked)
		}
		_, err = e.refresh.Rotate(ctx, p2.RefreshToken, pub.ID, nil)
		require.ErrorIs(t, err, repositories.ErrRevoked)
		require.EqualValues(t, 1, countEvents(t, e.s.DB, hooks.EventTokenRevoked))

		snap := snapshotTables(t, e.s.DB)
		require.NoError(t, e.refresh.Revoke(ctx, p2.RefreshToken, pub.ID), "revoking twice")
		require.NoError(t, e.refresh.Revoke(ctx, p.RefreshToken, pub.ID), "revoking an older token of a revoked grant")
		require.NoError(t, e.refresh.Revoke(ctx, "unknown-token", pub.ID), "revoking an unknown token")
		require.NoError(t, e.refresh.Revoke(ctx, "", pub.ID), "revoking an empty token")
		require.Equal(t, snap, snapshotTables(t, e.s.DB), "a no-op revocation wrote rows")

		_, err = e.access.Validate(ctx, other.AccessToken)
		require.NoError(t, err, "another grant was revoked")
	})
}

// TestOAuthSecurity21JWTValidation checks that an access token validates
// only with a good HS256 signature, unexpired by the store's clock, from the
// configured issuer, with a jti row that is not revoked; and that the
// revocation row outlives the token's exp.
func TestOAuthSecurity21JWTValidation(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b Backend) {
		e := newOAuthEnv(t, b)
		ctx := requestCtx()
		uid := e.user(t, "u@example.com")
		pub := e.publicClient(t)
		good, row, err := e.access.Issue(ctx, pub.ID, &uid, []string{"read"}, nil)
		require.NoError(t, err)
		// The fake clock is months behind the real one: a pass here shows
		// expiry is judged by the store's clock.
		_, err = e.access.Validate(ctx, good)
		require.NoError(t, err)

		t.Run("Forgeries", func(t *testing.T) {
			key := []byte(oauthJWTSecret)
			claims := func(f func(*repositories.Claims)) *repositories.Claims {
				c := oauthClaims(t, good)
				f(c)
				return c
			}
			same := func(*repositories.Claims) {}
			parts := strings.Split(good, ".")
			widened, err := json.Marshal(claims(func(c *repositories.Claims) { c.Scope = "read admin" }))
			require.NoError(t, err)
			sig := []byte(parts[2])
			sig[len(sig)/2] ^= 1
			for name, tok := range map[string]string{
				"alg none":          oauthSign(t, jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, "at+jwt", claims(same)),
				"HS512 same key":    oauthSign(t, jwt.SigningMethodHS512, key, "at+jwt", claims(same)),
				"HS384 same key":    oauthSign(t, jwt.SigningMethodHS384, key, "at+jwt", claims(same)),
				"other key":         oauthSign(t, jwt.SigningMethodHS256, []byte("another-secret-0123456789abcdef-xyz"), "at+jwt", claims(same)),
				"no typ":            oauthSign(t, jwt.SigningMethodHS256, key, "", claims(same)),
				"typ JWT":           oauthSign(t, jwt.SigningMethodHS256, key, "JWT", claims(same)),
				"other issuer":      oauthSign(t, jwt.SigningMethodHS256, key, "at+jwt", claims(func(c *repositories.Claims) { c.Issuer = "evil" })),
				"no exp":            oauthSign(t, jwt.SigningMethodHS256, key, "at+jwt", claims(func(c *repositories.Claims) { c.ExpiresAt = nil })),
				"future iat":        oauthSign(t, jwt.SigningMethodHS256, key, "at+jwt", claims(func(c *repositories.Claims) { c.IssuedAt = jwt.NewNumericDate(e.clock.Now().Add(time.Hour)) })),
				"other client_id":   oauthSign(t, jwt.SigningMethodHS256, key, "at+jwt", claims(func(c *repositories.Claims) { c.ClientID = string(models.NewUUID()) })),
				"payload swapped":   parts[0] + "." + base64.RawURLEncoding.EncodeToString(widened) + "." + parts[2],
				"signature flipped": parts[0] + "." + parts[1] + "." + string(sig),
				"signature dropped": parts[0] + "." + parts[1] + ".",
				"garbage":           "not.a.jwt",
				"empty":             "",
			} {
				_, err := e.access.Validate(ctx, tok)
				require.ErrorIs(t, err, repositories.ErrInvalidCredentials, "%s: Validate = %v; want ErrInvalidCredentials", name, err)
			}
			_, err = e.access.Validate(ctx, good)
			require.NoError(t, err)
		})

		t.Run("Expiry", func(t *testing.T) {
			e.clock.Advance(59*time.Minute + 59*time.Second)
			_, err := e.access.Validate(ctx, good)
			require.NoError(t, err, "valid 1 s before exp")
			e.clock.Advance(time.Second)
			_, err = e.access.Validate(ctx, good)
			require.ErrorIs(t, err, repositories.ErrExpired)
		})

		t.Run("RevocationOutlivesExp", func(t *testing.T) {
			tok, r2, err := e.access.Issue(ctx, pub.ID, &uid, nil, nil)
			require.NoError(t, err)
			require.NoError(t, e.access.Revoke(ctx, r2.ID))
			_, err = e.access.Validate(ctx, tok)
			require.ErrorIs(t, err, repositories.ErrRevoked)
			e.clock.Advance(2 * time.Hour)
			_, err = e.access.Validate(ctx, tok)
			require.ErrorIs(t, err, repositories.ErrExpired)
			var kept models.AccessToken
			require.NoError(t, e.s.DB.Where("id = ?", r2.ID).Take(&kept).Error, "the revocation row is gone after exp")
			require.True(t, kept.Revoked)
			// The first token, never revoked, is refused after exp as well.
			_, err = e.access.Validate(ctx, good)
			require.ErrorIs(t, err, repositories.ErrExpired)
			require.EqualValues(t, 1, countRows(t, e.s.DB, "oauth_access_tokens", "id = ?", row.ID))
		})

		t.Run("MissingRow", func(t *testing.T) {
			tok, r3, err := e.access.Issue(ctx, pub.ID, &uid, nil, nil)
			require.NoError(t, err)
			require.NoError(t, e.s.DB.Delete(&models.AccessToken{}, "id = ?", r3.ID).Error)
			_, err = e.access.Validate(ctx, tok)
			require.ErrorIs(t, err, repositories.ErrNotFound)
		})
	})
}

// TestOAuthSecurity22PersonalTokens checks that personal tokens have a
// recognisable prefix, are stored as digests, expire, can be revoked, and
// record last_used_at at most once a minute.
func TestOAuthSecurity22PersonalTokens(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b Backend) {
		e := newOAuthEnv(t, b)
		ctx := requestCtx()
		uid := e.user(t, "u@example.com")
		var updates int
		require.NoError(t, e.s.DB.Callback().Update().After("gorm:update").Register("oauth:count_pat_updates", func(tx *gorm.DB) {
			if tx.Statement.Table == "oauth_personal_access_tokens" && tx.Error == nil {
				updates++
			}
		}))
		exp := e.clock.Now().Add(24 * time.Hour)
		tok, row, err := e.pats.Create(ctx, uid, "deploy", []string{"repo"}, &exp)
		require.NoError(t, err)

		require.Regexp(t, `^asp_[A-Za-z0-9_-]{43}$`, tok)
		require.Equal(t, tok[:8], row.Prefix)
		var stored models.PersonalAccessToken
		require.NoError(t, e.s.DB.Where("id = ?", row.ID).Take(&stored).Error)
		require.Equal(t, hooks.Digest(tok), stored.TokenHash)
		require.Equal(t, tok[:8], stored.Prefix)
		require.True(t, stored.ExpiresAt.Equal(exp))

		// last_used_at: written on first use, not again within a minute.
		got, err := e.pats.Find(ctx, tok)
		require.NoError(t, err)
		first := e.clock.Now()
		require.True(t, got.LastUsedAt.Equal(first))
		require.Equal(t, 1, updates)
		for range 5 {
			e.clock.Advance(10 * time.Second)
			got, err = e.pats.Find(ctx, tok)
			require.NoError(t, err)
			require.True(t, got.LastUsedAt.Equal(first), "last_used_at moved within a minute")
		}
		require.Equal(t, 1, updates, "Find wrote within the throttle interval")
		e.clock.Advance(10 * time.Second) // 60 s after the first use
		got, err = e.pats.Find(ctx, tok)
		require.NoError(t, err)
		require.True(t, got.LastUsedAt.Equal(e.clock.Now()))
		require.Equal(t, 2, updates)
		require.NoError(t, e.s.DB.Where("id = ?", row.ID).Take(&stored).Error)
		require.True(t, stored.LastUsedAt.Equal(e.clock.Now()), "last_used_at not stored")

		// Expiry.
		e.clock.Advance(24*time.Hour - 61*time.Second)
		_, err = e.pats.Find(ctx, tok)
		require.NoError(t, err, "1 s before expiry")
		e.clock.Advance(time.Second)
		_, err = e.pats.Find(ctx, tok)
		require.ErrorIs(t, err, repositories.ErrExpired)

		// Revocation.
		tok2, row2, err := e.pats.Create(ctx, uid, "ci", nil, nil)
		require.NoError(t, err)
		require.NoError(t, e.pats.Revoke(ctx, uid, row2.ID))
		_, err = e.pats.Find(ctx, tok2)
		require.ErrorIs(t, err, repositories.ErrRevoked)
		a := oauthLastEvent(t, e.s.DB, hooks.EventPersonalTokenRevoked)
		require.Equal(t, &uid, a.UserID)
		require.Equal(t, requestIP, a.IPAddress)
	})
}
