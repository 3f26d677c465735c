package integration

// The login page of an account with a confirmed second factor: the
// password leads to a code form whose challenge lives in an HttpOnly
// SameSite=Strict cookie, a TOTP or a recovery code completes the login at
// assurance level 2 with amr ["pwd","otp"] in the ID token, which ID
// tokens issued on a refresh report too (with the login's auth_time), and a
// level-1 session of such an account does not answer a new request silently:
// the page asks for the code alone and raises that session (in-page step-up).

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/forgeauth/authstore/models"
	"github.com/forgeauth/authstore/provider"
	"github.com/forgeauth/authstore/repositories"
	"github.com/stretchr/testify/require"
	"golang.org/x/oauth2"
)

// Messages of the code form.
const (
	wrongCode        = "Wrong code. Enter the 6-digit code from your authenticator app, or a recovery code."
	challengeExpired = "The sign-in took too long or was already completed. Enter your email and password again."
)

// enrolNow registers email with loginPassword and confirms a factor at the
// real time, returning the user, the TOTP secret and the recovery codes.
func (ls *loginSetup) enrolNow(t *testing.T, email string) (*models.User, string, []string) {
	t.Helper()
	u := ls.register(t, email)
	secret, codes := ls.enrol(t, u.ID)
	return u, secret, codes
}

// enrol confirms a factor for user id at the real time, returning the TOTP
// secret and the recovery codes.
func (ls *loginSetup) enrol(t *testing.T, id models.UUID) (string, []string) {
	t.Helper()
	ctx := requestCtx()
	secret, _, err := ls.f.s.TwoFactor.Enrol(ctx, id)
	require.NoError(t, err)
	codes, err := ls.f.s.TwoFactor.Confirm(ctx, id, totpCode(t, secret, time.Now()))
	require.NoError(t, err)
	return secret, codes
}

// nextCode is the TOTP code of the step after now's: within the skew the
// library accepts, and never the step Confirm used.
func nextCode(t *testing.T, secret string) string {
	return totpCode(t, secret, time.Now().Add(30*time.Second))
}

// submitCode posts the second-factor form.
func (ls *loginSetup) submitCode(t *testing.T, c *http.Client, id, csrf, code string) loginForm {
	t.Helper()
	res, err := c.PostForm(ls.issuer+provider.LoginPath, url.Values{"id": {id}, "csrf": {csrf}, "code": {code}})
	require.NoError(t, err)
	return readForm(t, res)
}

// cookieOf returns the cookie name a response sets, or nil.
func cookieOf(res *http.Response, name string) *http.Cookie {
	for _, ck := range res.Cookies() {
		if ck.Name == name {
			return ck
		}
	}
	return nil
}

// finishLogin follows a successful form's redirect through the provider's
// callback, exchanges the code and returns the ID token's amr.
func (ls *loginSetup) finishLogin(t *testing.T, c *http.Client, got loginForm, verifier string) []string {
	t.Helper()
	require.Equal(t, http.StatusFound, got.status, "login: %s", got.body)
	loc, err := got.res.Location()
	require.NoError(t, err)
	return ls.exchangeAt(t, c, loc.String(), verifier)
}

// exchangeAt gets url (the provider's callback) in c, exchanges the code
// the app receives and returns the ID token's amr.
func (ls *loginSetup) exchangeAt(t *testing.T, c *http.Client, callback, verifier string) []string {
	t.Helper()
	return ls.exchangeClaims(t, c, callback, verifier).AMR
}

// loginClaims are the ID token's claims about the login (OpenID Connect
// Core 2: auth_time, 0 when absent, and amr) and the token's own iat.
type loginClaims struct {
	AMR      []string `json:"amr"`
	AuthTime int64    `json:"auth_time"`
	IssuedAt int64    `json:"iat"`
}

