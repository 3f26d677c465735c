package integration

// The provider's login page (package provider), through HTTP and through
// headless Chromium: a person reaches it from a client's authorize URL,
// a wrong password and a locked account show the same message, the CSRF
// token is required, and a good password lands on the client's redirect
// with a code the client exchanges.

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/forgeauth/authstore"
	"github.com/forgeauth/authstore/models"
	"github.com/forgeauth/authstore/protocol"
	"github.com/forgeauth/authstore/provider"
	"github.com/forgeauth/authstore/repositories"
	"github.com/stretchr/testify/require"
	"golang.org/x/oauth2"
)

const (
	// loginPassword is userPassword, the password of fixture.user's users.
	loginPassword = userPassword
	// wrongLogin is the message of a wrong password, an unknown email
	// and a locked account alike.
	wrongLogin = "Wrong email or password."
	appName    = "Browser test app"
)

// loginSetup is a provider over a fixture's Store, served on loopback, and
// a client app registered with it whose redirect URI is an httptest
// server that records the query of every redirect it receives.
type loginSetup struct {
	f      *fixture
	issuer string
	// discovery is go-oidc's view of the provider, from its discovery
	// document.
	discovery *oidc.Provider
	oauth     *oauth2.Config
	mu        sync.Mutex
	got       []url.Values // the queries the app's redirect URI received
}

// newLoginSetup opens a fixture on b with a master key, a signing key and
// the real clock (the provider checks expiries against it), starts the
// provider and registers the app. opts add to the fixture's options.
func newLoginSetup(t *testing.T, b Backend, opts ...fixtureOption) *loginSetup {
	t.Helper()
	f := newFixture(t, b, append([]fixtureOption{withMasterKey(masterKey1),
		withStoreOptions(authstore.WithClock(func() time.Time { return time.Now().UTC() }))}, opts...)...)
	ctx := requestCtx()
	_, err := f.s.Keys.Rotate(ctx, repositories.RotateOptions{})
	require.NoError(t, err)
	ls := &loginSetup{f: f}
	app := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/callback" { // the browser asks for /favicon.ico too
			http.NotFound(w, r)
			return
		}
		ls.mu.Lock()
		ls.got = append(ls.got, r.URL.Query())
		ls.mu.Unlock()
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, `<!doctype html><title>App</title><p id="done">signed in</p>`)
	}))
	t.Cleanup(app.Close)
	c, secret, err := f.s.Clients.Create(ctx, repositories.ClientInput{
		Name: appName, RedirectURIs: []string{app.URL + "/callback"}, Confidential: true,
		GrantTypes: []string{protocol.GrantAuthorizationCode, protocol.GrantRefreshToken},
	})
	require.NoError(t, err)
	ls.issuer = serveOP(t, func(issuer string) (http.Handler, error) {
		return provider.New(context.Background(), f.s, provider.Config{Issuer: issuer})
	})
	// The app reads the provider's endpoints from discovery, as a relying
	// party does (go-oidc checks the issuer it lists).
	ls.discovery, err = oidc.NewProvider(context.Background(), ls.issuer)
	require.NoError(t, err, "go-oidc discovery of %s", ls.issuer)
	ep := ls.discovery.Endpoint()
	ep.AuthStyle = oauth2.AuthStyleInHeader
	ls.oauth = &oauth2.Config{
		ClientID: string(c.ID), ClientSecret: secret, RedirectURL: app.URL + "/callback",
		Endpoint: ep, Scopes: []string{"openid", "email", "profile"},
	}
	return ls
}

// authURL returns a new authorize URL (state and nonce of its own) and
// its PKCE verifier.
func (ls *loginSetup) authURL(state string) (string, string) {
	verifier := oauth2.GenerateVerifier()
	return ls.oauth.AuthCodeURL(state, oauth2.S256ChallengeOption(verifier), oauth2.SetAuthURLParam("nonce", "nonce-"+state)), verifier
}

// received returns the query of the app's last redirect.
func (ls *loginSetup) received(t *testing.T) url.Values {
	t.Helper()
	ls.mu.Lock()
	defer ls.mu.Unlock()
	require.NotEmpty(t, ls.got, "the app's redirect URI received nothing")
	return ls.got[len(ls.got)-1]
}

