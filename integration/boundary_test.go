package integration

// Properties where a host application and a real token endpoint meet
// authstore (SECURITY 35-41): the host's own handle and transactions,
// the row's authority over an access token, client authentication and
// grant types in every token call, introspection and revocation by token
// string, the reuse interval across processes, and what a password change
// ends.

import (
	"context"
	"database/sql"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/forgeauth/authstore"
	"github.com/forgeauth/authstore/config"
	"github.com/forgeauth/authstore/hooks"
	"github.com/forgeauth/authstore/models"
	"github.com/forgeauth/authstore/protocol"
	"github.com/forgeauth/authstore/repositories"
	"github.com/stretchr/testify/require"
	"gorm.io/driver/mysql"
	"gorm.io/driver/postgres"
	"gorm.io/driver/sqlite"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"
)

const envTZChild = "AUTHSTORE_TEST_TZ_CHILD"

// SECURITY 35: a repository inside a transaction of the host's own
// *gorm.DB (default gorm.Config: local-time NowFunc, no error translation)
// writes and compares UTC microsecond times whatever the process's zone.
// The child runs in TZ=Asia/Tokyo and TZ=America/New_York; a one-hour
// reset token is accepted at 59 minutes and refused at 61.
func TestHostTransactionTimeZones(t *testing.T) {
	if os.Getenv(envTZChild) != "" {
		t.Skip("run by the parent in each zone")
	}
	for _, zone := range []string{"Asia/Tokyo", "America/New_York"} {
		t.Run(zone, func(t *testing.T) {
			cmd := exec.Command(os.Args[0], "-test.run=^TestHostTransactionResetExpiryInZone$", "-test.count=1", "-test.v")
			cmd.Env = append(os.Environ(), "TZ="+zone, envTZChild+"=1")
			out, err := cmd.CombinedOutput()
			require.NoError(t, err, "child in %s:\n%s", zone, out)
			require.Contains(t, string(out), "--- PASS: TestHostTransactionResetExpiryInZone", "child in %s ran no test:\n%s", zone, out)
		})
	}
}

// TestHostTransactionResetExpiryInZone is TestHostTransactionTimeZones'
// child: it runs only with AUTHSTORE_TEST_TZ_CHILD set.
func TestHostTransactionResetExpiryInZone(t *testing.T) {
	if os.Getenv(envTZChild) == "" {
		t.Skip("run by TestHostTransactionTimeZones with TZ set")
	}
	if _, off := time.Now().Zone(); off == 0 {
		t.Fatalf("TZ=%q gives a zero offset; the test needs a zone other than UTC", os.Getenv("TZ"))
	}
	ctx := requestCtx()
	host, err := gorm.Open(sqlite.Open(authstore.SQLiteDSN(filepath.Join(t.TempDir(), "host.db"))), &gorm.Config{Logger: logger.Discard})
	require.NoError(t, err)
	clock := newClock()
	cfg := config.Default()
	s, err := authstore.New(host, authstore.WithConfig(cfg), authstore.WithClock(clock.Now), authstore.WithMigrate())
	require.NoError(t, err)
	u := &models.User{Name: "Host", Email: "zone@example.com", PasswordHash: userHash()}
	require.NoError(t, host.Create(u).Error, "the host writes its own row")

	request := func() string {
		var token string
		err := host.Transaction(func(tx *gorm.DB) error {
			return s.PasswordResets.WithTx(tx).Request(ctx, u.Email, func(_ context.Context, _, tok string) error { token = tok; return nil })
		})
		require.NoError(t, err)
		require.NotEmpty(t, token)
		return token
	}
	consume := func(token string) error {
		return host.Transaction(func(tx *gorm.DB) error {
			_, err := s.PasswordResets.WithTx(tx).Consume(ctx, token)
			return err
		})
	}
	early := request()
	var pr models.PasswordReset
	require.NoError(t, host.Where("token_hash = ?", hooks.Digest(early)).Take(&pr).Error)
	require.Equal(t, utcFmt(clock.Now().Add(time.Hour)), utcText(t, host, "password_resets", "expires_at", pr.ID), "expires_at as stored")
	clock.Advance(59 * time.Minute)
	require.NoError(t, consume(early), "a one-hour token at 59 minutes")

	late := request()
	clock.Advance(61 * time.Minute)
	require.ErrorIs(t, consume(late), repositories.ErrExpired, "a one-hour token at 61 minutes")
}

