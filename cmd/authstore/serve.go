package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/forgeauth/authstore"
	"github.com/forgeauth/authstore/models"
	"github.com/forgeauth/authstore/protocol"
	"github.com/forgeauth/authstore/provider"
	"github.com/forgeauth/authstore/repositories"
	"github.com/spf13/cobra"
)

// defaultServeAddr is where `authstore serve` listens without --addr.
const defaultServeAddr = "127.0.0.1:8080"

// defaultIssuer is the issuer of `authstore serve` without --addr and
// --issuer.
const defaultIssuer = "http://" + defaultServeAddr

// shutdownGrace is how long serve waits for requests in flight once it is
// told to stop.
const shutdownGrace = 10 * time.Second

// serveCommand builds `authstore serve`.
func (a *app) serveCommand() *cobra.Command {
	var addr, issuer string
	cmd := &cobra.Command{
		Use:   "serve [--addr HOST:PORT] [--issuer URL]",
		Short: "Run the OpenID provider (OAuth2 and OpenID Connect) with its login page",
		Long: `serve runs an OpenID provider on the configured database: discovery
(/.well-known/openid-configuration), authorize, token, userinfo,
introspection, revocation, end session and the JWKS (/keys), and the login
page (/login: email and password of a user of the database).

It listens on 127.0.0.1:8080 unless --addr says otherwise (port 0 picks a free
one); --issuer, the URL in the tokens' iss, defaults to http://ADDR. http is
accepted on a loopback host only: elsewhere serve https behind a proxy and give
its URL with --issuer.

On the default embedded SQLite database (./authstore.db), a file that does not
exist is created and migrated, and without AUTHSTORE_ENCRYPTION_KEY a
development master key is generated beside it (as keys rotate does). Without a
current signing key, serve makes one (RS256, or OAUTH_SIGNING_ALGORITHM).

Register clients with 'authstore client create' and users with
'authstore user create', from another shell, while it runs. SIGINT or SIGTERM
stops it after the requests in flight (at most 10 s).`,
		Example: `  authstore serve
  authstore serve --addr 127.0.0.1:9000
  DATABASE_URL='postgres://app@db:5432/auth' AUTHSTORE_ENCRYPTION_KEY=... authstore serve --addr 0.0.0.0:8080 --issuer https://login.example.com`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.serve(cmd.Context(), addr, issuer)
		},
	}
	cmd.Flags().StringVar(&addr, "addr", defaultServeAddr, "HOST:PORT to listen on")
	cmd.Flags().StringVar(&issuer, "issuer", "", "the provider's URL (default http://ADDR)")
	return cmd
}

// serve runs the provider until ctx is done.
func (a *app) serve(ctx context.Context, addr, issuer string) (err error) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return usagef("--addr %q: want HOST:PORT, such as 127.0.0.1:8080", addr)
	}
	if issuer != "" {
		if err := checkIssuerFlag(issuer); err != nil {
			return err
		}
	} else if !loopbackHost(host) {
		return usagef("--addr %s is not a loopback address, so http://%s cannot be the issuer: give --issuer, the https URL clients reach the provider at (behind a proxy that terminates TLS)", addr, addr)
	}
	cfg, opts, err := a.devConfig()
	if err != nil {
		return err
	}
	if _, err := memoryMasterKey(&cfg); err != nil {
		return err
	}
	store, err := a.openConfigStore(ctx, cfg, opts...)
	if err != nil {
		return err
	}
	defer func() {
		if cerr := store.Close(); cerr != nil && err == nil {
			err = fmt.Errorf("close database: %w", cerr)
		}
	}()
	if err := a.ensureSigningKey(ctx, store); err != nil {
		return err
	}

	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	if issuer == "" {
		issuer = "http://" + ln.Addr().String()
	}
	handler, err := provider.New(ctx, store, provider.Config{
		Issuer: issuer,
		Logger: slog.New(slog.NewTextHandler(a.stderr, nil)),
	})
	if err != nil {
		ln.Close()
		return err
	}
	srv := &http.Server{Handler: handler, ReadHeaderTimeout: 10 * time.Second}
	fmt.Fprintf(a.stdout, "authstore serve: listening on %s, issuer %s (database %s)\n", ln.Addr(), issuer, databaseLabel(cfg))
	fmt.Fprintf(a.stdout, "discovery: %s/.well-known/openid-configuration\n", issuer)

	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
	}
	fmt.Fprintln(a.stdout, "authstore serve: shutting down")
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), shutdownGrace)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return fmt.Errorf("shut down: %w", err)
	}
	if err := <-done; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// checkIssuerFlag returns a usage error naming --issuer when issuer is not
