package integration

// Scans that cover every table: SECURITY.md 1 (no plaintext secret at
// rest), 2 (token entropy), 3 (exact lookups) and 33 (no secret in any
// log), for the account tables and the OAuth tables.

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"log"
	"os"
	"regexp"
	"strings"
	"sync"
	"testing"
	"testing/iotest"
	"time"

	"github.com/forgeauth/authstore"
	"github.com/forgeauth/authstore/hooks"
	"github.com/forgeauth/authstore/models"
	"github.com/forgeauth/authstore/protocol"
	"github.com/forgeauth/authstore/repositories"
	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/require"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"
)

// syncBuffer is a bytes.Buffer safe for concurrent writers.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (w *syncBuffer) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}

func (w *syncBuffer) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.String()
}

// infoLogger returns a GORM logger that logs every statement, error and
// slow query to buf; with parameterized false it prints bound values.
func infoLogger(buf *syncBuffer, parameterized bool) logger.Interface {
	return logger.New(log.New(buf, "", 0), logger.Config{LogLevel: logger.Info, ParameterizedQueries: parameterized, SlowThreshold: time.Nanosecond})
}

// newFixtureCapturingLog opens a fixture whose store's own logger
// (authstore.Logger, which binds os.Stderr when the store is made) writes
// to a file, and returns a function that reads what it logged.
func newFixtureCapturingLog(t *testing.T, b Backend, opts ...fixtureOption) (*fixture, func() string) {
	t.Helper()
	file, err := os.CreateTemp(t.TempDir(), "stderr")
	require.NoError(t, err)
	t.Cleanup(func() { file.Close() })
	f := func() *fixture {
		old := os.Stderr
		os.Stderr = file
		defer func() { os.Stderr = old }()
		return newFixture(t, b, opts...)
	}()
	return f, func() string {
		out, err := os.ReadFile(file.Name())
		require.NoError(t, err)
		return string(out)
	}
}

// logFlows drives s (a store over f's database): it registers a user, fails and succeeds a login, uses a
// session, verifies the email, resets and changes the password and logs
// out, with an error on each path. It returns every secret involved
// (passwords, tokens, their digests, password hashes) and the errors.
func logFlows(t *testing.T, f *fixture, s *authstore.Store, email string) (map[string]string, []error) {
	t.Helper()
	ctx := requestCtx()
	const p1, p2, p3, wrong = "first log passphrase", "second log passphrase", "third log passphrase", "wrong log passphrase"
	secrets := map[string]string{"password 1": p1, "password 2": p2, "password 3": p3, "wrong password": wrong}
	addToken := func(name, tok string) {
		require.NotEmpty(t, tok)
		secrets[name] = tok
		secrets[name+" digest"] = hooks.Digest(tok)
	}
	addHash := func(name string, id models.UUID) { secrets[name] = f.storedHash(t, id) }
	var errs []error
	fail := func(err error) {
		t.Helper()
		require.Error(t, err)
		errs = append(errs, err)
	}

	u, err := s.Users.Create(ctx, repositories.UserInput{Name: "Ada", Email: email, Password: p1, PasswordConfirmation: p1})
	require.NoError(t, err)
	addHash("hash 1", u.ID)
	_, err = s.Users.Create(ctx, repositories.UserInput{Name: "Ada", Email: strings.ToUpper(email), Password: p1, PasswordConfirmation: p1})
	fail(err)
	_, err = s.Users.Authenticate(ctx, u.Email, wrong)
	fail(err)
	_, err = s.Users.Authenticate(ctx, "nobody@example.com", wrong)
	fail(err)
	_, err = s.Users.Authenticate(ctx, u.Email, p1)
	require.NoError(t, err)
	_, session, err := s.Sessions.Create(ctx, u.ID, repositories.SessionInput{Remember: true})
	require.NoError(t, err)
	addToken("session", session)
	f.clock.Advance(2 * s.Config().SessionTouchInterval)
	_, err = s.Sessions.Find(ctx, session) // touches
	require.NoError(t, err)
	_, err = s.Sessions.Find(ctx, session+"x")
	fail(err)
	_, _, err = s.Sessions.Create(ctx, models.NewUUID(), repositories.SessionInput{}) // foreign key refused
	fail(err)
	_, verification, err := s.EmailVerifications.Issue(ctx, u.ID)
	require.NoError(t, err)
	addToken("verification", verification)
	_, err = s.EmailVerifications.Consume(ctx, verification)
	require.NoError(t, err)
	_, err = s.EmailVerifications.Consume(ctx, verification)
	fail(err)
	var reset string
	require.NoError(t, s.PasswordResets.Request(ctx, u.Email, func(_ context.Context, _, tok string) error { reset = tok; return nil }))
	addToken("reset", reset)
	_, err = s.PasswordResets.Reset(ctx, reset, p2, p2)
	require.NoError(t, err)
	addHash("hash 2", u.ID)
	_, err = s.PasswordResets.Reset(ctx, reset, p2, p2)
	fail(err)
	_, session2, err := s.Sessions.Create(ctx, u.ID, repositories.SessionInput{})
	require.NoError(t, err)
	addToken("second session", session2)
	fail(s.Users.ChangePassword(ctx, u.ID, wrong, p3, p3, ""))
	require.NoError(t, s.Users.ChangePassword(ctx, u.ID, p2, p3, p3, ""))
	addHash("hash 3", u.ID)
	_, session3, err := s.Sessions.Create(ctx, u.ID, repositories.SessionInput{})
	require.NoError(t, err)
	addToken("third session", session3)
	require.NoError(t, s.Sessions.Delete(ctx, session3))
	fail(s.Sessions.Delete(ctx, session3))
	var expired string
	require.NoError(t, s.PasswordResets.Request(ctx, u.Email, func(_ context.Context, _, tok string) error { expired = tok; return nil }))
	addToken("expired reset", expired)
	f.clock.Advance(f.cfg.PasswordResetLifetime)
	_, err = s.PasswordResets.Consume(ctx, expired)
	fail(err)
	require.Len(t, errs, 10)
	return secrets, errs
}