// register creates a user with loginPassword.
func (ls *loginSetup) register(t *testing.T, email string) *models.User {
	t.Helper()
	return ls.f.register(t, email, loginPassword)
}

// browserClient is an HTTP client with a cookie jar that does not follow
// redirects, as a test that reads every step needs.
func browserClient(t *testing.T) *http.Client {
	t.Helper()
	jar, err := cookiejar.New(nil)
	require.NoError(t, err)
	return &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

var (
	hiddenRE = regexp.MustCompile(`<input type="hidden" name="(id|csrf)" value="([^"]*)">`)
	errorRE  = regexp.MustCompile(`<p class="error" id="error" role="alert">([^<]*)</p>`)
)

// loginForm is what the login page's form holds.
type loginForm struct {
	status       int
	id, csrf     string
	errorMessage string
	body         string
	res          *http.Response
}

// readForm reads a login page response.
func readForm(t *testing.T, res *http.Response) loginForm {
	t.Helper()
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	f := loginForm{status: res.StatusCode, body: string(body), res: res}
	for _, m := range hiddenRE.FindAllStringSubmatch(f.body, -1) {
		switch m[1] {
		case "id":
			f.id = html.UnescapeString(m[2])
		case "csrf":
			f.csrf = html.UnescapeString(m[2])
		}
	}
	if m := errorRE.FindStringSubmatch(f.body); m != nil {
		f.errorMessage = html.UnescapeString(m[1])
	}
	return f
}

// openLogin follows the authorize URL to the login page and reads it.
func (ls *loginSetup) openLogin(t *testing.T, c *http.Client, authURL string) loginForm {
	t.Helper()
	res, err := c.Get(authURL)
	require.NoError(t, err)
	res.Body.Close()
	require.Equal(t, http.StatusFound, res.StatusCode, "authorize: status %d; want a redirect to the login page", res.StatusCode)
	loc, err := res.Location()
	require.NoError(t, err)
	require.Equal(t, provider.LoginPath, loc.Path, "authorize redirected to %s; want the login page", loc)
	res, err = c.Get(loc.String())
	require.NoError(t, err)
	f := readForm(t, res)
	require.Equal(t, http.StatusOK, f.status, "login page: %s", f.body)
	require.NotEmpty(t, f.id)
	require.NotEmpty(t, f.csrf)
	require.Contains(t, f.body, appName, "the login page names the client that asks")
	return f
}

// submit posts the login form.
func (ls *loginSetup) submit(t *testing.T, c *http.Client, id, csrf, email, password string) loginForm {
	t.Helper()
	res, err := c.PostForm(ls.issuer+provider.LoginPath, url.Values{"id": {id}, "csrf": {csrf}, "email": {email}, "password": {password}})
	require.NoError(t, err)
	return readForm(t, res)
}

// TestProviderLoginForm drives the login page over HTTP: the CSRF token is
// required and bound to its request, a wrong password, an unknown email
// and a locked account show the same message with the same status, and a
// good password sets the session cookie (HttpOnly, SameSite=Lax, not
// Secure on an http issuer) and redirects to the callback that sends the
// code to the client, which the client exchanges; the signed-out page ends
// the session.
func TestProviderLoginForm(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b Backend) {
		ls := newLoginSetup(t, b)
		ada := ls.register(t, "ada@example.com")
		bob := ls.register(t, "bob@example.com")
		require.NoError(t, ls.f.s.Users.Lock(requestCtx(), bob.ID, time.Hour))
		c := browserClient(t)
		authURL, verifier := ls.authURL("state-1")
		form := ls.openLogin(t, c, authURL)

		t.Run("CSRF", func(t *testing.T) {
			failed := countEvents(t, ls.f.s.DB(), models.EventLoginFailed)
			got := ls.submit(t, c, form.id, "", "ada@example.com", loginPassword)
			require.Equal(t, http.StatusForbidden, got.status, "no CSRF token: %s", got.body)
			other := ls.openLogin(t, browserClient(t), authURL) // another browser's request and cookie
			got = ls.submit(t, c, form.id, other.csrf, "ada@example.com", loginPassword)
			require.Equal(t, http.StatusForbidden, got.status, "another request's CSRF token: %s", got.body)
			fresh := browserClient(t) // no CSRF cookie
			got = ls.submit(t, fresh, form.id, form.csrf, "ada@example.com", loginPassword)
			require.Equal(t, http.StatusForbidden, got.status, "a CSRF token without its cookie: %s", got.body)
			require.Equal(t, failed, countEvents(t, ls.f.s.DB(), models.EventLoginFailed), "a refused form reached Users.Authenticate")
		})

		t.Run("NoEnumeration", func(t *testing.T) {
			failed := countEvents(t, ls.f.s.DB(), models.EventLoginFailed)
			wrong := ls.submit(t, c, form.id, form.csrf, "ada@example.com", "wrong password")
			unknown := ls.submit(t, c, form.id, form.csrf, "nobody@example.com", loginPassword)
			locked := ls.submit(t, c, form.id, form.csrf, "bob@example.com", loginPassword)
			for name, got := range map[string]loginForm{"wrong password": wrong, "unknown email": unknown, "locked account": locked} {
				require.Equal(t, wrongLogin, got.errorMessage, "%s: %s", name, got.body)
				require.Equal(t, http.StatusUnauthorized, got.status, name)
				require.Equal(t, form.id, got.id, "%s: the form is shown again for the same request", name)
			}
			// Each failure is audited with the browser's address and agent.
			require.Equal(t, failed+3, countEvents(t, ls.f.s.DB(), models.EventLoginFailed))
			last := lastEvent(t, ls.f.s.DB(), models.EventLoginFailed)
			require.Equal(t, "127.0.0.1", last.IPAddress)
			require.Equal(t, "Go-http-client/1.1", last.UserAgent)
		})

		t.Run("Lockout", func(t *testing.T) {
			ls.register(t, "carol@example.com")
			for i := 0; i < ls.f.cfg.LockoutThreshold; i++ {
				got := ls.submit(t, c, form.id, form.csrf, "carol@example.com", "wrong password")
				require.Equal(t, wrongLogin, got.errorMessage)
			}
			got := ls.submit(t, c, form.id, form.csrf, "carol@example.com", loginPassword)
			require.Equal(t, wrongLogin, got.errorMessage, "a locked account shows the generic message")
			_, err := ls.f.s.Users.Authenticate(requestCtx(), "carol@example.com", loginPassword)
			require.ErrorIs(t, err, repositories.ErrAccountLocked, "after %d wrong passwords on the page", ls.f.cfg.LockoutThreshold)
		})

		t.Run("OK", func(t *testing.T) {
			got := ls.submit(t, c, form.id, form.csrf, "ada@example.com", loginPassword)
			require.Equal(t, http.StatusFound, got.status, "good password: %s", got.body)
			var session *http.Cookie
			for _, ck := range got.res.Cookies() {
				if ck.Name == provider.SessionCookie {
					session = ck
				}
			}
			require.NotNil(t, session, "no session cookie")
			require.True(t, session.HttpOnly)
			require.Equal(t, http.SameSiteLaxMode, session.SameSite)
			require.False(t, session.Secure, "Secure on an http issuer: the browser would not send it back")
			s, err := ls.f.s.Sessions.Find(requestCtx(), session.Value)
			require.NoError(t, err)
			require.Equal(t, ada.ID, s.UserID)

			loc, err := got.res.Location()
			require.NoError(t, err)
			res, err := c.Get(loc.String()) // the provider's callback
			require.NoError(t, err)
			res.Body.Close()
			require.Equal(t, http.StatusFound, res.StatusCode)
			back, err := res.Location()
			require.NoError(t, err)
			require.Equal(t, ls.oauth.RedirectURL, back.Scheme+"://"+back.Host+back.Path)
			require.Equal(t, "state-1", back.Query().Get("state"))
			tok, err := ls.oauth.Exchange(context.Background(), back.Query().Get("code"), oauth2.VerifierOption(verifier))
			require.NoError(t, err)
			require.NotEmpty(t, tok.AccessToken)
			require.NotEmpty(t, tok.Extra("id_token"))

			again := ls.submit(t, c, form.id, form.csrf, "ada@example.com", loginPassword)
			require.Equal(t, http.StatusBadRequest, again.status, "a finished request's form: %s", again.body)

		})
	})
}

