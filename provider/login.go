package provider

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"embed"
	"encoding/base64"
	"errors"
	"html/template"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/forgeauth/authstore"
	"github.com/forgeauth/authstore/models"
	"github.com/forgeauth/authstore/repositories"
	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"
)

// LoginPath is where the login page is served: the provider sends the
// browser to LoginPath?authRequestID=ID, the page posts back to LoginPath.
const LoginPath = "/login"

// LoggedOutPath is the page end_session sends the browser to when the
// client gives no post_logout_redirect_uri. A GET ends no session (another
// site could send it): it clears the cookie of a session end_session
// already ended, else shows a sign-out form; the form's POST, with a CSRF
// token bound to the session cookie, ends the session.
const LoggedOutPath = "/logged-out"

// Cookie names the login page sets.
const (
	// SessionCookie holds the token of the session Sessions.Create made at
	// login (HttpOnly, SameSite=Lax, Secure when the issuer is https).
	SessionCookie = "authstore_session"
	// CSRFCookie holds the random value the login form's token is bound to
	// (HttpOnly, SameSite=Strict, Secure when the issuer is https).
	CSRFCookie = "authstore_csrf"
	// ChallengeCookie holds the two-factor challenge Users.Login returned
	// while the page asks for the second factor (HttpOnly,
	// SameSite=Strict, scoped to LoginPath, Secure when the issuer is
	// https, expiring with the challenge). The challenge is a secret: it
	// never appears in the page, so neither another site nor a script can
	// read it, and a code form posted without it goes back to the
	// password form.
	ChallengeCookie = "authstore_2fa"
)

// The messages the login page shows. A locked account and an unknown
// email show what a wrong password shows, so the page tells nobody which
// accounts exist or are locked.
const (
	msgInvalidCredentials = "Wrong email or password."
	msgEmailNotVerified   = "Verify your email address before signing in."
	msgExpired            = "This sign-in request has expired or was already used. Go back to the application and start again."
	msgForm               = "The form expired. Enter your email and password again."
	msgInternal           = "Something went wrong. Try again later."
	msgWrongCode          = "Wrong code. Enter the 6-digit code from your authenticator app, or a recovery code."
	msgChallengeExpired   = "The sign-in took too long or was already completed. Enter your email and password again."
)

// otherAccountParam, in the login page's query, shows the password form
// even with a session that needs only a step-up: the step-up form links
// there for a person who is not the session's user.
const otherAccountParam = "other_account"

// maxLoginForm bounds the body of a login POST.
const maxLoginForm = 16 << 10

//go:embed login.html
var templateFS embed.FS

var loginTemplate = template.Must(template.ParseFS(templateFS, "login.html"))

// authRequests is what the login page needs of the adapter: the pending
// request by id, and the call that records the login on it.
type authRequests interface {
	AuthRequestByID(ctx context.Context, id string) (op.AuthRequest, error)
	CompleteAuthRequest(ctx context.Context, authRequestID string, userID models.UUID, authTime time.Time, amr []string) error
	CompleteAuthRequestFromSession(ctx context.Context, authRequestID string, session *models.Session, amr []string) error
}

// login serves the login page: GET renders the form for a pending
// authorization request, POST checks the CSRF token, authenticates the
// email and password with Users.Login, starts a session, records the
// login on the request (amr "pwd") and redirects to the provider's
// callback. For an account with a confirmed second factor the password
// POST instead sets ChallengeCookie and renders the code form; its POST
// (CSRF-checked the same way) calls TwoFactor.CompleteLogin, which opens
// a session at models.AssuranceTwoFactor, and the login is recorded with
// amr "pwd", "otp". A password-only session of such an account gets the
// code form alone, whose POST (step=up) raises it with TwoFactor.StepUp
// (submitStepUp).
//
// CSRF is a double submit bound to the request: the CSRF cookie holds 32
// random bytes, and the form's hidden token is HMAC-SHA256 under a key of
// the provider of that value and the authorization request id. A POST
// whose token does not match its cookie and its request id is refused
// before any password is checked, so another site can neither post a
// login (it cannot read the cookie) nor replay a form of one request for
// another.
type login struct {
	store    *authstore.Store
	requests authRequests
	// authorizer is the provider, which sends a client an authorization
	// error (login_required for prompt=none without a session).
	authorizer op.Authorizer
	callback   func(context.Context, string) string
	csrfKey    []byte
	secure     bool
	now        func() time.Time
	log        *slog.Logger
}