// SECURITY 35: errors inside a host's transaction are translated as on
// store.DB() (ErrDuplicate), on SQLite and PostgreSQL, and the host's own
// handle is left as it was.
func TestHostTransactionTranslatesErrors(t *testing.T) {
	forEachFileBackend(t, func(t *testing.T, b Backend) {
		cfg := b.Config(t)
		var dial gorm.Dialector
		switch b.Name {
		case "postgres":
			dial = postgres.Open(cfg.DatabaseURL)
		case "mysql":
			d, err := cfg.Database()
			require.NoError(t, err)
			c, err := authstore.MySQLConnector(d.DSN)
			require.NoError(t, err)
			dial = mysql.New(mysql.Config{Conn: sql.OpenDB(c)})
		default:
			d, err := cfg.Database()
			require.NoError(t, err)
			dial = sqlite.Open(authstore.SQLiteDSN(d.DSN))
		}
		host, err := gorm.Open(dial, &gorm.Config{Logger: logger.Discard})
		require.NoError(t, err)
		t.Cleanup(func() {
			if db, err := host.DB(); err == nil {
				db.Close()
			}
		})
		s, err := authstore.New(host, authstore.WithMigrate())
		require.NoError(t, err)
		ctx := requestCtx()
		in := repositories.UserInput{Name: "Ada", Email: "dup@example.com", Password: userPassword, PasswordConfirmation: userPassword}
		_, err = s.Users.Create(ctx, in)
		require.NoError(t, err)
		err = host.Transaction(func(tx *gorm.DB) error {
			_, err := s.Users.WithTx(tx).Create(ctx, in)
			return err
		})
		require.ErrorIs(t, err, repositories.ErrDuplicate, "a duplicate inside the host's transaction = %v; want ErrDuplicate", err)
		require.False(t, host.Config.TranslateError, "New changed the host's handle")
	})
}

// SECURITY 36: the jti row is the authority. A JWT re-signed with the
// store's key, with one claim altered, is refused.
func TestAccessTokensRowIsTheAuthority(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b Backend) {
		f := newFixture(t, b)
		ctx := requestCtx()
		uid := f.user(t, "authority@example.com").ID
		pub := f.publicClient(t)
		other := f.publicClient(t)
		row, good, err := f.s.AccessTokens.Issue(ctx, pub.ID, &uid, []string{"read"}, nil)
		require.NoError(t, err)
		_, err = f.s.AccessTokens.Validate(ctx, good)
		require.NoError(t, err)
		base := protocol.NewClaims(f.cfg.JWTIssuer, uid.String(), pub.ID.String(), row.ID.String(), []string{"read"}, row.CreatedAt, row.ExpiresAt)
		resigned, err := protocol.SignAccessToken([]byte(jwtSecret), base)
		require.NoError(t, err)
		require.Equal(t, good, resigned, "the control: the same claims sign to the same token")
		for name, alter := range map[string]func(c *protocol.Claims){
			"sub":       func(c *protocol.Claims) { c.Subject = f.user(t, "intruder@example.com").ID.String() },
			"client_id": func(c *protocol.Claims) { c.ClientID = other.ID.String() },
			"aud":       func(c *protocol.Claims) { c.Audience = []string{other.ID.String()} },
			"scope":     func(c *protocol.Claims) { c.Scope = "read admin" },
			"exp":       func(c *protocol.Claims) { c.ExpiresAt.Time = c.ExpiresAt.Add(24 * time.Hour) },
		} {
			c := protocol.NewClaims(f.cfg.JWTIssuer, uid.String(), pub.ID.String(), row.ID.String(), []string{"read"}, row.CreatedAt, row.ExpiresAt)
			alter(&c)
			forged, err := protocol.SignAccessToken([]byte(jwtSecret), c)
			require.NoError(t, err)
			_, err = f.s.AccessTokens.Validate(ctx, forged)
			require.ErrorIs(t, err, repositories.ErrInvalidCredentials, "a re-signed token with another %s validated", name)
			require.Contains(t, err.Error(), name)
		}
	})
}

