package integration

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"
	"golang.org/x/oauth2"
)

// The provider adapter (package oidcstore) driven by real clients through
// zitadel/oidc's op (oidc_provider_test.go builds the provider).

func TestOIDCAuthorizationCode(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b Backend) {
		p := newOIDCProvider(t, b)
		user := p.f.register(t, "ada@example.com", "correct horse battery staple")
		ctx := context.Background()

		t.Run("Confidential", func(t *testing.T) {
			c, secret := p.f.confidentialClient(t, nil)
			conf := p.oauthConfig(c, secret, redirectURI)
			a := p.authorize(t, conf, user.ID)
			tok, err := p.exchange(conf, a)
			require.NoError(t, err, "Exchange")
			require.NotEmpty(t, tok.RefreshToken, "offline_access with the refresh_token grant gives a refresh token")
			id := p.verifyIDToken(t, c.ID.String(), tok, a.nonce)
			require.Equal(t, user.ID.String(), id.Subject)
			var claims struct {
				Email         string `json:"email"`
				EmailVerified bool   `json:"email_verified"`
				Name          string `json:"name"`
			}
			require.NoError(t, id.Claims(&claims))
			require.Equal(t, "ada@example.com", claims.Email)
			info, err := p.discovery.UserInfo(ctx, oauth2.StaticTokenSource(tok))
			require.NoError(t, err, "UserInfo")
			require.Equal(t, user.ID.String(), info.Subject)
			require.Equal(t, "ada@example.com", info.Email)
		})
		t.Run("Public", func(t *testing.T) {
			c := p.f.publicClient(t)
			conf := p.oauthConfig(c, "", loopbackURI)
			a := p.authorize(t, conf, user.ID)
			tok, err := p.exchange(conf, a)
			require.NoError(t, err, "Exchange")
			p.verifyIDToken(t, c.ID.String(), tok, a.nonce)
		})
	})
}
