// Package provider serves an OpenID provider on an authstore Store: the
// protocol endpoints of github.com/zitadel/oidc/v3's op package (discovery,
// authorize, token, userinfo, introspection, revocation, end session, JWKS)
// over the oidcstore adapter, and a minimal server-rendered login page
// (html/template, no JavaScript) that checks an email and password with
// Users.Login (and a second factor with TwoFactor) and starts a session.
//
// New returns the whole thing as one http.Handler; `authstore serve` runs
// it on the configured database.
//
// The login page (LoginPath) shows the name of the client that asks, an
// email and a password field. A wrong password, an unknown email and a
// locked account all show the same message ("Wrong email or password."),
// so the page tells nobody which accounts exist or are locked; failures
// count toward the lockout as every Users.Authenticate does. After a good
// password the page sets the session cookie (SessionCookie: HttpOnly,
// SameSite=Lax, Secure when the issuer is https), records the login on the
// pending request (CompleteAuthRequest, AMR "pwd") and redirects to the
// provider's callback, which sends the code to the client.
//
// The session cookie answers the next authorization request of the same
// browser without a page (single sign-on, auth_time the session's start),
// unless the client asks for a login: prompt=login, or a max_age the
// session is older than. prompt=none without such a session sends the
// client login_required and shows nothing. login_hint prefills the email.
//
// An account with a confirmed second factor logs in with its password,
// then a code (TOTP or recovery code) on a second form; the session is
// then at models.AssuranceTwoFactor and the login's amr is "pwd", "otp".
// A password-only session of such an account (opened before the factor,
// or by Sessions.Create) does not answer silently: the page shows the code
// form alone (in-page step-up), naming the account and linking to the
// password form for another one. A right code raises that session with
// TwoFactor.StepUp, gives it a new token in the cookie (Sessions.Renew: a
// copy of the old token does not carry the second factor) and completes
// the request from it: amr "pwd", "otp", and auth_time still the
// session's start, when the password was given
// (the step-up proves the second factor only; a client that wants a fresh
// login sends prompt=login or max_age, and gets the password form). A
// wrong code shows the code form again and counts toward the lockout;
// prompt=none sends login_required.
//
// The prompt values of OpenID Connect Core 1.0 section 3.1.2.1:
//   - none: no page; login_required without a session that answers
//     alone. With any other value it is an invalid_request, which the
//     provider (zitadel/oidc's op) sends before the page is reached.
//   - login: the password form, whatever the session.
//   - select_account: authstore has no account chooser; the password form,
//     as for login, where the person signs in as any account.
//   - consent: authstore's clients are registered by the operator (a
//     first-party provider) and it has no consent screen: consent asks for
//     nothing more, and the request proceeds as without it (a session
//     answers it, else the password form).
//   - any other value is ignored, as the specification requires.
//
// LoggedOutPath ends no session on a GET (a cross-site link would log the
// person out): end_session with a valid id_token_hint ends the user's
// sessions, and without one LoggedOutPath shows a sign-out form whose POST
// carries a CSRF token bound to the session cookie.
//
// CSRF: a double submit bound to the authorization request. The CSRF
// cookie (CSRFCookie, SameSite=Strict) holds 32 random bytes; the form's
// hidden token is HMAC-SHA256, under a key of the provider, of that value
// and the request id. A POST whose token does not match is refused before
// the password is checked.
package provider

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"slices"
	"time"

	"github.com/forgeauth/authstore"
	"github.com/zitadel/oidc/v3/pkg/op"
)

// ErrInvalidIssuer is returned by New for an issuer that is not an
// absolute https URL without path, query or fragment (http is accepted on
// a loopback host only: 127.0.0.1, ::1 or localhost).
var ErrInvalidIssuer = errors.New("provider: invalid issuer")

// Config configures the provider.
type Config struct {
	// Issuer is the provider's URL, e.g. https://login.example.com; tokens
	// carry it as iss and discovery is served under it. Required.
	Issuer string
	// CryptoKey is zitadel/oidc's op.Config.CryptoKey (it makes the codes
	// and opaque access tokens) and keys the login page's CSRF tokens; it
	// must be the same across restarts and instances. Zero takes the
	// adapter's, derived from the Store's master key
	// (AUTHSTORE_ENCRYPTION_KEY), else from JWT_SECRET
	// (oidcstore.Storage.CryptoKey).
	CryptoKey [32]byte
	// Logger receives the errors the login page hides from the person (a
	// database that does not answer, ...). Nil discards them.
	Logger *slog.Logger
}

