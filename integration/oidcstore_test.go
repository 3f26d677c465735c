package integration

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/forgeauth/authstore/models"
	"github.com/forgeauth/authstore/protocol"
	"github.com/forgeauth/authstore/repositories"
	"github.com/stretchr/testify/require"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"
)

// The provider adapter (package oidcstore) driven by real clients,
// golang.org/x/oauth2 and github.com/coreos/go-oidc/v3, through
// zitadel/oidc's op (oidc_provider_test.go builds the provider), on every
// backend.

func TestOIDCAuthorizationCode(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b Backend) {
		p := newOIDCProvider(t, b)
		user := p.f.register(t, "ada@example.com", "correct horse battery staple")
		ctx := context.Background()

		t.Run("Confidential", func(t *testing.T) {
			c, secret := p.f.confidentialClient(t, nil)
			conf := p.oauthConfig(c, secret, redirectURI)
			a := p.authorize(t, conf, user.ID)
			tok, err := p.exchange(conf, a)
			require.NoError(t, err, "Exchange")
			require.NotEmpty(t, tok.RefreshToken, "offline_access with the refresh_token grant gives a refresh token")
			id := p.verifyIDToken(t, c.ID.String(), tok, a.nonce)
			require.Equal(t, user.ID.String(), id.Subject)
			var claims struct {
				Email         string `json:"email"`
				EmailVerified *bool  `json:"email_verified"`
				Name          string `json:"name"`
			}
			require.NoError(t, id.Claims(&claims))
			require.Equal(t, "ada@example.com", claims.Email)
			require.Equal(t, user.Name, claims.Name)
			info, err := p.discovery.UserInfo(ctx, oauth2.StaticTokenSource(tok))
			require.NoError(t, err, "UserInfo")
			require.Equal(t, user.ID.String(), info.Subject)
			require.Equal(t, "ada@example.com", info.Email)
			require.False(t, info.EmailVerified)
			require.True(t, p.introspect(t, c.ID.String(), secret, tok.AccessToken), "introspection of a fresh access token")
		})
		t.Run("Public", func(t *testing.T) {
			c := p.f.publicClient(t)
			conf := p.oauthConfig(c, "", loopbackURI)
			a := p.authorize(t, conf, user.ID)
			tok, err := p.exchange(conf, a)
			require.NoError(t, err, "Exchange")
			p.verifyIDToken(t, c.ID.String(), tok, a.nonce)
			require.NotEmpty(t, tok.RefreshToken)
		})
		t.Run("WithoutOfflineAccessNoRefreshToken", func(t *testing.T) {
			c, secret := p.f.confidentialClient(t, nil)
			conf := p.oauthConfig(c, secret, redirectURI, "openid", "email")
			a := p.authorize(t, conf, user.ID)
			tok, err := p.exchange(conf, a)
			require.NoError(t, err)
			require.Empty(t, tok.RefreshToken)
			require.Zero(t, countRows(t, p.f.s.DB(), "oauth_refresh_tokens", "client_id = ?", c.ID))
		})
		t.Run("WrongVerifierSpendsTheCode", func(t *testing.T) {
			c := p.f.publicClient(t)
			conf := p.oauthConfig(c, "", loopbackURI)
			a := p.authorize(t, conf, user.ID)
			_, err := conf.Exchange(ctx, a.code, oauth2.VerifierOption(oauth2.GenerateVerifier()))
			require.Error(t, err, "a wrong PKCE verifier")
			_, err = p.exchange(conf, a)
			require.Error(t, err, "the code after a failed exchange")
		})
		t.Run("AnotherClientsCode", func(t *testing.T) {
			c := p.f.publicClient(t)
			other := p.f.publicClient(t)
			a := p.authorize(t, p.oauthConfig(c, "", loopbackURI), user.ID)
			_, err := p.exchange(p.oauthConfig(other, "", loopbackURI), a)
			require.Error(t, err, "a code presented by another client")
		})
		t.Run("OpaqueAccessToken", func(t *testing.T) {
			c, secret := p.client(t, repositories.ClientInput{Confidential: true, RedirectURIs: []string{redirectURI},
				ProviderMetadata: repositories.ProviderMetadata{AccessTokenType: models.AccessTokenOpaque}})
			conf := p.oauthConfig(c, secret, redirectURI)
			tok, err := p.exchange(conf, p.authorize(t, conf, user.ID))
			require.NoError(t, err)
			require.NotEqual(t, 2, strings.Count(tok.AccessToken, "."), "an opaque token is not a signed JWT (op encrypts it)")
			require.Equal(t, http.StatusOK, p.userinfoStatus(t, tok.AccessToken))
			require.True(t, p.introspect(t, c.ID.String(), secret, tok.AccessToken))
			require.Equal(t, http.StatusOK, p.postForm(t, p.issuer+"/revoke", c.ID.String(), secret, url.Values{"token": {tok.AccessToken}}, nil))
			require.False(t, p.introspect(t, c.ID.String(), secret, tok.AccessToken), "introspection after revocation")
		})
		t.Run("NoPlaintextStored", func(t *testing.T) {
			c, secret := p.f.confidentialClient(t, nil)
			conf := p.oauthConfig(c, secret, redirectURI)
			a := p.authorize(t, conf, user.ID)
			tok, err := p.exchange(conf, a)
			require.NoError(t, err)
			found, columns := scanForSecrets(t, p.f.s.DB(), map[string]string{
				"code": a.code, "refresh token": tok.RefreshToken, "access token": tok.AccessToken, "client secret": secret,
			})
			require.Positive(t, columns)
			require.Empty(t, found, "plaintext at rest")
		})
	})
}