// one the provider accepts.
func checkIssuerFlag(issuer string) error {
	if err := provider.ValidateIssuer(issuer); err != nil {
		return usagef("--issuer: %w", err)
	}
	return nil
}

// loopbackHost reports whether host, from a listening address, is a
// loopback one, where provider.ValidateIssuer accepts an http issuer.
func loopbackHost(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// ensureSigningKey makes the first signing key when the Store has no
// current one, and says so.
func (a *app) ensureSigningKey(ctx context.Context, store *authstore.Store) error {
	_, err := store.Keys.Current(ctx)
	if !errors.Is(err, repositories.ErrNoSigningKey) {
		return err
	}
	k, err := store.Keys.Rotate(ctx, repositories.RotateOptions{})
	if err != nil {
		return noMasterKey(err, store)
	}
	fmt.Fprintf(a.stdout, "signing key %s (%s) is current: it signs from now\n", k.ID, k.Algorithm)
	return nil
}

// noMasterKey returns err, or, when err says that a signing key could not
// be made without a master key, an error that says, for an operator, what
// to set: only a SQLite file gets a development key made beside it.
func noMasterKey(err error, store *authstore.Store) error {
	if !errors.Is(err, repositories.ErrNoSigningKey) || store.Config().EncryptionKey != "" {
		return err
	}
	return fmt.Errorf("%w: a signing key is encrypted under the master key: set AUTHSTORE_ENCRYPTION_KEY in the environment "+
		"(standard base64 of 32 bytes: openssl rand -base64 32; keep it out of the database's backups); "+
		"only a SQLite file gets a development key made beside it", repositories.ErrNoSigningKey)
}

// authorizeURL returns, for a client with the authorization_code grant
// and a redirect URI, an authorize URL of the provider at issuer with a
// fresh state and PKCE challenge, and the verifier of that challenge; ""
// for another client. It asks for offline_access when the client has the
// refresh_token grant: the provider issues a refresh token for that scope
// only (OpenID Connect Core 11).
func authorizeURL(c *models.Client, issuer string) (authorize, verifier string, err error) {
	if !slices.Contains(c.GrantTypes, protocol.GrantAuthorizationCode) || len(c.RedirectURIs) == 0 {
		return "", "", nil
	}
	verifier, err = protocol.NewVerifier()
	if err != nil {
		return "", "", err
	}
	state, err := protocol.NewVerifier()
	if err != nil {
		return "", "", err
	}
	scope := "openid email profile"
	if slices.Contains(c.GrantTypes, protocol.GrantRefreshToken) {
		scope += " offline_access"
	}
	q := url.Values{
		"client_id": {string(c.ID)}, "redirect_uri": {c.RedirectURIs[0]}, "response_type": {"code"},
		"scope": {scope}, "state": {state[:16]},
		"code_challenge": {protocol.S256Challenge(verifier)}, "code_challenge_method": {protocol.PKCEMethodS256},
	}
	return strings.TrimSuffix(issuer, "/") + "/authorize?" + q.Encode(), verifier, nil
}

// printAuthorizeURL prints authorizeURL's URL and verifier, if any.
func (a *app) printAuthorizeURL(c *models.Client, issuer string) error {
	authorize, verifier, err := authorizeURL(c, issuer)
	if err != nil || authorize == "" {
		return err
	}
	fmt.Fprintf(a.stdout, "\nwith `authstore serve` running at %s, open this URL in a browser to log in:\n%s\n", issuer, authorize)
	fmt.Fprintf(a.stdout, "the browser then lands on %s?code=...; the token request takes code_verifier=%s\n", c.RedirectURIs[0], verifier)
	return nil
}
