package integration

// Tests of repositories.AuthRequests (table oauth_auth_requests), the
// pending authorization requests of the OpenID provider adapter: each
// method's success and error paths, one winner of concurrent redemptions,
// replay, expiry. The provider's own tests are in oidcstore_test.go.

import (
	"strings"
	"testing"
	"time"

	"github.com/forgeauth/authstore/hooks"
	"github.com/forgeauth/authstore/models"
	"github.com/forgeauth/authstore/protocol"
	"github.com/forgeauth/authstore/repositories"
	"github.com/stretchr/testify/require"
)

// authRequestInput is a valid request of client c with PKCE.
func authRequestInput(c models.UUID, scopes ...string) repositories.AuthRequestInput {
	v, _ := protocol.NewVerifier()
	return repositories.AuthRequestInput{ClientID: c, RedirectURI: redirectURI, Scopes: scopes, State: "st", Nonce: "n",
		ResponseType: repositories.ResponseTypeCode, CodeChallenge: protocol.S256Challenge(v), CodeChallengeMethod: protocol.PKCEMethodS256}
}

// completedCode creates a request, logs uid in for it and saves a code,
// which it returns with the request.
func (f *fixture) completedCode(t *testing.T, c, uid models.UUID, scopes ...string) (*models.AuthRequest, string) {
	t.Helper()
	ctx := requestCtx()
	r, err := f.s.AuthRequests.Create(ctx, authRequestInput(c, scopes...))
	require.NoError(t, err)
	require.NoError(t, f.s.AuthRequests.Complete(ctx, r.ID, uid, f.clock.Now(), []string{"pwd"}))
	code, err := hooks.NewToken()
	require.NoError(t, err)
	require.NoError(t, f.s.AuthRequests.SaveCode(ctx, r.ID, code))
	return r, code
}