func TestOIDCRefresh(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b Backend) {
		p := newOIDCProvider(t, b)
		user := p.f.register(t, "ada@example.com", "correct horse battery staple")
		c, secret := p.f.confidentialClient(t, nil)
		conf := p.oauthConfig(c, secret, redirectURI)
		first, err := p.exchange(conf, p.authorize(t, conf, user.ID))
		require.NoError(t, err)

		t.Run("Rotation", func(t *testing.T) {
			next, err := p.refresh(conf, first.RefreshToken)
			require.NoError(t, err, "refresh")
			require.NotEqual(t, first.RefreshToken, next.RefreshToken, "a rotation hands out a new refresh token")
			require.NotEqual(t, first.AccessToken, next.AccessToken)
			p.verifyIDToken(t, c.ID.String(), next, "")
			require.Equal(t, http.StatusOK, p.userinfoStatus(t, next.AccessToken))

			t.Run("ReuseRevokesTheFamily", func(t *testing.T) {
				_, err := p.refresh(conf, first.RefreshToken)
				require.Error(t, err, "the rotated refresh token presented again")
				_, err = p.refresh(conf, next.RefreshToken)
				require.Error(t, err, "the child of a reused token")
				require.False(t, p.introspect(t, c.ID.String(), secret, next.AccessToken), "the family's access token after reuse")
				require.NotEqual(t, http.StatusOK, p.userinfoStatus(t, next.AccessToken))
				require.Equal(t, int64(1), countEvents(t, p.f.s.DB(), models.EventRefreshTokenReused))
			})
		})
		t.Run("NarrowerScope", func(t *testing.T) {
			tok, err := p.exchange(conf, p.authorize(t, conf, user.ID))
			require.NoError(t, err)
			code, out := p.tokenRequest(t, c.ID.String(), secret, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok.RefreshToken}, "scope": {"openid offline_access"}})
			require.Equal(t, http.StatusOK, code)
			require.Equal(t, "openid offline_access", out["scope"])
			code, _ = p.tokenRequest(t, c.ID.String(), secret, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {out["refresh_token"].(string)}, "scope": {"openid email admin"}})
			require.NotEqual(t, http.StatusOK, code, "a refresh never widens the scope")
		})
		t.Run("AnotherClientsToken", func(t *testing.T) {
			tok, err := p.exchange(conf, p.authorize(t, conf, user.ID))
			require.NoError(t, err)
			other, otherSecret := p.f.confidentialClient(t, nil)
			_, err = p.refresh(p.oauthConfig(other, otherSecret, redirectURI), tok.RefreshToken)
			require.Error(t, err, "a refresh token presented by another client")
			_, err = p.refresh(conf, tok.RefreshToken)
			require.NoError(t, err, "the token stays usable by its client")
		})
		t.Run("WrongSecret", func(t *testing.T) {
			tok, err := p.exchange(conf, p.authorize(t, conf, user.ID))
			require.NoError(t, err)
			_, err = p.refresh(p.oauthConfig(c, "not-the-secret", redirectURI), tok.RefreshToken)
			require.Error(t, err)
		})
		t.Run("KeepsTheLogin", func(t *testing.T) {
			// OpenID Connect Core 12.2: a refreshed ID token's auth_time is
			// the original authentication's; its amr is neither upgraded
			// nor lost. The login was ten minutes ago, so a refresh that
			// reported its own time would show.
			authTime := time.Now().Add(-10 * time.Minute)
			amr := []string{"pwd", "otp"}
			a := p.authorizeAs(t, conf, user.ID, authTime, amr)
			tok, err := p.exchange(conf, a)
			require.NoError(t, err)
			first := loginOf(t, p.verifyIDToken(t, c.ID.String(), tok, a.nonce))
			require.Equal(t, authTime.Unix(), first.AuthTime, "the code's ID token: auth_time")
			require.Equal(t, amr, first.AMR, "the code's ID token: amr")
			for i := 1; i <= 2; i++ {
				tok, err = p.refresh(conf, tok.RefreshToken)
				require.NoError(t, err, "refresh %d", i)
				got := loginOf(t, p.verifyIDToken(t, c.ID.String(), tok, ""))
				require.Equal(t, first.AuthTime, got.AuthTime, "refresh %d: auth_time", i)
				require.Equal(t, first.AMR, got.AMR, "refresh %d: amr", i)
				require.Greater(t, got.IssuedAt, got.AuthTime, "refresh %d: iat is the refresh's, auth_time the login's", i)
			}
			in, err := p.f.s.Tokens.Inspect(context.Background(), tok.RefreshToken)
			require.NoError(t, err)
			var family []models.RefreshToken
			require.NoError(t, p.f.s.DB().Where("family_id = ?", *in.FamilyID).Find(&family).Error)
			require.Len(t, family, 3, "the code's refresh token and two rotations")
			for _, row := range family {
				require.NotNil(t, row.AuthTime, "refresh token %s: auth_time", row.ID)
				require.True(t, row.AuthTime.Equal(authTime.Truncate(time.Microsecond)), "refresh token %s: auth_time %s; want %s", row.ID, row.AuthTime, authTime)
				require.Equal(t, models.Strings(amr), row.AMR, "refresh token %s: amr", row.ID)
			}
		})
		t.Run("TokenWithoutLogin", func(t *testing.T) {
			// A refresh token issued before migration 000009 has no login
			// recorded (NULL columns): it still refreshes, and the ID token
			// then has no auth_time or amr rather than an error.
			tok, err := p.exchange(conf, p.authorize(t, conf, user.ID))
			require.NoError(t, err)
			in, err := p.f.s.Tokens.Inspect(context.Background(), tok.RefreshToken)
			require.NoError(t, err)
			require.NoError(t, p.f.s.DB().Model(&models.RefreshToken{}).Where("id = ?", in.ID).
				Updates(map[string]any{"auth_time": nil, "amr": nil}).Error)
			for i := 1; i <= 2; i++ {
				tok, err = p.refresh(conf, tok.RefreshToken)
				require.NoError(t, err, "refresh %d", i)
				got := loginOf(t, p.verifyIDToken(t, c.ID.String(), tok, ""))
				require.Zero(t, got.AuthTime, "refresh %d: auth_time", i)
				require.Empty(t, got.AMR, "refresh %d: amr", i)
			}
		})
	})
}

