package integration

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/forgeauth/authstore/models"
	"github.com/forgeauth/authstore/oidcstore"
	"github.com/forgeauth/authstore/repositories"
	"github.com/stretchr/testify/require"
	"github.com/zitadel/oidc/v3/pkg/op"
	"golang.org/x/oauth2"
)

// The OpenID provider of the tests: zitadel/oidc's op over oidcstore on a
// fixture's Store, served by httptest, with the real clients
// golang.org/x/oauth2 and github.com/coreos/go-oidc/v3. The login step is
// CompleteAuthRequest, called directly (loginAs); a test of a login page
// mounts its handler with withLoginHandler.

// oidcProvider is a running provider and the clients' view of it.
type oidcProvider struct {
	f        *fixture
	storage  *oidcstore.Storage
	provider *op.Provider
	server   *httptest.Server
	issuer   string
	// discovery is go-oidc's provider, from the discovery document.
	discovery *oidc.Provider
	// noRedirect is an HTTP client that stops at the first redirect, so a
	// test reads the Location op answers with.
	noRedirect *http.Client
}

// providerSettings are the options of newOIDCProvider.
type providerSettings struct {
	fixture []fixtureOption
	login   func(p *oidcProvider) http.Handler
}

// providerOption changes newOIDCProvider's provider.
type providerOption func(*providerSettings)

// withProviderFixture passes options to the fixture under the provider.
func withProviderFixture(opts ...fixtureOption) providerOption {
	return func(s *providerSettings) { s.fixture = append(s.fixture, opts...) }
}

// withLoginHandler mounts a login page at /login (the Storage's default
// login URL), built once the provider exists.
func withLoginHandler(h func(p *oidcProvider) http.Handler) providerOption {
	return func(s *providerSettings) { s.login = h }
}

// newOIDCProvider starts a provider over a fresh Store of b with a master
// encryption key and a current RS256 signing key. The Store runs on the
// real clock (moved to now): op and the clients compare token times with
// time.Now.
func newOIDCProvider(t *testing.T, b Backend, opts ...providerOption) *oidcProvider {
	t.Helper()
	var ps providerSettings
	for _, o := range opts {
		o(&ps)
	}
	f := newFixture(t, b, append([]fixtureOption{withMasterKey(masterKey1)}, ps.fixture...)...)
	f.clock.mu.Lock()
	f.clock.now = time.Now().UTC()
	f.clock.mu.Unlock()
	ctx := context.Background()
	_, err := f.s.Keys.Rotate(ctx, repositories.RotateOptions{})
	require.NoError(t, err, "Keys.Rotate (first key)")

	storage, err := oidcstore.New(f.s)
	require.NoError(t, err)
	cfg, err := storage.ProviderConfig()
	require.NoError(t, err)

	p := &oidcProvider{f: f, storage: storage}
	mux := http.NewServeMux()
	p.server = httptest.NewServer(mux)
	t.Cleanup(p.server.Close)
	p.issuer = p.server.URL
	p.provider, err = op.NewProvider(cfg, storage, op.StaticIssuer(p.issuer), op.WithAllowInsecure(), op.WithHttpInterceptors(storage.Interceptor))
	require.NoError(t, err, "op.NewProvider")
	if ps.login != nil {
		mux.Handle("/login", ps.login(p))
	}
	mux.Handle("/", p.provider)

	p.discovery, err = oidc.NewProvider(ctx, p.issuer)
	require.NoError(t, err, "go-oidc discovery of %s", p.issuer)
	p.noRedirect = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	return p
}

// oauthConfig is x/oauth2's configuration of a client of the provider:
// client_secret_basic for a confidential client, the id in the form for a
// public one.
func (p *oidcProvider) oauthConfig(c *models.Client, secret, redirect string, scopes ...string) *oauth2.Config {
	ep := p.discovery.Endpoint()
	ep.AuthStyle = oauth2.AuthStyleInHeader
	if secret == "" {
		ep.AuthStyle = oauth2.AuthStyleInParams
	}
	if len(scopes) == 0 {
		scopes = []string{oidc.ScopeOpenID, "email", "profile", oidc.ScopeOfflineAccess}
	}
	return &oauth2.Config{ClientID: c.ID.String(), ClientSecret: secret, Endpoint: ep, RedirectURL: redirect, Scopes: scopes}
}

// authorization is one pass through the authorize endpoint.
type authorization struct {
	code, state, nonce, verifier string
}

// authorize sends the person of userID through the authorize endpoint with
// PKCE and a nonce, logs them in (CompleteAuthRequest, now, amr "pwd") and
// follows op's callback to the code.
func (p *oidcProvider) authorize(t *testing.T, conf *oauth2.Config, userID models.UUID) authorization {
	t.Helper()
	return p.authorizeAs(t, conf, userID, time.Now(), []string{"pwd"})
}