// exchangeClaims gets url (the provider's callback) in c, exchanges the
// code the app receives and returns the ID token's amr and auth_time.
func (ls *loginSetup) exchangeClaims(t *testing.T, c *http.Client, callback, verifier string) loginClaims {
	t.Helper()
	status, back := redirectOf(t, c, callback)
	require.Equal(t, http.StatusFound, status)
	require.NotEmpty(t, back.Query().Get("code"), "the app got no code: %s", back)
	tok, err := ls.oauth.Exchange(context.Background(), back.Query().Get("code"), oauth2.VerifierOption(verifier))
	require.NoError(t, err)
	return idTokenClaims(t, tok)
}

// idTokenClaims returns the amr and auth_time of a token response's ID
// token (its signature is the real-client tests' business).
func idTokenClaims(t *testing.T, tok *oauth2.Token) loginClaims {
	t.Helper()
	raw, _ := tok.Extra("id_token").(string)
	parts := strings.Split(raw, ".")
	require.Len(t, parts, 3, "id_token")
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	require.NoError(t, err)
	var claims loginClaims
	require.NoError(t, json.Unmarshal(payload, &claims))
	return claims
}

// submitStepUp posts the code form of an in-page step-up.
func (ls *loginSetup) submitStepUp(t *testing.T, c *http.Client, id, csrf, code string) loginForm {
	t.Helper()
	res, err := c.PostForm(ls.issuer+provider.LoginPath, url.Values{"id": {id}, "csrf": {csrf}, "code": {code}, "step": {"up"}})
	require.NoError(t, err)
	return readForm(t, res)
}

// wrongCodeFor returns a 6-digit code that is none of secret's codes the
// library accepts now.
func wrongCodeFor(t *testing.T, secret string) string {
	t.Helper()
	var valid []string
	for d := -1; d <= 2; d++ { // the steps around now, and the one after, should the clock move on
		valid = append(valid, totpCode(t, secret, time.Now().Add(time.Duration(d)*30*time.Second)))
	}
	for _, c := range []string{"000000", "111111", "222222", "333333", "444444"} {
		if !slices.Contains(valid, c) {
			return c
		}
	}
	panic("unreachable: five candidates, four valid codes")
}

// authorize gets an authorize URL in c and returns where the provider sent
// the browser.
func (ls *loginSetup) authorize(t *testing.T, c *http.Client, authURL string) *url.URL {
	t.Helper()
	status, loc := redirectOf(t, c, authURL)
	require.Equal(t, http.StatusFound, status)
	if loc.Path != provider.LoginPath {
		return loc
	}
	if status, next := redirectOf(t, c, loc.String()); status == http.StatusFound {
		return next
	}
	return loc // the login page itself
}

// redirectOf gets u in c and returns the status and, for a redirect, its
// location.
func redirectOf(t *testing.T, c *http.Client, u string) (int, *url.URL) {
	t.Helper()
	res, err := c.Get(u)
	require.NoError(t, err)
	res.Body.Close()
	if res.StatusCode != http.StatusFound {
		return res.StatusCode, nil
	}
	loc, err := res.Location()
	require.NoError(t, err)
	return res.StatusCode, loc
}