// page is what login.html renders.
type page struct {
	RequestID string
	Client    string
	Email     string
	CSRF      string
	Error     string
	// Code renders the second-factor form instead of the password form.
	Code bool
	// StepUp marks the code form as the in-page step-up of the session's
	// login (its POST carries step=up), Account is the email of the
	// session's user it names, OtherAccount the URL of the password form
	// for another account.
	StepUp       bool
	Account      string
	OtherAccount string
	// SignOut renders the sign-out confirmation form (LoggedOutPath),
	// SignedOut the signed-out message.
	SignOut, SignedOut bool
	// redirect is the request's redirect URI: the form's POST redirects
	// there in the end, which the page's Content-Security-Policy must allow
	// (form-action governs the redirects after a submission too).
	redirect string
}

func (l *login) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Frame-Options", "DENY")
	w.Header().Set("Referrer-Policy", "no-referrer")
	switch r.Method {
	case http.MethodGet, http.MethodHead:
		l.show(w, r)
	case http.MethodPost:
		l.submit(w, r)
	default:
		w.Header().Set("Allow", "GET, HEAD, POST")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
	}
}

// show answers a GET of the request named by authRequestID. With the
// cookie of a live session the request accepts (sessionAnswers: no
// prompt=login or select_account, no max_age the session is older than)
// and no otherAccountParam:
//   - a session that is enough on its own (models.AssuranceTwoFactor, or a
//     user without a confirmed second factor) records its login on the
//     request and redirects to the callback, showing no page (single
//     sign-on, auth_time the session's start);
//   - a session at models.AssurancePassword of a user with a confirmed
//     second factor gets the code form alone (in-page step-up, see
//     submitStepUp), or login_required for prompt=none.
//
// Without such a session prompt=none sends the client login_required;
// otherwise the page renders the password form (the email prefilled with
// login_hint).
func (l *login) show(w http.ResponseWriter, r *http.Request) {
	id := r.URL.Query().Get("authRequestID")
	p, req, err := l.pending(r.Context(), id)
	if err != nil {
		l.render(w, http.StatusBadRequest, page{Error: msgExpired})
		return
	}
	ctx := models.WithRequestMeta(r.Context(), models.RequestMeta{IP: remoteIP(r), UserAgent: r.UserAgent()})
	prompt, maxAge, hint := promptOf(req)
	var stepUp *models.User
	if s := l.session(ctx, r); s != nil && !r.URL.Query().Has(otherAccountParam) && l.sessionAnswers(prompt, maxAge, s) {
		u, ok := l.stepUpUser(ctx, s)
		switch {
		case ok && u == nil && r.Method == http.MethodGet:
			l.completeFromSession(w, r, id, s)
			return
		case ok && u != nil:
			stepUp = u
		}
	}
	if slices.Contains(prompt, oidc.PromptNone) {
		op.AuthRequestError(w, r, req, oidc.ErrLoginRequired(), l.authorizer)
		return
	}
	nonce, err := l.csrfCookie(w, r)
	if err != nil {
		l.fail(w, r, "csrf cookie", err)
		return
	}
	p.CSRF = l.csrfToken(nonce, id)
	if stepUp != nil {
		l.render(w, http.StatusOK, stepUpPage(p, stepUp))
		return
	}
	p.Email = hint
	l.render(w, http.StatusOK, p)
}

// sessionAnswers reports whether a request with these prompt values and
// max_age (seconds) accepts the login of session s instead of a fresh one:
// not with prompt=login, nor prompt=select_account (authstore has no
// account chooser: the password form lets the person sign in as anyone),
// nor with a max_age s is older than. prompt=consent asks for nothing here
// (authstore's clients are the operator's own and have no consent screen),
// and values OpenID Connect does not define are ignored.
func (l *login) sessionAnswers(prompt []string, maxAge *int64, s *models.Session) bool {
	if slices.Contains(prompt, oidc.PromptLogin) || slices.Contains(prompt, oidc.PromptSelectAccount) {
		return false
	}
	return maxAge == nil || l.now().Sub(s.CreatedAt) <= time.Duration(*maxAge)*time.Second
}

