package oidcstore

import (
	"context"
	"errors"
	"slices"
	"time"

	"github.com/forgeauth/authstore/models"
	"github.com/forgeauth/authstore/repositories"
	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"
)

// Client is a registered client as op sees it (it implements op.Client),
// over its row of oauth_clients and the provider metadata there.
type Client struct {
	row      models.Client
	loginURL func(string) string
}

var _ op.Client = (*Client)(nil)

// NewClient returns the client of row as the provider sees it, the
// defaults of unset metadata applied (response type code,
// client_secret_basic or none, JWT access tokens, one-hour ID tokens);
// its LoginURL is the provider package's login page. `authstore client
// show` prints it.
func NewClient(row models.Client) *Client { return &Client{row: row, loginURL: defaultLoginURL} }

// Row returns a copy of the client's row.
func (c *Client) Row() models.Client { return c.row }

// GetID returns the client's id.
func (c *Client) GetID() string { return c.row.ID.String() }

// RedirectURIs returns the registered redirect URIs.
func (c *Client) RedirectURIs() []string { return slices.Clone(c.row.RedirectURIs) }

// PostLogoutRedirectURIs returns the registered post-logout redirect URIs.
func (c *Client) PostLogoutRedirectURIs() []string { return slices.Clone(c.row.PostLogoutRedirectURIs) }

// ApplicationType is web for a confidential client and native for a
// public one (a native app may use a loopback redirect URI on any port,
// RFC 8252 7.3).
func (c *Client) ApplicationType() op.ApplicationType {
	if c.row.Confidential {
		return op.ApplicationTypeWeb
	}
	return op.ApplicationTypeNative
}

// AuthMethod returns the registered token endpoint authentication method:
// client_secret_basic for a confidential client and none for a public one
// unless another was registered.
func (c *Client) AuthMethod() oidc.AuthMethod {
	if m := c.row.TokenEndpointAuthMethod; m != nil && *m != "" {
		return oidc.AuthMethod(*m)
	}
	if c.row.Confidential {
		return oidc.AuthMethodBasic
	}
	return oidc.AuthMethodNone
}

// ResponseTypes returns the registered response types; code by default.
func (c *Client) ResponseTypes() []oidc.ResponseType {
	if len(c.row.ResponseTypes) == 0 {
		return []oidc.ResponseType{oidc.ResponseTypeCode}
	}
	out := make([]oidc.ResponseType, len(c.row.ResponseTypes))
	for i, t := range c.row.ResponseTypes {
		out[i] = oidc.ResponseType(t)
	}
	return out
}

// GrantTypes returns the registered grant types.
func (c *Client) GrantTypes() []oidc.GrantType {
	out := make([]oidc.GrantType, len(c.row.GrantTypes))
	for i, g := range c.row.GrantTypes {
		out[i] = oidc.GrantType(g)
	}
	return out
}

// LoginURL returns the login page's URL for a request (WithLoginURL).
func (c *Client) LoginURL(id string) string { return c.loginURL(id) }

// AccessTokenType returns JWT, signed with the Store's current key, unless
// the client registered opaque tokens (op's bearer token: the token id and
// subject encrypted under CryptoKey).
func (c *Client) AccessTokenType() op.AccessTokenType {
	if t := c.row.AccessTokenType; t != nil && *t == models.AccessTokenOpaque {
		return op.AccessTokenTypeBearer
	}
	return op.AccessTokenTypeJWT
}

// IDTokenLifetime returns the registered ID token lifetime, or one hour.
func (c *Client) IDTokenLifetime() time.Duration {
	if l := c.row.IDTokenLifetime; l != nil && *l > 0 {
		return time.Duration(*l) * time.Second
	}
	return time.Hour
}

// DevMode is false: redirect URIs follow op's rules for the application
// type.
func (c *Client) DevMode() bool { return false }

// RestrictAdditionalIdTokenScopes keeps the scopes as they are.
func (c *Client) RestrictAdditionalIdTokenScopes() func(scopes []string) []string {
	return func(scopes []string) []string { return scopes }
}