// digestRE matches a hex SHA-256 digest (a stored token).
var digestRE = regexp.MustCompile(`[0-9a-f]{64}`)

// tokenRE matches a token of 32 random bytes, base64url without padding.
var tokenRE = regexp.MustCompile(`^[A-Za-z0-9_-]{43}$`)

// hasUniqueIndex reports whether table has a unique index on exactly
// column.
func hasUniqueIndex(t *testing.T, db *gorm.DB, table, column string) bool {
	t.Helper()
	var n int64
	switch db.Dialector.Name() {
	case "postgres":
		require.NoError(t, db.Raw(`SELECT count(*) FROM pg_indexes WHERE schemaname = CURRENT_SCHEMA() AND tablename = ?
			AND indexdef LIKE 'CREATE UNIQUE INDEX %' AND indexdef LIKE ?`, table, "%("+column+")").Scan(&n).Error)
		return n > 0
	case "mysql":
		require.NoError(t, db.Raw(`SELECT count(*) FROM information_schema.statistics s
			WHERE s.table_schema = DATABASE() AND s.table_name = ? AND s.non_unique = 0 AND s.column_name = ?
			AND (SELECT count(*) FROM information_schema.statistics o
				WHERE o.table_schema = s.table_schema AND o.table_name = s.table_name AND o.index_name = s.index_name) = 1`, table, column).Scan(&n).Error)
		return n > 0
	}
	require.NoError(t, db.Raw(`SELECT count(*) FROM pragma_index_list(?) AS il WHERE il."unique" = 1
		AND (SELECT count(*) FROM pragma_index_info(il.name)) = 1
		AND (SELECT name FROM pragma_index_info(il.name)) = ?`, table, column).Scan(&n).Error)
	return n > 0
}

