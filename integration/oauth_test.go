package integration

// The contract of the OAuth repositories (Clients, AccessTokens,
// RefreshTokens, AuthCodes, PersonalTokens) on every backend: each method's
// success and error paths. The SECURITY.md properties have their own named
// tests in oauth_security_test.go; concurrency and fault injection are in
// oauth_fault_test.go. Helpers here start with "oauth" so that they do not
// collide with the authentication suite's; helpers both suites use are in
// helpers_test.go.

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/forgeauth/authstore"
	"github.com/forgeauth/authstore/config"
	"github.com/forgeauth/authstore/hooks"
	"github.com/forgeauth/authstore/models"
	"github.com/forgeauth/authstore/repositories"
	"github.com/stretchr/testify/require"
	"gorm.io/gorm"
)

const (
	// oauthJWTSecret signs the test access tokens (at least 32 bytes).
	oauthJWTSecret = "integration-test-jwt-secret-0123456789abcdef"
	// oauthUserHash is a well-formed Argon2id PHC string for user rows made
	// directly (no hashing work; nobody logs in with it).
	oauthUserHash = "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0c2FsdA$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g"
	oauthRedirect = "https://app.example.com/cb"
	oauthLoopback = "http://127.0.0.1:8080/cb"
)

// oauthEnv is a migrated store on a fake clock with every OAuth repository.
type oauthEnv struct {
	b       Backend
	s       *authstore.Store
	clock   *Clock
	opts    repositories.Options
	clients *repositories.Clients
	access  *repositories.AccessTokens
	refresh *repositories.RefreshTokens
	codes   *repositories.AuthCodes
	pats    *repositories.PersonalTokens
}

// newOAuthEnv opens a fresh migrated database of b on a fake clock, with a
// JWT secret set; mutate may change the configuration further.
func newOAuthEnv(t *testing.T, b Backend, mutate ...func(*config.Config)) *oauthEnv {
	t.Helper()
	return newOAuthEnvAt(t, b, newClock(), mutate...)
}

func newOAuthEnvAt(t *testing.T, b Backend, clock *Clock, mutate ...func(*config.Config)) *oauthEnv {
	t.Helper()
	s := openMigrated(t, b, authstore.WithClock(clock.Now))
	cfg := s.Config
	cfg.JWTSecret = oauthJWTSecret
	for _, m := range mutate {
		m(&cfg)
	}
	e := &oauthEnv{b: b, s: s, clock: clock, opts: repositories.Options{Config: cfg}}
	e.clients = repositories.NewClients(s.DB, e.opts)
	e.access = repositories.NewAccessTokens(s.DB, e.opts)
	e.refresh = repositories.NewRefreshTokens(s.DB, e.opts)
	e.codes = repositories.NewAuthCodes(s.DB, e.opts)
	e.pats = repositories.NewPersonalTokens(s.DB, e.opts)
	return e
}

// user inserts a user row (no hashing) and returns its id.
func (e *oauthEnv) user(t *testing.T, email string) models.UUID {
	t.Helper()
	u := &models.User{Name: "Grace Hopper", Email: email, PasswordHash: oauthUserHash}
	require.NoError(t, e.s.DB.WithContext(requestCtx()).Create(u).Error, "insert user %s", email)
	return u.ID
}

// publicClient registers a public client (no hashing work) with the test
// redirect URIs and scopes read, write and admin.
func (e *oauthEnv) publicClient(t *testing.T) *models.Client {
	t.Helper()
	c, secret, err := e.clients.Create(requestCtx(), repositories.ClientInput{
		Name: "Public app", RedirectURIs: []string{oauthRedirect, oauthLoopback}, Scopes: []string{"read", "write", "admin"},
	})
	require.NoError(t, err, "Create(public client) = %v; want nil", err)
	require.Empty(t, secret, "a public client got a secret")
	return c
}

// confidentialClient registers a confidential client (one Argon2id hash)
// and returns it with its secret.
func (e *oauthEnv) confidentialClient(t *testing.T, owner *models.UUID) (*models.Client, string) {
	t.Helper()
	c, secret, err := e.clients.Create(requestCtx(), repositories.ClientInput{
		Name: "Server app", RedirectURIs: []string{oauthRedirect}, Confidential: true, UserID: owner,
		GrantTypes: []string{repositories.GrantAuthorizationCode, repositories.GrantRefreshToken, repositories.GrantClientCredentials},
	})
	require.NoError(t, err, "Create(confidential client) = %v; want nil", err)
	require.NotEmpty(t, secret)
	return c, secret
}

// code issues an S256 authorization code for oauthRedirect and returns it
// with its verifier.
func (e *oauthEnv) code(t *testing.T, clientID, userID models.UUID, scopes ...string) (string, string) {
	t.Helper()
	verifier, err := hooks.NewPKCEVerifier()
	require.NoError(t, err)
	code, row, err := e.codes.Create(requestCtx(), repositories.AuthCodeInput{
		ClientID: clientID, UserID: userID, RedirectURI: oauthRedirect, Scopes: scopes,
		CodeChallenge: hooks.S256Challenge(verifier), CodeChallengeMethod: repositories.PKCEMethodS256,
	})
	require.NoError(t, err, "AuthCodes.Create = %v; want nil", err)
	require.Equal(t, hooks.Digest(code), row.CodeHash)
	return code, verifier
}

