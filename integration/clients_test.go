package integration

// Tests of repositories.Clients (table oauth_clients): each method's
// success and error paths, and SECURITY.md 4, 17, 18 and 19 (secret
// storage, exact redirect URIs, secret verification, what revoking or
// deleting a client or user kills).

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/forgeauth/authstore/hooks"
	"github.com/forgeauth/authstore/models"
	"github.com/forgeauth/authstore/protocol"
	"github.com/forgeauth/authstore/repositories"
	"github.com/stretchr/testify/require"
)

// uuidOf converts a string to a models.UUID without checking it.
func uuidOf(s string) models.UUID { return models.UUID(s) }

func TestClientsCreate(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b Backend) {
		f := newFixture(t, b)
		ctx := requestCtx()
		owner := f.user(t, "owner@example.com").ID

		t.Run("Confidential", func(t *testing.T) {
			c, secret, err := f.s.Clients.Create(ctx, repositories.ClientInput{
				Name: "  Billing  ", RedirectURIs: []string{redirectURI, redirectURI}, Confidential: true,
				Scopes: []string{"read", "read", "write"}, UserID: &owner,
			})
			require.NoError(t, err)
			require.True(t, c.ID.Valid())
			require.Equal(t, "Billing", c.Name)
			require.Equal(t, models.Strings{redirectURI}, c.RedirectURIs, "duplicate redirect uris are dropped")
			require.Equal(t, models.Strings{"read", "write"}, c.Scopes)
			require.Equal(t, models.Strings{protocol.GrantAuthorizationCode, protocol.GrantRefreshToken}, c.GrantTypes, "default grant types")
			require.True(t, c.Confidential)
			require.NotNil(t, c.SecretHash)
			require.True(t, hooks.IsArgon2id(*c.SecretHash))
			require.Empty(t, c.Secret)
			require.True(t, c.CreatedAt.Equal(f.clock.Now()))

			got, err := f.s.Clients.Find(ctx, c.ID)
			require.NoError(t, err)
			require.Equal(t, *c.SecretHash, *got.SecretHash)
			require.Equal(t, c.RedirectURIs, got.RedirectURIs)
			require.Equal(t, &owner, got.UserID)

			ok, err := hooks.DefaultHasher().Verify(*got.SecretHash, secret)
			require.NoError(t, err)
			require.True(t, ok, "the stored hash does not verify the returned secret")

			// client.created is written once, by the model hook, with the
			// owner and the request metadata.
			require.EqualValues(t, 1, countRows(t, f.s.DB(), "user_activity_log", "event = ? AND user_id = ?", string(models.EventClientCreated), owner))
			a := lastEvent(t, f.s.DB(), models.EventClientCreated)
			require.Equal(t, requestIP, a.IPAddress)
			require.Equal(t, requestUA, a.UserAgent)
			require.Contains(t, a.Metadata, string(c.ID))
		})

		t.Run("Public", func(t *testing.T) {
			before := countEvents(t, f.s.DB(), models.EventClientCreated)
			c := f.publicClient(t)
			require.False(t, c.Confidential)
			require.Nil(t, c.SecretHash)
			require.EqualValues(t, before+1, countEvents(t, f.s.DB(), models.EventClientCreated))
		})

		t.Run("PersonalAccessClient", func(t *testing.T) {
			c, _, err := f.s.Clients.Create(ctx, repositories.ClientInput{Name: "PAT", PersonalAccessClient: true})
			require.NoError(t, err)
			require.Equal(t, models.Strings{protocol.GrantPersonalAccess}, c.GrantTypes)
		})

		t.Run("ErrInvalidInput", func(t *testing.T) {
			bad := uuidOf("not-a-uuid")
			for name, tc := range map[string]struct {
				in   repositories.ClientInput
				want string
			}{
				"empty name":              {repositories.ClientInput{Name: " ", RedirectURIs: []string{redirectURI}}, "client name is empty"},
				"long name":               {repositories.ClientInput{Name: strings.Repeat("n", 256), RedirectURIs: []string{redirectURI}}, "longer than"},
				"fragment":                {repositories.ClientInput{Name: "x", RedirectURIs: []string{"https://a.example/cb#x"}}, "fragment"},
				"relative":                {repositories.ClientInput{Name: "x", RedirectURIs: []string{"/cb"}}, "not absolute"},
				"http remote":             {repositories.ClientInput{Name: "x", RedirectURIs: []string{"http://a.example/cb"}}, "http on a host"},
				"custom scheme no dot":    {repositories.ClientInput{Name: "x", RedirectURIs: []string{"myapp:/cb"}}, "private-use scheme"},
				"no redirect for code":    {repositories.ClientInput{Name: "x"}, "needs at least one redirect uri"},
				"unknown grant":           {repositories.ClientInput{Name: "x", RedirectURIs: []string{redirectURI}, GrantTypes: []string{"password"}}, "grant type"},
				"public with client cred": {repositories.ClientInput{Name: "x", GrantTypes: []string{protocol.GrantClientCredentials}}, "public client cannot"},
				"bad scope":               {repositories.ClientInput{Name: "x", RedirectURIs: []string{redirectURI}, Scopes: []string{"a b"}}, "scope 0"},
				"malformed owner":         {repositories.ClientInput{Name: "x", RedirectURIs: []string{redirectURI}, UserID: &bad}, "owner user id"},
			} {
				before := snapshotTables(t, f.s.DB())
				_, _, err := f.s.Clients.Create(ctx, tc.in)
				require.ErrorIs(t, err, repositories.ErrInvalidInput, "%s: Create = %v; want ErrInvalidInput", name, err)
				require.Contains(t, err.Error(), tc.want, name)
				require.Equal(t, before, snapshotTables(t, f.s.DB()), "%s: a refused Create wrote rows", name)
			}
		})

		t.Run("ErrMissingReferent", func(t *testing.T) {
			ghost := models.NewUUID()
			before := snapshotTables(t, f.s.DB())
			_, _, err := f.s.Clients.Create(ctx, repositories.ClientInput{Name: "x", RedirectURIs: []string{redirectURI}, UserID: &ghost})
			require.ErrorIs(t, err, repositories.ErrMissingReferent, "Create(owner that does not exist) = %v; want ErrMissingReferent", err)
			require.Equal(t, before, snapshotTables(t, f.s.DB()))
		})
	})
}