// TestSecretsNeverLogged proves for the authentication flows that with
// GORM's logger at Info, and with the library's own logger, no password,
// token, token digest or password hash appears in the log, nor in any error
// returned.
//
// SECURITY 33: no secret in any log: with GORM's logger at Info and the library's own logging captured, no plaintext or digest of a secret appears.
func TestSecretsNeverLogged(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b Backend) {
		f, libraryLog := newFixtureCapturingLog(t, b)
		var buf syncBuffer
		// A store over the same database whose GORM logger is at Info.
		info := f.sibling(t, authstore.WithLogger(infoLogger(&buf, true)))
		infoSecrets, infoErrs := logFlows(t, f, info, "info-log@example.com")
		libSecrets, libErrs := logFlows(t, f, f.s, "library-log@example.com")

		t.Run("LogsCaptured", func(t *testing.T) {
			for _, want := range []string{"INSERT INTO", "UPDATE", "DELETE FROM", "user_activity_log", "token_hash", "duplicated key"} {
				require.Contains(t, buf.String(), want, "the Info log has no %q: the logger is not wired", want)
			}
			// The library's logger keeps expected outcomes (the duplicate
			// email of the flows) quiet; an unexpected error shows it is
			// captured.
			require.Error(t, f.s.DB().Exec("SELECT * FROM no_such_table WHERE probe = ?", "probe").Error)
			require.Contains(t, libraryLog(), "no_such_table", "the library log has no unexpected error: it is not captured")
			require.NotContains(t, libraryLog(), "duplicated key", "the library log reports an expected outcome as an error")
		})

		t.Run("OK", func(t *testing.T) {
			logs := map[string]string{"GORM Info log": buf.String(), "library log": libraryLog()}
			for logName, out := range logs {
				// Also secrets this test never saw: those of failed statements.
				require.NotRegexp(t, digestRE, out, "the %s holds a SHA-256 digest", logName)
				require.NotContains(t, out, "$argon2id$", "the %s holds a password hash", logName)
			}
			for _, secrets := range []map[string]string{infoSecrets, libSecrets} {
				for name, secret := range secrets {
					for logName, out := range logs {
						require.NotContains(t, out, secret, "the %s holds the %s", logName, name)
					}
					for _, err := range append(infoErrs, libErrs...) {
						require.NotContains(t, err.Error(), secret, "error %q holds the %s", err, name)
					}
				}
			}
		})

		// With bound values printed, the same scan finds the digest: the
		// check above can fail.
		t.Run("BoundValuesWouldLeak", func(t *testing.T) {
			var leak syncBuffer
			_, err := f.sibling(t, authstore.WithLogger(infoLogger(&leak, false))).Sessions.Find(requestCtx(), infoSecrets["session"])
			require.ErrorIs(t, err, repositories.ErrNotFound, "the password change ended the session")
			require.Contains(t, leak.String(), infoSecrets["session digest"])
			require.Regexp(t, digestRE, leak.String())
		})
	})
}

// TestSecretsNoPlaintextAtRestAccountTables proves for the authentication
// tables that after a password, a session, a completed and an outstanding
// reset and an email verification are issued, no column of any table holds
// a raw secret.
//
// SECURITY 1: no plaintext secret at rest: every column of every table is scanned for each raw account secret.
func TestSecretsNoPlaintextAtRestAccountTables(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b Backend) {
		f := newFixture(t, b)
		ctx := requestCtx()
		const first, second = "first secret passphrase", "second secret passphrase"
		u := f.register(t, "rest@example.com", first)
		_, session, err := f.s.Sessions.Create(ctx, u.ID, repositories.SessionInput{Remember: true})
		require.NoError(t, err)
		usedReset := f.requestReset(t, u.Email)
		_, err = f.s.PasswordResets.Reset(ctx, usedReset, second, second)
		require.NoError(t, err)
		_, session2, err := f.s.Sessions.Create(ctx, u.ID, repositories.SessionInput{})
		require.NoError(t, err)
		openReset := f.requestReset(t, u.Email)
		_, verification, err := f.s.EmailVerifications.Issue(ctx, u.ID)
		require.NoError(t, err)

		t.Run("OK", func(t *testing.T) {
			secrets := map[string]string{
				"first password": first, "second password": second, "session token": session,
				"second session token": session2, "used reset token": usedReset,
				"outstanding reset token": openReset, "verification token": verification,
			}
			found, columns := scanForSecrets(t, f.s.DB(), secrets)
			require.Empty(t, found, "plaintext secrets at rest")
			require.Greater(t, columns, 60, "scanned only %d columns", columns)
		})

		// The scan finds what is there: the digests of the live tokens and
		// the address.
		t.Run("ScanFindsStoredValues", func(t *testing.T) {
			found, _ := scanForSecrets(t, f.s.DB(), map[string]string{
				"session digest": hooks.Digest(session2), "reset digest": hooks.Digest(openReset),
				"verification digest": hooks.Digest(verification), "email": "rest@example.com",
			})
			require.Contains(t, found, "session digest in sessions.token_hash")
			require.Contains(t, found, "reset digest in password_resets.token_hash")
			require.Contains(t, found, "verification digest in email_verifications.token_hash")
			require.Contains(t, found, "email in users.email")
		})
	})
}