// SECURITY 37: client authentication is part of every token call, and
// unknown client, wrong secret and wrong client type cost the same work.
func TestClientsAuthenticateForTokenCalls(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b Backend) {
		f := newFixture(t, b)
		ctx := requestCtx()
		uid := f.user(t, "auth@example.com").ID
		conf, secret := f.confidentialClient(t, nil)
		pub := f.publicClient(t)

		t.Run("OK", func(t *testing.T) {
			a, err := f.s.Clients.Authenticate(ctx, conf.ID, secret)
			require.NoError(t, err)
			require.Equal(t, conf.ID, a.ID())
			p, err := f.s.Clients.Authenticate(ctx, pub.ID, "")
			require.NoError(t, err)
			require.Equal(t, pub.ID, p.ID())
		})

		t.Run("ErrInvalidCredentialsSameCost", func(t *testing.T) {
			costs := map[string]uint64{}
			for name, try := range map[string]func() error{
				"unknown client":             func() error { _, err := f.s.Clients.Authenticate(ctx, models.NewUUID(), secret); return err },
				"unknown client, no secret":  func() error { _, err := f.s.Clients.Authenticate(ctx, models.NewUUID(), ""); return err },
				"malformed id":               func() error { _, err := f.s.Clients.Authenticate(ctx, "nope", ""); return err },
				"wrong secret":               func() error { _, err := f.s.Clients.Authenticate(ctx, conf.ID, secret+"x"); return err },
				"confidential without":       func() error { _, err := f.s.Clients.Authenticate(ctx, conf.ID, ""); return err },
				"public pretending a secret": func() error { _, err := f.s.Clients.Authenticate(ctx, pub.ID, secret); return err },
			} {
				var err error
				costs[name] = allocatedBytes(func() { err = try() })
				require.ErrorIs(t, err, repositories.ErrInvalidCredentials, name)
				require.Equal(t, "authenticate client: invalid credentials", trimOp(err), "%s: the error tells the cases apart", name)
			}
			for name, c := range costs {
				require.Greater(t, c, uint64(15<<20), "%s cost %d bytes: no Argon2id run", name, c)
			}
		})

		t.Run("ZeroValueRefused", func(t *testing.T) {
			var nobody repositories.AuthenticatedClient
			code, verifier := f.code(t, pub.ID, uid)
			p := f.pair(t, pub.ID, &uid)
			_, err := f.s.AuthCodes.Exchange(ctx, nobody, code, redirectURI, verifier)
			require.ErrorIs(t, err, repositories.ErrInvalidCredentials, "Exchange")
			_, err = f.s.RefreshTokens.Rotate(ctx, nobody, p.RefreshToken, nil)
			require.ErrorIs(t, err, repositories.ErrInvalidCredentials, "Rotate")
			require.ErrorIs(t, f.s.RefreshTokens.Revoke(ctx, nobody, p.RefreshToken), repositories.ErrInvalidCredentials, "Revoke")
			_, _, err = f.s.AccessTokens.IssueClientCredentials(ctx, nobody, nil)
			require.ErrorIs(t, err, repositories.ErrInvalidCredentials, "IssueClientCredentials")
			_, err = f.s.Tokens.Introspect(ctx, nobody, p.AccessToken)
			require.ErrorIs(t, err, repositories.ErrInvalidCredentials, "Introspect")
			require.ErrorIs(t, f.s.Tokens.Revoke(ctx, nobody, p.AccessToken, ""), repositories.ErrInvalidCredentials, "Tokens.Revoke")
			_, err = f.s.RefreshTokens.Rotate(ctx, authed(f.s, pub.ID), p.RefreshToken, nil)
			require.NoError(t, err, "the refused calls burned the token")
		})
	})
}

// trimOp returns an error's text without the operation prefixes Translate
// and the repositories add before the last two parts.
func trimOp(err error) string {
	var last error = err
	for {
		u := errors.Unwrap(last)
		if u == nil || errors.Unwrap(u) == nil {
			return last.Error()
		}
		last = u
	}
}