func TestAuthRequestsLifecycle(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b Backend) {
		f := newFixture(t, b)
		ctx := requestCtx()
		uid := f.user(t, "u@example.com").ID
		c := f.publicClient(t)

		t.Run("OK", func(t *testing.T) {
			r, err := f.s.AuthRequests.Create(ctx, authRequestInput(c.ID, "openid", "read", "offline_access"))
			require.NoError(t, err)
			require.True(t, r.ExpiresAt.Equal(f.clock.Now().Add(repositories.DefaultAuthRequestLifetime)))
			found, err := f.s.AuthRequests.Find(ctx, r.ID)
			require.NoError(t, err)
			require.False(t, found.Done)
			require.Equal(t, "n", found.Nonce)

			at := f.clock.Now().Add(-time.Second)
			require.NoError(t, f.s.AuthRequests.Complete(ctx, r.ID, uid, at, []string{"pwd"}))
			found, err = f.s.AuthRequests.Find(ctx, r.ID)
			require.NoError(t, err)
			require.True(t, found.Done)
			require.Equal(t, uid, *found.UserID)
			require.True(t, found.AuthTime.Equal(at))
			require.Equal(t, models.Strings{"pwd"}, found.AMR)

			code, err := hooks.NewToken()
			require.NoError(t, err)
			require.NoError(t, f.s.AuthRequests.SaveCode(ctx, r.ID, code))
			require.Equal(t, int64(1), countRows(t, f.s.DB(), "oauth_auth_requests", "code_hash = ?", hooks.Digest(code)), "the code's digest is stored")
			found, err = f.s.AuthRequests.Find(ctx, r.ID)
			require.NoError(t, err)
			require.True(t, found.ExpiresAt.Equal(f.clock.Now().Add(600*time.Second)), "a saved code lives OAUTH_AUTH_CODE_LIFETIME")

			row, pair, err := f.s.AuthRequests.Redeem(ctx, code)
			require.NoError(t, err)
			require.Equal(t, r.ID, row.ID)
			require.Equal(t, r.ID, pair.FamilyID, "the grant's family is the request's id")
			require.NotEmpty(t, pair.RefreshToken, "offline_access and the refresh_token grant")
			next, err := f.s.RefreshTokens.Rotate(ctx, authed(f.s, c.ID), pair.RefreshToken, nil)
			require.NoError(t, err)
			require.Equal(t, r.ID, next.FamilyID)

			require.NoError(t, f.s.AuthRequests.Delete(ctx, r.ID))
			require.Equal(t, int64(1), countRows(t, f.s.DB(), "oauth_auth_requests", "id = ?", r.ID), "a redeemed request is kept for replay detection")
		})
		t.Run("AccessTokenAloneWithoutOfflineAccess", func(t *testing.T) {
			_, code := f.completedCode(t, c.ID, uid, "openid")
			_, pair, err := f.s.AuthRequests.Redeem(ctx, code)
			require.NoError(t, err)
			require.Empty(t, pair.RefreshToken)
			require.NotEmpty(t, pair.AccessTokenID)
		})
		t.Run("CreateErrors", func(t *testing.T) {
			noCode, _, err := f.s.Clients.Create(ctx, repositories.ClientInput{Name: "cc", Confidential: true, GrantTypes: []string{protocol.GrantClientCredentials}})
			require.NoError(t, err)
			limited, _, err := f.s.Clients.Create(ctx, repositories.ClientInput{Name: "l", RedirectURIs: []string{redirectURI}, Scopes: []string{"read"}})
			require.NoError(t, err)
			for name, tc := range map[string]struct {
				edit func(*repositories.AuthRequestInput)
				want error
			}{
				"MalformedClient":   {func(in *repositories.AuthRequestInput) { in.ClientID = "x" }, repositories.ErrInvalidInput},
				"UnknownClient":     {func(in *repositories.AuthRequestInput) { in.ClientID = models.NewUUID() }, repositories.ErrNotFound},
				"NoRedirect":        {func(in *repositories.AuthRequestInput) { in.RedirectURI = "" }, repositories.ErrInvalidInput},
				"OtherRedirect":     {func(in *repositories.AuthRequestInput) { in.RedirectURI = redirectURI + "/" }, repositories.ErrInvalidInput},
				"Implicit":          {func(in *repositories.AuthRequestInput) { in.ResponseType = "id_token" }, repositories.ErrInvalidInput},
				"PlainPKCE":         {func(in *repositories.AuthRequestInput) { in.CodeChallengeMethod = "plain" }, repositories.ErrInvalidInput},
				"PublicWithoutPKCE": {func(in *repositories.AuthRequestInput) { in.CodeChallenge, in.CodeChallengeMethod = "", "" }, repositories.ErrInvalidInput},
				"NulInState":        {func(in *repositories.AuthRequestInput) { in.State = "a\x00b" }, repositories.ErrInvalidInput},
				"LongNonce":         {func(in *repositories.AuthRequestInput) { in.Nonce = strings.Repeat("n", 2000) }, repositories.ErrInvalidInput},
				"NegativeMaxAge":    {func(in *repositories.AuthRequestInput) { age := int64(-1); in.MaxAge = &age }, repositories.ErrInvalidInput},
				"NoCodeGrant":       {func(in *repositories.AuthRequestInput) { in.ClientID = noCode.ID }, repositories.ErrUnauthorizedClient},
				"UnregisteredScope": {func(in *repositories.AuthRequestInput) {
					in.ClientID, in.Scopes = limited.ID, []string{"openid", "write"}
				}, repositories.ErrInvalidScope},
			} {
				in := authRequestInput(c.ID, "openid")
				tc.edit(&in)
				_, err := f.s.AuthRequests.Create(ctx, in)
				require.ErrorIs(t, err, tc.want, "%s: Create = %v", name, err)
			}
			in := authRequestInput(limited.ID, "openid", "email", "offline_access", "read")
			_, err = f.s.AuthRequests.Create(ctx, in)
			require.NoError(t, err, "the OpenID Connect scopes need no registration")
		})
		t.Run("CompleteAndSaveCodeErrors", func(t *testing.T) {
			r, err := f.s.AuthRequests.Create(ctx, authRequestInput(c.ID, "openid"))
			require.NoError(t, err)
			require.ErrorIs(t, f.s.AuthRequests.SaveCode(ctx, r.ID, "code"), repositories.ErrInvalidInput, "a code before anybody logged in")
			require.ErrorIs(t, f.s.AuthRequests.Complete(ctx, r.ID, models.NewUUID(), f.clock.Now(), nil), repositories.ErrMissingReferent)
			require.ErrorIs(t, f.s.AuthRequests.Complete(ctx, models.NewUUID(), uid, f.clock.Now(), nil), repositories.ErrNotFound)
			require.ErrorIs(t, f.s.AuthRequests.Complete(ctx, r.ID, uid, time.Time{}, nil), repositories.ErrInvalidInput)
			require.ErrorIs(t, f.s.AuthRequests.Complete(ctx, r.ID, uid, f.clock.Now(), []string{"p\nwd"}), repositories.ErrInvalidInput)
			require.NoError(t, f.s.AuthRequests.Complete(ctx, r.ID, uid, f.clock.Now(), nil))
			require.ErrorIs(t, f.s.AuthRequests.SaveCode(ctx, r.ID, ""), repositories.ErrInvalidInput)
			require.NoError(t, f.s.AuthRequests.SaveCode(ctx, r.ID, "first-code"))
			require.ErrorIs(t, f.s.AuthRequests.Complete(ctx, r.ID, uid, f.clock.Now(), nil), repositories.ErrUsed, "a login after the code")
			require.NoError(t, f.s.AuthRequests.SaveCode(ctx, r.ID, "second-code"), "a code saved again replaces the first")
			_, _, err = f.s.AuthRequests.Redeem(ctx, "first-code")
			require.ErrorIs(t, err, repositories.ErrNotFound, "the replaced code")
			_, _, err = f.s.AuthRequests.Redeem(ctx, "second-code")
			require.NoError(t, err)
			require.ErrorIs(t, f.s.AuthRequests.SaveCode(ctx, r.ID, "third-code"), repositories.ErrUsed, "a code after the redemption")
		})
		t.Run("CompleteFromSession", func(t *testing.T) {
			r, err := f.s.AuthRequests.Create(ctx, authRequestInput(c.ID, "openid"))
			require.NoError(t, err)
			s, token, err := f.s.Sessions.Create(ctx, uid, repositories.SessionInput{})
			require.NoError(t, err)
			before := countEvents(t, f.s.DB(), models.EventLoginSession, &uid)
			require.ErrorIs(t, f.s.AuthRequests.CompleteFromSession(ctx, r.ID, nil, nil), repositories.ErrInvalidInput)
			require.NoError(t, f.s.AuthRequests.CompleteFromSession(ctx, r.ID, s, []string{"pwd"}))
			found, err := f.s.AuthRequests.Find(ctx, r.ID)
			require.NoError(t, err)
			require.True(t, found.Done)
			require.Equal(t, uid, *found.UserID)
			require.True(t, found.AuthTime.Equal(s.CreatedAt.Truncate(time.Microsecond)), "auth time %v, session start %v", found.AuthTime, s.CreatedAt)
			require.Equal(t, before+1, countEvents(t, f.s.DB(), models.EventLoginSession, &uid))

			// A session that ended meanwhile completes nothing and writes no row.
			other, err := f.s.AuthRequests.Create(ctx, authRequestInput(c.ID, "openid"))
			require.NoError(t, err)
			require.NoError(t, f.s.Sessions.Delete(ctx, token))
			require.ErrorIs(t, f.s.AuthRequests.CompleteFromSession(ctx, other.ID, s, nil), repositories.ErrNotFound)
			found, err = f.s.AuthRequests.Find(ctx, other.ID)
			require.NoError(t, err)
			require.False(t, found.Done, "the request of an ended session")
			require.Equal(t, before+1, countEvents(t, f.s.DB(), models.EventLoginSession, &uid))
		})
		t.Run("Expiry", func(t *testing.T) {
			r, err := f.s.AuthRequests.Create(ctx, authRequestInput(c.ID, "openid"))
			require.NoError(t, err)
			_, code := f.completedCode(t, c.ID, uid, "openid")
			f.clock.Advance(repositories.DefaultAuthRequestLifetime)
			_, err = f.s.AuthRequests.Find(ctx, r.ID)
			require.ErrorIs(t, err, repositories.ErrExpired)
			require.ErrorIs(t, f.s.AuthRequests.Complete(ctx, r.ID, uid, f.clock.Now(), nil), repositories.ErrExpired)
			_, _, err = f.s.AuthRequests.Redeem(ctx, code)
			require.ErrorIs(t, err, repositories.ErrExpired, "a code past OAUTH_AUTH_CODE_LIFETIME")
		})
		t.Run("RevokedClient", func(t *testing.T) {
			other := f.publicClient(t)
			_, code := f.completedCode(t, other.ID, uid, "openid")
			require.NoError(t, f.s.Clients.Revoke(ctx, other.ID))
			_, _, err := f.s.AuthRequests.Redeem(ctx, code)
			require.ErrorIs(t, err, repositories.ErrRevoked)
		})
		t.Run("UnknownCode", func(t *testing.T) {
			for _, code := range []string{"", "nope", strings.Repeat("x", 600)} {
				_, _, err := f.s.AuthRequests.Redeem(ctx, code)
				require.ErrorIs(t, err, repositories.ErrNotFound, "Redeem(%.20q)", code)
			}
		})
	})
}