// completeFromSession records the login of the live session s on the
// request id (CompleteAuthRequestFromSession: auth_time the session's
// start, amrOf(s)), drops the CSRF and challenge cookies and redirects to
// the provider's callback. A request that is no longer pending, or a
// session that ended meanwhile, shows the expired-request message.
func (l *login) completeFromSession(w http.ResponseWriter, r *http.Request, id string, s *models.Session) {
	ctx := models.WithRequestMeta(r.Context(), models.RequestMeta{IP: remoteIP(r), UserAgent: r.UserAgent()})
	if err := l.requests.CompleteAuthRequestFromSession(ctx, id, s, amrOf(s)); err != nil {
		if errors.Is(err, repositories.ErrNotFound) || errors.Is(err, repositories.ErrExpired) || errors.Is(err, repositories.ErrUsed) {
			l.render(w, http.StatusBadRequest, page{Error: msgExpired})
			return
		}
		l.fail(w, r, "complete auth request", err)
		return
	}
	if r.Method == http.MethodPost {
		l.clearCSRF(w)
		l.clearChallenge(w)
	}
	http.Redirect(w, r, l.callback(r.Context(), id), http.StatusFound)
}

// stepUpPage is p as the in-page step-up's code form for the session of
// user u: it names the account and links to the password form for
// another.
func stepUpPage(p page, u *models.User) page {
	p.Code, p.StepUp, p.Account = true, true, u.Email
	p.OtherAccount = loginURL(p.RequestID) + "&" + otherAccountParam + "=1"
	return p
}

// submit checks the form and logs the person in.
func (l *login) submit(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxLoginForm)
	if err := r.ParseForm(); err != nil {
		http.Error(w, "bad form", http.StatusBadRequest)
		return
	}
	if r.PostForm.Has("code") && r.PostForm.Get("step") == "up" {
		l.submitStepUp(w, r)
		return
	}
	if r.PostForm.Has("code") {
		l.submitCode(w, r)
		return
	}
	id, email, password := r.PostForm.Get("id"), r.PostForm.Get("email"), r.PostForm.Get("password")
	p, _, err := l.pending(r.Context(), id)
	if err != nil {
		l.render(w, http.StatusBadRequest, page{Error: msgExpired})
		return
	}
	p.Email = email
	nonce, ok := l.csrfChecked(w, r, p)
	if !ok {
		return
	}
	ctx := models.WithRequestMeta(r.Context(), models.RequestMeta{IP: remoteIP(r), UserAgent: r.UserAgent()})
	res, challenge, err := l.store.Users.Login(ctx, email, password)
	if err != nil {
		msg, status := msgInvalidCredentials, http.StatusUnauthorized
		switch {
		case errors.Is(err, repositories.ErrInvalidCredentials): // ErrAccountLocked matches it too
		case errors.Is(err, repositories.ErrEmailNotVerified):
			msg, status = msgEmailNotVerified, http.StatusForbidden
		default:
			l.fail(w, r, "authenticate", err)
			return
		}
		p.CSRF, p.Error = l.csrfToken(nonce, id), msg
		l.render(w, status, p)
		return
	}
	if res.SecondFactorRequired {
		http.SetCookie(w, &http.Cookie{Name: ChallengeCookie, Value: challenge, Path: LoginPath,
			Expires: res.ChallengeExpiresAt, HttpOnly: true, Secure: l.secure, SameSite: http.SameSiteStrictMode})
		p.CSRF, p.Code = l.csrfToken(nonce, id), true
		l.render(w, http.StatusOK, p)
		return
	}
	s, token, err := l.store.Sessions.Create(ctx, res.User.ID, repositories.SessionInput{})
	if err != nil {
		l.fail(w, r, "create session", err)
		return
	}
	l.finish(w, r, id, s, token)
}