// pair starts a grant with RefreshTokens.Issue.
func (e *oauthEnv) pair(t *testing.T, clientID models.UUID, userID *models.UUID, scopes ...string) *repositories.TokenPair {
	t.Helper()
	p, err := e.refresh.Issue(requestCtx(), clientID, userID, scopes)
	require.NoError(t, err, "RefreshTokens.Issue = %v; want nil", err)
	return p
}

// oauthLastEvent returns the newest activity row with event.
func oauthLastEvent(t *testing.T, db *gorm.DB, event hooks.Event) models.Activity {
	t.Helper()
	var a models.Activity
	require.NoError(t, db.Where("event = ?", string(event)).Order("id DESC").Take(&a).Error, "no %s activity row", event)
	return a
}

// oauthFreshDB returns a handle on the same database through a new
// connection pool (a new Store), or the store's own handle for the
// in-memory backend, which lives in one pool.
func oauthFreshDB(t *testing.T, e *oauthEnv) *gorm.DB {
	t.Helper()
	if e.b.Name == "memory" {
		return e.s.DB
	}
	return openWith(t, e.s.Config).DB
}

// oauthRequireNoLockErrors fails if any error is SQLite's "database is
// locked"/"busy" or a PostgreSQL deadlock or serialization failure.
func oauthRequireNoLockErrors(t *testing.T, errs []error) {
	t.Helper()
	for i, err := range errs {
		if err == nil {
			continue
		}
		msg := strings.ToLower(err.Error())
		for _, bad := range []string{"locked", "busy", "deadlock", "40p01", "40001", "could not serialize"} {
			require.NotContains(t, msg, bad, "goroutine %d: %v", i, err)
		}
	}
}

// oauthWarmPool opens the store's whole PostgreSQL connection pool
// (MaxOpenConns) and keeps it idle, so that goroutines released by a
// barrier run their transactions truly at once: opening a connection takes
// long enough to serialise a race. SQLite connections open at once; there
// it does nothing.
func oauthWarmPool(t *testing.T, e *oauthEnv) {
	t.Helper()
	if e.s.DB.Dialector.Name() != "postgres" {
		return
	}
	sqlDB, err := e.s.DB.DB()
	require.NoError(t, err)
	n := e.s.Config.MaxOpenConns
	sqlDB.SetMaxIdleConns(n)
	errs := make([]error, n)
	barrier(n, func(i int) { errs[i] = e.s.DB.Exec("SELECT pg_sleep(0.05)").Error })
	for _, err := range errs {
		require.NoError(t, err)
	}
	require.Equal(t, n, sqlDB.Stats().Idle, "the pool did not stay warm")
}