// signIn logs email in through the login page in the browser c and returns
// the tokens the app gets and the session cookie's value.
func (ls *loginSetup) signIn(t *testing.T, c *http.Client, state, email string) (*oauth2.Token, string) {
	t.Helper()
	authURL, verifier := ls.authURL(state)
	form := ls.openLogin(t, c, authURL)
	got := ls.submit(t, c, form.id, form.csrf, email, loginPassword)
	require.Equal(t, http.StatusFound, got.status, "good password: %s", got.body)
	var session string
	for _, ck := range got.res.Cookies() {
		if ck.Name == provider.SessionCookie {
			session = ck.Value
		}
	}
	require.NotEmpty(t, session, "no session cookie")
	loc, err := got.res.Location()
	require.NoError(t, err)
	res, err := c.Get(loc.String()) // the provider's callback
	require.NoError(t, err)
	res.Body.Close()
	back, err := res.Location()
	require.NoError(t, err)
	tok, err := ls.oauth.Exchange(context.Background(), back.Query().Get("code"), oauth2.VerifierOption(verifier))
	require.NoError(t, err)
	return tok, session
}

// TestProviderLogout: a GET of the signed-out page, which any site can
// send (a link, an image), ends no session (logout CSRF); it shows a
// sign-out form whose POST ends the session only with the CSRF token bound
// to the session cookie. end_session with a valid id_token_hint ends the
// session, and the signed-out page then clears the cookie; end_session
// without one ends nothing.
func TestProviderLogout(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b Backend) {
		ls := newLoginSetup(t, b)
		ls.register(t, "ada@example.com")
		c := browserClient(t)
		live := func(t *testing.T, session string) error {
			t.Helper()
			_, err := ls.f.s.Sessions.Find(requestCtx(), session)
			return err
		}
		get := func(t *testing.T, u string) *http.Response {
			t.Helper()
			res, err := c.Get(u)
			require.NoError(t, err)
			return res
		}
		cleared := func(res *http.Response) bool {
			for _, ck := range res.Cookies() {
				if ck.Name == provider.SessionCookie && ck.MaxAge < 0 {
					return true
				}
			}
			return false
		}

		t.Run("CrossSiteGet", func(t *testing.T) {
			_, session := ls.signIn(t, c, "get", "ada@example.com")
			res := get(t, ls.issuer+provider.LoggedOutPath)
			require.False(t, cleared(res), "a GET clears the session cookie")
			page := readForm(t, res)
			require.Equal(t, http.StatusOK, page.status)
			require.NoError(t, live(t, session), "a plain GET of the signed-out page ended the session")
			require.NotEmpty(t, page.csrf, "the page shows a sign-out form: %s", page.body)
			require.Contains(t, page.body, `id="signout"`)

			for name, token := range map[string]string{"no token": "", "forged token": "AAAA" + page.csrf[4:]} {
				res, err := c.PostForm(ls.issuer+provider.LoggedOutPath, url.Values{"csrf": {token}})
				require.NoError(t, err)
				got := readForm(t, res)
				require.Equal(t, http.StatusForbidden, got.status, name)
				require.NoError(t, live(t, session), "%s ended the session", name)
			}

			res, err := c.PostForm(ls.issuer+provider.LoggedOutPath, url.Values{"csrf": {page.csrf}})
			require.NoError(t, err)
			require.True(t, cleared(res), "the sign-out POST clears the cookie")
			got := readForm(t, res)
			require.Equal(t, http.StatusOK, got.status, got.body)
			require.Contains(t, got.body, "You are signed out.")
			require.ErrorIs(t, live(t, session), repositories.ErrNotFound, "the session after the sign-out form")
		})

		t.Run("EndSession", func(t *testing.T) {
			tok, session := ls.signIn(t, c, "end", "ada@example.com")
			// Without id_token_hint nothing proves the request comes from
			// the client: the session stays, the page asks.
			res := get(t, ls.issuer+"/end_session")
			res.Body.Close()
			require.Equal(t, http.StatusFound, res.StatusCode)
			loc, err := res.Location()
			require.NoError(t, err)
			require.Equal(t, provider.LoggedOutPath, loc.Path)
			require.NoError(t, live(t, session), "end_session without id_token_hint ended the session")

			q := url.Values{"id_token_hint": {tok.Extra("id_token").(string)}}
			res = get(t, ls.issuer+"/end_session?"+q.Encode())
			res.Body.Close()
			require.Equal(t, http.StatusFound, res.StatusCode)
			require.ErrorIs(t, live(t, session), repositories.ErrNotFound, "the session after end_session with id_token_hint")
			loc, err = res.Location()
			require.NoError(t, err)
			res = get(t, ls.issuer+loc.Path)
			require.True(t, cleared(res), "the signed-out page clears the cookie of an ended session")
			got := readForm(t, res)
			require.Contains(t, got.body, "You are signed out.")
			require.Empty(t, got.csrf)
		})
	})
}