func TestClientsFindListUpdate(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b Backend) {
		f := newFixture(t, b)
		ctx := requestCtx()
		var ids []models.UUID
		for range 3 {
			ids = append(ids, f.publicClient(t).ID)
			f.clock.Advance(time.Second)
		}

		t.Run("Find", func(t *testing.T) {
			c, err := f.s.Clients.Find(ctx, ids[1])
			require.NoError(t, err)
			require.Equal(t, ids[1], c.ID)
			for _, id := range []models.UUID{models.NewUUID(), "", "nope", models.UUID(strings.ToUpper(string(ids[1])))} {
				_, err := f.s.Clients.Find(ctx, id)
				require.ErrorIs(t, err, idErr(id, repositories.ErrNotFound), "Find(%q) = %v; want %v", id, err, idErr(id, repositories.ErrNotFound))
			}
		})

		t.Run("List", func(t *testing.T) {
			all, err := f.s.Clients.List(ctx, 10, 0)
			require.NoError(t, err)
			require.Len(t, all, 3)
			for i, c := range all {
				require.Equal(t, ids[i], c.ID, "List is ordered oldest first")
			}
			page, err := f.s.Clients.List(ctx, 1, 1)
			require.NoError(t, err)
			require.Len(t, page, 1)
			require.Equal(t, ids[1], page[0].ID)
			none, err := f.s.Clients.List(ctx, 10, 3)
			require.NoError(t, err)
			require.Empty(t, none)
			for _, lo := range [][2]int{{0, 0}, {1001, 0}, {10, -1}} {
				_, err := f.s.Clients.List(ctx, lo[0], lo[1])
				require.ErrorIs(t, err, repositories.ErrInvalidInput, "List(%d, %d)", lo[0], lo[1])
			}
		})

		t.Run("Update", func(t *testing.T) {
			f.clock.Advance(time.Minute)
			uris := []string{"https://new.example.com/cb", "com.example.app:/cb"}
			c, err := f.s.Clients.Update(ctx, ids[0], " Renamed ", uris)
			require.NoError(t, err)
			require.Equal(t, "Renamed", c.Name)
			require.Equal(t, models.Strings(uris), c.RedirectURIs)
			got, err := f.s.Clients.Find(ctx, ids[0])
			require.NoError(t, err)
			require.Equal(t, "Renamed", got.Name)
			require.Equal(t, models.Strings(uris), got.RedirectURIs)
			require.True(t, got.UpdatedAt.Equal(f.clock.Now()), "UpdatedAt = %v; want %v", got.UpdatedAt, f.clock.Now())

			_, err = f.s.Clients.Update(ctx, ids[0], "x", []string{"https://x.example/cb/#"})
			require.ErrorIs(t, err, repositories.ErrInvalidInput)
			_, err = f.s.Clients.Update(ctx, ids[0], "x", nil)
			require.ErrorIs(t, err, repositories.ErrInvalidInput, "an authorization_code client needs a redirect uri")
			_, err = f.s.Clients.Update(ctx, ids[0], "", uris)
			require.ErrorIs(t, err, repositories.ErrInvalidInput)
			_, err = f.s.Clients.Update(ctx, models.NewUUID(), "x", uris)
			require.ErrorIs(t, err, repositories.ErrNotFound)

			require.NoError(t, f.s.Clients.Revoke(ctx, ids[2]))
			_, err = f.s.Clients.Update(ctx, ids[2], "x", uris)
			require.ErrorIs(t, err, repositories.ErrRevoked)
		})
	})
}

