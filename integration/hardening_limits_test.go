package integration

// Issue 11, class 5: limits that contradict each other. The library
// accepts everything it issues: the largest access token its input limits
// allow (the longest issuer, the longest scope list, in the characters
// JSON escapes to six bytes) validates; and each limit on input is checked
// where the input enters, one over it refused with ErrInvalidInput naming
// the field, on every backend.

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/forgeauth/authstore"
	"github.com/forgeauth/authstore/config"
	"github.com/forgeauth/authstore/models"
	"github.com/forgeauth/authstore/protocol"
	"github.com/forgeauth/authstore/repositories"
	"github.com/stretchr/testify/require"
)

// maxScopeList returns n distinct scopes of '<' (which JSON writes as
// \u003c, six bytes) that joined by spaces are exactly
// protocol.MaxScopeListLength bytes, each at most protocol.MaxScopeLength.
func maxScopeList(t *testing.T) []string {
	t.Helper()
	var out []string
	left := protocol.MaxScopeListLength
	for i := 0; left > 0; i++ {
		n := min(protocol.MaxScopeLength, left)
		if len(out) > 0 {
			n = min(protocol.MaxScopeLength, left-1)
		}
		s := fmt.Sprintf("%c", 'a'+i) + strings.Repeat("<", n-1)
		out = append(out, s)
		left -= n + min(len(out)-1, 1)
	}
	require.Len(t, strings.Join(out, " "), protocol.MaxScopeListLength)
	return out
}

