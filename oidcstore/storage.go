// Package oidcstore is the storage of an OpenID provider built with
// github.com/zitadel/oidc/v3's op package, on an authstore Store: New
// returns a Storage that implements op.Storage,
// op.ClientCredentialsStorage, op.CanTerminateSessionFromRequest and
// op.CanSetUserinfoFromRequest over authstore's repositories, so the
// provider keeps authstore's guarantees (SECURITY 46): a code is redeemed
// once however many token requests race (op's read of a request by code
// consumes it), a replayed code revokes what it issued, a reused refresh
// token revokes its family, client authentication and registered grant
// types are checked again inside every token call, tokens are signed with
// the current key of the Store's signing keys and the JWKS is their key
// set, and no code or refresh token is stored in plaintext. An ID token
// issued on a refresh carries the auth_time and amr of the login that
// started the grant, which its refresh tokens keep (OpenID Connect Core
// 12.2).
//
// The provider must be built with the Storage's interceptor, which carries
// the client op authenticated to the token calls of the same request:
//
//	storage, err := oidcstore.New(store)
//	cfg, err := storage.ProviderConfig()
//	provider, err := op.NewProvider(cfg, storage, op.StaticIssuer(issuer),
//		op.WithHttpInterceptors(storage.Interceptor))
//
// The login page reads the pending request with AuthRequestByID, checks
// the person's password (Users.Authenticate), calls CompleteAuthRequest and
// redirects to op.AuthCallbackURL(provider) with the request's id.
//
// A resource server on the same database verifies the provider's access
// tokens with a Verifier (NewVerifier, Verify) or the RequireAccessToken
// middleware. Verify's refusals, tested with errors.Is:
//
//	condition                                        sentinel
//	-----------------------------------------------  ---------------------
//	too long, malformed, alg not RS256/ES256/EdDSA,  ErrInvalidToken (is
//	  typ not JWT, no kid, no published key of that    repositories.
//	  kid and algorithm, bad signature, another        ErrInvalidCredentials)
//	  iss or aud, iat/nbf ahead, no jti row or a
//	  row of another client or subject
//	past exp, or its row expired                     ErrInvalidToken and
//	                                                   repositories.ErrExpired
//	its row revoked (revocation endpoint, grant,     ErrInvalidToken and
//	  refresh reuse, code replay, logout)              repositories.ErrRevoked
//	the database failed                              neither
package oidcstore

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"sync"
	"time"

	"github.com/forgeauth/authstore"
	"github.com/forgeauth/authstore/models"
	"github.com/forgeauth/authstore/repositories"
	"github.com/zitadel/oidc/v3/pkg/op"
)

// The interfaces the Storage implements, checked at compile time.
var (
	_ op.Storage                        = (*Storage)(nil)
	_ op.ClientCredentialsStorage       = (*Storage)(nil)
	_ op.CanTerminateSessionFromRequest = (*Storage)(nil)
	_ op.CanSetUserinfoFromRequest      = (*Storage)(nil)
)

// Storage is the provider's storage over an authstore Store. It holds no
// state of its own besides its options: every request, code and token is
// in the Store's database, so any number of provider processes can share
// it.
type Storage struct {
	store    *authstore.Store
	loginURL func(authRequestID string) string
	lifetime time.Duration
	key      *[32]byte
}

// Option configures New.
type Option func(*Storage) error

// WithLoginURL sets the URL of the login page a client's authorization
// request is sent to, given the request's id; the default is
// "/login?authRequestID=" followed by the id, escaped.
func WithLoginURL(f func(authRequestID string) string) Option {
	return func(s *Storage) error {
		if f == nil {
			return fmt.Errorf("oidcstore: login url function is nil: %w", repositories.ErrInvalidInput)
		}
		s.loginURL = f
		return nil
	}
}

// WithLoginLifetime sets how long a person has to log in once a client
// sent them to the authorize endpoint; the default is
// repositories.DefaultAuthRequestLifetime (30 minutes).
func WithLoginLifetime(d time.Duration) Option {
	return func(s *Storage) error {
		if d <= 0 {
			return fmt.Errorf("oidcstore: login lifetime %v is not positive: %w", d, repositories.ErrInvalidInput)
		}
		s.lifetime = d
		return nil
	}
}

// WithCryptoKey sets the 32-byte key CryptoKey returns instead of one
// derived from the Store's key material.
func WithCryptoKey(key [32]byte) Option {
	return func(s *Storage) error {
		k := key
		s.key = &k
		return nil
	}
}

// defaultLoginURL is the login URL of a request id without WithLoginURL:
// the provider package's login page.
func defaultLoginURL(id string) string { return "/login?authRequestID=" + url.QueryEscape(id) }