func TestClientsCreate(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b Backend) {
		e := newOAuthEnv(t, b)
		ctx := requestCtx()
		owner := e.user(t, "owner@example.com")

		t.Run("Confidential", func(t *testing.T) {
			c, secret, err := e.clients.Create(ctx, repositories.ClientInput{
				Name: "  Billing  ", RedirectURIs: []string{oauthRedirect, oauthRedirect}, Confidential: true,
				Scopes: []string{"read", "read", "write"}, UserID: &owner,
			})
			require.NoError(t, err)
			require.True(t, c.ID.Valid())
			require.Equal(t, "Billing", c.Name)
			require.Equal(t, models.Strings{oauthRedirect}, c.RedirectURIs, "duplicate redirect uris are dropped")
			require.Equal(t, models.Strings{"read", "write"}, c.Scopes)
			require.Equal(t, models.Strings{repositories.GrantAuthorizationCode, repositories.GrantRefreshToken}, c.GrantTypes, "default grant types")
			require.True(t, c.Confidential)
			require.NotNil(t, c.SecretHash)
			require.True(t, hooks.IsArgon2id(*c.SecretHash))
			require.Empty(t, c.Secret)
			require.True(t, c.CreatedAt.Equal(e.clock.Now()))

			got, err := e.clients.Find(ctx, c.ID)
			require.NoError(t, err)
			require.Equal(t, *c.SecretHash, *got.SecretHash)
			require.Equal(t, c.RedirectURIs, got.RedirectURIs)
			require.Equal(t, &owner, got.UserID)

			ok, err := hooks.DefaultHasher().Verify(*got.SecretHash, secret)
			require.NoError(t, err)
			require.True(t, ok, "the stored hash does not verify the returned secret")

			// client.created is written once, by the model hook, with the
			// owner and the request metadata.
			require.EqualValues(t, 1, countRows(t, e.s.DB, "user_activity_log", "event = ? AND user_id = ?", string(hooks.EventClientCreated), owner))
			a := oauthLastEvent(t, e.s.DB, hooks.EventClientCreated)
			require.Equal(t, requestIP, a.IPAddress)
			require.Equal(t, requestUA, a.UserAgent)
			require.Contains(t, a.Metadata, string(c.ID))
		})

		t.Run("Public", func(t *testing.T) {
			before := countEvents(t, e.s.DB, hooks.EventClientCreated)
			c := e.publicClient(t)
			require.False(t, c.Confidential)
			require.Nil(t, c.SecretHash)
			require.EqualValues(t, before+1, countEvents(t, e.s.DB, hooks.EventClientCreated))
		})

		t.Run("PersonalAccessClient", func(t *testing.T) {
			c, _, err := e.clients.Create(ctx, repositories.ClientInput{Name: "PAT", PersonalAccessClient: true})
			require.NoError(t, err)
			require.Equal(t, models.Strings{repositories.GrantPersonalAccess}, c.GrantTypes)
		})

		t.Run("ErrInvalidInput", func(t *testing.T) {
			bad := uuidOf("not-a-uuid")
			for name, tc := range map[string]struct {
				in   repositories.ClientInput
				want string
			}{
				"empty name":              {repositories.ClientInput{Name: " ", RedirectURIs: []string{oauthRedirect}}, "client name is empty"},
				"long name":               {repositories.ClientInput{Name: strings.Repeat("n", 256), RedirectURIs: []string{oauthRedirect}}, "longer than"},
				"fragment":                {repositories.ClientInput{Name: "x", RedirectURIs: []string{"https://a.example/cb#x"}}, "fragment"},
				"relative":                {repositories.ClientInput{Name: "x", RedirectURIs: []string{"/cb"}}, "not absolute"},
				"http remote":             {repositories.ClientInput{Name: "x", RedirectURIs: []string{"http://a.example/cb"}}, "http on a host"},
				"custom scheme no dot":    {repositories.ClientInput{Name: "x", RedirectURIs: []string{"myapp:/cb"}}, "private-use scheme"},
				"no redirect for code":    {repositories.ClientInput{Name: "x"}, "needs at least one redirect uri"},
				"unknown grant":           {repositories.ClientInput{Name: "x", RedirectURIs: []string{oauthRedirect}, GrantTypes: []string{"password"}}, "grant type"},
				"public with client cred": {repositories.ClientInput{Name: "x", GrantTypes: []string{repositories.GrantClientCredentials}}, "public client cannot"},
				"bad scope":               {repositories.ClientInput{Name: "x", RedirectURIs: []string{oauthRedirect}, Scopes: []string{"a b"}}, "scope 0"},
				"malformed owner":         {repositories.ClientInput{Name: "x", RedirectURIs: []string{oauthRedirect}, UserID: &bad}, "owner user id"},
			} {
				before := snapshotTables(t, e.s.DB)
				_, _, err := e.clients.Create(ctx, tc.in)
				require.ErrorIs(t, err, repositories.ErrInvalidInput, "%s: Create = %v; want ErrInvalidInput", name, err)
				require.Contains(t, err.Error(), tc.want, name)
				require.Equal(t, before, snapshotTables(t, e.s.DB), "%s: a refused Create wrote rows", name)
			}
		})

		t.Run("ErrConflict", func(t *testing.T) {
			ghost := models.NewUUID()
			before := snapshotTables(t, e.s.DB)
			_, _, err := e.clients.Create(ctx, repositories.ClientInput{Name: "x", RedirectURIs: []string{oauthRedirect}, UserID: &ghost})
			require.ErrorIs(t, err, repositories.ErrConflict, "Create(owner that does not exist) = %v; want ErrConflict", err)
			require.Equal(t, before, snapshotTables(t, e.s.DB))
		})
	})
}

// uuidOf converts a string to a models.UUID without checking it.
func uuidOf(s string) models.UUID { return models.UUID(s) }

func TestClientsFindListUpdate(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b Backend) {
		e := newOAuthEnv(t, b)
		ctx := requestCtx()
		var ids []models.UUID
		for range 3 {
			ids = append(ids, e.publicClient(t).ID)
			e.clock.Advance(time.Second)
		}

		t.Run("Find", func(t *testing.T) {
			c, err := e.clients.Find(ctx, ids[1])
			require.NoError(t, err)
			require.Equal(t, ids[1], c.ID)
			for _, id := range []models.UUID{models.NewUUID(), "", "nope", models.UUID(strings.ToUpper(string(ids[1])))} {
				_, err := e.clients.Find(ctx, id)
				require.ErrorIs(t, err, repositories.ErrNotFound, "Find(%q) = %v; want ErrNotFound", id, err)
			}
		})

		t.Run("List", func(t *testing.T) {
			all, err := e.clients.List(ctx, 10, 0)
			require.NoError(t, err)
			require.Len(t, all, 3)
			for i, c := range all {
				require.Equal(t, ids[i], c.ID, "List is ordered oldest first")
			}
			page, err := e.clients.List(ctx, 1, 1)
			require.NoError(t, err)
			require.Len(t, page, 1)
			require.Equal(t, ids[1], page[0].ID)
			none, err := e.clients.List(ctx, 10, 3)
			require.NoError(t, err)
			require.Empty(t, none)
			for _, lo := range [][2]int{{0, 0}, {1001, 0}, {10, -1}} {
				_, err := e.clients.List(ctx, lo[0], lo[1])
				require.ErrorIs(t, err, repositories.ErrInvalidInput, "List(%d, %d)", lo[0], lo[1])
			}
		})

		t.Run("Update", func(t *testing.T) {
			e.clock.Advance(time.Minute)
			uris := []string{"https://new.example.com/cb", "com.example.app:/cb"}
			c, err := e.clients.Update(ctx, ids[0], " Renamed ", uris)
			require.NoError(t, err)
			require.Equal(t, "Renamed", c.Name)
			require.Equal(t, models.Strings(uris), c.RedirectURIs)
			got, err := e.clients.Find(ctx, ids[0])
			require.NoError(t, err)
			require.Equal(t, "Renamed", got.Name)
			require.Equal(t, models.Strings(uris), got.RedirectURIs)
			require.True(t, got.UpdatedAt.Equal(e.clock.Now()), "UpdatedAt = %v; want %v", got.UpdatedAt, e.clock.Now())

			_, err = e.clients.Update(ctx, ids[0], "x", []string{"https://x.example/cb/#"})
			require.ErrorIs(t, err, repositories.ErrInvalidInput)
			_, err = e.clients.Update(ctx, ids[0], "x", nil)
			require.ErrorIs(t, err, repositories.ErrInvalidInput, "an authorization_code client needs a redirect uri")
			_, err = e.clients.Update(ctx, ids[0], "", uris)
			require.ErrorIs(t, err, repositories.ErrInvalidInput)
			_, err = e.clients.Update(ctx, models.NewUUID(), "x", uris)
			require.ErrorIs(t, err, repositories.ErrNotFound)

			require.NoError(t, e.clients.Revoke(ctx, ids[2]))
			_, err = e.clients.Update(ctx, ids[2], "x", uris)
			require.ErrorIs(t, err, repositories.ErrRevoked)
		})
	})
}

