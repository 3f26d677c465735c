package integration

// Tests of repositories.AuthCodes (table oauth_authorization_codes): each
// method's success and error paths, and SECURITY.md 13-16 (one winner of
// concurrent exchanges, replay, expiry and binding, PKCE).

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/forgeauth/authstore"
	"github.com/forgeauth/authstore/config"
	"github.com/forgeauth/authstore/hooks"
	"github.com/forgeauth/authstore/models"
	"github.com/forgeauth/authstore/protocol"
	"github.com/forgeauth/authstore/repositories"
	"github.com/stretchr/testify/require"
)

func TestAuthCodesCreateExchange(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b Backend) {
		f := newFixture(t, b)
		ctx := requestCtx()
		uid := f.user(t, "u@example.com").ID
		c := f.publicClient(t)

		t.Run("OK", func(t *testing.T) {
			code, verifier := f.code(t, c.ID, uid, "read")
			var row models.AuthorizationCode
			require.NoError(t, f.s.DB().Where("code_hash = ?", hooks.Digest(code)).Take(&row).Error)
			require.Equal(t, redirectURI, row.RedirectURI)
			require.Equal(t, protocol.PKCEMethodS256, *row.CodeChallengeMethod)
			require.Equal(t, protocol.S256Challenge(verifier), *row.CodeChallenge)
			require.True(t, row.ExpiresAt.Equal(f.clock.Now().Add(600*time.Second)))

			p, err := f.s.AuthCodes.Exchange(ctx, authed(f.s, c.ID), code, redirectURI, verifier)
			require.NoError(t, err)
			require.Equal(t, row.ID, p.FamilyID, "the grant's family is the code's id")
			require.Equal(t, []string{"read"}, p.Scopes)
			claims, err := f.s.AccessTokens.Validate(ctx, p.AccessToken)
			require.NoError(t, err)
			require.Equal(t, string(uid), claims.Subject)
			next, err := f.s.RefreshTokens.Rotate(ctx, authed(f.s, c.ID), p.RefreshToken, nil)
			require.NoError(t, err)
			require.Equal(t, row.ID, next.FamilyID)
			require.NoError(t, f.s.DB().Where("id = ?", row.ID).Take(&row).Error)
			require.NotNil(t, row.UsedAt)
		})

		t.Run("CreateErrors", func(t *testing.T) {
			v, _ := protocol.NewVerifier()
			ch := protocol.S256Challenge(v)
			in := func(edit func(*repositories.AuthCodeInput)) repositories.AuthCodeInput {
				x := repositories.AuthCodeInput{ClientID: c.ID, UserID: uid, RedirectURI: redirectURI, CodeChallenge: ch, CodeChallengeMethod: "S256"}
				edit(&x)
				return x
			}
			noCode, _, err := f.s.Clients.Create(ctx, repositories.ClientInput{Name: "cc", Confidential: false, RedirectURIs: []string{redirectURI}, GrantTypes: []string{protocol.GrantRefreshToken}})
			require.NoError(t, err)
			revoked := f.publicClient(t)
			require.NoError(t, f.s.Clients.Revoke(ctx, revoked.ID))
			before := snapshotTables(t, f.s.DB())
			for name, tc := range map[string]struct {
				in   repositories.AuthCodeInput
				want error
			}{
				"unknown client":        {in(func(x *repositories.AuthCodeInput) { x.ClientID = models.NewUUID() }), repositories.ErrNotFound},
				"revoked client":        {in(func(x *repositories.AuthCodeInput) { x.ClientID = revoked.ID }), repositories.ErrRevoked},
				"no code grant":         {in(func(x *repositories.AuthCodeInput) { x.ClientID = noCode.ID }), repositories.ErrUnauthorizedClient},
				"unknown user":          {in(func(x *repositories.AuthCodeInput) { x.UserID = models.NewUUID() }), repositories.ErrMissingReferent},
				"malformed user":        {in(func(x *repositories.AuthCodeInput) { x.UserID = "u" }), repositories.ErrInvalidInput},
				"no redirect":           {in(func(x *repositories.AuthCodeInput) { x.RedirectURI = "" }), repositories.ErrInvalidInput},
				"unregistered scope":    {in(func(x *repositories.AuthCodeInput) { x.Scopes = []string{"root"} }), repositories.ErrInvalidScope},
				"unregistered redirect": {in(func(x *repositories.AuthCodeInput) { x.RedirectURI = "https://evil.example/cb" }), repositories.ErrInvalidInput},
			} {
				_, _, err := f.s.AuthCodes.Create(ctx, tc.in)
				require.ErrorIs(t, err, tc.want, "%s: Create = %v; want %v", name, err, tc.want)
			}
			require.Equal(t, before, snapshotTables(t, f.s.DB()), "a refused Create wrote rows")
		})

		t.Run("ExchangeErrors", func(t *testing.T) {
			code, verifier := f.code(t, c.ID, uid)
			before := snapshotTables(t, f.s.DB())
			_, err := f.s.AuthCodes.Exchange(ctx, authed(f.s, c.ID), "unknown", redirectURI, verifier)
			require.ErrorIs(t, err, repositories.ErrNotFound)
			_, err = f.s.AuthCodes.Exchange(ctx, authed(f.s, c.ID), "", redirectURI, verifier)
			require.ErrorIs(t, err, repositories.ErrNotFound)
			_, err = f.s.AuthCodes.Exchange(ctx, authed(f.s, "x"), code, redirectURI, verifier)
			require.ErrorIs(t, err, repositories.ErrInvalidCredentials)
			require.Equal(t, before, snapshotTables(t, f.s.DB()))
			// A store over the same database opened without a signing key.
			nokey := f.sibling(t, authstore.WithConfig(f.configWith(func(c *config.Config) { c.JWTSecret = "" })))
			_, err = nokey.AuthCodes.Exchange(ctx, authed(nokey, c.ID), code, redirectURI, verifier)
			require.ErrorIs(t, err, repositories.ErrNoSigningKey)
			// The flow fails at its first call, not at the exchange, and the
			// message says how to provide a key without claiming what is not so.
			verifier2, err := protocol.NewVerifier()
			require.NoError(t, err)
			in := repositories.AuthCodeInput{ClientID: c.ID, UserID: uid, RedirectURI: redirectURI,
				CodeChallenge: protocol.S256Challenge(verifier2), CodeChallengeMethod: protocol.PKCEMethodS256}
			t.Setenv("JWT_SECRET", "")
			_, _, err = nokey.AuthCodes.Create(ctx, in)
			require.ErrorIs(t, err, repositories.ErrNoSigningKey)
			require.Contains(t, err.Error(), "set JWT_SECRET")
			t.Setenv("JWT_SECRET", jwtSecret)
			_, _, err = nokey.AuthCodes.Create(ctx, in)
			require.ErrorIs(t, err, repositories.ErrNoSigningKey)
			require.Contains(t, err.Error(), "JWT_SECRET is set in the environment but not in this Store's configuration")
			require.Contains(t, err.Error(), "config.Load()")
			require.NotContains(t, err.Error(), jwtSecret)
			_, err = f.s.AuthCodes.Exchange(ctx, authed(f.s, c.ID), code, redirectURI, verifier)
			require.NoError(t, err, "the refused exchanges burned the code")
		})
	})
}