func TestClientsSecretLifecycle(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b Backend) {
		f := newFixture(t, b)
		ctx := requestCtx()
		owner := f.user(t, "owner@example.com").ID
		c, secret := f.confidentialClient(t, &owner)

		t.Run("ValidateCredentials", func(t *testing.T) {
			got, err := f.s.Clients.ValidateCredentials(ctx, c.ID, secret)
			require.NoError(t, err)
			require.Equal(t, c.ID, got.ID)
			// The second call is served by the cache: no Argon2id run.
			n := allocatedBytes(func() {
				_, err = f.s.Clients.ValidateCredentials(ctx, c.ID, secret)
			})
			require.NoError(t, err)
			require.Less(t, n, uint64(hooks.DefaultHasher().Params().Memory)*1024/2, "a cached verification allocated %d bytes", n)
		})

		t.Run("RotateSecret", func(t *testing.T) {
			next, err := f.s.Clients.RotateSecret(ctx, c.ID)
			require.NoError(t, err)
			require.NotEqual(t, secret, next)
			// The old secret was cached as verified; rotation invalidates it.
			_, err = f.s.Clients.ValidateCredentials(ctx, c.ID, secret)
			require.ErrorIs(t, err, repositories.ErrInvalidCredentials, "the old secret still works after rotation")
			_, err = f.s.Clients.ValidateCredentials(ctx, c.ID, next)
			require.NoError(t, err)
			require.EqualValues(t, 1, countRows(t, f.s.DB(), "user_activity_log", "event = ? AND user_id = ?", string(models.EventClientSecretRotated), owner))
			secret = next

			pub := f.publicClient(t)
			_, err = f.s.Clients.RotateSecret(ctx, pub.ID)
			require.ErrorIs(t, err, repositories.ErrInvalidInput, "RotateSecret(public client)")
			_, err = f.s.Clients.RotateSecret(ctx, models.NewUUID())
			require.ErrorIs(t, err, repositories.ErrNotFound)
		})

		t.Run("Revoke", func(t *testing.T) {
			require.NoError(t, f.s.Clients.Revoke(ctx, c.ID))
			// Revocation is seen at once, although the secret is cached.
			_, err := f.s.Clients.ValidateCredentials(ctx, c.ID, secret)
			require.ErrorIs(t, err, repositories.ErrInvalidCredentials)
			got, err := f.s.Clients.Find(ctx, c.ID)
			require.NoError(t, err)
			require.True(t, got.Revoked)
			require.NoError(t, f.s.Clients.Revoke(ctx, c.ID), "revoking twice is a no-op")
			require.EqualValues(t, 1, countEvents(t, f.s.DB(), models.EventClientRevoked))
			_, err = f.s.Clients.RotateSecret(ctx, c.ID)
			require.ErrorIs(t, err, repositories.ErrRevoked)
			require.ErrorIs(t, f.s.Clients.Revoke(ctx, models.NewUUID()), repositories.ErrNotFound)
		})

		t.Run("Delete", func(t *testing.T) {
			require.NoError(t, f.s.Clients.Delete(ctx, c.ID))
			_, err := f.s.Clients.Find(ctx, c.ID)
			require.ErrorIs(t, err, repositories.ErrNotFound)
			require.EqualValues(t, 1, countRows(t, f.s.DB(), "user_activity_log", "event = ? AND user_id = ?", string(models.EventClientDeleted), owner))
			require.ErrorIs(t, f.s.Clients.Delete(ctx, c.ID), repositories.ErrNotFound)
			require.ErrorIs(t, f.s.Clients.Delete(ctx, "junk"), repositories.ErrInvalidInput)
		})
	})
}