// RestrictAdditionalAccessTokenScopes keeps the scopes as they are.
func (c *Client) RestrictAdditionalAccessTokenScopes() func(scopes []string) []string {
	return func(scopes []string) []string { return scopes }
}

// IsScopeAllowed reports whether the client may ask for a scope besides
// the OpenID Connect ones: any when it registered none, else those it
// registered.
func (c *Client) IsScopeAllowed(scope string) bool {
	return len(c.row.Scopes) == 0 || c.row.Scopes.Contains(scope)
}

// IDTokenUserinfoClaimsAssertion is true: the ID token carries the
// profile and email claims its scopes ask for, as userinfo does.
func (c *Client) IDTokenUserinfoClaimsAssertion() bool { return true }

// ClockSkew is zero.
func (c *Client) ClockSkew() time.Duration { return 0 }

// GetClientByClientID returns an active client (op.Storage). An unknown,
// malformed or revoked id is a plain error; a database failure is
// server_error.
func (s *Storage) GetClientByClientID(ctx context.Context, clientID string) (op.Client, error) {
	c, err := s.store.Clients.Find(ctx, models.UUID(clientID))
	if err != nil {
		return nil, clientError(err)
	}
	if c.Revoked {
		return nil, errors.New("oidcstore: client is revoked")
	}
	return &Client{row: *c, loginURL: s.loginURL}, nil
}

// AuthorizeClientIDSecret authenticates a confidential client
// (Clients.Authenticate: an unknown client and a wrong secret cost the
// same and answer the same) and keeps it for the token calls of the same
// request (Interceptor).
func (s *Storage) AuthorizeClientIDSecret(ctx context.Context, clientID, clientSecret string) error {
	a, err := s.store.Clients.Authenticate(ctx, models.UUID(clientID), clientSecret)
	if err != nil {
		return clientError(err)
	}
	remember(ctx, a)
	return nil
}

// ClientCredentials authenticates a client for the client_credentials
// grant (op.ClientCredentialsStorage), as AuthorizeClientIDSecret does.
func (s *Storage) ClientCredentials(ctx context.Context, clientID, clientSecret string) (op.Client, error) {
	if clientSecret == "" {
		return nil, errors.New("oidcstore: the client_credentials grant needs the client's secret")
	}
	a, err := s.store.Clients.Authenticate(ctx, models.UUID(clientID), clientSecret)
	if err != nil {
		return nil, clientError(err)
	}
	remember(ctx, a)
	return &Client{row: a.Client(), loginURL: s.loginURL}, nil
}

// clientCredentialsRequest is the token request of the client_credentials
// grant: the client is its own subject and audience.
type clientCredentialsRequest struct {
	clientID string
	scopes   []string
}

func (r *clientCredentialsRequest) GetSubject() string    { return r.clientID }
func (r *clientCredentialsRequest) GetAudience() []string { return []string{r.clientID} }
func (r *clientCredentialsRequest) GetScopes() []string   { return r.scopes }

// ClientCredentialsTokenRequest returns the token request of a client
// authenticated by ClientCredentials (op.ClientCredentialsStorage); the
// scopes are checked against the client's when the token is issued.
func (s *Storage) ClientCredentialsTokenRequest(ctx context.Context, clientID string, scopes []string) (op.TokenRequest, error) {
	return &clientCredentialsRequest{clientID: clientID, scopes: slices.Clone(scopes)}, nil
}

// clientError is what op gets for a failed client lookup or
// authentication: a plain error (op answers invalid_client), or
// server_error for a database failure.
func clientError(err error) error {
	switch {
	case errors.Is(err, repositories.ErrInvalidCredentials), errors.Is(err, repositories.ErrNotFound),
		errors.Is(err, repositories.ErrInvalidInput):
		return errors.New("oidcstore: client authentication failed")
	}
	return oidc.ErrServerError().WithParent(err)
}