// TestProviderLoginSession: the session cookie of a login answers the next
// authorization request without a page (single sign-on), also with
// prompt=consent or a prompt value OpenID Connect does not define, unless
// the client asks for a login (prompt=login or select_account, or a
// max_age the session is older than); prompt=none without a session sends
// the client login_required and shows nothing, and with another value
// invalid_request; login_hint prefills the email.
func TestProviderLoginSession(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b Backend) {
		ls := newLoginSetup(t, b)
		ada := ls.register(t, "ada@example.com")
		c := browserClient(t)
		// toClient follows the authorize URL through the login page and the
		// callback without a form, and returns the client's redirect.
		toClient := func(t *testing.T, c *http.Client, authURL string) url.Values {
			t.Helper()
			_, login := redirectOf(t, c, authURL)
			require.NotNil(t, login)
			require.Equal(t, provider.LoginPath, login.Path)
			status, next := redirectOf(t, c, login.String())
			require.Equal(t, http.StatusFound, status, "the login page showed a page")
			if next.Host == login.Host { // the provider's callback
				_, next = redirectOf(t, c, next.String())
			}
			require.Equal(t, ls.oauth.RedirectURL, next.Scheme+"://"+next.Host+next.Path)
			return next.Query()
		}

		t.Run("PromptNoneWithoutSession", func(t *testing.T) {
			u, _ := ls.authURL("none-1")
			q := toClient(t, c, u+"&prompt=none")
			require.Equal(t, "login_required", q.Get("error"))
			require.Equal(t, "none-1", q.Get("state"))
			require.Empty(t, q.Get("code"))
		})

		t.Run("LoginHint", func(t *testing.T) {
			u, _ := ls.authURL("hint")
			form := ls.openLogin(t, c, u+"&login_hint=ada%40example.com")
			require.Contains(t, form.body, `value="ada@example.com"`)
		})

		// Log in once.
		u, _ := ls.authURL("first")
		form := ls.openLogin(t, c, u)
		got := ls.submit(t, c, form.id, form.csrf, "ada@example.com", loginPassword)
		require.Equal(t, http.StatusFound, got.status, got.body)

		t.Run("SingleSignOn", func(t *testing.T) {
			var session string
			for _, ck := range got.res.Cookies() {
				if ck.Name == provider.SessionCookie {
					session = ck.Value
				}
			}
			s, err := ls.f.s.Sessions.Find(requestCtx(), session)
			require.NoError(t, err)
			// prompt=consent asks for nothing more (no consent screen) and
			// values OpenID Connect does not define are ignored.
			for i, extra := range []string{"", "&prompt=none", "&max_age=3600", "&prompt=consent", "&prompt=create", "&prompt=consent%20unknown_value"} {
				// Each sign-on by the session is audited like a password
				// login: the browser's address and agent, client and session.
				require.EqualValues(t, i, countEvents(t, ls.f.s.DB(), models.EventLoginSession, &ada.ID), extra)
				u, verifier := ls.authURL("sso")
				q := toClient(t, c, u+extra)
				require.Equal(t, "sso", q.Get("state"), extra)
				require.NotEmpty(t, q.Get("code"), "%s: %v", extra, q)
				tok, err := ls.oauth.Exchange(context.Background(), q.Get("code"), oauth2.VerifierOption(verifier))
				require.NoError(t, err, extra)
				sub := idTokenSubject(t, tok.Extra("id_token").(string))
				require.Equal(t, string(ada.ID), sub, extra)
				require.EqualValues(t, i+1, countEvents(t, ls.f.s.DB(), models.EventLoginSession, &ada.ID), extra)
				last := lastEvent(t, ls.f.s.DB(), models.EventLoginSession)
				require.Equal(t, "127.0.0.1", last.IPAddress)
				require.Equal(t, "Go-http-client/1.1", last.UserAgent)
				var meta map[string]string
				require.NoError(t, json.Unmarshal([]byte(last.Metadata), &meta))
				require.Equal(t, map[string]string{"client_id": ls.oauth.ClientID, "session_id": string(s.ID)}, meta)
			}
		})

		t.Run("PromptLogin", func(t *testing.T) {
			// select_account: no account chooser, the password form as
			// for login, where the person signs in as anyone.
			for _, extra := range []string{"&prompt=login", "&max_age=0", "&prompt=select_account", "&prompt=consent%20select_account"} {
				u, _ := ls.authURL("again")
				form := ls.openLogin(t, c, u+extra) // the form, not a redirect
				require.Contains(t, form.body, `id="password"`, extra)
			}
		})

		t.Run("PromptNoneWithAnother", func(t *testing.T) {
			// prompt=none with any other value is an invalid request
			// (OpenID Connect Core 1.0 3.1.2.1): the provider answers the
			// client before the login page, and the session answers nothing.
			sessions := countEvents(t, ls.f.s.DB(), models.EventLoginSession, &ada.ID)
			for _, extra := range []string{"&prompt=none%20consent", "&prompt=none%20login", "&prompt=select_account%20none"} {
				u, _ := ls.authURL("none-2")
				status, back := redirectOf(t, c, u+extra)
				require.Equal(t, http.StatusFound, status, extra)
				require.Equal(t, ls.oauth.RedirectURL, back.Scheme+"://"+back.Host+back.Path, "%s: %s", extra, back)
				require.Equal(t, "invalid_request", back.Query().Get("error"), extra)
				require.Equal(t, "none-2", back.Query().Get("state"), extra)
				require.Empty(t, back.Query().Get("code"), extra)
			}
			require.Equal(t, sessions, countEvents(t, ls.f.s.DB(), models.EventLoginSession, &ada.ID))
		})
	})
}