func TestHardeningLimits(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b Backend) {
		issuer := strings.Repeat("&", protocol.MaxIssuerLength) // JSON writes \u0026: six bytes each
		f := newFixture(t, b, withConfig(func(c *config.Config) { c.JWTIssuer = issuer }))
		ctx := context.Background()
		scopes := maxScopeList(t)

		t.Run("the largest token validates", func(t *testing.T) {
			c, secret, err := f.s.Clients.Create(ctx, repositories.ClientInput{
				Name: strings.Repeat("n", repositories.MaxNameLength), Confidential: true, Scopes: scopes,
				GrantTypes:   []string{protocol.GrantClientCredentials, protocol.GrantAuthorizationCode, protocol.GrantRefreshToken},
				RedirectURIs: []string{"https://app.example.com/" + strings.Repeat("a", protocol.MaxRedirectURILength-len("https://app.example.com/"))},
			})
			require.NoError(t, err)
			rememberSecret(c.ID, secret)
			u := f.user(t, "ada@example.com")
			for name, issue := range map[string]func() (string, error){
				"client credentials": func() (string, error) {
					_, tok, err := f.s.AccessTokens.IssueClientCredentials(ctx, authed(f.s, c.ID), scopes)
					return tok, err
				},
				"for a user": func() (string, error) {
					_, tok, err := f.s.AccessTokens.Issue(ctx, c.ID, &u.ID, scopes, nil)
					return tok, err
				},
			} {
				tok, err := issue()
				require.NoError(t, err, name)
				t.Logf("%s: the largest token is %d bytes; MaxJWTLength is %d", name, len(tok), protocol.MaxJWTLength)
				require.LessOrEqual(t, len(tok), protocol.MaxJWTLength)
				claims, err := f.s.AccessTokens.Validate(ctx, tok)
				require.NoError(t, err, "%s: Validate refused the token Issue made", name)
				require.Equal(t, scopes, claims.Scopes())
				require.Equal(t, issuer, claims.Issuer)
				in, err := f.s.Tokens.Inspect(ctx, tok)
				require.NoError(t, err, "%s: Inspect refused the token Issue made", name)
				require.True(t, in.Active, name)
			}
		})

		t.Run("at each limit accepted, one over refused naming the field", func(t *testing.T) {
			over := append(append([]string(nil), scopes...), "z") // 2 bytes more joined
			many := make([]string, protocol.MaxScopes+1)
			for i := range many {
				many[i] = fmt.Sprintf("s%d", i)
			}
			long := strings.Repeat("s", protocol.MaxScopeLength)
			https := func(n int) string {
				return "https://app.example.com/" + strings.Repeat("p", n-len("https://app.example.com/"))
			}
			uris := make([]string, protocol.MaxRedirectURIs+1)
			for i := range uris {
				uris[i] = fmt.Sprintf("https://app.example.com/cb%d", i)
			}
			client := func(mutate func(*repositories.ClientInput)) error {
				in := repositories.ClientInput{Name: "App", RedirectURIs: []string{redirectURI}}
				mutate(&in)
				_, _, err := f.s.Clients.Create(ctx, in)
				return err
			}
			name := strings.Repeat("ü", repositories.MaxNameLength) // characters, not bytes
			email := strings.Repeat("a", repositories.MaxEmailLength-len("@example.com")) + "@example.com"
			meta := func(n int) map[string]any { // n bytes once encoded
				return map[string]any{"v": strings.Repeat("m", n-len(`{"v":""}`))}
			}
			u := f.user(t, "grace@example.com")
			anyScope, _, err := f.s.Clients.Create(ctx, repositories.ClientInput{Name: "Any scope", RedirectURIs: []string{redirectURI}})
			require.NoError(t, err)
			pat := func(name string, scopes []string) error {
				_, _, err := f.s.PersonalTokens.Create(ctx, u.ID, name, scopes, nil)
				return err
			}
			user := func(name, email string) error {
				_, err := f.s.Users.Create(ctx, repositories.UserInput{Name: name, Email: email, Password: userPassword, PasswordConfirmation: userPassword})
				return err
			}
			cases := []struct {
				limit      string
				at, beyond func() error
				field      string
			}{
				{"scope count", func() error {
					return client(func(in *repositories.ClientInput) { in.Scopes = many[:protocol.MaxScopes] })
				},
					func() error { return client(func(in *repositories.ClientInput) { in.Scopes = many }) }, "scopes"},
				{"scope length", func() error { return client(func(in *repositories.ClientInput) { in.Scopes = []string{long} }) },
					func() error { return client(func(in *repositories.ClientInput) { in.Scopes = []string{long + "s"} }) }, "scope 0"},
				{"scope list length", func() error { return client(func(in *repositories.ClientInput) { in.Scopes = scopes }) },
					func() error { return client(func(in *repositories.ClientInput) { in.Scopes = over }) }, "scopes joined"},
				{"client name", func() error { return client(func(in *repositories.ClientInput) { in.Name = name }) },
					func() error { return client(func(in *repositories.ClientInput) { in.Name = name + "x" }) }, "client name"},
				{"redirect uri length", func() error {
					return client(func(in *repositories.ClientInput) { in.RedirectURIs = []string{https(protocol.MaxRedirectURILength)} })
				}, func() error {
					return client(func(in *repositories.ClientInput) {
						in.RedirectURIs = []string{https(protocol.MaxRedirectURILength + 1)}
					})
				}, "redirect uri"},
				{"redirect uri count", func() error {
					return client(func(in *repositories.ClientInput) { in.RedirectURIs = uris[:protocol.MaxRedirectURIs] })
				}, func() error { return client(func(in *repositories.ClientInput) { in.RedirectURIs = uris }) }, "redirect uris"},
				{"personal token name", func() error { return pat(name, nil) }, func() error { return pat(name+"x", nil) }, "token name"},
				{"personal token scopes", func() error { return pat("t", scopes) }, func() error { return pat("t", over) }, "scopes joined"},
				{"user name", func() error { return user(name, "n1@example.com") }, func() error { return user(name+"x", "n2@example.com") }, "name"},
				{"email", func() error { return user("E", email) }, func() error { return user("E", "a"+email) }, "email"},
				{"activity metadata", func() error {
					return f.s.Activity.Record(ctx, &u.ID, models.EventProfileUpdated, meta(repositories.MaxMetadataLength))
				},
					func() error {
						return f.s.Activity.Record(ctx, &u.ID, models.EventProfileUpdated, meta(repositories.MaxMetadataLength+1))
					}, "activity metadata"},
				{"token scopes", func() error {
					_, _, err := f.s.AccessTokens.Issue(ctx, anyScope.ID, &u.ID, scopes, nil)
					return err
				}, func() error {
					_, _, err := f.s.AccessTokens.Issue(ctx, anyScope.ID, &u.ID, over, nil)
					return err
				}, "scopes joined"},
			}
			for _, tc := range cases {
				require.NoError(t, tc.at(), "%s: at the limit", tc.limit)
				err := tc.beyond()
				requireRefused(t, tc.limit+", one over", err, repositories.ErrInvalidInput)
				require.Contains(t, err.Error(), tc.field, "%s: the error names the field", tc.limit)
			}
		})

		t.Run("the issuer", func(t *testing.T) {
			env := map[string]string{"JWT_ISSUER": issuer}
			_, err := config.LoadFrom(env)
			require.NoError(t, err, "an issuer of MaxIssuerLength bytes")
			for _, bad := range []string{issuer + "&", "auth\nstore"} {
				env["JWT_ISSUER"] = bad
				_, err := config.LoadFrom(env)
				require.ErrorIs(t, err, config.ErrInvalid)
				require.Contains(t, err.Error(), "JWT_ISSUER")
				require.Less(t, len(err.Error()), 300, "the error quotes the whole issuer")
				cfg := f.cfg
				cfg.JWTIssuer = bad
				_, err = authstore.New(f.s.DB(), authstore.WithConfig(cfg))
				require.ErrorIs(t, err, config.ErrInvalid, "New accepted JWT_ISSUER %.20q...", bad)
			}
		})
	})
}
