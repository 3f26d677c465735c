package integration

// BenchmarkTokenEndpoint: the OpenID provider's token and introspection
// endpoints over loopback HTTP (package provider: zitadel/oidc's op over
// the oidcstore adapter) beside the same operation through the
// repositories directly, and beside the same op.Provider, configured by
// provider.NewOpenIDProvider alike, on zitadel/oidc's own example
// in-memory storage (github.com/zitadel/oidc/v3/example/server/storage,
// the map store its module ships). The difference between the provider
// and the repositories is the protocol layer (HTTP, form parsing, client
// authentication, JWT and ID-token signing); the difference between the
// two providers is the cost of real persistence.

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/forgeauth/authstore"
	"github.com/forgeauth/authstore/oidcstore"
	"github.com/forgeauth/authstore/protocol"
	"github.com/forgeauth/authstore/provider"
	"github.com/forgeauth/authstore/repositories"
	"golang.org/x/oauth2"
	"gorm.io/gorm/logger"

	exstorage "github.com/zitadel/oidc/v3/example/server/storage"
)

// endpointClient drives an OpenID provider over HTTP as a confidential
// client (client_secret_basic) would.
type endpointClient struct {
	http                       *http.Client
	authorize, token, intro    string
	callback                   string
	clientID, secret, redirect string
	// login records a login on the pending authorization request id, as
	// the login page would after a good password.
	login func(id string) error
}

// newEndpointClient reads the provider's discovery document.
func newEndpointClient(b *testing.B, issuer, clientID, secret, redirect string, login func(string) error) *endpointClient {
	b.Helper()
	c := &endpointClient{
		http:     &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }},
		clientID: clientID, secret: secret, redirect: redirect, login: login,
	}
	res, err := c.http.Get(issuer + "/.well-known/openid-configuration")
	if err != nil {
		b.Fatal(err)
	}
	defer res.Body.Close()
	var disc struct {
		Authorization string `json:"authorization_endpoint"`
		Token         string `json:"token_endpoint"`
		Introspection string `json:"introspection_endpoint"`
	}
	if err := json.NewDecoder(res.Body).Decode(&disc); err != nil {
		b.Fatal(err)
	}
	c.authorize, c.token, c.intro = disc.Authorization, disc.Token, disc.Introspection
	c.callback = disc.Authorization + "/callback"
	return c
}

// code runs the authorization request (authorize, login, callback) and
// returns a code and its PKCE verifier.
func (c *endpointClient) code(scope string) (code, verifier string, err error) {
	verifier = oauth2.GenerateVerifier()
	q := url.Values{"client_id": {c.clientID}, "redirect_uri": {c.redirect}, "response_type": {"code"},
		"scope": {scope}, "state": {"s"}, "nonce": {"n"},
		"code_challenge": {oauth2.S256ChallengeFromVerifier(verifier)}, "code_challenge_method": {"S256"}}
	loc, err := c.redirectOf(c.authorize + "?" + q.Encode())
	if err != nil {
		return "", "", fmt.Errorf("authorize: %w", err)
	}
	id := loc.Query().Get("authRequestID")
	if id == "" {
		return "", "", fmt.Errorf("authorize: redirected to %s, not to a login page", loc)
	}
	if err := c.login(id); err != nil {
		return "", "", fmt.Errorf("login: %w", err)
	}
	loc, err = c.redirectOf(c.callback + "?id=" + url.QueryEscape(id))
	if err != nil {
		return "", "", fmt.Errorf("callback: %w", err)
	}
	if code = loc.Query().Get("code"); code == "" {
		return "", "", fmt.Errorf("callback: redirected to %s without a code", loc)
	}
	return code, verifier, nil
}

// redirectOf GETs u and returns where it redirects.
func (c *endpointClient) redirectOf(u string) (*url.URL, error) {
	res, err := c.http.Get(u)
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusFound && res.StatusCode != http.StatusSeeOther {
		var body strings.Builder
		_, _ = fmt.Fscan(res.Body, &body)
		return nil, fmt.Errorf("status %d, want a redirect", res.StatusCode)
	}
	return res.Location()
}

// tokenResponse is the token endpoint's answer.
type tokenResponse struct {
	AccessToken  string `json:"access_token"`
	RefreshToken string `json:"refresh_token"`
	IDToken      string `json:"id_token"`
}

// post sends form to endpoint with the client's credentials and decodes
// the JSON answer into out.
func (c *endpointClient) post(endpoint string, form url.Values, out any) error {
	req, err := http.NewRequest(http.MethodPost, endpoint, strings.NewReader(form.Encode()))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(url.QueryEscape(c.clientID), url.QueryEscape(c.secret))
	res, err := c.http.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		var e struct {
			Error       string `json:"error"`
			Description string `json:"error_description"`
		}
		_ = json.NewDecoder(res.Body).Decode(&e)
		return fmt.Errorf("%s: status %d: %s: %s", endpoint, res.StatusCode, e.Error, e.Description)
	}
	return json.NewDecoder(res.Body).Decode(out)
}