// TestClientsSecretsAreArgon2id checks that client secrets are
// stored as Argon2id PHC strings at or above OWASP's floor with a salt of
// at least 16 bytes, and that equal secrets hash differently.
//
// SECURITY 4: client secrets are Argon2id PHC strings at or above OWASP's floor, salt ≥ 16 bytes; equal secrets hash differently.
func TestClientsSecretsAreArgon2id(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b Backend) {
		f := newFixture(t, b)
		ctx := requestCtx()
		c, _ := f.confidentialClient(t, nil)
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
		require.NoError(t, f.s.DB().Raw("SELECT secret FROM oauth_clients WHERE id = ?", c.ID).Scan(&stored).Error)
		check(stored)
		_, err := f.s.Clients.RotateSecret(ctx, c.ID)
		require.NoError(t, err)
		var rotated string
		require.NoError(t, f.s.DB().Raw("SELECT secret FROM oauth_clients WHERE id = ?", c.ID).Scan(&rotated).Error)
		check(rotated)
		require.NotEqual(t, stored, rotated)

		// Equal secrets (set by a host through the model hook) hash
		// differently and each verifies.
		var hashes []string
		for i := range 2 {
			m := &models.Client{Name: fmt.Sprint("host ", i), Secret: "the same secret", Confidential: true}
			require.NoError(t, f.s.DB().WithContext(ctx).Create(m).Error)
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

// TestClientsRedirectURIsMatchExactly checks registration-time
// validation and exact matching at use, where only a loopback IP URI may
// vary its port, and that the exchange wants the URI the code was issued
// for.
//
// SECURITY 17: redirect URIs match exactly; only a loopback http://127.0.0.1:{port} may vary the port.
func TestClientsRedirectURIsMatchExactly(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b Backend) {
		f := newFixture(t, b)
		ctx := requestCtx()
		uid := f.user(t, "u@example.com").ID
		for _, bad := range []string{"https://a.example/cb#f", "http://a.example/cb", "javascript:alert(1)", "/cb", "https://u:p@a.example/cb", "myapp:/cb"} {
			_, _, err := f.s.Clients.Create(ctx, repositories.ClientInput{Name: "x", RedirectURIs: []string{redirectURI, bad}})
			require.ErrorIs(t, err, repositories.ErrInvalidInput, "registered %q", bad)
			require.Contains(t, err.Error(), "redirect uri")
		}
		c, _, err := f.s.Clients.Create(ctx, repositories.ClientInput{Name: "native", RedirectURIs: []string{redirectURI, loopbackURI, "http://[::1]/cb", "com.example.app:/cb"}})
		require.NoError(t, err)
		v, _ := protocol.NewVerifier()
		create := func(uri string) (string, error) {
			_, code, err := f.s.AuthCodes.Create(ctx, repositories.AuthCodeInput{ClientID: c.ID, UserID: uid, RedirectURI: uri, CodeChallenge: protocol.S256Challenge(v), CodeChallengeMethod: "S256"})
			return code, err
		}
		for _, uri := range []string{
			redirectURI + "/", "https://app.example.com/CB", "https://APP.example.com/cb", redirectURI + "?x=1",
			redirectURI + "#x", "https://app.example.com/c", redirectURI + "b", "https://app.example.com:443/cb",
			"http://app.example.com/cb", "http://127.0.0.1:8080/cb/", "http://127.0.0.1:8080/cb?x", "http://localhost:8080/cb",
			"https://127.0.0.1:8080/cb", "com.example.app:/cb/", "com.example.app:/CB",
		} {
			_, err := create(uri)
			require.ErrorIs(t, err, repositories.ErrInvalidInput, "redirect uri %q accepted", uri)
		}
		for _, uri := range []string{redirectURI, loopbackURI, "http://127.0.0.1:51234/cb", "http://127.0.0.1/cb", "http://[::1]:4000/cb", "com.example.app:/cb"} {
			_, err := create(uri)
			require.NoError(t, err, "redirect uri %q refused", uri)
		}
		code, err := create("http://127.0.0.1:51234/cb")
		require.NoError(t, err)
		_, err = f.s.AuthCodes.Exchange(ctx, authed(f.s, c.ID), code, loopbackURI, v)
		require.ErrorIs(t, err, repositories.ErrInvalidInput, "the exchange must repeat the port the code was issued for")
		_, err = f.s.AuthCodes.Exchange(ctx, authed(f.s, c.ID), code, "http://127.0.0.1:51234/cb", v)
		require.NoError(t, err)
	})
}