func TestOIDCRevocationIntrospection(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b Backend) {
		p := newOIDCProvider(t, b)
		user := p.f.register(t, "ada@example.com", "correct horse battery staple")
		c, secret := p.f.confidentialClient(t, nil)
		conf := p.oauthConfig(c, secret, redirectURI)
		revoke := p.issuer + "/revoke"

		t.Run("AccessToken", func(t *testing.T) {
			tok, err := p.exchange(conf, p.authorize(t, conf, user.ID))
			require.NoError(t, err)
			require.True(t, p.introspect(t, c.ID.String(), secret, tok.AccessToken))
			other, otherSecret := p.f.confidentialClient(t, nil)
			require.False(t, p.introspect(t, other.ID.String(), otherSecret, tok.AccessToken), "another client introspects the token")
			require.NotEqual(t, http.StatusOK, p.postForm(t, revoke, other.ID.String(), otherSecret, url.Values{"token": {tok.AccessToken}}, nil),
				"another client revokes the token")
			require.True(t, p.introspect(t, c.ID.String(), secret, tok.AccessToken), "after another client's revocation")
			require.Equal(t, http.StatusOK, p.postForm(t, revoke, c.ID.String(), secret, url.Values{"token": {tok.AccessToken}, "token_type_hint": {"access_token"}}, nil))
			require.False(t, p.introspect(t, c.ID.String(), secret, tok.AccessToken), "introspection after revocation")
			require.NotEqual(t, http.StatusOK, p.userinfoStatus(t, tok.AccessToken), "userinfo after revocation")
		})
		t.Run("RefreshToken", func(t *testing.T) {
			tok, err := p.exchange(conf, p.authorize(t, conf, user.ID))
			require.NoError(t, err)
			require.Equal(t, http.StatusOK, p.postForm(t, revoke, c.ID.String(), secret, url.Values{"token": {tok.RefreshToken}, "token_type_hint": {"refresh_token"}}, nil))
			_, err = p.refresh(conf, tok.RefreshToken)
			require.Error(t, err, "refresh after revocation")
			require.False(t, p.introspect(t, c.ID.String(), secret, tok.AccessToken), "the grant's access token after its refresh token's revocation")
		})
		t.Run("UnknownToken", func(t *testing.T) {
			require.Equal(t, http.StatusOK, p.postForm(t, revoke, c.ID.String(), secret, url.Values{"token": {"not-a-token"}}, nil))
		})
	})
}