// submitCode checks the second-factor form: its CSRF token, then the code
// against the challenge of ChallengeCookie with TwoFactor.CompleteLogin.
// A wrong code shows the code form again (the library counts it toward
// the lockout); a missing, expired or used challenge goes back to the
// password form; a locked account shows the password form with the
// message of a wrong password.
func (l *login) submitCode(w http.ResponseWriter, r *http.Request) {
	p, _, ok := l.codeForm(w, r)
	if !ok {
		return
	}
	challenge, err := r.Cookie(ChallengeCookie)
	if err != nil || challenge.Value == "" {
		p.Error = msgChallengeExpired
		l.render(w, http.StatusUnauthorized, p)
		return
	}
	ctx := models.WithRequestMeta(r.Context(), models.RequestMeta{IP: remoteIP(r), UserAgent: r.UserAgent()})
	s, token, err := l.store.TwoFactor.CompleteLogin(ctx, challenge.Value, r.PostForm.Get("code"), repositories.SessionInput{})
	if err != nil {
		switch {
		case errors.Is(err, repositories.ErrAccountLocked):
			l.clearChallenge(w)
			p.Error = msgInvalidCredentials
		case errors.Is(err, repositories.ErrInvalidCredentials):
			p.Code, p.Error = true, msgWrongCode
		case errors.Is(err, repositories.ErrExpired) || errors.Is(err, repositories.ErrUsed):
			l.clearChallenge(w)
			p.Error = msgChallengeExpired
		default:
			l.fail(w, r, "complete login", err)
			return
		}
		l.render(w, http.StatusUnauthorized, p)
		return
	}
	l.finish(w, r, p.RequestID, s, token)
}

// codeForm reads the pending request of a posted code form (the second
// factor's or the step-up's) and checks its CSRF token. It returns the
// page with a fresh CSRF token for the next form, and false when it has
// answered already (an unknown or expired request, a failed check).
func (l *login) codeForm(w http.ResponseWriter, r *http.Request) (page, op.AuthRequest, bool) {
	id := r.PostForm.Get("id")
	p, req, err := l.pending(r.Context(), id)
	if err != nil {
		l.render(w, http.StatusBadRequest, page{Error: msgExpired})
		return page{}, nil, false
	}
	nonce, ok := l.csrfChecked(w, r, p)
	if !ok {
		return page{}, nil, false
	}
	p.CSRF = l.csrfToken(nonce, id)
	return p, req, true
}

// submitStepUp checks the code form of an in-page step-up: its CSRF
// token, then that the session cookie still holds a live session the
// request accepts (sessionAnswers), then the code with TwoFactor.StepUp,
// which raises that session to models.AssuranceTwoFactor. Sessions.Renew
// then gives the raised session a new token, which replaces the cookie,
// so that a copy of the old token does not carry the second factor. The
// login is then recorded on the request from the session (completeFromSession):
// amr "pwd", "otp" and auth_time the session's start, when the password
// was given; a client that wants a fresh login asks for one with
// prompt=login or max_age, which the page answers with the password form.
//
// A wrong code shows the code form again (counted toward the lockout as
// every code is); a locked account shows the password form with the
// message of a wrong password; a session that ended, or a user whose
// factor went meanwhile, goes back to the password form. A session that
// needs no step-up any more (raised in another tab) completes the request
// as it is.
func (l *login) submitStepUp(w http.ResponseWriter, r *http.Request) {
	p, req, ok := l.codeForm(w, r)
	if !ok {
		return
	}
	ctx := models.WithRequestMeta(r.Context(), models.RequestMeta{IP: remoteIP(r), UserAgent: r.UserAgent()})
	prompt, maxAge, _ := promptOf(req)
	s := l.session(ctx, r)
	if s == nil || !l.sessionAnswers(prompt, maxAge, s) {
		p.Error = msgChallengeExpired
		l.render(w, http.StatusUnauthorized, p)
		return
	}
	u, ok := l.stepUpUser(ctx, s)
	if !ok {
		p.Error = msgChallengeExpired
		l.render(w, http.StatusUnauthorized, p)
		return
	}
	if u == nil {
		l.completeFromSession(w, r, p.RequestID, s)
		return
	}
	raised, err := l.store.TwoFactor.StepUp(ctx, s.ID, r.PostForm.Get("code"))
	if err != nil {
		switch {
		case errors.Is(err, repositories.ErrAccountLocked):
			p.Error = msgInvalidCredentials
		case errors.Is(err, repositories.ErrInvalidCredentials):
			p = stepUpPage(p, u)
			p.Error = msgWrongCode
		case errors.Is(err, repositories.ErrExpired) || errors.Is(err, repositories.ErrNotFound):
			p.Error = msgChallengeExpired
		default:
			l.fail(w, r, "step up session", err)
			return
		}
		l.render(w, http.StatusUnauthorized, p)
		return
	}
	raised, token, err := l.store.Sessions.Renew(ctx, raised.ID)
	if err != nil {
		if errors.Is(err, repositories.ErrNotFound) || errors.Is(err, repositories.ErrExpired) || errors.Is(err, repositories.ErrConcurrentChange) {
			p.Error = msgChallengeExpired
			l.render(w, http.StatusUnauthorized, p)
			return
		}
		l.fail(w, r, "renew session", err)
		return
	}
	l.setSession(w, token)
	l.completeFromSession(w, r, p.RequestID, raised)
}