// TestProviderLoginTwoFactor drives the login page of accounts with a
// confirmed second factor over HTTP.
func TestProviderLoginTwoFactor(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b Backend) {
		ls := newLoginSetup(t, b, withConfig(withTwoFactor))
		ada, secret, recovery := ls.enrolNow(t, "ada@example.com")
		c := browserClient(t)
		authURL, verifier := ls.authURL("state-2fa")
		form := ls.openLogin(t, c, authURL)

		// The password opens the code form; the challenge is a cookie only.
		got := ls.submit(t, c, form.id, form.csrf, "ada@example.com", loginPassword)
		require.Equal(t, http.StatusOK, got.status, "password: %s", got.body)
		require.Contains(t, got.body, `id="second-factor"`)
		require.NotContains(t, got.body, `id="password"`)
		require.Nil(t, cookieOf(got.res, provider.SessionCookie), "a session before the second factor")
		ch := cookieOf(got.res, provider.ChallengeCookie)
		require.NotNil(t, ch, "no challenge cookie")
		require.True(t, ch.HttpOnly)
		require.Equal(t, http.SameSiteStrictMode, ch.SameSite)
		require.Equal(t, provider.LoginPath, ch.Path)
		require.NotContains(t, got.body, ch.Value, "the challenge shows in the page")
		require.Equal(t, form.id, got.id)

		t.Run("CSRF", func(t *testing.T) {
			refused := ls.submitCode(t, c, form.id, "", nextCode(t, secret))
			require.Equal(t, http.StatusForbidden, refused.status, "no CSRF token: %s", refused.body)
			// That cleared the challenge: log in with the password again.
			again := ls.submit(t, c, form.id, refused.csrf, "ada@example.com", loginPassword)
			require.Contains(t, again.body, `id="second-factor"`, again.body)
		})

		t.Run("NoChallenge", func(t *testing.T) {
			other := browserClient(t) // its own request and CSRF cookie, no challenge
			f2 := ls.openLogin(t, other, authURL)
			got := ls.submitCode(t, other, f2.id, f2.csrf, nextCode(t, secret))
			require.Equal(t, challengeExpired, got.errorMessage, got.body)
			require.Contains(t, got.body, `id="password"`, "back to the password form")
		})

		t.Run("WrongCode", func(t *testing.T) {
			before, err := ls.f.s.Users.FindByID(requestCtx(), ada.ID)
			require.NoError(t, err)
			code := nextCode(t, secret)
			wrong := "000000"
			for slices.Contains([]string{code, totpCode(t, secret, time.Now()), totpCode(t, secret, time.Now().Add(-30*time.Second))}, wrong) {
				wrong = "111111"
			}
			got := ls.submitCode(t, c, form.id, form.csrf, wrong)
			require.Equal(t, http.StatusUnauthorized, got.status)
			require.Equal(t, wrongCode, got.errorMessage, got.body)
			require.Contains(t, got.body, `id="second-factor"`, "the code form again")
			after, err := ls.f.s.Users.FindByID(requestCtx(), ada.ID)
			require.NoError(t, err)
			require.Equal(t, before.FailedLogins+1, after.FailedLogins, "a wrong code counts toward the lockout")
		})

		t.Run("OK", func(t *testing.T) {
			got := ls.submitCode(t, c, form.id, form.csrf, nextCode(t, secret))
			require.Equal(t, http.StatusFound, got.status, "right code: %s", got.body)
			sc := cookieOf(got.res, provider.SessionCookie)
			require.NotNil(t, sc, "no session cookie")
			s, err := ls.f.s.Sessions.Find(requestCtx(), sc.Value)
			require.NoError(t, err)
			require.Equal(t, ada.ID, s.UserID)
			require.Equal(t, models.AssuranceTwoFactor, s.AssuranceLevel)
			require.Equal(t, []string{"pwd", "otp"}, ls.finishLogin(t, c, got, verifier))

			// A level-2 session answers a new request silently.
			url2, v2 := ls.authURL("state-sso")
			loc := ls.authorize(t, c, url2)
			require.NotEqual(t, provider.LoginPath, loc.Path, "a level-2 session was asked to log in again")
			require.Equal(t, []string{"pwd", "otp"}, ls.exchangeAt(t, c, loc.String(), v2))
		})

		t.Run("RecoveryCode", func(t *testing.T) {
			d := browserClient(t)
			u, v := ls.authURL("state-recovery")
			f := ls.openLogin(t, d, u)
			got := ls.submit(t, d, f.id, f.csrf, "ada@example.com", loginPassword)
			require.Contains(t, got.body, `id="second-factor"`)
			used := cookieOf(got.res, provider.ChallengeCookie)
			require.NotNil(t, used)
			got = ls.submitCode(t, d, f.id, f.csrf, recovery[0])
			require.Equal(t, []string{"pwd", "otp"}, ls.finishLogin(t, d, got, v))

			// A used challenge sends the browser back to the password form.
			e := browserClient(t)
			f3 := ls.openLogin(t, e, u2(ls, "state-used"))
			e.Jar.SetCookies(mustURL(t, ls.issuer+provider.LoginPath), []*http.Cookie{{Name: provider.ChallengeCookie, Value: used.Value, Path: provider.LoginPath}})
			got = ls.submitCode(t, e, f3.id, f3.csrf, recovery[1])
			require.Equal(t, challengeExpired, got.errorMessage, got.body)
			require.Contains(t, got.body, `id="password"`)
		})

		t.Run("Locked", func(t *testing.T) {
			_, carolSecret, _ := ls.enrolNow(t, "carol@example.com")
			d := browserClient(t)
			f := ls.openLogin(t, d, u2(ls, "state-locked"))
			got := ls.submit(t, d, f.id, f.csrf, "carol@example.com", loginPassword)
			require.Contains(t, got.body, `id="second-factor"`)
			carol, err := ls.f.s.Users.FindByEmail(requestCtx(), "carol@example.com")
			require.NoError(t, err)
			require.NoError(t, ls.f.s.Users.Lock(requestCtx(), carol.ID, time.Hour))
			got = ls.submitCode(t, d, f.id, f.csrf, nextCode(t, carolSecret))
			require.Equal(t, wrongLogin, got.errorMessage, "a locked account shows the generic message: %s", got.body)
			require.Contains(t, got.body, `id="password"`)
		})

		t.Run("StepUp", func(t *testing.T) {
			// A password-only session of an account with a factor (made
			// before the factor, or by Sessions.Create) gets the code form
			// alone, and a right code raises it.
			erin, erinSecret, _ := ls.enrolNow(t, "erin@example.com")
			s, token, err := ls.f.s.Sessions.Create(requestCtx(), erin.ID, repositories.SessionInput{})
			require.NoError(t, err)
			d := browserClient(t)
			d.Jar.SetCookies(mustURL(t, ls.issuer), []*http.Cookie{{Name: provider.SessionCookie, Value: token, Path: "/"}})

			none, _ := ls.authURL("state-none")
			loc := ls.authorize(t, d, none+"&prompt=none")
			require.Equal(t, "login_required", loc.Query().Get("error"), "prompt=none with a level-1 session: %s", loc)
			for _, prompt := range []string{"login", "select_account"} {
				f := ls.openLogin(t, d, u2(ls, "state-"+prompt)+"&prompt="+prompt)
				require.Contains(t, f.body, `id="password"`, "prompt=%s with a level-1 session: the password form", prompt)
			}

			u, v := ls.authURL("state-stepup")
			f := ls.openLogin(t, d, u)
			require.Contains(t, f.body, `id="second-factor"`, "a level-1 session: the code form alone")
			require.NotContains(t, f.body, `id="password"`)
			require.Contains(t, f.body, `<strong id="account">erin@example.com</strong>`, "the form names the session's account")

			t.Run("OtherAccount", func(t *testing.T) {
				m := regexp.MustCompile(`<a id="other-account" href="([^"]+)">`).FindStringSubmatch(f.body)
				require.NotNil(t, m, f.body)
				res, err := d.Get(ls.issuer + html.UnescapeString(m[1]))
				require.NoError(t, err)
				other := readForm(t, res)
				require.Equal(t, http.StatusOK, other.status)
				require.Contains(t, other.body, `id="password"`, "the link leads to the password form")
				require.Equal(t, f.id, other.id)
			})

			t.Run("CSRF", func(t *testing.T) {
				got := ls.submitStepUp(t, d, f.id, "", nextCode(t, erinSecret))
				require.Equal(t, http.StatusForbidden, got.status, "no CSRF token: %s", got.body)
			})

			t.Run("WrongCode", func(t *testing.T) {
				before, err := ls.f.s.Users.FindByID(requestCtx(), erin.ID)
				require.NoError(t, err)
				got := ls.submitStepUp(t, d, f.id, f.csrf, wrongCodeFor(t, erinSecret))
				require.Equal(t, http.StatusUnauthorized, got.status)
				require.Equal(t, wrongCode, got.errorMessage, got.body)
				require.Contains(t, got.body, `id="second-factor"`, "the code form again")
				require.Contains(t, got.body, `name="step" value="up"`, "the step-up's code form again")
				after, err := ls.f.s.Users.FindByID(requestCtx(), erin.ID)
				require.NoError(t, err)
				require.Equal(t, before.FailedLogins+1, after.FailedLogins, "a wrong code counts toward the lockout")
				still, err := ls.f.s.Sessions.Find(requestCtx(), token)
				require.NoError(t, err)
				require.Equal(t, models.AssurancePassword, still.AssuranceLevel)
			})

			t.Run("OK", func(t *testing.T) {
				got := ls.submitStepUp(t, d, f.id, f.csrf, nextCode(t, erinSecret))
				require.Equal(t, http.StatusFound, got.status, "right code: %s", got.body)
				// The raised session has a new token: a copy of the old
				// one does not carry the second factor.
				sc := cookieOf(got.res, provider.SessionCookie)
				require.NotNil(t, sc, "the step-up sets no new session cookie")
				require.NotEqual(t, token, sc.Value)
				require.True(t, sc.HttpOnly)
				require.Equal(t, http.SameSiteLaxMode, sc.SameSite)
				_, err := ls.f.s.Sessions.Find(requestCtx(), token)
				require.ErrorIs(t, err, repositories.ErrNotFound, "the old token after the step-up")
				raised, err := ls.f.s.Sessions.Find(requestCtx(), sc.Value)
				require.NoError(t, err)
				require.Equal(t, s.ID, raised.ID)
				require.Equal(t, models.AssuranceTwoFactor, raised.AssuranceLevel)
				require.NotNil(t, raised.SecondFactorAt)
				loc, err := got.res.Location()
				require.NoError(t, err)
				claims := ls.exchangeClaims(t, d, loc.String(), v)
				require.Equal(t, []string{"pwd", "otp"}, claims.AMR)
				require.Equal(t, s.CreatedAt.Unix(), claims.AuthTime, "auth_time is the session's start, when the password was given")
				require.EqualValues(t, 1, countEvents(t, ls.f.s.DB(), models.EventLoginSession, &erin.ID))

				// The raised session answers the next request silently.
				url2, v2 := ls.authURL("state-stepped-up")
				loc = ls.authorize(t, d, url2)
				require.NotEqual(t, provider.LoginPath, loc.Path, "a raised session was asked to log in again")
				require.Equal(t, []string{"pwd", "otp"}, ls.exchangeAt(t, d, loc.String(), v2))
			})
		})

		t.Run("StepUpLocked", func(t *testing.T) {
			frank, frankSecret, _ := ls.enrolNow(t, "frank@example.com")
			_, token, err := ls.f.s.Sessions.Create(requestCtx(), frank.ID, repositories.SessionInput{})
			require.NoError(t, err)
			d := browserClient(t)
			d.Jar.SetCookies(mustURL(t, ls.issuer), []*http.Cookie{{Name: provider.SessionCookie, Value: token, Path: "/"}})
			f := ls.openLogin(t, d, u2(ls, "state-stepup-locked"))
			require.Contains(t, f.body, `id="second-factor"`)
			require.NoError(t, ls.f.s.Users.Lock(requestCtx(), frank.ID, time.Hour))
			got := ls.submitStepUp(t, d, f.id, f.csrf, nextCode(t, frankSecret))
			require.Equal(t, http.StatusUnauthorized, got.status)
			require.Equal(t, wrongLogin, got.errorMessage, "a locked account shows the generic message: %s", got.body)
			require.Contains(t, got.body, `id="password"`)
			s, err := ls.f.s.Sessions.Find(requestCtx(), token)
			require.NoError(t, err)
			require.Equal(t, models.AssurancePassword, s.AssuranceLevel, "a locked account's session was raised")
		})

		t.Run("PasswordOnly", func(t *testing.T) {
			ls.register(t, "dave@example.com")
			d := browserClient(t)
			u, v := ls.authURL("state-pwd")
			f := ls.openLogin(t, d, u)
			got := ls.submit(t, d, f.id, f.csrf, "dave@example.com", loginPassword)
			require.Equal(t, []string{"pwd"}, ls.finishLogin(t, d, got, v))
		})

		t.Run("RefreshKeepsTheLogin", func(t *testing.T) {
			// OpenID Connect Core 12.2: an ID token issued on a refresh
			// reports the original login, its auth_time and amr; a second
			// factor is neither lost nor claimed by a refresh.
			_, gwenSecret, _ := ls.enrolNow(t, "gwen@example.com")
			ls.register(t, "hugo@example.com")
			for _, tc := range []struct {
				email string
				code  func() string // the second factor, or nil
				amr   []string
			}{
				{"gwen@example.com", func() string { return nextCode(t, gwenSecret) }, []string{"pwd", "otp"}},
				{"hugo@example.com", nil, []string{"pwd"}},
			} {
				t.Run(strings.Join(tc.amr, "+"), func(t *testing.T) {
					ls.refreshKeepsTheLogin(t, tc.email, tc.code, tc.amr)
				})
			}
		})
	})
}

