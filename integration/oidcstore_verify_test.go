package integration

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/forgeauth/authstore/models"
	"github.com/forgeauth/authstore/oidcstore"
	"github.com/forgeauth/authstore/repositories"
	jose "github.com/go-jose/go-jose/v4"
	"github.com/stretchr/testify/require"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"
)

// The Verifier (oidcstore/verify.go) of the provider's access tokens, for
// a resource server on the provider's database, on every backend: tokens
// from the real provider over httptest, obtained with golang.org/x/oauth2.

// syncClock moves the fixture's clock to the real time, which op stamps
// tokens with.
func (p *oidcProvider) syncClock() {
	p.f.clock.mu.Lock()
	p.f.clock.now = time.Now().UTC()
	p.f.clock.mu.Unlock()
}

// requireVerifyRefused asserts that Verify refuses token with ErrInvalidToken
// (and ErrInvalidCredentials) and, when want is not nil, want.
func requireVerifyRefused(t *testing.T, v *oidcstore.Verifier, token string, want error, msg string) {
	t.Helper()
	got, err := v.Verify(context.Background(), token)
	require.Nil(t, got, msg)
	require.ErrorIs(t, err, oidcstore.ErrInvalidToken, msg)
	require.ErrorIs(t, err, repositories.ErrInvalidCredentials, msg)
	if want != nil {
		require.ErrorIs(t, err, want, msg)
	}
	if token != "" {
		require.NotContains(t, err.Error(), token, "the error never holds the token")
	}
}

// forgeJWT returns header.payload.signature of the given parts, the
// signature computed by sign over the signing input (nil: empty).
func forgeJWT(t *testing.T, header, claims map[string]any, sign func(input []byte) []byte) string {
	t.Helper()
	h, err := json.Marshal(header)
	require.NoError(t, err)
	c, err := json.Marshal(claims)
	require.NoError(t, err)
	input := base64.RawURLEncoding.EncodeToString(h) + "." + base64.RawURLEncoding.EncodeToString(c)
	var sig []byte
	if sign != nil {
		sig = sign([]byte(input))
	}
	return input + "." + base64.RawURLEncoding.EncodeToString(sig)
}

// payloadOf decodes a JWT's claims.
func payloadOf(t *testing.T, token string) map[string]any {
	t.Helper()
	raw, err := base64.RawURLEncoding.DecodeString(strings.Split(token, ".")[1])
	require.NoError(t, err)
	var m map[string]any
	require.NoError(t, json.Unmarshal(raw, &m))
	return m
}