func TestOIDCClientCredentials(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b Backend) {
		p := newOIDCProvider(t, b)
		ctx := context.Background()
		c, secret := p.f.confidentialClient(t, nil)
		cc := &clientcredentials.Config{ClientID: c.ID.String(), ClientSecret: secret, TokenURL: p.discovery.Endpoint().TokenURL, Scopes: []string{"read"}}
		tok, err := cc.Token(ctx)
		require.NoError(t, err, "client_credentials")
		require.Empty(t, tok.RefreshToken)
		require.True(t, p.introspect(t, c.ID.String(), secret, tok.AccessToken))

		wrong := *cc
		wrong.ClientSecret = "not-the-secret"
		_, err = wrong.Token(ctx)
		require.Error(t, err, "a wrong secret")

		public := p.f.publicClient(t)
		code, _ := p.tokenRequest(t, public.ID.String(), "", url.Values{"grant_type": {"client_credentials"}})
		require.NotEqual(t, http.StatusOK, code, "a public client never gets a client_credentials token")

		noGrant, noGrantSecret := p.client(t, repositories.ClientInput{Confidential: true, RedirectURIs: []string{redirectURI}})
		_, err = (&clientcredentials.Config{ClientID: noGrant.ID.String(), ClientSecret: noGrantSecret, TokenURL: cc.TokenURL}).Token(ctx)
		require.Error(t, err, "a client without the client_credentials grant")
		noCode, noCodeSecret := p.client(t, repositories.ClientInput{Confidential: true, GrantTypes: []string{protocol.GrantClientCredentials}})
		code, _ = p.tokenRequest(t, noCode.ID.String(), noCodeSecret, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {"x"}})
		require.NotEqual(t, http.StatusOK, code, "a grant the client did not register")
	})
}

func TestOIDCEndSession(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b Backend) {
		p := newOIDCProvider(t, b)
		user := p.f.register(t, "ada@example.com", "correct horse battery staple")
		const afterLogout = "https://app.example.com/bye"
		c, secret := p.client(t, repositories.ClientInput{Confidential: true, RedirectURIs: []string{redirectURI},
			ProviderMetadata: repositories.ProviderMetadata{PostLogoutRedirectURIs: []string{afterLogout}}})
		conf := p.oauthConfig(c, secret, redirectURI)
		tok, err := p.exchange(conf, p.authorize(t, conf, user.ID))
		require.NoError(t, err)
		_, _, err = p.f.s.Sessions.Create(context.Background(), user.ID, repositories.SessionInput{})
		require.NoError(t, err)

		q := url.Values{"id_token_hint": {tok.Extra("id_token").(string)}, "post_logout_redirect_uri": {afterLogout}, "state": {"s1"}}
		loc := p.redirect(t, p.issuer+"/end_session?"+q.Encode())
		require.Equal(t, afterLogout+"?state=s1", loc)
		_, err = p.refresh(conf, tok.RefreshToken)
		require.Error(t, err, "refresh after end session")
		require.False(t, p.introspect(t, c.ID.String(), secret, tok.AccessToken))
		require.Zero(t, countRows(t, p.f.s.DB(), "sessions", "user_id = ?", user.ID), "the user's login sessions end")
	})
}