func TestClientsSecretLifecycle(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b Backend) {
		e := newOAuthEnv(t, b)
		ctx := requestCtx()
		owner := e.user(t, "owner@example.com")
		c, secret := e.confidentialClient(t, &owner)

		t.Run("ValidateCredentials", func(t *testing.T) {
			got, err := e.clients.ValidateCredentials(ctx, c.ID, secret)
			require.NoError(t, err)
			require.Equal(t, c.ID, got.ID)
			// The second call is served by the cache: no Argon2id run.
			n := allocatedBytes(func() {
				_, err = e.clients.ValidateCredentials(ctx, c.ID, secret)
			})
			require.NoError(t, err)
			require.Less(t, n, uint64(hooks.DefaultHasher().Params().Memory)*1024/2, "a cached verification allocated %d bytes", n)
		})

		t.Run("RotateSecret", func(t *testing.T) {
			next, err := e.clients.RotateSecret(ctx, c.ID)
			require.NoError(t, err)
			require.NotEqual(t, secret, next)
			// The old secret was cached as verified; rotation invalidates it.
			_, err = e.clients.ValidateCredentials(ctx, c.ID, secret)
			require.ErrorIs(t, err, repositories.ErrInvalidCredentials, "the old secret still works after rotation")
			_, err = e.clients.ValidateCredentials(ctx, c.ID, next)
			require.NoError(t, err)
			require.EqualValues(t, 1, countRows(t, e.s.DB, "user_activity_log", "event = ? AND user_id = ?", string(hooks.EventClientSecretRotated), owner))
			secret = next

			pub := e.publicClient(t)
			_, err = e.clients.RotateSecret(ctx, pub.ID)
			require.ErrorIs(t, err, repositories.ErrInvalidInput, "RotateSecret(public client)")
			_, err = e.clients.RotateSecret(ctx, models.NewUUID())
			require.ErrorIs(t, err, repositories.ErrNotFound)
		})

		t.Run("Revoke", func(t *testing.T) {
			require.NoError(t, e.clients.Revoke(ctx, c.ID))
			// Revocation is seen at once, although the secret is cached.
			_, err := e.clients.ValidateCredentials(ctx, c.ID, secret)
			require.ErrorIs(t, err, repositories.ErrInvalidCredentials)
			got, err := e.clients.Find(ctx, c.ID)
			require.NoError(t, err)
			require.True(t, got.Revoked)
			require.NoError(t, e.clients.Revoke(ctx, c.ID), "revoking twice is a no-op")
			require.EqualValues(t, 1, countEvents(t, e.s.DB, hooks.EventClientRevoked))
			_, err = e.clients.RotateSecret(ctx, c.ID)
			require.ErrorIs(t, err, repositories.ErrRevoked)
			require.ErrorIs(t, e.clients.Revoke(ctx, models.NewUUID()), repositories.ErrNotFound)
		})

		t.Run("Delete", func(t *testing.T) {
			require.NoError(t, e.clients.Delete(ctx, c.ID))
			_, err := e.clients.Find(ctx, c.ID)
			require.ErrorIs(t, err, repositories.ErrNotFound)
			require.EqualValues(t, 1, countRows(t, e.s.DB, "user_activity_log", "event = ? AND user_id = ?", string(hooks.EventClientDeleted), owner))
			require.ErrorIs(t, e.clients.Delete(ctx, c.ID), repositories.ErrNotFound)
			require.ErrorIs(t, e.clients.Delete(ctx, "junk"), repositories.ErrNotFound)
		})
	})
}