// TestSecretsTokenEntropyAccountTokens checks, as far as the repositories
// go, that session, reset and verification tokens are 43 base64url
// characters carrying 32 random bytes (hooks.NewToken), distinct, and
// stored as their digest. The failing random source is covered by package
// hooks' tests.
//
// SECURITY 2: session, reset and verification tokens carry 256 bits from crypto/rand.
func TestSecretsTokenEntropyAccountTokens(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b Backend) {
		f := newFixture(t, b)
		ctx := requestCtx()
		u := f.user(t, "entropy@example.com")
		const n = 40
		seen := map[string]bool{}
		check := func(kind, tok string) {
			require.Regexp(t, tokenRE, tok, "%s token %q: want 43 base64url characters", kind, tok)
			raw, err := base64.RawURLEncoding.DecodeString(tok)
			require.NoError(t, err)
			require.Len(t, raw, hooks.TokenBytes, "%s token carries %d bytes; want %d", kind, len(raw), hooks.TokenBytes)
			require.False(t, seen[tok], "%s token %q issued twice", kind, tok)
			seen[tok] = true
		}

		t.Run("OK", func(t *testing.T) {
			for i := 0; i < n; i++ {
				sess, tok, err := f.s.Sessions.Create(ctx, u.ID, repositories.SessionInput{})
				require.NoError(t, err)
				check("session", tok)
				require.Equal(t, hooks.Digest(tok), sess.TokenHash)
				check("reset", f.requestReset(t, u.Email))
				_, vtok, err := f.s.EmailVerifications.Issue(ctx, u.ID)
				require.NoError(t, err)
				check("verification", vtok)
			}
			require.Len(t, seen, 3*n)
			// Each verification voids the user's older ones, as each reset
			// request does: one of each is left beside the n sessions.
			var digests []string
			require.NoError(t, f.s.DB().Raw("SELECT token_hash FROM sessions UNION ALL SELECT token_hash FROM email_verifications").Scan(&digests).Error)
			require.Len(t, digests, n+1)
			for _, d := range digests {
				require.Regexp(t, `^[0-9a-f]{64}$`, d, "stored token_hash %q is not a SHA-256 hex digest", d)
			}
		})
	})
}

// TestSecretsAccountTokenLookupsAreExact proves that a session, reset or
// verification token that differs by one character, or in case, is not
// found, and the lookups leave the real token usable.
//
// SECURITY 3: a session, reset or verification token differing by one character, or in case, is not found.
func TestSecretsAccountTokenLookupsAreExact(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b Backend) {
		f := newFixture(t, b)
		ctx := requestCtx()
		u := f.user(t, "near-miss@example.com")
		_, session, err := f.s.Sessions.Create(ctx, u.ID, repositories.SessionInput{})
		require.NoError(t, err)
		reset := f.requestReset(t, u.Email)
		_, verification, err := f.s.EmailVerifications.Issue(ctx, u.ID)
		require.NoError(t, err)

		t.Run("ErrNotFound", func(t *testing.T) {
			for name, m := range tokenMutations(session) {
				_, err := f.s.Sessions.Find(ctx, m)
				require.ErrorIs(t, err, repositories.ErrNotFound, "Sessions.Find(session token, %s) = %v; want ErrNotFound", name, err)
				err = f.s.Sessions.Delete(ctx, m)
				require.ErrorIs(t, err, repositories.ErrNotFound, "Sessions.Delete(session token, %s) = %v; want ErrNotFound", name, err)
			}
			for name, m := range tokenMutations(reset) {
				_, err := f.s.PasswordResets.Consume(ctx, m)
				require.ErrorIs(t, err, repositories.ErrNotFound, "PasswordResets.Consume(reset token, %s) = %v; want ErrNotFound", name, err)
			}
			m := tokenMutations(reset)["upper case"]
			_, err := f.s.PasswordResets.Reset(ctx, m, "another passphrase", "another passphrase")
			require.ErrorIs(t, err, repositories.ErrNotFound, "PasswordResets.Reset(upper-cased token) = %v; want ErrNotFound", err)
			for name, m := range tokenMutations(verification) {
				_, err := f.s.EmailVerifications.Consume(ctx, m)
				require.ErrorIs(t, err, repositories.ErrNotFound, "EmailVerifications.Consume(verification token, %s) = %v; want ErrNotFound", name, err)
			}
		})

		t.Run("OK", func(t *testing.T) {
			_, err := f.s.Sessions.Find(ctx, session)
			require.NoError(t, err, "Sessions.Find(real token) after near misses")
			_, err = f.s.PasswordResets.Consume(ctx, reset)
			require.NoError(t, err, "PasswordResets.Consume(real token) after near misses")
			_, err = f.s.EmailVerifications.Consume(ctx, verification)
			require.NoError(t, err, "EmailVerifications.Consume(real token) after near misses")
		})
	})
}