func TestOIDCKeyRotation(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b Backend) {
		p := newOIDCProvider(t, b)
		ctx := context.Background()
		user := p.f.register(t, "ada@example.com", "correct horse battery staple")
		c, secret := p.f.confidentialClient(t, nil)
		conf := p.oauthConfig(c, secret, redirectURI)
		a := p.authorize(t, conf, user.ID)
		before, err := p.exchange(conf, a)
		require.NoError(t, err)
		kidBefore := header(t, before.AccessToken)["kid"]

		_, err = p.f.s.Keys.Rotate(ctx, repositories.RotateOptions{Algorithm: "ES256", Immediately: true})
		require.NoError(t, err)
		after, err := p.refresh(conf, before.RefreshToken)
		require.NoError(t, err)
		require.NotEqual(t, kidBefore, header(t, after.AccessToken)["kid"], "tokens after the rotation are signed with the new key")
		require.Equal(t, "ES256", header(t, after.Extra("id_token").(string))["alg"])

		p.verifyIDToken(t, c.ID.String(), before, a.nonce)
		p.verifyIDToken(t, c.ID.String(), after, "")
		require.Equal(t, http.StatusOK, p.userinfoStatus(t, after.AccessToken))
		require.Equal(t, http.StatusOK, p.userinfoStatus(t, before.AccessToken), "a token signed with the retired key still validates")
		require.True(t, p.introspect(t, c.ID.String(), secret, before.AccessToken))
	})
}

// TestProperty46 is SECURITY 46: through the provider, one winner of N
// concurrent code or refresh redemptions, a replay revokes, a reuse revokes
// the family.
func TestProperty46(t *testing.T) {
	const n = 50
	forEachBackend(t, func(t *testing.T, b Backend) {
		p := newOIDCProvider(t, b)
		user := p.f.register(t, "ada@example.com", "correct horse battery staple")
		c, secret := p.f.confidentialClient(t, nil)
		conf := p.oauthConfig(c, secret, redirectURI)

		t.Run("OneCodeOneWinner", func(t *testing.T) {
			a := p.authorize(t, conf, user.ID)
			form := url.Values{"grant_type": {"authorization_code"}, "code": {a.code}, "redirect_uri": {redirectURI}, "code_verifier": {a.verifier}}
			var won atomic.Int64
			var access atomic.Value
			barrier(n, func(int) {
				if code, out := p.tokenRequest(t, c.ID.String(), secret, form); code == http.StatusOK {
					won.Add(1)
					access.Store(out["access_token"].(string))
				}
			})
			require.Equal(t, int64(1), won.Load(), "token responses for one code")
			require.Equal(t, int64(1), countRows(t, p.f.s.DB(), "oauth_refresh_tokens", "client_id = ?", c.ID), "refresh tokens issued")
			require.False(t, p.introspect(t, c.ID.String(), secret, access.Load().(string)), "the replays revoked the winner's tokens")
			require.Positive(t, countEvents(t, p.f.s.DB(), models.EventAuthCodeReplayed))
		})
		t.Run("ReplayRevokes", func(t *testing.T) {
			a := p.authorize(t, conf, user.ID)
			tok, err := p.exchange(conf, a)
			require.NoError(t, err)
			_, err = p.exchange(conf, a)
			require.Error(t, err, "the code presented again")
			require.False(t, p.introspect(t, c.ID.String(), secret, tok.AccessToken), "the first exchange's access token after the replay")
			_, err = p.refresh(conf, tok.RefreshToken)
			require.Error(t, err, "the first exchange's refresh token after the replay")
		})
		t.Run("OneRefreshOneWinner", func(t *testing.T) {
			tok, err := p.exchange(conf, p.authorize(t, conf, user.ID))
			require.NoError(t, err)
			form := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok.RefreshToken}}
			var won atomic.Int64
			barrier(n, func(int) {
				if code, _ := p.tokenRequest(t, c.ID.String(), secret, form); code == http.StatusOK {
					won.Add(1)
				}
			})
			require.Equal(t, int64(1), won.Load(), "token responses for one refresh token")
			family := familyOf(t, p, tok.RefreshToken)
			require.Zero(t, countRows(t, p.f.s.DB(), "oauth_refresh_tokens", "family_id = ? AND revoked = ?", family, false),
				"the losers' reuse revoked the family")
		})
	})
}

// familyOf returns the family of a refresh token.
func familyOf(t *testing.T, p *oidcProvider, token string) models.UUID {
	t.Helper()
	in, err := p.f.s.Tokens.Inspect(context.Background(), token)
	require.NoError(t, err)
	require.NotNil(t, in.FamilyID)
	return *in.FamilyID
}