// TestAuthCodesReplayRevokesTokens checks that replaying a used code fails with
// ErrCodeReplayed, revokes every token issued from it (rotated ones
// included), and that a used code stays distinguishable from an unknown one
// until it expires.
//
// SECURITY 14: replaying a used code fails and revokes the tokens issued from it; a used code stays distinguishable from an unknown one until it expires.
func TestAuthCodesReplayRevokesTokens(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b Backend) {
		f := newFixture(t, b)
		ctx := requestCtx()
		uid := f.user(t, "u@example.com").ID
		pub := f.publicClient(t)
		code, verifier := f.code(t, pub.ID, uid)
		p, err := f.s.AuthCodes.Exchange(ctx, authed(f.s, pub.ID), code, redirectURI, verifier)
		require.NoError(t, err)
		p2, err := f.s.RefreshTokens.Rotate(ctx, authed(f.s, pub.ID), p.RefreshToken, nil)
		require.NoError(t, err)
		unrelated := f.pair(t, pub.ID, &uid)

		_, err = f.s.AuthCodes.Exchange(ctx, authed(f.s, pub.ID), code, redirectURI, verifier)
		require.ErrorIs(t, err, repositories.ErrCodeReplayed)
		require.ErrorIs(t, err, repositories.ErrUsed)

		fresh := f.freshDB(t)
		require.Zero(t, countRows(t, fresh, "oauth_refresh_tokens", "family_id = ? AND revoked = ?", p.FamilyID, false))
		require.Zero(t, countRows(t, fresh, "oauth_access_tokens", "family_id = ? AND revoked = ?", p.FamilyID, false))
		require.EqualValues(t, 1, countRows(t, fresh, "user_activity_log", "event = ? AND user_id = ?", string(models.EventAuthCodeReplayed), uid))
		for _, at := range []string{p.AccessToken, p2.AccessToken} {
			_, err := f.s.AccessTokens.Validate(ctx, at)
			require.ErrorIs(t, err, repositories.ErrRevoked)
		}
		_, err = f.s.RefreshTokens.Rotate(ctx, authed(f.s, pub.ID), p2.RefreshToken, nil)
		require.ErrorIs(t, err, repositories.ErrRevoked)
		_, err = f.s.AccessTokens.Validate(ctx, unrelated.AccessToken)
		require.NoError(t, err, "the replay revoked another grant")

		// Used and unknown codes stay distinguishable up to the expiry.
		f.clock.Advance(599 * time.Second)
		_, err = f.s.AuthCodes.Exchange(ctx, authed(f.s, pub.ID), code, redirectURI, verifier)
		require.ErrorIs(t, err, repositories.ErrCodeReplayed)
		_, err = f.s.AuthCodes.Exchange(ctx, authed(f.s, pub.ID), "unknown-code", redirectURI, verifier)
		require.ErrorIs(t, err, repositories.ErrNotFound)
		require.False(t, errors.Is(err, repositories.ErrUsed))
	})
}