// TestClientsSecretShownOnceFailuresAlike checks that a client secret is shown once,
// and that a wrong secret, an unknown (or malformed) client id, a public
// client and a revoked client fail the same way after the same Argon2id
// work.
//
// SECURITY 18: a client secret is shown once; a wrong secret and an unknown client id fail the same way and cost the same hashing work.
func TestClientsSecretShownOnceFailuresAlike(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b Backend) {
		f := newFixture(t, b)
		ctx := requestCtx()
		c, secret := f.confidentialClient(t, nil)
		revoked, revokedSecret := f.confidentialClient(t, nil)
		require.NoError(t, f.s.Clients.Revoke(ctx, revoked.ID))
		pub := f.publicClient(t)

		t.Run("ShownOnce", func(t *testing.T) {
			got, err := f.s.Clients.Find(ctx, c.ID)
			require.NoError(t, err)
			require.Empty(t, got.Secret)
			require.NotContains(t, *got.SecretHash, secret)
			js, err := json.Marshal(got)
			require.NoError(t, err)
			require.NotContains(t, string(js), *got.SecretHash, "the hash serialises to JSON")
			require.NotContains(t, fmt.Sprintf("%v %+v %s", got, got, got), *got.SecretHash, "the hash prints")
			list, err := f.s.Clients.List(ctx, 100, 0)
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
				n := allocatedBytes(func() { _, err = f.s.Clients.ValidateCredentials(ctx, tc.id, tc.secret) })
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
			n = allocatedBytes(func() { _, err = f.s.Clients.ValidateCredentials(ctx, c.ID, secret) })
			require.NoError(t, err)
			require.GreaterOrEqual(t, n, mem, "the first good verification")
		})
	})
}