func TestOIDCVerifyAccessToken(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b Backend) {
		p := newOIDCProvider(t, b)
		ctx := context.Background()
		user := p.f.register(t, "ada@example.com", "correct horse battery staple")
		c, secret := p.f.confidentialClient(t, nil)
		conf := p.oauthConfig(c, secret, redirectURI)
		v, err := oidcstore.NewVerifier(p.f.s, p.issuer, oidcstore.WithAudience(c.ID.String()))
		require.NoError(t, err)
		fresh := func(t *testing.T) *oauth2.Token {
			t.Helper()
			tok, err := p.exchange(conf, p.authorize(t, conf, user.ID))
			require.NoError(t, err)
			p.syncClock()
			return tok
		}

		t.Run("OK", func(t *testing.T) {
			tok := fresh(t)
			got, err := v.Verify(ctx, tok.AccessToken)
			require.NoError(t, err, "Verify of a fresh token")
			require.Equal(t, user.ID.String(), got.Subject)
			require.Equal(t, repositories.SubjectUser, got.SubjectType)
			require.NotNil(t, got.UserID)
			require.Equal(t, user.ID, *got.UserID)
			require.Equal(t, c.ID, got.ClientID)
			require.Equal(t, payloadOf(t, tok.AccessToken)["jti"], got.ID.String())
			require.True(t, got.HasScope("openid") && got.HasScope("email"), "scopes %v", got.Scopes)
			require.False(t, got.HasScope("admin"))
			require.Contains(t, got.Audience, c.ID.String())
			require.WithinDuration(t, tok.Expiry, got.ExpiresAt, 2*time.Second)
			require.NotNil(t, got.FamilyID, "issued with a refresh token")

			any, err := oidcstore.NewVerifier(p.f.s, p.issuer)
			require.NoError(t, err)
			_, err = any.Verify(ctx, tok.AccessToken)
			require.NoError(t, err, "Verify without an audience")
		})
		t.Run("ClientCredentials", func(t *testing.T) {
			cc := &clientcredentials.Config{ClientID: c.ID.String(), ClientSecret: secret, TokenURL: p.discovery.Endpoint().TokenURL, Scopes: []string{"read"}}
			tok, err := cc.Token(ctx)
			require.NoError(t, err)
			p.syncClock()
			got, err := v.Verify(ctx, tok.AccessToken)
			require.NoError(t, err)
			require.Equal(t, repositories.SubjectClient, got.SubjectType)
			require.Equal(t, c.ID.String(), got.Subject)
			require.Nil(t, got.UserID)
		})
		t.Run("NewVerifierErrInvalidInput", func(t *testing.T) {
			_, err := oidcstore.NewVerifier(p.f.s, "")
			require.ErrorIs(t, err, repositories.ErrInvalidInput)
			_, err = oidcstore.NewVerifier(nil, p.issuer)
			require.ErrorIs(t, err, repositories.ErrInvalidInput)
			_, err = oidcstore.NewVerifier(p.f.s, p.issuer, oidcstore.WithAudience(""))
			require.ErrorIs(t, err, repositories.ErrInvalidInput)
		})
		t.Run("WrongIssuer", func(t *testing.T) {
			tok := fresh(t)
			other, err := oidcstore.NewVerifier(p.f.s, "https://other.example.com")
			require.NoError(t, err)
			requireVerifyRefused(t, other, tok.AccessToken, nil, "another issuer")
		})
		t.Run("WrongAudience", func(t *testing.T) {
			tok := fresh(t)
			other, err := oidcstore.NewVerifier(p.f.s, p.issuer, oidcstore.WithAudience("https://api.other.example.com"))
			require.NoError(t, err)
			requireVerifyRefused(t, other, tok.AccessToken, nil, "another audience")
		})
		t.Run("ErrExpired", func(t *testing.T) {
			tok := fresh(t)
			p.f.clock.Advance(p.f.cfg.AccessTokenLifetime + time.Second)
			requireVerifyRefused(t, v, tok.AccessToken, repositories.ErrExpired, "past exp")
			p.syncClock()
		})
		t.Run("Tampered", func(t *testing.T) {
			tok := fresh(t)
			parts := strings.Split(tok.AccessToken, ".")
			claims := payloadOf(t, tok.AccessToken)
			claims["scope"] = "openid email admin"
			raw, err := json.Marshal(claims)
			require.NoError(t, err)
			forged := parts[0] + "." + base64.RawURLEncoding.EncodeToString(raw) + "." + parts[2]
			requireVerifyRefused(t, v, forged, nil, "a changed payload under the original signature")
			requireVerifyRefused(t, v, tok.AccessToken+"x", nil, "a changed signature")
			requireVerifyRefused(t, v, strings.Repeat("a", 20000), nil, "too long")
			requireVerifyRefused(t, v, "", nil, "empty")
		})
		t.Run("ForeignKey", func(t *testing.T) {
			tok := fresh(t)
			claims := payloadOf(t, tok.AccessToken)
			key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
			require.NoError(t, err)
			for _, kid := range []string{header(t, tok.AccessToken)["kid"].(string), models.NewUUID().String()} {
				signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: jose.JSONWebKey{Key: key, KeyID: kid}},
					(&jose.SignerOptions{}).WithType("JWT"))
				require.NoError(t, err)
				raw, err := json.Marshal(claims)
				require.NoError(t, err)
				jws, err := signer.Sign(raw)
				require.NoError(t, err)
				forged, err := jws.CompactSerialize()
				require.NoError(t, err)
				requireVerifyRefused(t, v, forged, nil, "signed by a key not in the store, kid "+kid)
			}
		})
		t.Run("AlgorithmConfusion", func(t *testing.T) {
			tok := fresh(t)
			h := header(t, tok.AccessToken)
			claims := payloadOf(t, tok.AccessToken)
			jwks, err := p.f.s.Keys.JWKS(ctx)
			require.NoError(t, err)
			var set jose.JSONWebKeySet
			require.NoError(t, json.Unmarshal(jwks.JSON, &set))
			pub := set.Key(h["kid"].(string))
			require.Len(t, pub, 1)
			der, err := x509.MarshalPKIXPublicKey(pub[0].Key)
			require.NoError(t, err)
			for name, secret := range map[string][]byte{"DER": der, "JWK": jwks.JSON} {
				signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.HS256, Key: jose.JSONWebKey{Key: secret, KeyID: h["kid"].(string)}},
					(&jose.SignerOptions{}).WithType("JWT"))
				require.NoError(t, err)
				raw, err := json.Marshal(claims)
				require.NoError(t, err)
				jws, err := signer.Sign(raw)
				require.NoError(t, err)
				forged, err := jws.CompactSerialize()
				require.NoError(t, err)
				requireVerifyRefused(t, v, forged, nil, "HS256 with the public key ("+name+") as secret")
			}
			none := forgeJWT(t, map[string]any{"alg": "none", "typ": "JWT", "kid": h["kid"]}, claims, nil)
			requireVerifyRefused(t, v, none, nil, "alg none")
			es := forgeJWT(t, map[string]any{"alg": "ES256", "typ": "JWT", "kid": h["kid"]}, claims, func([]byte) []byte { return make([]byte, 64) })
			requireVerifyRefused(t, v, es, nil, "another asymmetric algorithm than the key's")
		})
		t.Run("IDToken", func(t *testing.T) {
			tok := fresh(t)
			requireVerifyRefused(t, v, tok.Extra("id_token").(string), nil, "an ID token presented as an access token")
		})
		t.Run("StoresOwnAccessToken", func(t *testing.T) {
			uid := user.ID
			_, own, err := p.f.s.AccessTokens.Issue(ctx, c.ID, &uid, []string{"openid"}, nil)
			require.NoError(t, err)
			requireVerifyRefused(t, v, own, nil, "the Store's own at+jwt access token")
		})
		t.Run("ErrRevokedByRevocationEndpoint", func(t *testing.T) {
			tok := fresh(t)
			_, err := v.Verify(ctx, tok.AccessToken)
			require.NoError(t, err)
			require.Equal(t, http.StatusOK, p.postForm(t, p.issuer+"/revoke", c.ID.String(), secret, url.Values{"token": {tok.AccessToken}}, nil))
			requireVerifyRefused(t, v, tok.AccessToken, repositories.ErrRevoked, "after RFC 7009 revocation")
		})
		t.Run("ErrRevokedByRefreshTokenRevocation", func(t *testing.T) {
			tok := fresh(t)
			require.Equal(t, http.StatusOK, p.postForm(t, p.issuer+"/revoke", c.ID.String(), secret, url.Values{"token": {tok.RefreshToken}}, nil))
			requireVerifyRefused(t, v, tok.AccessToken, repositories.ErrRevoked, "after its grant's refresh token was revoked")
		})
		t.Run("ErrRevokedByRefreshReuse", func(t *testing.T) {
			first := fresh(t)
			second, err := p.refresh(conf, first.RefreshToken)
			require.NoError(t, err)
			p.syncClock()
			_, err = v.Verify(ctx, second.AccessToken)
			require.NoError(t, err, "the rotation's access token")
			// Past the reuse interval, the rotated token presented again
			// revokes the family.
			p.f.clock.Advance(p.f.cfg.RefreshReuseInterval + time.Second)
			_, err = p.refresh(conf, first.RefreshToken)
			require.Error(t, err, "a used refresh token presented again")
			requireVerifyRefused(t, v, first.AccessToken, repositories.ErrRevoked, "the first access token after the family's revocation")
			requireVerifyRefused(t, v, second.AccessToken, repositories.ErrRevoked, "the rotation's access token after the family's revocation")
		})
		t.Run("ErrRevokedByCodeReplay", func(t *testing.T) {
			a := p.authorize(t, conf, user.ID)
			tok, err := p.exchange(conf, a)
			require.NoError(t, err)
			p.syncClock()
			_, err = v.Verify(ctx, tok.AccessToken)
			require.NoError(t, err)
			_, err = p.exchange(conf, a)
			require.Error(t, err, "the code presented again")
			requireVerifyRefused(t, v, tok.AccessToken, repositories.ErrRevoked, "after the code's replay")
		})
		t.Run("ErrRevokedByLogout", func(t *testing.T) {
			const afterLogout = "https://app.example.com/bye"
			lc, lsecret := p.client(t, repositories.ClientInput{Confidential: true, RedirectURIs: []string{redirectURI},
				ProviderMetadata: repositories.ProviderMetadata{PostLogoutRedirectURIs: []string{afterLogout}}})
			lconf := p.oauthConfig(lc, lsecret, redirectURI)
			tok, err := p.exchange(lconf, p.authorize(t, lconf, user.ID))
			require.NoError(t, err)
			p.syncClock()
			lv, err := oidcstore.NewVerifier(p.f.s, p.issuer)
			require.NoError(t, err)
			_, err = lv.Verify(ctx, tok.AccessToken)
			require.NoError(t, err)
			q := url.Values{"id_token_hint": {tok.Extra("id_token").(string)}, "post_logout_redirect_uri": {afterLogout}}
			p.redirect(t, p.issuer+"/end_session?"+q.Encode())
			requireVerifyRefused(t, lv, tok.AccessToken, repositories.ErrRevoked, "after logout")
		})
		t.Run("KeyRotation", func(t *testing.T) {
			before := fresh(t)
			_, err := p.f.s.Keys.Rotate(ctx, repositories.RotateOptions{Algorithm: "ES256", Immediately: true})
			require.NoError(t, err)
			after, err := p.refresh(conf, before.RefreshToken)
			require.NoError(t, err)
			p.syncClock()
			require.Equal(t, "ES256", header(t, after.AccessToken)["alg"])
			_, err = v.Verify(ctx, after.AccessToken)
			require.NoError(t, err, "a token signed with the new key")
			// The rotation's refresh revoked nothing: before's row is still
			// active, and its key still published.
			_, err = v.Verify(ctx, before.AccessToken)
			require.NoError(t, err, "a token signed before the rotation, its key still published")
		})
		t.Run("DatabaseErrorIsNotInvalidToken", func(t *testing.T) {
			tok := fresh(t)
			cctx, cancel := context.WithCancel(ctx)
			cancel()
			_, err := v.Verify(cctx, tok.AccessToken)
			require.Error(t, err)
			require.False(t, errors.Is(err, oidcstore.ErrInvalidToken), "a failed lookup is not a verdict on the token: %v", err)
		})
	})
}