// TestSecretsNoPlaintextAtRestOAuthTables issues one of every OAuth secret
// (client secret, rotated secret, authorization code, PKCE verifier, refresh
// token, rotated refresh token, access JWT, personal token) and scans every
// column of every table for each raw value: zero matches. The digests are
// found, which proves the scan finds what is there.
//
// SECURITY 1: no plaintext secret at rest: every column of every table is scanned for each raw OAuth secret.
func TestSecretsNoPlaintextAtRestOAuthTables(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b Backend) {
		f := newFixture(t, b)
		ctx := requestCtx()
		uid := f.user(t, "scan@example.com").ID
		c, secret := f.confidentialClient(t, &uid)
		rotated, err := f.s.Clients.RotateSecret(ctx, c.ID)
		require.NoError(t, err)
		pub := f.publicClient(t)
		code, verifier := f.code(t, pub.ID, uid)
		pair, err := f.s.AuthCodes.Exchange(ctx, authed(f.s, pub.ID), code, redirectURI, verifier)
		require.NoError(t, err)
		next, err := f.s.RefreshTokens.Rotate(ctx, authed(f.s, pub.ID), pair.RefreshToken, nil)
		require.NoError(t, err)
		_, err = f.s.RefreshTokens.Rotate(ctx, authed(f.s, pub.ID), pair.RefreshToken, nil) // reuse: activity metadata
		require.ErrorIs(t, err, repositories.ErrReused)
		_, err = f.s.AuthCodes.Exchange(ctx, authed(f.s, pub.ID), code, redirectURI, verifier) // replay
		require.ErrorIs(t, err, repositories.ErrCodeReplayed)
		unused, _ := f.code(t, pub.ID, uid)
		_, ccJWT, err := f.s.AccessTokens.Issue(ctx, c.ID, nil, nil, nil)
		require.NoError(t, err)
		_, pat, err := f.s.PersonalTokens.Create(ctx, uid, "scan", nil, nil)
		require.NoError(t, err)
		_, err = f.s.PersonalTokens.Find(ctx, pat)
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
			"jwt secret":            jwtSecret,
			"personal token":        pat,
			"personal token body":   strings.TrimPrefix(pat, repositories.PersonalTokenPrefix),
		}
		for name, v := range raw {
			found, _ := scanForSecrets(t, f.s.DB(), map[string]string{name: v})
			require.Empty(t, found, "the %s is stored in plaintext", name)
		}
		// Positive control: the same scan finds the digests, each in exactly
		// one column.
		for _, tc := range []struct{ needle, want string }{
			{hooks.Digest(next.RefreshToken), "oauth_refresh_tokens.token_hash"},
			{hooks.Digest(unused), "oauth_authorization_codes.code_hash"},
			{hooks.Digest(pat), "oauth_personal_access_tokens.token_hash"},
		} {
			found, _ := scanForSecrets(t, f.s.DB(), map[string]string{"digest": tc.needle})
			require.Equal(t, []string{"digest in " + tc.want}, found)
		}
	})
}