func TestAccessTokensIssueValidateRevoke(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b Backend) {
		e := newOAuthEnv(t, b)
		ctx := requestCtx()
		uid := e.user(t, "u@example.com")
		c := e.publicClient(t)

		t.Run("Issue", func(t *testing.T) {
			jwtStr, row, err := e.access.Issue(ctx, c.ID, &uid, []string{"read", "write"}, nil)
			require.NoError(t, err)
			require.True(t, row.ExpiresAt.Equal(e.clock.Now().Add(time.Hour)), "expires_at = now + OAUTH_ACCESS_TOKEN_LIFETIME")
			claims, err := e.access.Validate(ctx, jwtStr)
			require.NoError(t, err)
			require.Equal(t, string(row.ID), claims.ID)
			require.Equal(t, string(uid), claims.Subject)
			require.Equal(t, []string{string(c.ID)}, []string(claims.Audience))
			require.Equal(t, "authstore", claims.Issuer)
			require.Equal(t, "read write", claims.Scope)
			require.Equal(t, []string{"read", "write"}, claims.Scopes())
			require.Equal(t, string(c.ID), claims.ClientID)
			require.Equal(t, e.clock.Now().Truncate(time.Second).Unix(), claims.IssuedAt.Unix())
			require.EqualValues(t, 3600, claims.ExpiresAt.Unix()-claims.IssuedAt.Unix())
		})

		t.Run("ClientCredentials", func(t *testing.T) {
			jwtStr, row, err := e.access.Issue(ctx, c.ID, nil, nil, nil)
			require.NoError(t, err)
			require.Nil(t, row.UserID)
			claims, err := e.access.Validate(ctx, jwtStr)
			require.NoError(t, err)
			require.Equal(t, string(c.ID), claims.Subject, "sub is the client for a client-credentials token")
		})

		t.Run("IssueErrors", func(t *testing.T) {
			ghost := models.NewUUID()
			before := snapshotTables(t, e.s.DB)
			_, _, err := e.access.Issue(ctx, models.NewUUID(), &uid, nil, nil)
			require.ErrorIs(t, err, repositories.ErrNotFound, "unknown client")
			_, _, err = e.access.Issue(ctx, "bad", &uid, nil, nil)
			require.ErrorIs(t, err, repositories.ErrInvalidInput, "malformed client id")
			_, _, err = e.access.Issue(ctx, c.ID, &ghost, nil, nil)
			require.ErrorIs(t, err, repositories.ErrConflict, "unknown user")
			_, _, err = e.access.Issue(ctx, c.ID, &uid, []string{"delete"}, nil)
			require.ErrorIs(t, err, repositories.ErrInvalidInput, "scope the client did not register")
			require.Contains(t, err.Error(), `"delete"`)
			require.Equal(t, before, snapshotTables(t, e.s.DB))

			nokey := e.opts
			nokey.Config.JWTSecret = ""
			_, _, err = repositories.NewAccessTokens(e.s.DB, nokey).Issue(ctx, c.ID, &uid, nil, nil)
			require.ErrorIs(t, err, repositories.ErrNoSigningKey)
			_, err = repositories.NewAccessTokens(e.s.DB, nokey).Validate(ctx, "x.y.z")
			require.ErrorIs(t, err, repositories.ErrNoSigningKey)
			_, err = repositories.NewRefreshTokens(e.s.DB, nokey).Issue(ctx, c.ID, &uid, nil)
			require.ErrorIs(t, err, repositories.ErrNoSigningKey)
			require.Equal(t, before, snapshotTables(t, e.s.DB))
		})

		t.Run("Revoke", func(t *testing.T) {
			jwtStr, row, err := e.access.Issue(ctx, c.ID, &uid, nil, nil)
			require.NoError(t, err)
			before := countEvents(t, e.s.DB, hooks.EventTokenRevoked)
			require.NoError(t, e.access.Revoke(ctx, row.ID))
			_, err = e.access.Validate(ctx, jwtStr)
			require.ErrorIs(t, err, repositories.ErrRevoked)
			require.NoError(t, e.access.Revoke(ctx, row.ID), "revoking twice")
			require.NoError(t, e.access.Revoke(ctx, models.NewUUID()), "revoking an unknown jti")
			require.NoError(t, e.access.Revoke(ctx, "not-a-jti"), "revoking a malformed jti")
			require.EqualValues(t, before+1, countEvents(t, e.s.DB, hooks.EventTokenRevoked), "one token.revoked row")
			a := oauthLastEvent(t, e.s.DB, hooks.EventTokenRevoked)
			require.Equal(t, &uid, a.UserID)
		})

		t.Run("RevokeForUserAndClient", func(t *testing.T) {
			other := e.user(t, "other@example.com")
			c2 := e.publicClient(t)
			var mine, theirs []string
			for range 2 {
				j, _, err := e.access.Issue(ctx, c.ID, &uid, nil, nil)
				require.NoError(t, err)
				mine = append(mine, j)
				j, _, err = e.access.Issue(ctx, c2.ID, &other, nil, nil)
				require.NoError(t, err)
				theirs = append(theirs, j)
			}
			n, err := e.access.RevokeForUser(ctx, uid)
			require.NoError(t, err)
			require.GreaterOrEqual(t, n, int64(2))
			for _, j := range mine {
				_, err := e.access.Validate(ctx, j)
				require.ErrorIs(t, err, repositories.ErrRevoked)
			}
			for _, j := range theirs {
				_, err := e.access.Validate(ctx, j)
				require.NoError(t, err, "another user's token was revoked")
			}
			n, err = e.access.RevokeForUser(ctx, uid)
			require.NoError(t, err)
			require.Zero(t, n, "second RevokeForUser revoked again")

			n, err = e.access.RevokeForClient(ctx, c2.ID)
			require.NoError(t, err)
			require.EqualValues(t, 2, n)
			for _, j := range theirs {
				_, err := e.access.Validate(ctx, j)
				require.ErrorIs(t, err, repositories.ErrRevoked)
			}
			_, err = e.access.RevokeForClient(ctx, "bad")
			require.ErrorIs(t, err, repositories.ErrInvalidInput)
		})
	})
}