// exchange redeems a code at the token endpoint.
func (c *endpointClient) exchange(code, verifier string) (tokenResponse, error) {
	var t tokenResponse
	err := c.post(c.token, url.Values{"grant_type": {"authorization_code"}, "code": {code},
		"redirect_uri": {c.redirect}, "code_verifier": {verifier}}, &t)
	return t, err
}

// refresh rotates a refresh token at the token endpoint.
func (c *endpointClient) refresh(token string) (tokenResponse, error) {
	var t tokenResponse
	err := c.post(c.token, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {token}}, &t)
	return t, err
}

// clientCredentials asks the token endpoint for a client-credentials token.
func (c *endpointClient) clientCredentials(scope string) (tokenResponse, error) {
	var t tokenResponse
	form := url.Values{"grant_type": {"client_credentials"}}
	if scope != "" {
		form.Set("scope", scope)
	}
	err := c.post(c.token, form, &t)
	return t, err
}

// introspect asks the introspection endpoint about token and fails
// unless it is active.
func (c *endpointClient) introspect(token string) error {
	var r struct {
		Active bool `json:"active"`
	}
	if err := c.post(c.intro, url.Values{"token": {token}}, &r); err != nil {
		return err
	}
	if !r.Active {
		return fmt.Errorf("introspection: token inactive")
	}
	return nil
}