// authorizeAs is authorize with the login's auth time and methods.
func (p *oidcProvider) authorizeAs(t *testing.T, conf *oauth2.Config, userID models.UUID, authTime time.Time, amr []string) authorization {
	t.Helper()
	a := authorization{state: rand.Text(), nonce: rand.Text(), verifier: oauth2.GenerateVerifier()}
	authURL := conf.AuthCodeURL(a.state, oidc.Nonce(a.nonce), oauth2.S256ChallengeOption(a.verifier))
	loc := p.redirect(t, authURL)
	require.True(t, strings.HasPrefix(loc, "/login?"), "authorize redirected to %q; want the login page", loc)
	u, err := url.Parse(loc)
	require.NoError(t, err)
	id := u.Query().Get("authRequestID")
	ctx := op.ContextWithIssuer(context.Background(), p.issuer)
	require.NoError(t, p.storage.CompleteAuthRequest(ctx, id, userID, authTime, amr))
	back, err := url.Parse(p.redirect(t, op.AuthCallbackURL(p.provider)(ctx, id)))
	require.NoError(t, err)
	require.Equal(t, a.state, back.Query().Get("state"), "state returned with the code")
	a.code = back.Query().Get("code")
	require.NotEmpty(t, a.code, "callback redirected to %s; want a code", back)
	return a
}

// redirect GETs u and returns where the provider redirects to.
func (p *oidcProvider) redirect(t *testing.T, u string) string {
	t.Helper()
	res, err := p.noRedirect.Get(u)
	require.NoError(t, err)
	defer res.Body.Close()
	require.Equal(t, http.StatusFound, res.StatusCode, "GET %s", u)
	return res.Header.Get("Location")
}

// exchange redeems an authorization's code with x/oauth2.
func (p *oidcProvider) exchange(conf *oauth2.Config, a authorization) (*oauth2.Token, error) {
	return conf.Exchange(context.Background(), a.code, oauth2.VerifierOption(a.verifier))
}

// verifyIDToken verifies a token response's ID token through discovery
// and the JWKS (go-oidc) and checks its nonce.
func (p *oidcProvider) verifyIDToken(t *testing.T, clientID string, tok *oauth2.Token, nonce string) *oidc.IDToken {
	t.Helper()
	raw, ok := tok.Extra("id_token").(string)
	require.True(t, ok, "the token response has no id_token")
	// The algorithms the Store's keys may sign with: discovery lists those
	// of the keys published when it was read, and a rotation may bring
	// another.
	algs := []string{oidc.RS256, oidc.ES256, oidc.EdDSA}
	id, err := p.discovery.Verifier(&oidc.Config{ClientID: clientID, SupportedSigningAlgs: algs}).Verify(context.Background(), raw)
	require.NoError(t, err, "go-oidc Verify(id_token)")
	require.Equal(t, nonce, id.Nonce, "id_token nonce")
	return id
}

// refresh presents a refresh token at the token endpoint.
func (p *oidcProvider) refresh(conf *oauth2.Config, refreshToken string) (*oauth2.Token, error) {
	return conf.TokenSource(context.Background(), &oauth2.Token{RefreshToken: refreshToken, Expiry: time.Now().Add(-time.Hour)}).Token()
}

// postForm POSTs form to one of the provider's endpoints with a client's
// credentials (basic authentication, or the id in the form for a public
// client) and decodes the JSON answer into out.
func (p *oidcProvider) postForm(t *testing.T, endpoint, clientID, secret string, form url.Values, out any) int {
	t.Helper()
	if secret == "" {
		form.Set("client_id", clientID)
	}
	req, err := http.NewRequest(http.MethodPost, endpoint, strings.NewReader(form.Encode()))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if secret != "" {
		req.SetBasicAuth(url.QueryEscape(clientID), url.QueryEscape(secret))
	}
	res, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer res.Body.Close()
	if out != nil && res.StatusCode == http.StatusOK {
		require.NoError(t, json.NewDecoder(res.Body).Decode(out))
	}
	return res.StatusCode
}

// introspect asks the introspection endpoint about token as a client and
// returns whether it is active.
func (p *oidcProvider) introspect(t *testing.T, clientID, secret, token string) bool {
	t.Helper()
	var out struct {
		Active bool `json:"active"`
	}
	code := p.postForm(t, p.issuer+"/oauth/introspect", clientID, secret, url.Values{"token": {token}}, &out)
	require.Equal(t, http.StatusOK, code, "introspect")
	return out.Active
}

// client registers a client for the provider and returns it with its
// secret ("" for a public client).
func (p *oidcProvider) client(t *testing.T, in repositories.ClientInput) (*models.Client, string) {
	t.Helper()
	if in.Name == "" {
		in.Name = "Provider app"
	}
	c, secret, err := p.f.s.Clients.Create(context.Background(), in)
	require.NoError(t, err, "Clients.Create")
	return c, secret
}

// tokenRequest POSTs form to the token endpoint as a client and returns
// the status code and, on success, the access token's response.
func (p *oidcProvider) tokenRequest(t *testing.T, clientID, secret string, form url.Values) (int, map[string]any) {
	t.Helper()
	var out map[string]any
	return p.postForm(t, p.discovery.Endpoint().TokenURL, clientID, secret, form, &out), out
}

// userinfoStatus calls the userinfo endpoint with an access token and
// returns the status code.
func (p *oidcProvider) userinfoStatus(t *testing.T, accessToken string) int {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, p.issuer+"/userinfo", nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+accessToken)
	res, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	res.Body.Close()
	return res.StatusCode
}

// loginOf reads the login claims of a verified ID token.
func loginOf(t *testing.T, id *oidc.IDToken) loginClaims {
	t.Helper()
	var c loginClaims
	require.NoError(t, id.Claims(&c), "ID token claims")
	return c
}