func TestRefreshTokensIssueRotateRevoke(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b Backend) {
		e := newOAuthEnv(t, b)
		ctx := requestCtx()
		uid := e.user(t, "u@example.com")
		c := e.publicClient(t)

		t.Run("Issue", func(t *testing.T) {
			p := e.pair(t, c.ID, &uid, "read")
			require.Equal(t, "Bearer", p.TokenType)
			require.EqualValues(t, 3600, p.ExpiresIn)
			require.Equal(t, []string{"read"}, p.Scopes)
			var row models.RefreshToken
			require.NoError(t, e.s.DB.Where("id = ?", p.RefreshTokenID).Take(&row).Error)
			require.Equal(t, hooks.Digest(p.RefreshToken), row.TokenHash)
			require.Equal(t, p.FamilyID, row.FamilyID)
			require.Equal(t, &p.AccessTokenID, row.AccessTokenID)
			require.Nil(t, row.ParentID)
			require.True(t, row.ExpiresAt.Equal(e.clock.Now().Add(30*24*time.Hour)), "expires_at = now + OAUTH_REFRESH_TOKEN_LIFETIME")
			var at models.AccessToken
			require.NoError(t, e.s.DB.Where("id = ?", p.AccessTokenID).Take(&at).Error)
			require.Equal(t, &p.FamilyID, at.FamilyID, "the access token belongs to the grant")
		})

		t.Run("Rotate", func(t *testing.T) {
			p := e.pair(t, c.ID, &uid, "read", "write")
			e.clock.Advance(time.Minute)
			next, err := e.refresh.Rotate(ctx, p.RefreshToken, c.ID, nil)
			require.NoError(t, err)
			require.Equal(t, p.FamilyID, next.FamilyID)
			require.Equal(t, []string{"read", "write"}, next.Scopes, "no requested scopes keeps the grant's")
			require.NotEqual(t, p.RefreshToken, next.RefreshToken)
			var child models.RefreshToken
			require.NoError(t, e.s.DB.Where("id = ?", next.RefreshTokenID).Take(&child).Error)
			require.Equal(t, &p.RefreshTokenID, child.ParentID)
			claims, err := e.access.Validate(ctx, next.AccessToken)
			require.NoError(t, err)
			require.Equal(t, string(uid), claims.Subject)
		})

		t.Run("Errors", func(t *testing.T) {
			p := e.pair(t, c.ID, &uid)
			before := snapshotTables(t, e.s.DB)
			for name, tok := range map[string]string{"unknown": "nope", "empty": "", "huge": strings.Repeat("a", 10000)} {
				_, err := e.refresh.Rotate(ctx, tok, c.ID, nil)
				require.ErrorIs(t, err, repositories.ErrNotFound, name)
			}
			_, err := e.refresh.Rotate(ctx, p.RefreshToken, "bad", nil)
			require.ErrorIs(t, err, repositories.ErrInvalidCredentials)
			_, err = e.refresh.Rotate(ctx, p.RefreshToken, c.ID, []string{"bad scope"})
			require.ErrorIs(t, err, repositories.ErrInvalidInput)
			require.Equal(t, before, snapshotTables(t, e.s.DB), "a refused rotation wrote rows")

			e.clock.Advance(30 * 24 * time.Hour)
			_, err = e.refresh.Rotate(ctx, p.RefreshToken, c.ID, nil)
			require.ErrorIs(t, err, repositories.ErrExpired)
			require.Equal(t, before, snapshotTables(t, e.s.DB), "an expired token was burned")
		})

		t.Run("RevokeForUser", func(t *testing.T) {
			p1 := e.pair(t, c.ID, &uid)
			other := e.user(t, "o@example.com")
			p2 := e.pair(t, c.ID, &other)
			n, err := e.refresh.RevokeForUser(ctx, uid)
			require.NoError(t, err)
			require.Positive(t, n)
			_, err = e.refresh.Rotate(ctx, p1.RefreshToken, c.ID, nil)
			require.ErrorIs(t, err, repositories.ErrRevoked)
			_, err = e.access.Validate(ctx, p1.AccessToken)
			require.ErrorIs(t, err, repositories.ErrRevoked)
			_, err = e.refresh.Rotate(ctx, p2.RefreshToken, c.ID, nil)
			require.NoError(t, err, "another user's grant was revoked")
			n, err = e.refresh.RevokeForUser(ctx, uid)
			require.NoError(t, err)
			require.Zero(t, n)
			_, err = e.refresh.RevokeForUser(ctx, "x")
			require.ErrorIs(t, err, repositories.ErrInvalidInput)
		})
	})
}