// SECURITY 37: registered grant types are enforced on every grant.
func TestGrantTypesEnforced(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b Backend) {
		f := newFixture(t, b)
		ctx := requestCtx()
		uid := f.user(t, "grants@example.com").ID
		codeOnly, _, err := f.s.Clients.Create(ctx, repositories.ClientInput{Name: "code only", RedirectURIs: []string{redirectURI},
			GrantTypes: []string{protocol.GrantAuthorizationCode}})
		require.NoError(t, err)

		t.Run("NoRefreshWithoutTheGrant", func(t *testing.T) {
			code, verifier := f.code(t, codeOnly.ID, uid)
			p, err := f.s.AuthCodes.Exchange(ctx, authed(f.s, codeOnly.ID), code, redirectURI, verifier)
			require.NoError(t, err)
			require.Empty(t, p.RefreshToken, "a client without refresh_token got a refresh token")
			require.Zero(t, countRows(t, f.s.DB(), "oauth_refresh_tokens", "client_id = ?", codeOnly.ID))
			_, err = f.s.AccessTokens.Validate(ctx, p.AccessToken)
			require.NoError(t, err)
			_, err = f.s.RefreshTokens.Issue(ctx, codeOnly.ID, &uid, nil)
			require.ErrorIs(t, err, repositories.ErrUnauthorizedClient, "RefreshTokens.Issue")
		})

		t.Run("RotateNeedsTheGrant", func(t *testing.T) {
			c := f.publicClient(t)
			p := f.pair(t, c.ID, &uid)
			a := authed(f.s, c.ID)
			require.NoError(t, f.s.DB().Model(&models.Client{}).Where("id = ?", c.ID).
				Update("grant_types", models.Strings{protocol.GrantAuthorizationCode}).Error, "an operator removes refresh_token")
			_, err := f.s.RefreshTokens.Rotate(ctx, a, p.RefreshToken, nil)
			require.ErrorIs(t, err, repositories.ErrUnauthorizedClient)
		})

		t.Run("ClientCredentialsOnlyConfidential", func(t *testing.T) {
			pub := f.publicClient(t)
			_, _, err := f.s.AccessTokens.IssueClientCredentials(ctx, authed(f.s, pub.ID), nil)
			require.ErrorIs(t, err, repositories.ErrUnauthorizedClient)
			noCC, secret, err := f.s.Clients.Create(ctx, repositories.ClientInput{Name: "no cc", RedirectURIs: []string{redirectURI}, Confidential: true})
			require.NoError(t, err)
			rememberSecret(noCC.ID, secret)
			_, _, err = f.s.AccessTokens.IssueClientCredentials(ctx, authed(f.s, noCC.ID), nil)
			require.ErrorIs(t, err, repositories.ErrUnauthorizedClient, "a confidential client without client_credentials")
		})
	})
}