// TestClientsRevokeOrDeleteKillsTokens checks that revoking or
// deleting a client, or deleting a user, kills all their tokens and codes.
//
// SECURITY 19: revoking or deleting a client or a user kills all its tokens, codes and sessions.
func TestClientsRevokeOrDeleteKillsTokens(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b Backend) {
		f := newFixture(t, b)
		ctx := requestCtx()
		uid := f.user(t, "u@example.com").ID
		type grantOf struct {
			pair     *repositories.TokenPair
			ccJWT    string
			code, cv string
		}
		grantFor := func(client models.UUID, user models.UUID) grantOf {
			p := f.pair(t, client, &user)
			_, cc, err := f.s.AccessTokens.Issue(ctx, client, &user, nil, nil) // outside any grant
			require.NoError(t, err)
			code, cv := f.code(t, client, user)
			return grantOf{p, cc, code, cv}
		}
		dead := func(g grantOf, client models.UUID, want error) {
			t.Helper()
			for _, at := range []string{g.pair.AccessToken, g.ccJWT} {
				_, err := f.s.AccessTokens.Validate(ctx, at)
				require.ErrorIs(t, err, want, "access token")
			}
			_, err := f.s.RefreshTokens.Rotate(ctx, authed(f.s, client), g.pair.RefreshToken, nil)
			require.ErrorIs(t, err, want, "refresh token")
			_, err = f.s.AuthCodes.Exchange(ctx, authed(f.s, client), g.code, redirectURI, g.cv)
			require.ErrorIs(t, err, want, "authorization code")
		}

		t.Run("RevokeClient", func(t *testing.T) {
			c, secret := f.confidentialClient(t, nil)
			g := grantFor(c.ID, uid)
			other := f.publicClient(t)
			og := grantFor(other.ID, uid)
			// Authenticated before the revocation, as a request in flight
			// is: the token calls still refuse, inside their transaction.
			require.NotZero(t, authed(f.s, c.ID).ID())
			require.NoError(t, f.s.Clients.Revoke(ctx, c.ID))
			_, err := f.s.Clients.Authenticate(ctx, c.ID, secret)
			require.ErrorIs(t, err, repositories.ErrInvalidCredentials, "a revoked client authenticated")
			dead(g, c.ID, repositories.ErrRevoked)
			_, err = f.s.Clients.ValidateCredentials(ctx, c.ID, secret)
			require.ErrorIs(t, err, repositories.ErrInvalidCredentials)
			for _, table := range []string{"oauth_access_tokens", "oauth_refresh_tokens", "oauth_authorization_codes"} {
				require.Zero(t, countRows(t, f.s.DB(), table, "client_id = ? AND revoked = ?", c.ID, false), "%s of a revoked client", table)
			}
			_, _, err = f.s.AccessTokens.Issue(ctx, c.ID, nil, nil, nil)
			require.ErrorIs(t, err, repositories.ErrRevoked)
			_, err = f.s.RefreshTokens.Issue(ctx, c.ID, &uid, nil)
			require.ErrorIs(t, err, repositories.ErrRevoked)
			a := lastEvent(t, f.s.DB(), models.EventClientRevoked)
			require.Contains(t, a.Metadata, string(c.ID))
			// Another client's grant is untouched.
			_, err = f.s.AccessTokens.Validate(ctx, og.pair.AccessToken)
			require.NoError(t, err)
		})

		t.Run("DeleteClient", func(t *testing.T) {
			c := f.publicClient(t)
			g := grantFor(c.ID, uid)
			require.NotZero(t, authed(f.s, c.ID).ID(), "authenticated before the deletion, as a request in flight")
			require.NoError(t, f.s.Clients.Delete(ctx, c.ID))
			dead(g, c.ID, repositories.ErrNotFound)
			for _, table := range []string{"oauth_access_tokens", "oauth_refresh_tokens", "oauth_authorization_codes"} {
				require.Zero(t, countRows(t, f.s.DB(), table, "client_id = ?", c.ID), "%s rows of a deleted client", table)
			}
		})

		t.Run("DeleteUser", func(t *testing.T) {
			victim := f.user(t, "victim@example.com").ID
			unowned := f.publicClient(t)
			c := f.publicClient(t)
			g := grantFor(c.ID, victim)
			ownedClient, _, err := f.s.Clients.Create(ctx, repositories.ClientInput{Name: "owned", RedirectURIs: []string{redirectURI}, UserID: &victim})
			require.NoError(t, err)
			_, pat, err := f.s.PersonalTokens.Create(ctx, victim, "x", nil, nil)
			require.NoError(t, err)
			service, _ := f.confidentialClient(t, nil)
			_, ccJWT, err := f.s.AccessTokens.IssueClientCredentials(ctx, authed(f.s, service.ID), nil)
			require.NoError(t, err)
			require.NoError(t, f.s.DB().WithContext(ctx).Delete(&models.User{}, "id = ?", victim).Error)
			for _, at := range []string{g.pair.AccessToken} {
				_, err := f.s.AccessTokens.Validate(ctx, at)
				require.ErrorIs(t, err, repositories.ErrNotFound)
			}
			_, err = f.s.RefreshTokens.Rotate(ctx, authed(f.s, c.ID), g.pair.RefreshToken, nil)
			require.ErrorIs(t, err, repositories.ErrNotFound)
			_, err = f.s.AuthCodes.Exchange(ctx, authed(f.s, c.ID), g.code, redirectURI, g.cv)
			require.ErrorIs(t, err, repositories.ErrNotFound)
			_, err = f.s.PersonalTokens.Find(ctx, pat)
			require.ErrorIs(t, err, repositories.ErrNotFound)
			_, err = f.s.Clients.Find(ctx, ownedClient.ID)
			require.ErrorIs(t, err, repositories.ErrNotFound, "a client owned by a deleted user survived")
			_, err = f.s.Clients.Find(ctx, unowned.ID)
			require.NoError(t, err)
			// A client-credentials token has no user and lives on; the
			// victim's token outside any grant went with the victim.
			_, err = f.s.AccessTokens.Validate(ctx, ccJWT)
			require.NoError(t, err)
			_, err = f.s.AccessTokens.Validate(ctx, g.ccJWT)
			require.ErrorIs(t, err, repositories.ErrNotFound)
		})
	})
}