func TestAuthCodesCreateExchange(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b Backend) {
		e := newOAuthEnv(t, b)
		ctx := requestCtx()
		uid := e.user(t, "u@example.com")
		c := e.publicClient(t)

		t.Run("OK", func(t *testing.T) {
			code, verifier := e.code(t, c.ID, uid, "read")
			var row models.AuthorizationCode
			require.NoError(t, e.s.DB.Where("code_hash = ?", hooks.Digest(code)).Take(&row).Error)
			require.Equal(t, oauthRedirect, row.RedirectURI)
			require.Equal(t, repositories.PKCEMethodS256, *row.CodeChallengeMethod)
			require.Equal(t, hooks.S256Challenge(verifier), *row.CodeChallenge)
			require.True(t, row.ExpiresAt.Equal(e.clock.Now().Add(600*time.Second)))

			p, err := e.codes.Exchange(ctx, code, c.ID, oauthRedirect, verifier)
			require.NoError(t, err)
			require.Equal(t, row.ID, p.FamilyID, "the grant's family is the code's id")
			require.Equal(t, []string{"read"}, p.Scopes)
			claims, err := e.access.Validate(ctx, p.AccessToken)
			require.NoError(t, err)
			require.Equal(t, string(uid), claims.Subject)
			next, err := e.refresh.Rotate(ctx, p.RefreshToken, c.ID, nil)
			require.NoError(t, err)
			require.Equal(t, row.ID, next.FamilyID)
			require.NoError(t, e.s.DB.Where("id = ?", row.ID).Take(&row).Error)
			require.NotNil(t, row.UsedAt)
		})

		t.Run("CreateErrors", func(t *testing.T) {
			v, _ := hooks.NewPKCEVerifier()
			ch := hooks.S256Challenge(v)
			in := func(f func(*repositories.AuthCodeInput)) repositories.AuthCodeInput {
				x := repositories.AuthCodeInput{ClientID: c.ID, UserID: uid, RedirectURI: oauthRedirect, CodeChallenge: ch, CodeChallengeMethod: "S256"}
				f(&x)
				return x
			}
			noCode, _, err := e.clients.Create(ctx, repositories.ClientInput{Name: "cc", Confidential: false, RedirectURIs: []string{oauthRedirect}, GrantTypes: []string{repositories.GrantRefreshToken}})
			require.NoError(t, err)
			revoked := e.publicClient(t)
			require.NoError(t, e.clients.Revoke(ctx, revoked.ID))
			before := snapshotTables(t, e.s.DB)
			for name, tc := range map[string]struct {
				in   repositories.AuthCodeInput
				want error
			}{
				"unknown client":        {in(func(x *repositories.AuthCodeInput) { x.ClientID = models.NewUUID() }), repositories.ErrNotFound},
				"revoked client":        {in(func(x *repositories.AuthCodeInput) { x.ClientID = revoked.ID }), repositories.ErrRevoked},
				"no code grant":         {in(func(x *repositories.AuthCodeInput) { x.ClientID = noCode.ID }), repositories.ErrInvalidInput},
				"unknown user":          {in(func(x *repositories.AuthCodeInput) { x.UserID = models.NewUUID() }), repositories.ErrConflict},
				"malformed user":        {in(func(x *repositories.AuthCodeInput) { x.UserID = "u" }), repositories.ErrInvalidInput},
				"no redirect":           {in(func(x *repositories.AuthCodeInput) { x.RedirectURI = "" }), repositories.ErrInvalidInput},
				"unregistered scope":    {in(func(x *repositories.AuthCodeInput) { x.Scopes = []string{"root"} }), repositories.ErrInvalidInput},
				"unregistered redirect": {in(func(x *repositories.AuthCodeInput) { x.RedirectURI = "https://evil.example/cb" }), repositories.ErrInvalidInput},
			} {
				_, _, err := e.codes.Create(ctx, tc.in)
				require.ErrorIs(t, err, tc.want, "%s: Create = %v; want %v", name, err, tc.want)
			}
			require.Equal(t, before, snapshotTables(t, e.s.DB), "a refused Create wrote rows")
		})

		t.Run("ExchangeErrors", func(t *testing.T) {
			code, verifier := e.code(t, c.ID, uid)
			before := snapshotTables(t, e.s.DB)
			_, err := e.codes.Exchange(ctx, "unknown", c.ID, oauthRedirect, verifier)
			require.ErrorIs(t, err, repositories.ErrNotFound)
			_, err = e.codes.Exchange(ctx, "", c.ID, oauthRedirect, verifier)
			require.ErrorIs(t, err, repositories.ErrNotFound)
			_, err = e.codes.Exchange(ctx, code, "x", oauthRedirect, verifier)
			require.ErrorIs(t, err, repositories.ErrInvalidCredentials)
			require.Equal(t, before, snapshotTables(t, e.s.DB))
			nokey := e.opts
			nokey.Config.JWTSecret = ""
			_, err = repositories.NewAuthCodes(e.s.DB, nokey).Exchange(ctx, code, c.ID, oauthRedirect, verifier)
			require.ErrorIs(t, err, repositories.ErrNoSigningKey)
			_, err = e.codes.Exchange(ctx, code, c.ID, oauthRedirect, verifier)
			require.NoError(t, err, "the refused exchanges burned the code")
		})
	})
}