// New returns the OpenID provider on store as an http.Handler: the
// endpoints of zitadel/oidc's op.Provider over the oidcstore adapter, the
// login page at LoginPath and the signed-out page at LoggedOutPath.
//
// Returns ErrInvalidIssuer for an issuer that is not https (or http on a
// loopback host), or has a path; the adapter's errors otherwise (a Store
// with neither a master key nor JWT_SECRET has no crypto key).
func New(ctx context.Context, store *authstore.Store, cfg Config) (http.Handler, error) {
	if err := ValidateIssuer(cfg.Issuer); err != nil {
		return nil, err
	}
	st, err := newStorage(store, cfg.CryptoKey)
	if err != nil {
		return nil, fmt.Errorf("provider: %w", err)
	}
	if cfg.CryptoKey, err = st.CryptoKey(); err != nil {
		return nil, fmt.Errorf("provider: %w", err)
	}
	p, err := NewOpenIDProvider(st, cfg, op.WithHttpInterceptors(st.Interceptor))
	if err != nil {
		return nil, err
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	mac := hmac.New(sha256.New, cfg.CryptoKey[:])
	mac.Write([]byte("authstore login csrf"))
	l := &login{
		store:      store,
		requests:   st,
		authorizer: p,
		callback:   op.AuthCallbackURL(p),
		csrfKey:    mac.Sum(nil),
		secure:     !p.Insecure(),
		now:        time.Now,
		log:        log,
	}
	issuer := op.NewIssuerInterceptor(p.IssuerFromRequest)
	mux := http.NewServeMux()
	mux.Handle(LoginPath, issuer.Handler(l))
	mux.HandleFunc(LoggedOutPath, l.loggedOut)
	mux.Handle("/", p)
	return mux, nil
}

// loginURL is the login page's URL for the authorization request id.
func loginURL(id string) string { return LoginPath + "?authRequestID=" + url.QueryEscape(id) }

// supportedScopes are the scopes the provider's discovery document lists
// (scopes_supported): openid, and those whose claims userinfo and the ID
// token carry (profile: name; email: email, email_verified), and
// offline_access, for a refresh token.
var supportedScopes = []string{"openid", "profile", "email", "offline_access"}

// NewOpenIDProvider returns zitadel/oidc's op.Provider over storage with
// the settings New uses (PKCE S256, client authentication by HTTP Basic or
// form post, refresh tokens, end session to LoggedOutPath) and opts,
// without the login page: it serves the protocol endpoints only, and
// logins are the caller's (the provider sends browsers to the client's
// LoginURL). Over an oidcstore.Storage pass
// op.WithHttpInterceptors(storage.Interceptor), as New does.
//
// Its discovery document lists only what it serves: the code response
// type with PKCE S256; the authorization_code grant, and refresh_token,
// client_credentials, token exchange or device code where op and storage
// serve them; the scopes and claims oidcstore returns; the signing
// algorithms of the storage's published keys; client authentication none,
// client_secret_basic and client_secret_post. It lists no implicit or
// hybrid response type, no implicit or JWT profile (jwt-bearer) grant, no
// device authorization endpoint without a device storage, no
// private_key_jwt and no request objects.
//
// Returns ErrInvalidIssuer as New does.
func NewOpenIDProvider(storage op.Storage, cfg Config, opts ...op.Option) (*op.Provider, error) {
	insecure, err := checkIssuer(cfg.Issuer)
	if err != nil {
		return nil, err
	}
	conf := &op.Config{
		CryptoKey:                cfg.CryptoKey,
		DefaultLogoutRedirectURI: LoggedOutPath,
		CodeMethodS256:           true,
		AuthMethodPost:           true,
		GrantTypeRefreshToken:    true,
		// Discovery lists the scopes whose claims the provider serves
		// (oidcstore's userinfo), not op's default phone and address.
		SupportedScopes: slices.Clone(supportedScopes),
		// And the claims its ID tokens and userinfo carry, not op's
		// default phone and profile ones.
		SupportedClaims: slices.Clone(supportedClaims),
	}
	if insecure {
		opts = append(opts, op.WithAllowInsecure())
	}
	// op hard-codes parts of discovery (response types, the implicit and
	// JWT profile grants, the device endpoint): discovery corrects them.
	d := &discovery{}
	opts = append(slices.Clone(opts), op.WithHttpInterceptors(d.intercept))
	p, err := op.NewProvider(conf, storage, op.StaticIssuer(cfg.Issuer), opts...)
	if err != nil {
		return nil, fmt.Errorf("provider: %w", err)
	}
	d.provider = p
	return p, nil
}

// ValidateIssuer returns ErrInvalidIssuer, with the reason, for an issuer
// New refuses: one that is not an absolute https URL without path, query,
// fragment or user information, or http on a host other than 127.0.0.1,
// ::1 or localhost.
func ValidateIssuer(issuer string) error {
	_, err := checkIssuer(issuer)
	return err
}

// checkIssuer validates issuer and reports whether it is http (allowed on
// a loopback host only).
func checkIssuer(issuer string) (insecure bool, err error) {
	u, err := url.Parse(issuer)
	if err != nil {
		return false, fmt.Errorf("%w: %q is not a URL", ErrInvalidIssuer, issuer)
	}
	if u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" || u.Path != "" {
		return false, fmt.Errorf("%w: %q: want scheme://host[:port] with no path, query or fragment", ErrInvalidIssuer, issuer)
	}
	switch u.Scheme {
	case "https":
		return false, nil
	case "http":
		host := u.Hostname()
		if ip := net.ParseIP(host); (ip != nil && ip.IsLoopback()) || host == "localhost" {
			return true, nil
		}
		return false, fmt.Errorf("%w: %q: http is allowed on a loopback host only (127.0.0.1, ::1, localhost); serve https behind a proxy and give its URL", ErrInvalidIssuer, issuer)
	}
	return false, fmt.Errorf("%w: %q: want https", ErrInvalidIssuer, issuer)
}