// refreshKeepsTheLogin logs email in through the login page (password, then
// code() when it is not nil) for a request that asks for offline_access,
// exchanges the code and refreshes twice with x/oauth2, and checks with
// go-oidc that every ID token carries amr and the login's auth_time.
func (ls *loginSetup) refreshKeepsTheLogin(t *testing.T, email string, code func() string, amr []string) {
	t.Helper()
	ctx := context.Background()
	conf := *ls.oauth
	conf.Scopes = append(slices.Clone(conf.Scopes), oidc.ScopeOfflineAccess)
	disc, err := oidc.NewProvider(ctx, ls.issuer)
	require.NoError(t, err, "go-oidc discovery of %s", ls.issuer)
	verify := func(tok *oauth2.Token) loginClaims {
		t.Helper()
		raw, ok := tok.Extra("id_token").(string)
		require.True(t, ok, "the token response has no id_token")
		id, err := disc.Verifier(&oidc.Config{ClientID: conf.ClientID}).Verify(ctx, raw)
		require.NoError(t, err, "go-oidc Verify(id_token)")
		return loginOf(t, id)
	}

	d := browserClient(t)
	verifier := oauth2.GenerateVerifier()
	f := ls.openLogin(t, d, conf.AuthCodeURL("state-refresh", oauth2.S256ChallengeOption(verifier), oidc.Nonce("nonce-refresh")))
	got := ls.submit(t, d, f.id, f.csrf, email, loginPassword)
	if code != nil {
		require.Contains(t, got.body, `id="second-factor"`)
		got = ls.submitCode(t, d, f.id, f.csrf, code())
	}
	require.Equal(t, http.StatusFound, got.status, "login: %s", got.body)
	loc, err := got.res.Location()
	require.NoError(t, err)
	status, back := redirectOf(t, d, loc.String())
	require.Equal(t, http.StatusFound, status)
	tok, err := conf.Exchange(ctx, back.Query().Get("code"), oauth2.VerifierOption(verifier))
	require.NoError(t, err, "Exchange")
	require.NotEmpty(t, tok.RefreshToken, "offline_access gives a refresh token")
	first := verify(tok)
	require.Equal(t, amr, first.AMR, "the code's ID token: amr")
	require.NotZero(t, first.AuthTime, "the code's ID token: auth_time")

	// Refresh in a later second than the login's, so that an auth_time
	// taken from the refresh would differ.
	time.Sleep(time.Until(time.Unix(first.AuthTime+1, 0)))
	for i := 1; i <= 2; i++ {
		tok, err = conf.TokenSource(ctx, &oauth2.Token{RefreshToken: tok.RefreshToken, Expiry: time.Now().Add(-time.Hour)}).Token()
		require.NoError(t, err, "refresh %d", i)
		next := verify(tok)
		require.Equal(t, first.AuthTime, next.AuthTime, "refresh %d: auth_time", i)
		require.Equal(t, amr, next.AMR, "refresh %d: amr", i)
		require.Greater(t, next.IssuedAt, next.AuthTime, "refresh %d: iat", i)
	}
}

// u2 is a new authorize URL whose verifier the test does not need.
func u2(ls *loginSetup, state string) string {
	u, _ := ls.authURL(state)
	return u
}

// mustURL parses s.
func mustURL(t *testing.T, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	require.NoError(t, err)
	return u
}