// idTokenSubject returns the sub claim of an ID token (its signature is
// the real-client tests' business).
func idTokenSubject(t *testing.T, token string) string {
	t.Helper()
	parts := strings.Split(token, ".")
	require.Len(t, parts, 3)
	raw, err := base64.RawURLEncoding.DecodeString(parts[1])
	require.NoError(t, err)
	var claims struct {
		Sub string `json:"sub"`
	}
	require.NoError(t, json.Unmarshal(raw, &claims))
	return claims.Sub
}

// TestProviderLoginBrowser drives the login page in headless Chromium on
// every backend: the authorize URL opens the page (a screenshot of it is
// written to the test's temp dir), a wrong password and a locked account
// show the generic message on the page, and a good password lands on the
// client's redirect with a code that x/oauth2 exchanges. Then the second
// factor: the password-only session of that login, once its account has
// a factor, gets the code form alone (in-page step-up), and with
// prompt=login an account with a factor fills the password form, then the
// code form; both land on the redirect with a code whose ID token's amr
// has "otp" (screenshots of both code forms too).
func TestProviderLoginBrowser(t *testing.T) {
	chromiumPath(t)
	forEachBackend(t, func(t *testing.T, b Backend) {
		ls := newLoginSetup(t, b, withConfig(withTwoFactor))
		// Users with the binary's one stored hash of loginPassword: the
		// page verifies it, nobody hashes it again.
		ada := ls.f.user(t, "ada@example.com")
		bob := ls.f.user(t, "bob@example.com")
		require.NoError(t, ls.f.s.Users.Lock(requestCtx(), bob.ID, time.Hour))
		grace := ls.f.user(t, "grace@example.com")
		graceSecret, _ := ls.enrol(t, grace.ID)
		ctx := newBrowser(t)

		// screenshot writes the page to name in the test's temp dir.
		screenshot := func(t *testing.T, name string) {
			t.Helper()
			png := read(t, ctx, "screenshot", chromedp.FullScreenshot(100))
			path := filepath.Join(t.TempDir(), name)
			require.NoError(t, os.WriteFile(path, png, 0o600))
			t.Logf("screenshot: %s (%d bytes)", path, len(png))
			require.Greater(t, len(png), 1000)
		}
		// login fills the password form of a new authorization request
		// (its authorize URL with query added) and returns its verifier.
		login := func(t *testing.T, state, query, email, password string, after chromedp.Action[chromedp.Void]) string {
			t.Helper()
			u, verifier := ls.authURL(state)
			step(t, ctx, "open the authorize URL", chromedp.Navigate(u+query), chromedp.WaitVisible(chromedp.ID("email")))
			if state == "shot" {
				screenshot(t, "login.png")
			}
			require.Equal(t, appName, read(t, ctx, "client name", chromedp.Text(chromedp.ID("client"))))
			step(t, ctx, "fill and submit the form",
				chromedp.SendKeys(chromedp.ID("email"), email),
				chromedp.SendKeys(chromedp.ID("password"), password),
				chromedp.Click(chromedp.ID("submit")),
				after)
			return verifier
		}
		// landed checks the browser is at the client's redirect URI with a
		// code for state, exchanges it and returns the tokens.
		landed := func(t *testing.T, state, verifier string) *oauth2.Token {
			t.Helper()
			loc := read(t, ctx, "location", chromedp.Location())
			require.True(t, strings.HasPrefix(loc, ls.oauth.RedirectURL+"?"), "the browser is at %s; want the client's redirect URI", loc)
			q := ls.received(t)
			require.Equal(t, state, q.Get("state"))
			tok, err := ls.oauth.Exchange(context.Background(), q.Get("code"), oauth2.VerifierOption(verifier))
			require.NoError(t, err, "exchange the code the browser brought")
			require.NotEmpty(t, tok.AccessToken)
			require.NotEmpty(t, tok.Extra("id_token"))
			return tok
		}

		t.Run("WrongPassword", func(t *testing.T) {
			login(t, "shot", "", "ada@example.com", "wrong password", chromedp.WaitVisible(chromedp.ID("error")))
			require.Equal(t, wrongLogin, read(t, ctx, "error", chromedp.Text(chromedp.ID("error"))))
		})
		t.Run("LockedAccount", func(t *testing.T) {
			login(t, "locked", "", "bob@example.com", loginPassword, chromedp.WaitVisible(chromedp.ID("error")))
			require.Equal(t, wrongLogin, read(t, ctx, "error", chromedp.Text(chromedp.ID("error"))))
		})
		t.Run("OK", func(t *testing.T) {
			verifier := login(t, "ok", "", "ada@example.com", loginPassword, chromedp.WaitVisible(chromedp.ID("done")))
			tok := landed(t, "ok", verifier)
			require.Equal(t, []string{"pwd"}, idTokenClaims(t, tok).AMR)
		})
		t.Run("StepUp", func(t *testing.T) {
			// Ada's session, from the password login above, predates the
			// factor she confirms now.
			secret, _ := ls.enrol(t, ada.ID)
			u, verifier := ls.authURL("step-up")
			step(t, ctx, "open the authorize URL with a password-only session", chromedp.Navigate(u), chromedp.WaitVisible(chromedp.ID("code")))
			screenshot(t, "step-up.png")
			require.Equal(t, "ada@example.com", read(t, ctx, "account", chromedp.Text(chromedp.ID("account"))))
			step(t, ctx, "fill and submit the code",
				chromedp.SendKeys(chromedp.ID("code"), nextCode(t, secret)),
				chromedp.Click(chromedp.ID("verify")),
				chromedp.WaitVisible(chromedp.ID("done")))
			tok := landed(t, "step-up", verifier)
			require.Contains(t, idTokenClaims(t, tok).AMR, "otp")
			require.Equal(t, string(ada.ID), idTokenSubject(t, tok.Extra("id_token").(string)))
		})
		t.Run("TwoFactor", func(t *testing.T) {
			// prompt=login: the password form despite Ada's session.
			verifier := login(t, "2fa", "&prompt=login", "grace@example.com", loginPassword, chromedp.WaitVisible(chromedp.ID("code")))
			screenshot(t, "code.png")
			step(t, ctx, "fill and submit the code",
				chromedp.SendKeys(chromedp.ID("code"), nextCode(t, graceSecret)),
				chromedp.Click(chromedp.ID("verify")),
				chromedp.WaitVisible(chromedp.ID("done")))
			tok := landed(t, "2fa", verifier)
			require.Contains(t, idTokenClaims(t, tok).AMR, "otp")
			require.Equal(t, string(grace.ID), idTokenSubject(t, tok.Extra("id_token").(string)))
		})
	})
}