// benchTokenOps runs the four operations against a provider: the code
// exchange (the authorization request before it is not measured), a
// refresh (each iteration rotates the token the previous one got), a
// client-credentials token from cc, and the introspection of an access
// token.
func benchTokenOps(b *testing.B, c, cc *endpointClient, ccScope string) {
	b.Run("code", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			b.StopTimer()
			code, verifier, err := c.code("openid")
			if err != nil {
				b.Fatal(err)
			}
			b.StartTimer()
			if _, err := c.exchange(code, verifier); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("refresh", func(b *testing.B) {
		code, verifier, err := c.code("openid offline_access")
		if err != nil {
			b.Fatal(err)
		}
		t, err := c.exchange(code, verifier)
		if err != nil {
			b.Fatal(err)
		}
		if t.RefreshToken == "" {
			b.Fatal("no refresh token from the code exchange")
		}
		b.ReportAllocs()
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			if t, err = c.refresh(t.RefreshToken); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("client_credentials", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			if _, err := cc.clientCredentials(ccScope); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("introspect", func(b *testing.B) {
		code, verifier, err := c.code("openid")
		if err != nil {
			b.Fatal(err)
		}
		t, err := c.exchange(code, verifier)
		if err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			if err := c.introspect(t.AccessToken); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// serveOP starts an httptest server on loopback whose handler is built
// for its own URL, and returns that URL (the issuer).
func serveOP(b testing.TB, build func(issuer string) (http.Handler, error)) string {
	b.Helper()
	srv := httptest.NewUnstartedServer(nil)
	issuer := "http://" + srv.Listener.Addr().String()
	h, err := build(issuer)
	if err != nil {
		b.Fatal(err)
	}
	srv.Config.Handler = h
	srv.Start()
	b.Cleanup(srv.Close)
	return issuer
}

// benchExampleStorage runs the operations on zitadel/oidc's example
// in-memory storage, behind the op.Provider that provider.NewOpenIDProvider
// configures as it does for authstore.
func benchExampleStorage(b *testing.B) {
	const redirect = "http://127.0.0.1:9999/cb"
	var st *exstorage.Storage
	issuer := serveOP(b, func(issuer string) (http.Handler, error) {
		st = exstorage.NewStorageWithClients(exstorage.NewUserStore(issuer),
			map[string]*exstorage.Client{"web": exstorage.WebClient("web", "secret", redirect)})
		return provider.NewOpenIDProvider(st, provider.Config{Issuer: issuer, CryptoKey: [32]byte{1}})
	})
	c := newEndpointClient(b, issuer, "web", "secret", redirect, func(id string) error {
		return st.CheckUsernamePassword("test-user2", "verysecure", id)
	})
	cc := newEndpointClient(b, issuer, "sid1", "verysecret", redirect, nil)
	benchTokenOps(b, c, cc, "")
}

// providerBenchStore opens a migrated store on backend name as `authstore
// serve` runs one: a master key, its first signing key current (RS256),
// no JWT_SECRET.
func providerBenchStore(b *testing.B, name string) *authstore.Store {
	b.Helper()
	for _, be := range backends() {
		if be.Name == name {
			cfg := be.Config(b)
			setMasterKey(&cfg, masterKey1)
			cfg.MaxOpenConns, cfg.MaxIdleConns = 32, 32
			s := openWith(b, cfg, authstore.WithLogger(logger.Discard), authstore.WithMigrate())
			if _, err := s.Keys.Rotate(context.Background(), repositories.RotateOptions{}); err != nil {
				b.Fatal(err)
			}
			return s
		}
	}
	b.Fatalf("no backend %q", name)
	return nil
}

// benchRepositories runs the four operations through the repositories
// directly, each with the Clients.Authenticate the token endpoint does
// first (the client's secret is then in the verification cache, as it is
// for the provider's repeated requests).
func benchRepositories(b *testing.B, s *authstore.Store) {
	ctx := context.Background()
	c, secret := benchClient(b, s)
	user, err := s.Users.Create(ctx, repositories.UserInput{Name: "Bench", Email: "bench@example.com",
		Password: loginPassword, PasswordConfirmation: loginPassword})
	if err != nil {
		b.Fatal(err)
	}
	const redirect = "https://app.example.com/cb"
	// authenticate is the token endpoint's first step.
	authenticate := func(b *testing.B) repositories.AuthenticatedClient {
		auth, err := s.Clients.Authenticate(ctx, c.ID, secret)
		if err != nil {
			b.Fatal(err)
		}
		return auth
	}
	// issue starts a grant of the user.
	issue := func(b *testing.B) *repositories.TokenPair {
		pair, err := s.RefreshTokens.Issue(ctx, c.ID, &user.ID, []string{"openid"})
		if err != nil {
			b.Fatal(err)
		}
		return pair
	}
	b.Run("code", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			b.StopTimer()
			verifier, err := protocol.NewVerifier()
			if err != nil {
				b.Fatal(err)
			}
			_, code, err := s.AuthCodes.Create(ctx, repositories.AuthCodeInput{ClientID: c.ID, UserID: user.ID, RedirectURI: redirect,
				Scopes: []string{"openid"}, CodeChallenge: protocol.S256Challenge(verifier), CodeChallengeMethod: protocol.PKCEMethodS256})
			if err != nil {
				b.Fatal(err)
			}
			b.StartTimer()
			if _, err := s.AuthCodes.Exchange(ctx, authenticate(b), code, redirect, verifier); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("refresh", func(b *testing.B) {
		pair := issue(b)
		b.ReportAllocs()
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			var err error
			if pair, err = s.RefreshTokens.Rotate(ctx, authenticate(b), pair.RefreshToken, nil); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("client_credentials", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			if _, _, err := s.AccessTokens.IssueClientCredentials(ctx, authenticate(b), nil); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("introspect", func(b *testing.B) {
		pair := issue(b)
		b.ReportAllocs()
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			info, err := s.Tokens.Introspect(ctx, authenticate(b), pair.AccessToken)
			if err != nil || !info.Active {
				b.Fatalf("Introspect = %+v, %v; want active", info, err)
			}
		}
	})
}

// benchProvider runs the operations through provider.New on s over
// loopback HTTP. The login step of each authorization request is
// oidcstore's CompleteAuthRequest, as the login page calls it after a good
// password (the password check is not part of any measured operation).
func benchProvider(b *testing.B, s *authstore.Store) {
	ctx := context.Background()
	c, secret := benchClient(b, s)
	user, err := s.Users.Create(ctx, repositories.UserInput{Name: "Bench", Email: "bench@example.com",
		Password: loginPassword, PasswordConfirmation: loginPassword})
	if err != nil {
		b.Fatal(err)
	}
	st, err := oidcstore.New(s)
	if err != nil {
		b.Fatal(err)
	}
	issuer := serveOP(b, func(issuer string) (http.Handler, error) {
		return provider.New(ctx, s, provider.Config{Issuer: issuer})
	})
	e := newEndpointClient(b, issuer, string(c.ID), secret, c.RedirectURIs[0], func(id string) error {
		return st.CompleteAuthRequest(ctx, id, user.ID, time.Now(), []string{"pwd"})
	})
	benchTokenOps(b, e, e, "")
}

// BenchmarkTokenEndpoint: see the top of this file.
func BenchmarkTokenEndpoint(b *testing.B) {
	for _, name := range []string{"sqlite", "postgres"} {
		b.Run(name+"/provider", func(b *testing.B) { benchProvider(b, providerBenchStore(b, name)) })
		b.Run(name+"/repositories", func(b *testing.B) { benchRepositories(b, providerBenchStore(b, name)) })
	}
	b.Run("zitadel-example/provider", benchExampleStorage)
}