// SECURITY 39: introspection reports without consuming; revocation takes
// the token string and its client, succeeds for unknown tokens and refuses
// another client's.
func TestTokensIntrospectAndRevoke(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b Backend) {
		f := newFixture(t, b)
		ctx := requestCtx()
		uid := f.user(t, "introspect@example.com").ID
		pub := f.publicClient(t)
		other := f.publicClient(t)
		conf, _ := f.confidentialClient(t, nil)
		p := f.pair(t, pub.ID, &uid, "read", "write")

		t.Run("Active", func(t *testing.T) {
			before := snapshotTables(t, f.s.DB())
			at, err := f.s.Tokens.Introspect(ctx, authed(f.s, pub.ID), p.AccessToken)
			require.NoError(t, err)
			require.True(t, at.Active)
			require.Equal(t, repositories.TokenTypeAccess, at.TokenType)
			require.Equal(t, "read write", at.Scope)
			require.Equal(t, pub.ID, at.ClientID)
			require.Equal(t, uid.String(), at.Subject)
			require.Equal(t, repositories.SubjectUser, at.SubjectType)
			require.Equal(t, p.AccessTokenID, at.JTI)
			require.Equal(t, p.ExpiresAt.Unix(), at.ExpiresAt.Unix())
			rt, err := f.s.Tokens.Introspect(ctx, authed(f.s, pub.ID), p.RefreshToken)
			require.NoError(t, err)
			require.True(t, rt.Active)
			require.Equal(t, repositories.TokenTypeRefresh, rt.TokenType)
			require.True(t, rt.ExpiresAt.Equal(p.RefreshExpiresAt))
			require.Equal(t, before, snapshotTables(t, f.s.DB()), "introspection wrote rows")
			js, err := at.MarshalJSON()
			require.NoError(t, err)
			require.Contains(t, string(js), `"active":true`)
			require.Contains(t, string(js), `"token_type":"access_token"`)
		})

		t.Run("ClientCredentialsSubject", func(t *testing.T) {
			_, cc, err := f.s.AccessTokens.IssueClientCredentials(ctx, authed(f.s, conf.ID), nil)
			require.NoError(t, err)
			in, err := f.s.Tokens.Introspect(ctx, authed(f.s, conf.ID), cc)
			require.NoError(t, err)
			require.True(t, in.Active)
			require.Equal(t, repositories.SubjectClient, in.SubjectType)
			require.Equal(t, conf.ID.String(), in.Subject)
		})

		t.Run("Inactive", func(t *testing.T) {
			for name, tc := range map[string]struct {
				client models.UUID
				token  string
			}{
				"another client's access token":  {other.ID, p.AccessToken},
				"another client's refresh token": {other.ID, p.RefreshToken},
				"unknown refresh token":          {pub.ID, "unknown"},
				"forged jwt":                     {pub.ID, p.AccessToken + "x"},
			} {
				in, err := f.s.Tokens.Introspect(ctx, authed(f.s, tc.client), tc.token)
				require.NoError(t, err, name)
				require.False(t, in.Active, name)
				js, err := in.MarshalJSON()
				require.NoError(t, err)
				require.JSONEq(t, `{"active":false}`, string(js), "%s: an inactive response says more", name)
			}
			next, err := f.s.RefreshTokens.Rotate(ctx, authed(f.s, pub.ID), p.RefreshToken, nil)
			require.NoError(t, err, "introspection consumed the refresh token")
			in, err := f.s.Tokens.Introspect(ctx, authed(f.s, pub.ID), p.RefreshToken)
			require.NoError(t, err)
			require.False(t, in.Active, "a used refresh token is active")
			p = next
		})

		t.Run("Revoke", func(t *testing.T) {
			require.NoError(t, f.s.Tokens.Revoke(ctx, authed(f.s, pub.ID), "unknown-token", ""), "an unknown token")
			require.NoError(t, f.s.Tokens.Revoke(ctx, authed(f.s, pub.ID), "a.b.c", repositories.TokenTypeAccess), "a malformed jwt")
			before := snapshotTables(t, f.s.DB())
			require.ErrorIs(t, f.s.Tokens.Revoke(ctx, authed(f.s, other.ID), p.AccessToken, ""), repositories.ErrInvalidCredentials, "another client's access token")
			require.ErrorIs(t, f.s.Tokens.Revoke(ctx, authed(f.s, other.ID), p.RefreshToken, repositories.TokenTypeRefresh), repositories.ErrInvalidCredentials, "another client's refresh token")
			require.Equal(t, before, snapshotTables(t, f.s.DB()), "a refused revocation changed rows")

			require.NoError(t, f.s.Tokens.Revoke(ctx, authed(f.s, pub.ID), p.RefreshToken, repositories.TokenTypeRefresh))
			_, err := f.s.AccessTokens.Validate(ctx, p.AccessToken)
			require.ErrorIs(t, err, repositories.ErrRevoked, "revoking the refresh token left its grant's access token alive")

			q := f.pair(t, pub.ID, &uid)
			require.NoError(t, f.s.Tokens.Revoke(ctx, authed(f.s, pub.ID), q.AccessToken, repositories.TokenTypeRefresh), "a wrong hint")
			_, err = f.s.AccessTokens.Validate(ctx, q.AccessToken)
			require.ErrorIs(t, err, repositories.ErrRevoked)
			require.NoError(t, f.s.Tokens.Revoke(ctx, authed(f.s, pub.ID), q.AccessToken, ""), "revoking twice")
		})
	})
}