func TestAuthRequestsReplayRevokes(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b Backend) {
		f := newFixture(t, b)
		ctx := requestCtx()
		uid := f.user(t, "u@example.com").ID
		c := f.publicClient(t)
		r, code := f.completedCode(t, c.ID, uid, "openid", "offline_access")
		_, pair, err := f.s.AuthRequests.Redeem(ctx, code)
		require.NoError(t, err)
		next, err := f.s.RefreshTokens.Rotate(ctx, authed(f.s, c.ID), pair.RefreshToken, nil)
		require.NoError(t, err)

		_, _, err = f.s.AuthRequests.Redeem(ctx, code)
		require.ErrorIs(t, err, repositories.ErrCodeReplayed)
		require.ErrorIs(t, err, repositories.ErrUsed)
		db := f.freshDB(t)
		require.Zero(t, countRows(t, db, "oauth_refresh_tokens", "family_id = ? AND revoked = ?", r.ID, false), "the family's refresh tokens")
		require.Zero(t, countRows(t, db, "oauth_access_tokens", "family_id = ? AND revoked = ?", r.ID, false), "the family's access tokens")
		_, err = f.s.RefreshTokens.Rotate(ctx, authed(f.s, c.ID), next.RefreshToken, nil)
		require.Error(t, err, "a rotated token of the replayed code's grant")
		require.Equal(t, int64(1), countEvents(t, db, models.EventAuthCodeReplayed, &uid))
		_, err = f.s.AuthRequests.Find(ctx, r.ID)
		require.ErrorIs(t, err, repositories.ErrRevoked)
	})
}

func TestAuthRequestsConcurrentRedeem(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b Backend) {
		f := newFixture(t, b)
		ctx := requestCtx()
		uid := f.user(t, "u@example.com").ID
		c := f.publicClient(t)
		r, code := f.completedCode(t, c.ID, uid, "openid", "offline_access")
		f.warmPool(t)

		const n = 50
		errs := make([]error, n)
		barrier(n, func(i int) { _, _, errs[i] = f.s.AuthRequests.Redeem(ctx, code) })
		requireNoLockErrors(t, errs)
		winners := 0
		for i, err := range errs {
			if err == nil {
				winners++
				continue
			}
			require.ErrorIs(t, err, repositories.ErrCodeReplayed, "goroutine %d", i)
		}
		require.Equal(t, 1, winners, "%d redemptions succeeded; want exactly 1", winners)
		require.EqualValues(t, 1, countRows(t, f.s.DB(), "oauth_refresh_tokens", "family_id = ?", r.ID), "refresh tokens issued")
		require.EqualValues(t, 1, countRows(t, f.s.DB(), "oauth_access_tokens", "family_id = ?", r.ID), "access tokens issued")
	})
}