// TestSecretsTokenEntropyOAuthTokens checks that every generated token carries
// 32 bytes (256 bits), that tokens differ, and that a failing random source
// is an error that writes nothing, never a fallback.
//
// SECURITY 2: OAuth tokens carry 256 bits from crypto/rand; a failing random source is an error, never a fallback.
func TestSecretsTokenEntropyOAuthTokens(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b Backend) {
		f := newFixture(t, b)
		ctx := requestCtx()
		uid := f.user(t, "u@example.com").ID
		c, secret := f.confidentialClient(t, &uid)
		pub := f.publicClient(t)
		code, verifier := f.code(t, pub.ID, uid)
		pair := f.pair(t, pub.ID, &uid)
		_, pat, err := f.s.PersonalTokens.Create(ctx, uid, "x", nil, nil)
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
			p := f.pair(t, pub.ID, &uid)
			require.False(t, seen[p.RefreshToken], "duplicate refresh token")
			seen[p.RefreshToken] = true
		}

		var rotated *repositories.TokenPair
		t.Run("FailingRandomSource", func(t *testing.T) {
			saved := rand.Reader
			rand.Reader = iotest.ErrReader(errors.New("entropy exhausted"))
			defer func() { rand.Reader = saved }()
			before := snapshotTables(t, f.s.DB())
			_, _, err := f.s.Clients.Create(ctx, repositories.ClientInput{Name: "x", RedirectURIs: []string{redirectURI}, Confidential: true})
			require.ErrorIs(t, err, hooks.ErrRandom, "Clients.Create")
			_, err = f.s.Clients.RotateSecret(ctx, c.ID)
			require.ErrorIs(t, err, hooks.ErrRandom, "RotateSecret")
			_, err = f.s.RefreshTokens.Issue(ctx, pub.ID, &uid, nil)
			require.ErrorIs(t, err, hooks.ErrRandom, "RefreshTokens.Issue")
			_, _, err = f.s.AuthCodes.Create(ctx, repositories.AuthCodeInput{ClientID: pub.ID, UserID: uid, RedirectURI: redirectURI,
				CodeChallenge: protocol.S256Challenge(verifier), CodeChallengeMethod: "S256"})
			require.ErrorIs(t, err, hooks.ErrRandom, "AuthCodes.Create")
			_, err = f.s.AuthCodes.Exchange(ctx, authed(f.s, pub.ID), code, redirectURI, verifier)
			require.ErrorIs(t, err, hooks.ErrRandom, "Exchange")
			_, _, err = f.s.PersonalTokens.Create(ctx, uid, "x", nil, nil)
			require.ErrorIs(t, err, hooks.ErrRandom, "PersonalTokens.Create")
			require.Equal(t, before, snapshotTables(t, f.s.DB()), "a failed random source wrote rows")
			// Rotation reads no randomness: the child is derived from the
			// presented token (the reuse interval needs that).
			rotated, err = f.s.RefreshTokens.Rotate(ctx, authed(f.s, pub.ID), pair.RefreshToken, nil)
			require.NoError(t, err, "Rotate")
		})
		// With the source back, the untouched code and the rotated token work.
		_, err = f.s.AuthCodes.Exchange(ctx, authed(f.s, pub.ID), code, redirectURI, verifier)
		require.NoError(t, err)
		_, err = f.s.RefreshTokens.Rotate(ctx, authed(f.s, pub.ID), rotated.RefreshToken, nil)
		require.NoError(t, err)
	})
}