// SECURITY 40: a retry of a refresh within the reuse interval, from
// another process (a second Store on its own connection pool), gets the
// same answer and creates nothing; past the interval reuse revokes the
// family.
func TestRefreshTokensReuseIntervalAcrossStores(t *testing.T) {
	forEachFileBackend(t, func(t *testing.T, b Backend) {
		f := newFixture(t, b, withConfig(func(c *config.Config) { c.RefreshReuseInterval = 10 * time.Second }))
		second := openWith(t, f.cfg, authstore.WithConfig(f.cfg), authstore.WithClock(f.clock.Now))
		ctx := requestCtx()
		uid := f.user(t, "tabs@example.com").ID
		pub := f.publicClient(t)
		stores := []*authstore.Store{f.s, second}

		t.Run("ConcurrentTabs", func(t *testing.T) {
			p := f.pair(t, pub.ID, &uid)
			const n = 10
			pairs := make([]*repositories.TokenPair, n)
			errs := make([]error, n)
			auths := []repositories.AuthenticatedClient{authed(f.s, pub.ID), authed(second, pub.ID)}
			barrier(n, func(i int) {
				pairs[i], errs[i] = stores[i%2].RefreshTokens.Rotate(ctx, auths[i%2], p.RefreshToken, nil)
			})
			requireNoLockErrors(t, errs)
			for i := range n {
				require.NoError(t, errs[i], "goroutine %d (store %d) was logged out", i, i%2)
				require.Equal(t, pairs[0].RefreshToken, pairs[i].RefreshToken, "goroutine %d got another refresh token", i)
				require.Equal(t, pairs[0].AccessToken, pairs[i].AccessToken, "goroutine %d got another access token", i)
			}
			require.EqualValues(t, 2, countRows(t, f.s.DB(), "oauth_refresh_tokens", "family_id = ?", p.FamilyID), "retries created rows")
			require.EqualValues(t, 2, countRows(t, f.s.DB(), "oauth_access_tokens", "family_id = ?", p.FamilyID))
		})

		t.Run("PastTheInterval", func(t *testing.T) {
			p := f.pair(t, pub.ID, &uid)
			child, err := f.s.RefreshTokens.Rotate(ctx, authed(f.s, pub.ID), p.RefreshToken, nil)
			require.NoError(t, err)
			f.clock.Advance(11 * time.Second)
			_, err = second.RefreshTokens.Rotate(ctx, authed(second, pub.ID), p.RefreshToken, nil)
			require.ErrorIs(t, err, repositories.ErrReused)
			_, err = f.s.AccessTokens.Validate(ctx, child.AccessToken)
			require.ErrorIs(t, err, repositories.ErrRevoked, "reuse past the interval left the family alive")
		})
	})
}

// SECURITY 41: a password change or completed reset ends the user's
// personal access tokens too, in the same transaction.
func TestUsersPasswordChangeEndsPersonalTokens(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b Backend) {
		f := newFixture(t, b)
		ctx := requestCtx()
		u := f.register(t, "pat-owner@example.com", userPassword)
		_, pat, err := f.s.PersonalTokens.Create(ctx, u.ID, "script", nil, nil)
		require.NoError(t, err)
		require.NoError(t, f.s.Users.ChangePassword(ctx, u.ID, userPassword, "another passphrase", "another passphrase", ""))
		_, err = f.s.PersonalTokens.Find(ctx, pat)
		require.ErrorIs(t, err, repositories.ErrRevoked, "a personal token survived a password change")

		_, pat, err = f.s.PersonalTokens.Create(ctx, u.ID, "script 2", nil, nil)
		require.NoError(t, err)
		reset := f.requestReset(t, u.Email)
		_, err = f.s.PasswordResets.Reset(ctx, reset, "a third passphrase", "a third passphrase")
		require.NoError(t, err)
		_, err = f.s.PersonalTokens.Find(ctx, pat)
		require.ErrorIs(t, err, repositories.ErrRevoked, "a personal token survived a reset")
	})
}

// A new email verification voids the user's older ones.
func TestEmailVerificationsNewVoidsOlder(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b Backend) {
		f := newFixture(t, b)
		ctx := requestCtx()
		u := f.user(t, "twice-verified@example.com")
		_, old, err := f.s.EmailVerifications.Issue(ctx, u.ID)
		require.NoError(t, err)
		_, fresh, err := f.s.EmailVerifications.Issue(ctx, u.ID)
		require.NoError(t, err)
		_, err = f.s.EmailVerifications.Consume(ctx, old)
		require.ErrorIs(t, err, repositories.ErrNotFound, "an older verification still works")
		_, err = f.s.EmailVerifications.Consume(ctx, fresh)
		require.NoError(t, err)
	})
}