// TestClientsRevocationRacesAccessTokenIssues races a client's revocation
// against 20 access-token issues: each issue either fails with ErrRevoked
// or is revoked by it.
//
// SECURITY 19: no access token outlives its client's revocation, even issued concurrently with it.
func TestClientsRevocationRacesAccessTokenIssues(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b Backend) {
		f := newFixture(t, b)
		ctx := context.Background()
		c, _, err := f.s.Clients.Create(ctx, repositories.ClientInput{Name: "race", RedirectURIs: []string{redirectURI}, Confidential: true,
			GrantTypes: []string{protocol.GrantClientCredentials}})
		require.NoError(t, err)
		var unexpected []error
		var mu = make(chan struct{}, 1)
		barrier(21, func(i int) {
			var err error
			if i == 0 {
				err = f.s.Clients.Revoke(ctx, c.ID)
			} else {
				_, _, err = f.s.AccessTokens.Issue(ctx, c.ID, nil, nil, nil)
				if errors.Is(err, repositories.ErrRevoked) {
					err = nil
				}
			}
			if err != nil {
				mu <- struct{}{}
				unexpected = append(unexpected, err)
				<-mu
			}
		})
		require.Empty(t, unexpected)
		require.Zero(t, countRows(t, f.s.DB(), "oauth_access_tokens", "client_id = ? AND revoked = ?", c.ID, false),
			"access tokens of a revoked client left unrevoked")
		_, _, err = f.s.AccessTokens.Issue(ctx, c.ID, nil, nil, nil)
		require.ErrorIs(t, err, repositories.ErrRevoked, "Issue after the revocation = %v; want ErrRevoked", err)
	})
}