func TestOIDCRequireAccessToken(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b Backend) {
		p := newOIDCProvider(t, b)
		ctx := context.Background()
		user := p.f.register(t, "ada@example.com", "correct horse battery staple")
		c, secret := p.f.confidentialClient(t, nil)
		conf := p.oauthConfig(c, secret, redirectURI)
		v, err := oidcstore.NewVerifier(p.f.s, p.issuer, oidcstore.WithAudience(c.ID.String()))
		require.NoError(t, err)
		api := http.NewServeMux()
		hello := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			at, ok := oidcstore.AccessTokenFrom(r.Context())
			if !ok {
				http.Error(w, "no verified token in the context", http.StatusInternalServerError)
				return
			}
			_, _ = w.Write([]byte(at.Subject))
		})
		api.Handle("/email", oidcstore.RequireAccessToken(v, "email")(hello))
		api.Handle("/admin", oidcstore.RequireAccessToken(v, "email", "admin")(hello))
		srv := httptest.NewServer(api)
		t.Cleanup(srv.Close)
		get := func(t *testing.T, path, authorization string) (int, string, string) {
			t.Helper()
			req, err := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL+path, nil)
			require.NoError(t, err)
			if authorization != "" {
				req.Header.Set("Authorization", authorization)
			}
			resp, err := http.DefaultClient.Do(req)
			require.NoError(t, err)
			defer resp.Body.Close()
			body, err := io.ReadAll(resp.Body)
			require.NoError(t, err)
			return resp.StatusCode, resp.Header.Get("WWW-Authenticate"), string(body)
		}
		tok, err := p.exchange(conf, p.authorize(t, conf, user.ID))
		require.NoError(t, err)
		p.syncClock()

		t.Run("OK", func(t *testing.T) {
			resp, err := conf.Client(ctx, tok).Get(srv.URL + "/email")
			require.NoError(t, err)
			defer resp.Body.Close()
			body, err := io.ReadAll(resp.Body)
			require.NoError(t, err)
			require.Equal(t, http.StatusOK, resp.StatusCode)
			require.Equal(t, user.ID.String(), string(body), "the handler reads the subject from the context")
			code, _, _ := get(t, "/email", "bearer "+tok.AccessToken)
			require.Equal(t, http.StatusOK, code, "the scheme's case does not matter")
		})
		t.Run("NoToken", func(t *testing.T) {
			code, challenge, _ := get(t, "/email", "")
			require.Equal(t, http.StatusUnauthorized, code)
			require.Equal(t, "Bearer", challenge)
			code, challenge, _ = get(t, "/email", "Basic "+base64.StdEncoding.EncodeToString([]byte("a:b")))
			require.Equal(t, http.StatusUnauthorized, code)
			require.Equal(t, "Bearer", challenge)
		})
		t.Run("InsufficientScope", func(t *testing.T) {
			code, challenge, body := get(t, "/admin", "Bearer "+tok.AccessToken)
			require.Equal(t, http.StatusForbidden, code)
			require.Equal(t, `Bearer error="insufficient_scope", scope="email admin"`, challenge)
			require.NotContains(t, body, tok.AccessToken)
		})
		t.Run("InvalidToken", func(t *testing.T) {
			code, challenge, body := get(t, "/email", "Bearer "+tok.AccessToken+"x")
			require.Equal(t, http.StatusUnauthorized, code)
			require.Equal(t, `Bearer error="invalid_token"`, challenge)
			require.NotContains(t, body, tok.AccessToken)
		})
		t.Run("Revoked", func(t *testing.T) {
			require.Equal(t, http.StatusOK, p.postForm(t, p.issuer+"/revoke", c.ID.String(), secret, url.Values{"token": {tok.AccessToken}}, nil))
			code, challenge, _ := get(t, "/email", "Bearer "+tok.AccessToken)
			require.Equal(t, http.StatusUnauthorized, code)
			require.Equal(t, `Bearer error="invalid_token"`, challenge)
		})
	})
}