// csrfChecked checks a POST's CSRF token against its cookie and the
// request of p, returning the cookie's value. A POST without its cookie or
// with another request's token gets p's password form again, with a new
// token and the challenge cookie dropped, and ok false.
func (l *login) csrfChecked(w http.ResponseWriter, r *http.Request, p page) (nonce string, ok bool) {
	if c, err := r.Cookie(CSRFCookie); err == nil && l.csrfValid(c.Value, p.RequestID, r.PostForm.Get("csrf")) {
		return c.Value, true
	}
	nonce, err := l.csrfCookie(w, r)
	if err != nil {
		l.fail(w, r, "csrf cookie", err)
		return "", false
	}
	l.clearChallenge(w)
	p.CSRF, p.Error = l.csrfToken(nonce, p.RequestID), msgForm
	l.render(w, http.StatusForbidden, p)
	return "", false
}

// finish records the login of session s (token its cookie value) on the
// request id, sets the session cookie, drops the CSRF and challenge
// cookies and redirects to the provider's callback.
func (l *login) finish(w http.ResponseWriter, r *http.Request, id string, s *models.Session, token string) {
	ctx := models.WithRequestMeta(r.Context(), models.RequestMeta{IP: remoteIP(r), UserAgent: r.UserAgent()})
	if err := l.requests.CompleteAuthRequest(ctx, id, s.UserID, l.now().UTC(), amrOf(s)); err != nil {
		if errors.Is(err, repositories.ErrNotFound) || errors.Is(err, repositories.ErrExpired) || errors.Is(err, repositories.ErrUsed) {
			l.render(w, http.StatusBadRequest, page{Error: msgExpired})
			return
		}
		l.fail(w, r, "complete auth request", err)
		return
	}
	l.setSession(w, token)
	l.clearCSRF(w)
	l.clearChallenge(w)
	http.Redirect(w, r, l.callback(r.Context(), id), http.StatusFound)
}

// setSession sets the session cookie to token.
func (l *login) setSession(w http.ResponseWriter, token string) {
	http.SetCookie(w, &http.Cookie{Name: SessionCookie, Value: token, Path: "/", HttpOnly: true,
		Secure: l.secure, SameSite: http.SameSiteLaxMode})
}

// clearCSRF deletes the CSRF cookie from the browser.
func (l *login) clearCSRF(w http.ResponseWriter) {
	http.SetCookie(w, &http.Cookie{Name: CSRFCookie, Value: "", Path: LoginPath, MaxAge: -1, HttpOnly: true,
		Secure: l.secure, SameSite: http.SameSiteStrictMode})
}

// clearChallenge deletes the two-factor challenge cookie from the browser.
func (l *login) clearChallenge(w http.ResponseWriter) {
	http.SetCookie(w, &http.Cookie{Name: ChallengeCookie, Value: "", Path: LoginPath, MaxAge: -1, HttpOnly: true,
		Secure: l.secure, SameSite: http.SameSiteStrictMode})
}

// amrOf is how the person of session s logged in (RFC 8176): "pwd", and
// "otp" once a second factor was verified (a TOTP or a recovery code).
func amrOf(s *models.Session) []string {
	if s.AssuranceLevel >= models.AssuranceTwoFactor {
		return []string{"pwd", "otp"}
	}
	return []string{"pwd"}
}