// TestAuthCodesExpireAndAreBound checks that codes expire after at
// most 600 s (the default) and are bound to their client and redirect URI.
//
// SECURITY 15: codes expire (default ≤ 600 s); they are bound to client and redirect URI.
func TestAuthCodesExpireAndAreBound(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b Backend) {
		f := newFixture(t, b)
		ctx := requestCtx()
		uid := f.user(t, "u@example.com").ID
		pub := f.publicClient(t)
		other := f.publicClient(t)
		require.Equal(t, 600*time.Second, config.Default().AuthCodeLifetime)

		expiring, v1 := f.code(t, pub.ID, uid)
		almost, v2 := f.code(t, pub.ID, uid)
		var row models.AuthorizationCode
		require.NoError(t, f.s.DB().Where("code_hash = ?", hooks.Digest(expiring)).Take(&row).Error)
		require.LessOrEqual(t, row.ExpiresAt.Sub(row.CreatedAt), 600*time.Second)

		before := snapshotTables(t, f.s.DB())
		_, err := f.s.AuthCodes.Exchange(ctx, authed(f.s, other.ID), almost, redirectURI, v2)
		require.ErrorIs(t, err, repositories.ErrInvalidCredentials, "another client exchanged the code")
		for _, uri := range []string{redirectURI + "/", redirectURI + "?x=1", "https://app.example.com/CB", loopbackURI, ""} {
			_, err = f.s.AuthCodes.Exchange(ctx, authed(f.s, pub.ID), almost, uri, v2)
			require.ErrorIs(t, err, repositories.ErrInvalidInput, "redirect uri %q accepted", uri)
		}
		require.Equal(t, before, snapshotTables(t, f.s.DB()), "a refused exchange burned the code")

		f.clock.Advance(599 * time.Second)
		_, err = f.s.AuthCodes.Exchange(ctx, authed(f.s, pub.ID), almost, redirectURI, v2)
		require.NoError(t, err, "a code 599 s old")
		f.clock.Advance(time.Second)
		_, err = f.s.AuthCodes.Exchange(ctx, authed(f.s, pub.ID), expiring, redirectURI, v1)
		require.ErrorIs(t, err, repositories.ErrExpired, "a code 600 s old")
	})
}