// TestSecretsOAuthTokenLookupsAreExact checks that digests and jti are unique
// and indexed, and that a token differing by one character or in case is
// not found.
//
// SECURITY 3: token digests and jti are unique and indexed; a token differing by one character, or in case, is not found.
func TestSecretsOAuthTokenLookupsAreExact(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b Backend) {
		f := newFixture(t, b)
		ctx := requestCtx()
		uid := f.user(t, "u@example.com").ID
		pub := f.publicClient(t)

		t.Run("UniqueIndexes", func(t *testing.T) {
			for _, tc := range [][2]string{
				{"oauth_refresh_tokens", "token_hash"}, {"oauth_authorization_codes", "code_hash"},
				{"oauth_personal_access_tokens", "token_hash"}, {"oauth_access_tokens", "id"},
			} {
				require.True(t, hasUniqueIndex(t, f.s.DB(), tc[0], tc[1]), "%s.%s has no unique index", tc[0], tc[1])
			}
		})

		t.Run("DuplicatesRefused", func(t *testing.T) {
			p := f.pair(t, pub.ID, &uid)
			code, _ := f.code(t, pub.ID, uid)
			_, pat, err := f.s.PersonalTokens.Create(ctx, uid, "x", nil, nil)
			require.NoError(t, err)
			now := f.clock.Now()
			db := f.s.DB().WithContext(ctx)
			for name, row := range map[string]any{
				"refresh digest": &models.RefreshToken{TokenHash: hooks.Digest(p.RefreshToken), ClientID: pub.ID, Scopes: models.Strings{}, ExpiresAt: now},
				"code digest":    &models.AuthorizationCode{CodeHash: hooks.Digest(code), ClientID: pub.ID, UserID: uid, RedirectURI: redirectURI, ExpiresAt: now},
				"pat digest":     &models.PersonalAccessToken{TokenHash: hooks.Digest(pat), UserID: uid, Name: "dup", Prefix: "asp_"},
				"jti":            &models.AccessToken{ID: p.AccessTokenID, ClientID: pub.ID, ExpiresAt: now},
			} {
				err := repositories.Translate("insert "+name, db.Create(row).Error)
				require.ErrorIs(t, err, repositories.ErrDuplicate, "a second row with the same %s: %v", name, err)
			}
		})

		t.Run("RefreshToken", func(t *testing.T) {
			p := f.pair(t, pub.ID, &uid)
			for name, m := range tokenMutations(p.RefreshToken) {
				_, err := f.s.RefreshTokens.Rotate(ctx, authed(f.s, pub.ID), m, nil)
				require.ErrorIs(t, err, repositories.ErrNotFound, "refresh token, %s", name)
				require.NoError(t, f.s.RefreshTokens.Revoke(ctx, authed(f.s, pub.ID), m), "revoking a near miss is a no-op")
			}
			_, err := f.s.RefreshTokens.Rotate(ctx, authed(f.s, pub.ID), p.RefreshToken, nil)
			require.NoError(t, err, "the near misses touched the real token")
		})

		t.Run("AuthorizationCode", func(t *testing.T) {
			code, verifier := f.code(t, pub.ID, uid)
			for name, m := range tokenMutations(code) {
				_, err := f.s.AuthCodes.Exchange(ctx, authed(f.s, pub.ID), m, redirectURI, verifier)
				require.ErrorIs(t, err, repositories.ErrNotFound, "code, %s", name)
			}
			_, err := f.s.AuthCodes.Exchange(ctx, authed(f.s, pub.ID), code, redirectURI, verifier)
			require.NoError(t, err)
		})

		t.Run("PersonalToken", func(t *testing.T) {
			_, pat, err := f.s.PersonalTokens.Create(ctx, uid, "x", nil, nil)
			require.NoError(t, err)
			for name, m := range tokenMutations(pat) {
				_, err := f.s.PersonalTokens.Find(ctx, m)
				require.ErrorIs(t, err, repositories.ErrNotFound, "personal token, %s", name)
			}
			_, err = f.s.PersonalTokens.Find(ctx, pat)
			require.NoError(t, err)
		})

		t.Run("ClientSecret", func(t *testing.T) {
			c, secret := f.confidentialClient(t, nil)
			for name, m := range tokenMutations(secret) {
				_, err := f.s.Clients.ValidateCredentials(ctx, c.ID, m)
				require.ErrorIs(t, err, repositories.ErrInvalidCredentials, "client secret, %s", name)
			}
			_, err := f.s.Clients.ValidateCredentials(ctx, c.ID, secret)
			require.NoError(t, err)
		})

		t.Run("JTI", func(t *testing.T) {
			row, jwtStr, err := f.s.AccessTokens.Issue(ctx, pub.ID, &uid, nil, nil)
			require.NoError(t, err)
			key := []byte(jwtSecret)
			id := string(row.ID)
			last := "0"
			if strings.HasSuffix(id, "0") {
				last = "1"
			}
			for name, jti := range map[string]string{
				"one character changed": id[:len(id)-1] + last, // still a canonical UUID
				"upper case":            strings.ToUpper(string(row.ID)),
			} {
				claims := unverifiedClaims(t, jwtStr)
				claims.ID = jti
				forged := signJWT(t, jwt.SigningMethodHS256, key, "at+jwt", claims)
				_, err := f.s.AccessTokens.Validate(ctx, forged)
				want := repositories.ErrNotFound // looked up, no such row
				if name == "upper case" {
					want = repositories.ErrInvalidCredentials // not a canonical jti
				}
				require.ErrorIs(t, err, want, "jti %s", name)
			}
			_, err = f.s.AccessTokens.Validate(ctx, jwtStr)
			require.NoError(t, err)
		})
	})
}