// TestClientsProviderMetadata: what an OpenID provider reads of a client
// (package oidcstore) is stored, read back, and validated.
func TestClientsProviderMetadata(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b Backend) {
		f := newFixture(t, b)
		ctx := requestCtx()
		in := repositories.ClientInput{Name: "Web", Confidential: true, RedirectURIs: []string{redirectURI},
			ProviderMetadata: repositories.ProviderMetadata{ResponseTypes: []string{"code"}, TokenEndpointAuthMethod: models.AuthMethodPost,
				AccessTokenType: models.AccessTokenOpaque, PostLogoutRedirectURIs: []string{"https://app.example.com/bye"},
				Audiences: []string{"https://api.example.com"}, IDTokenLifetime: 15 * time.Minute}}
		c, _, err := f.s.Clients.Create(ctx, in)
		require.NoError(t, err)
		got, err := f.s.Clients.Find(ctx, c.ID)
		require.NoError(t, err)
		require.Equal(t, models.Strings{"code"}, got.ResponseTypes)
		require.Equal(t, models.AuthMethodPost, *got.TokenEndpointAuthMethod)
		require.Equal(t, models.AccessTokenOpaque, *got.AccessTokenType)
		require.Equal(t, models.Strings{"https://app.example.com/bye"}, got.PostLogoutRedirectURIs)
		require.Equal(t, models.Strings{"https://api.example.com"}, got.Audiences)
		require.Equal(t, int64(900), *got.IDTokenLifetime)

		plain, _, err := f.s.Clients.Create(ctx, repositories.ClientInput{Name: "Plain", RedirectURIs: []string{redirectURI}})
		require.NoError(t, err)
		got, err = f.s.Clients.Find(ctx, plain.ID)
		require.NoError(t, err)
		require.Nil(t, got.TokenEndpointAuthMethod, "no method registered: the default")
		require.Nil(t, got.AccessTokenType)
		require.Nil(t, got.IDTokenLifetime)

		for name, edit := range map[string]func(*repositories.ClientInput){
			"Implicit":          func(in *repositories.ClientInput) { in.ResponseTypes = []string{"token"} },
			"PublicWithSecret":  func(in *repositories.ClientInput) { in.Confidential = false },
			"ConfidentialNone":  func(in *repositories.ClientInput) { in.TokenEndpointAuthMethod = models.AuthMethodNone },
			"PrivateKeyJWT":     func(in *repositories.ClientInput) { in.TokenEndpointAuthMethod = "private_key_jwt" },
			"TokenType":         func(in *repositories.ClientInput) { in.AccessTokenType = "macaroon" },
			"LogoutURIFragment": func(in *repositories.ClientInput) { in.PostLogoutRedirectURIs = []string{"https://app.example.com/#x"} },
			"EmptyAudience":     func(in *repositories.ClientInput) { in.Audiences = []string{""} },
			"AudienceLineBreak": func(in *repositories.ClientInput) { in.Audiences = []string{"a\nb"} },
			"IDTokenMillis":     func(in *repositories.ClientInput) { in.IDTokenLifetime = 1500 * time.Millisecond },
			"IDTokenTwoDays":    func(in *repositories.ClientInput) { in.IDTokenLifetime = 48 * time.Hour },
		} {
			x := in
			edit(&x)
			_, _, err := f.s.Clients.Create(ctx, x)
			require.ErrorIs(t, err, repositories.ErrInvalidInput, "%s: Create = %v", name, err)
		}
	})
}