// stepUpUser returns the user of session s when s answers a request only
// after a second factor (in-page step-up): a session at
// models.AssurancePassword whose user has a confirmed factor. It returns
// nil when s answers a request as it is (models.AssuranceTwoFactor, or a
// user without a factor), and ok false when the user cannot be read, so
// that s answers nothing.
func (l *login) stepUpUser(ctx context.Context, s *models.Session) (u *models.User, ok bool) {
	if s.AssuranceLevel >= models.AssuranceTwoFactor {
		return nil, true
	}
	u, err := l.store.Users.FindByID(ctx, s.UserID)
	if err != nil {
		if !errors.Is(err, repositories.ErrNotFound) {
			l.log.ErrorContext(ctx, "login page: find session user", "error", err)
		}
		return nil, false
	}
	if u.TwoFactorConfirmedAt == nil {
		return nil, true
	}
	return u, true
}

// loggedOut is the page end_session sends the browser to without a
// post_logout_redirect_uri. A GET ends nothing, so another site that links
// or embeds the page cannot log anybody out: op's end_session with a valid
// id_token_hint has already ended the user's sessions
// (oidcstore.Storage.TerminateSessionFromRequest), and the page then clears
// the cookie of the ended session and says so. When the cookie's session is
// still live (end_session without id_token_hint, or a link from anywhere)
// the page asks the person to confirm with a form whose CSRF token is bound
// to the session cookie; only that POST ends the session (Sessions.Delete).
func (l *login) loggedOut(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Frame-Options", "DENY")
	w.Header().Set("Referrer-Policy", "no-referrer")
	ctx := models.WithRequestMeta(r.Context(), models.RequestMeta{IP: remoteIP(r), UserAgent: r.UserAgent()})
	switch r.Method {
	case http.MethodGet, http.MethodHead:
	case http.MethodPost:
		r.Body = http.MaxBytesReader(w, r.Body, maxLoginForm)
		if err := r.ParseForm(); err != nil {
			http.Error(w, "bad form", http.StatusBadRequest)
			return
		}
	default:
		w.Header().Set("Allow", "GET, HEAD, POST")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	c, err := r.Cookie(SessionCookie)
	if err != nil || c.Value == "" {
		l.render(w, http.StatusOK, page{SignedOut: true})
		return
	}
	if l.session(ctx, r) == nil {
		l.clearSession(w)
		l.render(w, http.StatusOK, page{SignedOut: true})
		return
	}
	if r.Method != http.MethodPost {
		l.render(w, http.StatusOK, page{SignOut: true, CSRF: l.csrfToken(c.Value, logoutID)})
		return
	}
	if !l.csrfValid(c.Value, logoutID, r.PostForm.Get("csrf")) {
		l.render(w, http.StatusForbidden, page{SignOut: true, CSRF: l.csrfToken(c.Value, logoutID), Error: msgForm})
		return
	}
	if err := l.store.Sessions.Delete(ctx, c.Value); err != nil && !errors.Is(err, repositories.ErrNotFound) {
		l.fail(w, r, "delete session", err)
		return
	}
	l.clearSession(w)
	l.render(w, http.StatusOK, page{SignedOut: true})
}

// logoutID is the request id the sign-out form's CSRF token is bound to,
// with the session cookie's value (an authorization request id is a UUID,
// never this).
const logoutID = "logout"

// clearSession deletes the session cookie from the browser.
func (l *login) clearSession(w http.ResponseWriter) {
	http.SetCookie(w, &http.Cookie{Name: SessionCookie, Value: "", Path: "/", MaxAge: -1, HttpOnly: true,
		Secure: l.secure, SameSite: http.SameSiteLaxMode})
}

// pending returns the page of the pending request id: its id, the name
// of its client (the client's id when authstore does not know it by name)
// and its redirect URI; or an error when there is no such request or it is
// already done.
func (l *login) pending(ctx context.Context, id string) (page, op.AuthRequest, error) {
	if id == "" {
		return page{}, nil, repositories.ErrNotFound
	}
	req, err := l.requests.AuthRequestByID(ctx, id)
	if err != nil {
		return page{}, nil, err
	}
	if req.Done() {
		return page{}, nil, repositories.ErrUsed
	}
	name := req.GetClientID()
	if cid, err := models.ParseUUID(name); err == nil {
		if c, err := l.store.Clients.Find(ctx, cid); err == nil && c.Name != "" {
			name = c.Name
		}
	}
	return page{RequestID: id, Client: name, redirect: req.GetRedirectURI()}, req, nil
}

// promptOf returns the prompt values, max_age in seconds and login_hint of
// a request of the adapter (nothing for another kind of request, which
// then always shows the form).
func promptOf(req op.AuthRequest) (prompt []string, maxAge *int64, hint string) {
	if r, ok := req.(interface{ Row() models.AuthRequest }); ok {
		row := r.Row()
		return row.Prompt, row.MaxAge, row.LoginHint
	}
	return nil, nil, ""
}

// session returns the live session of the request's session cookie, or
// nil when there is none (no cookie, an unknown, ended or expired session).
func (l *login) session(ctx context.Context, r *http.Request) *models.Session {
	c, err := r.Cookie(SessionCookie)
	if err != nil || c.Value == "" {
		return nil
	}
	s, err := l.store.Sessions.Find(ctx, c.Value)
	if err != nil {
		if !errors.Is(err, repositories.ErrNotFound) && !errors.Is(err, repositories.ErrExpired) && !errors.Is(err, repositories.ErrInvalidInput) {
			l.log.ErrorContext(ctx, "login page: find session", "error", err)
		}
		return nil
	}
	return s
}

// formAction returns the CSP source of a redirect URI's origin: scheme,
// host and port for http(s), the scheme alone for a custom scheme (a
// native app's), "" for a URI that is neither.
func formAction(redirect string) string {
	u, err := url.Parse(redirect)
	if err != nil || u.Scheme == "" || strings.ContainsAny(u.Scheme+u.Host, " ;,'") {
		return ""
	}
	if u.Scheme == "http" || u.Scheme == "https" {
		if u.Host == "" {
			return ""
		}
		return u.Scheme + "://" + u.Host
	}
	return u.Scheme + ":"
}

// csrfCookie returns the CSRF cookie's value, setting a new random one
// when the request has none.
func (l *login) csrfCookie(w http.ResponseWriter, r *http.Request) (string, error) {
	if c, err := r.Cookie(CSRFCookie); err == nil && len(c.Value) == base64.RawURLEncoding.EncodedLen(32) {
		return c.Value, nil
	}
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	v := base64.RawURLEncoding.EncodeToString(b)
	http.SetCookie(w, &http.Cookie{Name: CSRFCookie, Value: v, Path: LoginPath, HttpOnly: true,
		Secure: l.secure, SameSite: http.SameSiteStrictMode})
	return v, nil
}

// csrfToken is the form token for the cookie value nonce and request id.
func (l *login) csrfToken(nonce, id string) string {
	m := hmac.New(sha256.New, l.csrfKey)
	m.Write([]byte(nonce))
	m.Write([]byte{0})
	m.Write([]byte(id))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// csrfValid reports whether token is the form token of nonce and id, in
// constant time.
func (l *login) csrfValid(nonce, id, token string) bool {
	if nonce == "" || token == "" {
		return false
	}
	return subtle.ConstantTimeCompare([]byte(l.csrfToken(nonce, id)), []byte(token)) == 1
}

// render writes the login page with status.
func (l *login) render(w http.ResponseWriter, status int, p page) {
	action := "'self'"
	if src := formAction(p.redirect); src != "" {
		action += " " + src
	}
	w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; form-action "+action+"; frame-ancestors 'none'")
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	if err := loginTemplate.Execute(w, p); err != nil {
		l.log.Error("login page: render", "error", err)
	}
}

// fail logs err for the operator and shows the person a generic message.
// err comes from the repositories, whose messages hold no secret.
func (l *login) fail(w http.ResponseWriter, r *http.Request, step string, err error) {
	l.log.ErrorContext(r.Context(), "login page: "+step, "error", err)
	l.render(w, http.StatusInternalServerError, page{Error: msgInternal})
}

// remoteIP is the address of the peer, without its port.
func remoteIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}
