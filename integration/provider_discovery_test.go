package integration

// The provider's discovery document (package provider) as a relying party
// reads it: what it lists works, and what it leaves out is refused.

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/forgeauth/authstore/protocol"
	"github.com/forgeauth/authstore/repositories"
	"github.com/stretchr/testify/require"
	"golang.org/x/oauth2"
)

// discoveryMetadata is what TestProviderDiscovery reads of the discovery
// document.
type discoveryMetadata struct {
	ResponseTypes []string `json:"response_types_supported"`
	GrantTypes    []string `json:"grant_types_supported"`
	PKCE          []string `json:"code_challenge_methods_supported"`
	AuthMethods   []string `json:"token_endpoint_auth_methods_supported"`
	SigningAlgs   []string `json:"id_token_signing_alg_values_supported"`
	Claims        []string `json:"claims_supported"`
	Scopes        []string `json:"scopes_supported"`
	Device        string   `json:"device_authorization_endpoint"`
	Userinfo      string   `json:"userinfo_endpoint"`
}

// TestProviderDiscovery: a relying party reads the provider's discovery
// document with go-oidc and follows only what it lists (response type
// code with PKCE S256, client_secret_basic, an ID token signed with a
// listed algorithm whose claims, and userinfo's, are listed ones), and
// signs a person in; what discovery leaves out is refused: an implicit or
// hybrid authorize request (unauthorized_client, no token in the
// redirect), a device authorization request and the JWT profile grant.
func TestProviderDiscovery(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b Backend) {
		ls := newLoginSetup(t, b)
		ctx := context.Background()
		var meta discoveryMetadata
		require.NoError(t, ls.discovery.Claims(&meta))
		require.Equal(t, []string{"code"}, meta.ResponseTypes, "response_types_supported")
		require.Equal(t, []string{"S256"}, meta.PKCE, "code_challenge_methods_supported")
		require.Contains(t, meta.AuthMethods, "client_secret_basic")
		require.NotContains(t, meta.GrantTypes, "implicit")
		require.NotContains(t, meta.GrantTypes, "urn:ietf:params:oauth:grant-type:jwt-bearer")
		require.Empty(t, meta.Device, "device_authorization_endpoint")
		require.NotEmpty(t, meta.SigningAlgs)

		// What discovery lists: code, PKCE S256, client_secret_basic.
		ls.register(t, "discovery@example.com")
		c := browserClient(t)
		authURL, verifier := ls.authURL("discovery")
		form := ls.openLogin(t, c, authURL)
		got := ls.submit(t, c, form.id, form.csrf, "discovery@example.com", loginPassword)
		require.Equal(t, http.StatusFound, got.status, "login: %s", got.body)
		loc, err := got.res.Location()
		require.NoError(t, err)
		status, back := redirectOf(t, c, loc.String())
		require.Equal(t, http.StatusFound, status)
		tok, err := ls.oauth.Exchange(ctx, back.Query().Get("code"), oauth2.VerifierOption(verifier))
		require.NoError(t, err, "code exchange")
		raw, _ := tok.Extra("id_token").(string)
		id, err := ls.discovery.Verifier(&oidc.Config{ClientID: ls.oauth.ClientID, SupportedSigningAlgs: meta.SigningAlgs}).Verify(ctx, raw)
		require.NoError(t, err, "go-oidc Verify(id_token) with the listed algorithms")
		require.Equal(t, "nonce-discovery", id.Nonce)
		var claims map[string]any
		require.NoError(t, id.Claims(&claims))
		for k := range claims {
			require.Contains(t, meta.Claims, k, "the ID token carries %s, which claims_supported does not list", k)
		}
		require.NotEmpty(t, meta.Userinfo)
		info, err := ls.discovery.UserInfo(ctx, oauth2.StaticTokenSource(tok))
		require.NoError(t, err, "userinfo")
		var infoClaims map[string]any
		require.NoError(t, info.Claims(&infoClaims))
		require.Equal(t, "discovery@example.com", infoClaims["email"])
		for k := range infoClaims {
			require.Contains(t, meta.Claims, k, "userinfo returns %s, which claims_supported does not list", k)
		}

		// What discovery leaves out. The implicit and hybrid response
		// types: refused with unauthorized_client (the client registered
		// code alone), and no token reaches the redirect URI. The client
		// has an https redirect URI: op refuses an http one for these
		// response types before it reads the type (invalid_request, no
		// redirect), which would hide the answer under test.
		web, webSecret, err := ls.f.s.Clients.Create(requestCtx(), repositories.ClientInput{
			Name: appName, RedirectURIs: []string{"https://app.example.com/callback"}, Confidential: true,
			GrantTypes: []string{protocol.GrantAuthorizationCode},
		})
		require.NoError(t, err)
		webConf := *ls.oauth
		webConf.ClientID, webConf.ClientSecret, webConf.RedirectURL = string(web.ID), webSecret, "https://app.example.com/callback"
		for _, rt := range []string{"id_token", "id_token token", "code id_token", "token"} {
			require.NotContains(t, meta.ResponseTypes, rt)
			u := webConf.AuthCodeURL("implicit", oauth2.SetAuthURLParam("response_type", rt),
				oauth2.SetAuthURLParam("nonce", "nonce-implicit"))
			status, loc := redirectOf(t, c, u)
			require.Equal(t, http.StatusFound, status, "authorize response_type=%q", rt)
			require.True(t, strings.HasPrefix(loc.String(), webConf.RedirectURL), "authorize response_type=%q redirected to %s; want the client's redirect URI with an error", rt, loc)
			answer := loc.Query()
			if loc.Fragment != "" {
				answer, err = url.ParseQuery(loc.Fragment)
				require.NoError(t, err)
			}
			require.Contains(t, []string{"unauthorized_client", "unsupported_response_type"}, answer.Get("error"), "authorize response_type=%q: %s", rt, loc)
			for _, k := range []string{"id_token", "access_token", "code"} {
				require.Empty(t, answer.Get(k), "authorize response_type=%q returned %s", rt, k)
			}
		}

		// The device authorization endpoint op mounts (discovery does not
		// list it) refuses the client.
		form2 := url.Values{"client_id": {ls.oauth.ClientID}, "client_secret": {ls.oauth.ClientSecret}, "scope": {"openid"}}
		res, err := http.PostForm(ls.issuer+"/device_authorization", form2)
		require.NoError(t, err)
		require.GreaterOrEqual(t, res.StatusCode, 400, "device authorization: status %d; want refused", res.StatusCode)
		require.Equal(t, "unauthorized_client", oauthError(t, res), "device authorization")

		// The JWT profile grant is refused at the token endpoint: an
		// assertion whose claims op accepts reaches the storage, which has
		// no key to check it with.
		now := time.Now().Unix()
		seg := func(v any) string {
			b, err := json.Marshal(v)
			require.NoError(t, err)
			return base64.RawURLEncoding.EncodeToString(b)
		}
		assertion := seg(map[string]any{"alg": "RS256", "kid": "client-key"}) + "." +
			seg(map[string]any{"iss": ls.oauth.ClientID, "sub": ls.oauth.ClientID, "aud": []string{ls.issuer}, "iat": now, "exp": now + 300}) +
			"." + base64.RawURLEncoding.EncodeToString([]byte("signature"))
		req, err := http.NewRequest(http.MethodPost, ls.oauth.Endpoint.TokenURL, strings.NewReader(url.Values{
			"grant_type": {"urn:ietf:params:oauth:grant-type:jwt-bearer"}, "assertion": {assertion}, "scope": {"openid"},
		}.Encode()))
		require.NoError(t, err)
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.SetBasicAuth(url.QueryEscape(ls.oauth.ClientID), url.QueryEscape(ls.oauth.ClientSecret))
		res, err = http.DefaultClient.Do(req)
		require.NoError(t, err)
		require.GreaterOrEqual(t, res.StatusCode, 400, "jwt-bearer grant: status %d; want refused", res.StatusCode)
		require.Equal(t, "invalid_client", oauthError(t, res), "jwt-bearer grant")
	})
}

// oauthError reads the error code of an OAuth2 error response and closes
// its body.
func oauthError(t *testing.T, res *http.Response) string {
	t.Helper()
	defer res.Body.Close()
	var e struct {
		Error string `json:"error"`
	}
	require.NoError(t, json.NewDecoder(res.Body).Decode(&e), "an OAuth2 error response")
	return e.Error
}