// TestAuthCodesPKCES256Only checks S256-only PKCE: plain or a missing method
// is refused, a verifier without a challenge and a challenge without a
// verifier are refused, verifiers must be 43-128 characters of the RFC 7636
// set, and PKCE is required for public clients and, with OAUTH_ENABLE_PKCE,
// for all. (The comparison is protocol.VerifyS256, subtle.ConstantTimeCompare.)
//
// SECURITY 16: PKCE is S256 only; plain, a missing method, a verifier without a challenge and a challenge without a verifier are refused; verifiers are 43–128 RFC 7636 characters.
func TestAuthCodesPKCES256Only(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b Backend) {
		f := newFixture(t, b)
		ctx := requestCtx()
		uid := f.user(t, "u@example.com").ID
		pub := f.publicClient(t)
		conf, _ := f.confidentialClient(t, nil)
		const rfcVerifier, rfcChallenge = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk", "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
		in := func(client models.UUID, challenge, method string) repositories.AuthCodeInput {
			return repositories.AuthCodeInput{ClientID: client, UserID: uid, RedirectURI: redirectURI, CodeChallenge: challenge, CodeChallengeMethod: method}
		}

		t.Run("CreateRefuses", func(t *testing.T) {
			before := snapshotTables(t, f.s.DB())
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
				_, _, err := f.s.AuthCodes.Create(ctx, x)
				require.ErrorIs(t, err, repositories.ErrInvalidInput, "%s: Create = %v; want ErrInvalidInput", name, err)
			}
			require.Equal(t, before, snapshotTables(t, f.s.DB()))
		})

		t.Run("RFC7636AppendixB", func(t *testing.T) {
			_, code, err := f.s.AuthCodes.Create(ctx, in(pub.ID, rfcChallenge, "S256"))
			require.NoError(t, err)
			_, err = f.s.AuthCodes.Exchange(ctx, authed(f.s, pub.ID), code, redirectURI, rfcVerifier)
			require.NoError(t, err)
		})

		t.Run("ExchangeRefuses", func(t *testing.T) {
			code, verifier := f.code(t, pub.ID, uid)
			before := snapshotTables(t, f.s.DB())
			other, _ := protocol.NewVerifier()
			for name, tc := range map[string]struct {
				v    string
				want error
			}{
				"no verifier":      {"", repositories.ErrInvalidInput},
				"wrong verifier":   {other, repositories.ErrInvalidCredentials},
				"42 characters":    {verifier[:42], repositories.ErrInvalidInput},
				"129 characters":   {verifier + strings.Repeat("a", 86), repositories.ErrInvalidInput},
				"bad character":    {verifier[:42] + "+", repositories.ErrInvalidInput},
				"the challenge":    {protocol.S256Challenge(verifier), repositories.ErrInvalidCredentials},
				"case-swapped":     {strings.ToUpper(verifier), repositories.ErrInvalidCredentials},
				"verifier + space": {verifier + " ", repositories.ErrInvalidInput},
			} {
				_, err := f.s.AuthCodes.Exchange(ctx, authed(f.s, pub.ID), code, redirectURI, tc.v)
				require.ErrorIs(t, err, tc.want, "%s: Exchange = %v; want %v", name, err, tc.want)
			}
			require.Equal(t, before, snapshotTables(t, f.s.DB()), "a refused verifier burned the code")
			_, err := f.s.AuthCodes.Exchange(ctx, authed(f.s, pub.ID), code, redirectURI, verifier)
			require.NoError(t, err)
		})

		t.Run("MaxLengthVerifier", func(t *testing.T) {
			v := strings.Repeat("a-._~Z9", 19)[:128]
			_, code, err := f.s.AuthCodes.Create(ctx, in(pub.ID, protocol.S256Challenge(v), "S256"))
			require.NoError(t, err)
			_, err = f.s.AuthCodes.Exchange(ctx, authed(f.s, pub.ID), code, redirectURI, v)
			require.NoError(t, err)
		})

		t.Run("PKCEDisabled", func(t *testing.T) {
			off := newFixture(t, b, withConfig(func(c *config.Config) { c.EnablePKCE = false }))
			offUID := off.user(t, "u@example.com").ID
			offPub := off.publicClient(t)
			offConf, _ := off.confidentialClient(t, nil)
			offIn := func(client models.UUID) repositories.AuthCodeInput {
				return repositories.AuthCodeInput{ClientID: client, UserID: offUID, RedirectURI: redirectURI}
			}
			_, _, err := off.s.AuthCodes.Create(ctx, offIn(offPub.ID))
			require.ErrorIs(t, err, repositories.ErrInvalidInput, "a public client needs PKCE whatever the setting")
			_, code, err := off.s.AuthCodes.Create(ctx, offIn(offConf.ID))
			require.NoError(t, err, "a confidential client without PKCE when OAUTH_ENABLE_PKCE=false")
			_, err = off.s.AuthCodes.Exchange(ctx, authed(off.s, offConf.ID), code, redirectURI, rfcVerifier)
			require.ErrorIs(t, err, repositories.ErrInvalidInput, "a verifier for a code without a challenge")
			_, err = off.s.AuthCodes.Exchange(ctx, authed(off.s, offConf.ID), code, redirectURI, "")
			require.NoError(t, err)
		})
	})
}