// New returns the adapter over a Store. The Store needs a current signing
// key (Store.Keys, `authstore keys rotate`): the provider signs ID tokens
// and JWT access tokens with it. It returns an error wrapping
// repositories.ErrInvalidInput for a nil store or an invalid option.
func New(store *authstore.Store, opts ...Option) (*Storage, error) {
	if store == nil {
		return nil, fmt.Errorf("oidcstore: store is nil: %w", repositories.ErrInvalidInput)
	}
	s := &Storage{
		store:    store,
		loginURL: defaultLoginURL,
		lifetime: repositories.DefaultAuthRequestLifetime,
	}
	for _, o := range opts {
		if err := o(s); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// cryptoKeyPurpose names the derived key of CryptoKey.
const cryptoKeyPurpose = "openid provider crypto key"

// CryptoKey returns the 32-byte key of op.Config.CryptoKey, which op uses
// to make authorization codes (an encryption of the request id; only their
// digest is stored) and opaque access tokens: the key set by WithCryptoKey,
// or one derived from the Store's key material (Store.DeriveKey: the
// master encryption key, else JWT_SECRET), so every process of one
// deployment derives the same key. It returns an error when the Store has
// neither.
func (s *Storage) CryptoKey() ([32]byte, error) {
	var out [32]byte
	if s.key != nil {
		return *s.key, nil
	}
	k, err := s.store.DeriveKey(cryptoKeyPurpose)
	if err != nil {
		return out, fmt.Errorf("oidcstore: crypto key: %w", err)
	}
	copy(out[:], k)
	return out, nil
}

// ProviderConfig returns the op.Config the Storage is meant for: the
// crypto key (CryptoKey), PKCE S256, client_secret_post besides
// client_secret_basic, and the refresh_token grant. A caller may change
// the copy (DefaultLogoutRedirectURI, SupportedUILocales, ...) before
// op.NewProvider.
func (s *Storage) ProviderConfig() (*op.Config, error) {
	key, err := s.CryptoKey()
	if err != nil {
		return nil, err
	}
	return &op.Config{CryptoKey: key, CodeMethodS256: true, AuthMethodPost: true, GrantTypeRefreshToken: true}, nil
}

// Health reports whether the database answers.
func (s *Storage) Health(ctx context.Context) error {
	db, err := s.store.DB().DB()
	if err != nil {
		return fmt.Errorf("oidcstore: health: %w", err)
	}
	if err := db.PingContext(ctx); err != nil {
		return fmt.Errorf("oidcstore: health: %w", err)
	}
	return nil
}

// authenticatedKey is the context key of the request's authenticated
// clients.
type authenticatedKey struct{}

// authenticated holds the clients op authenticated during one HTTP
// request (AuthorizeClientIDSecret, ClientCredentials), so that the token
// calls of the same request hand authstore the AuthenticatedClient it
// asks for.
type authenticated struct {
	mu      sync.Mutex
	clients map[models.UUID]repositories.AuthenticatedClient
}

// Interceptor is the HTTP interceptor the provider must be built with
// (op.WithHttpInterceptors(storage.Interceptor)): it gives each request a
// place for the client op authenticates, which the token calls of that
// request take. Without it a token request of a confidential client fails
// with a server error that says so.
func (s *Storage) Interceptor(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a := &authenticated{clients: map[models.UUID]repositories.AuthenticatedClient{}}
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), authenticatedKey{}, a)))
	})
}

// remember keeps a client authenticated for the rest of ctx's request.
func remember(ctx context.Context, c repositories.AuthenticatedClient) {
	if a, ok := ctx.Value(authenticatedKey{}).(*authenticated); ok {
		a.mu.Lock()
		a.clients[c.ID()] = c
		a.mu.Unlock()
	}
}

// errNoInterceptor says what is missing when a confidential client's
// token call finds no authenticated client.
var errNoInterceptor = errors.New("oidcstore: the client was not authenticated in this request; build the provider with op.WithHttpInterceptors(storage.Interceptor)")

// client returns the client op authenticated in ctx's request; a public
// client, which op does not authenticate, is authenticated here by its id
// alone (Clients.Authenticate with an empty secret, which refuses a
// confidential client).
func (s *Storage) client(ctx context.Context, clientID string) (repositories.AuthenticatedClient, error) {
	if a, ok := ctx.Value(authenticatedKey{}).(*authenticated); ok {
		a.mu.Lock()
		c, found := a.clients[models.UUID(clientID)]
		a.mu.Unlock()
		if found {
			return c, nil
		}
	}
	c, err := s.store.Clients.Authenticate(ctx, models.UUID(clientID), "")
	if errors.Is(err, repositories.ErrInvalidCredentials) {
		if ctx.Value(authenticatedKey{}) == nil {
			return c, errNoInterceptor
		}
	}
	return c, err
}