func TestPersonalTokens(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b Backend) {
		e := newOAuthEnv(t, b)
		ctx := requestCtx()
		uid := e.user(t, "u@example.com")

		t.Run("CreateFindList", func(t *testing.T) {
			tok, row, err := e.pats.Create(ctx, uid, " CI deploy ", []string{"repo"}, nil)
			require.NoError(t, err)
			require.Equal(t, "CI deploy", row.Name)
			require.Nil(t, row.ExpiresAt)
			got, err := e.pats.Find(ctx, tok)
			require.NoError(t, err)
			require.Equal(t, row.ID, got.ID)
			require.Equal(t, models.Strings{"repo"}, got.Scopes)
			list, err := e.pats.ListForUser(ctx, uid)
			require.NoError(t, err)
			require.Len(t, list, 1)
			require.Equal(t, row.ID, list[0].ID)
			require.EqualValues(t, 1, countRows(t, e.s.DB, "user_activity_log", "event = ? AND user_id = ?", string(hooks.EventPersonalTokenCreated), uid))
			b, err := json.Marshal(got)
			require.NoError(t, err)
			require.NotContains(t, string(b), got.TokenHash, "the digest serialises to JSON")
		})

		t.Run("Errors", func(t *testing.T) {
			past := e.clock.Now().Add(-time.Second)
			now := e.clock.Now()
			before := snapshotTables(t, e.s.DB)
			for name, tc := range map[string]struct {
				user    models.UUID
				name    string
				expires *time.Time
				want    error
			}{
				"empty name":     {uid, "", nil, repositories.ErrInvalidInput},
				"past expiry":    {uid, "x", &past, repositories.ErrInvalidInput},
				"expiry now":     {uid, "x", &now, repositories.ErrInvalidInput},
				"malformed user": {"u", "x", nil, repositories.ErrInvalidInput},
				"unknown user":   {models.NewUUID(), "x", nil, repositories.ErrConflict},
			} {
				_, _, err := e.pats.Create(ctx, tc.user, tc.name, nil, tc.expires)
				require.ErrorIs(t, err, tc.want, "%s: Create = %v; want %v", name, err, tc.want)
			}
			require.Equal(t, before, snapshotTables(t, e.s.DB))
			for _, tok := range []string{"", "asp_", "nope", "asp_" + strings.Repeat("A", 43), strings.Repeat("a", 1000)} {
				_, err := e.pats.Find(ctx, tok)
				require.ErrorIs(t, err, repositories.ErrNotFound, "Find(%.20q)", tok)
			}
			_, err := e.pats.ListForUser(ctx, "u")
			require.ErrorIs(t, err, repositories.ErrInvalidInput)
		})

		t.Run("Revoke", func(t *testing.T) {
			tok, row, err := e.pats.Create(ctx, uid, "x", nil, nil)
			require.NoError(t, err)
			other := e.user(t, "o@example.com")
			require.ErrorIs(t, e.pats.Revoke(ctx, other, row.ID), repositories.ErrNotFound, "another user revoked my token")
			_, err = e.pats.Find(ctx, tok)
			require.NoError(t, err)
			require.NoError(t, e.pats.Revoke(ctx, uid, row.ID))
			_, err = e.pats.Find(ctx, tok)
			require.ErrorIs(t, err, repositories.ErrRevoked)
			require.NoError(t, e.pats.Revoke(ctx, uid, row.ID), "revoking twice is a no-op")
			require.EqualValues(t, 1, countEvents(t, e.s.DB, hooks.EventPersonalTokenRevoked))
			require.ErrorIs(t, e.pats.Revoke(ctx, uid, models.NewUUID()), repositories.ErrNotFound)
		})
	})
}

// TestOAuthWithTx shows the repositories composing in a caller's
// transaction: a rollback undoes all of them.
func TestOAuthWithTx(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b Backend) {
		e := newOAuthEnv(t, b)
		ctx := requestCtx()
		uid := e.user(t, "u@example.com")
		before := snapshotTables(t, e.s.DB)
		stop := errors.New("roll back")
		err := e.s.DB.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
			c, _, err := e.clients.WithTx(tx).Create(ctx, repositories.ClientInput{Name: "tx", RedirectURIs: []string{oauthRedirect}})
			require.NoError(t, err)
			_, err = e.refresh.WithTx(tx).Issue(ctx, c.ID, &uid, nil)
			require.NoError(t, err)
			_, _, err = e.pats.WithTx(tx).Create(ctx, uid, "tx", nil, nil)
			require.NoError(t, err)
			_, _, err = e.access.WithTx(tx).Issue(ctx, c.ID, nil, nil, nil)
			require.NoError(t, err)
			v, _ := hooks.NewPKCEVerifier()
			_, _, err = e.codes.WithTx(tx).Create(ctx, repositories.AuthCodeInput{ClientID: c.ID, UserID: uid, RedirectURI: oauthRedirect, CodeChallenge: hooks.S256Challenge(v), CodeChallengeMethod: "S256"})
			require.NoError(t, err)
			return stop
		})
		require.ErrorIs(t, err, stop)
		require.Equal(t, before, snapshotTables(t, e.s.DB), "the caller's rollback left rows behind")
	})
}