// TestAuthCodesConcurrentExchange exchanges one code from 50
// goroutines started together: exactly one token pair exists afterwards.
//
// SECURITY 13: 50 goroutines exchange one code: exactly one token pair exists afterwards.
func TestAuthCodesConcurrentExchange(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b Backend) {
		f := newFixture(t, b)
		ctx := requestCtx()
		uid := f.user(t, "u@example.com").ID
		pub := f.publicClient(t)
		code, verifier := f.code(t, pub.ID, uid)
		f.warmPool(t)

		const n = 50
		pairs := make([]*repositories.TokenPair, n)
		errs := make([]error, n)
		barrier(n, func(i int) {
			pairs[i], errs[i] = f.s.AuthCodes.Exchange(ctx, authed(f.s, pub.ID), code, redirectURI, verifier)
		})

		requireNoLockErrors(t, errs)
		winners := 0
		var family string
		for i, err := range errs {
			if err == nil {
				winners++
				family = string(pairs[i].FamilyID)
				continue
			}
			require.ErrorIs(t, err, repositories.ErrCodeReplayed, "goroutine %d", i)
		}
		require.Equal(t, 1, winners, "%d exchanges succeeded; want exactly 1", winners)
		require.EqualValues(t, 1, countRows(t, f.s.DB(), "oauth_refresh_tokens", "family_id = ?", family), "refresh tokens issued")
		require.EqualValues(t, 1, countRows(t, f.s.DB(), "oauth_access_tokens", "family_id = ?", family), "access tokens issued")
		require.EqualValues(t, 1, countRows(t, f.s.DB(), "oauth_refresh_tokens", ""))
		require.EqualValues(t, 1, countRows(t, f.s.DB(), "oauth_access_tokens", ""))
	})
}
