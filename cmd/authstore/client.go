package main

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/forgeauth/authstore"
	"github.com/forgeauth/authstore/models"
	"github.com/forgeauth/authstore/oidcstore"
	"github.com/forgeauth/authstore/protocol"
	"github.com/forgeauth/authstore/repositories"
	"github.com/spf13/cobra"
	"github.com/zitadel/oidc/v3/pkg/op"
)

// secretWarning follows every client secret the CLI prints.
const secretWarning = "This secret will not be shown again: store it now. " +
	"Only its hash is kept; 'authstore client rotate-secret ID' replaces it."

// clientCommand builds `authstore client` and its subcommands.
func (a *app) clientCommand() *cobra.Command {
	cmd := groupCommand(&cobra.Command{
		Use:   "client",
		Short: "Register, list, show, update, rotate the secret of, revoke or delete OAuth2 clients",
		Long: `client manages the OAuth2 clients of the oauth_clients table.

A confidential client gets a generated secret, printed once by create and by
rotate-secret; only its Argon2id hash is stored, and no command prints it.
A public client (--public: native and browser apps) has no secret and must
use PKCE. A service that calls APIs on its own behalf is a confidential
client with only the client_credentials grant, and needs no redirect URI.

Exit status: 0 on success; 1 when the command failed (no client with that
id, a revoked client, database unreachable, input the database layer
refused, ...); 2 on bad usage, including input this command checks before
opening the database: an ID that is not a UUID, or a --redirect-uri that is
not a valid redirect URI (absolute, no fragment, no user information, ...).`,
		Example: `  authstore client create --name "Web app" --redirect-uri https://app.example.com/callback
  authstore client create --name "Billing service" --grant-type client_credentials --scope invoices:read
  authstore client list
  authstore client show 0b4c6a0e-3d0f-4a59-9c1e-2f8e3a7d5b21
  authstore client update 0b4c6a0e-3d0f-4a59-9c1e-2f8e3a7d5b21 --name "Web app (EU)"
  authstore client rotate-secret 0b4c6a0e-3d0f-4a59-9c1e-2f8e3a7d5b21
  authstore client revoke 0b4c6a0e-3d0f-4a59-9c1e-2f8e3a7d5b21
  authstore client delete 0b4c6a0e-3d0f-4a59-9c1e-2f8e3a7d5b21 --yes`,
	})
	cmd.AddCommand(
		a.clientCreateCommand(),
		a.clientListCommand(),
		a.clientShowCommand(),
		a.clientUpdateCommand(),
		a.clientRotateSecretCommand(),
		a.clientRevokeCommand(),
		a.clientDeleteCommand(),
	)
	return cmd
}

func (a *app) clientCreateCommand() *cobra.Command {
	var (
		name       string
		uris       []string
		grantTypes []string
		public     bool
		scopes     string
		scopeList  []string
		issuer     string
		asJSON     *output
		provider   providerFlags
	)
	cmd := &cobra.Command{
		Use:   "create --name NAME [--redirect-uri URI ...] [--grant-type GRANT ...] [--public] [--scope S ...]",
		Short: "Register a client and print its secret once",
		Long: `create registers an OAuth2 client and prints its id and, for a confidential
client (the default), its generated secret. The secret is shown this once:
only its hash is stored. --public registers a public client, which has no
secret (native and browser apps, which must use PKCE).

--grant-type, repeatable, names the grants the client may use:
authorization_code, refresh_token and client_credentials. Without it the
client gets authorization_code and refresh_token. A public client cannot
have client_credentials: it has no secret to authenticate with.

--redirect-uri, repeatable, is required when the client has the
authorization_code grant (the default) and optional otherwise: a service
client with only --grant-type client_credentials needs none. Each must be an
absolute URI without a fragment or user information (RFC 9700); it is
checked before the database is opened, and a bad one exits with status 2 and
a message that names the problem.

--post-logout-redirect-uri, --audience, --token-endpoint-auth-method,
--access-token-type, --response-type and --id-token-lifetime set what an
OpenID provider (package oidcstore) reads of the client; each has a
default.

--scope, repeatable, limits the scopes the client may be granted; --scopes
takes the same as one list separated by spaces or commas, and both may be
given. Without either the client may ask for any scope.

For a client with the authorization_code grant it then prints an authorize
URL of 'authstore serve' (at --issuer, default http://127.0.0.1:8080) for the
first redirect URI, with a fresh state and PKCE challenge, and the PKCE
verifier that the token request needs: open it in a browser to log in.

With -o json (or --json) it prints one JSON object: the client, for a
confidential client the secret under "client_secret" with a "warning", and
for a client with the authorization_code grant "authorize_url" and
"code_verifier".`,
		Example: `  authstore client create --name "Web app" --redirect-uri https://app.example.com/callback
  authstore client create --name "CLI" --public --redirect-uri http://127.0.0.1/callback --scope read --scope write
  authstore client create --name "Billing service" --grant-type client_credentials --scope invoices:read
  authstore client create --name "Web app" --redirect-uri https://app.example.com/cb -o json | jq -r .client_secret
  authstore client create --name "Web app" --redirect-uri https://app.example.com/cb --post-logout-redirect-uri https://app.example.com/ --audience https://api.example.com`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if strings.TrimSpace(name) == "" {
				return usagef("--name must not be empty")
			}
			if err := checkIssuerFlag(issuer); err != nil {
				return err
			}
			grants, err := clientGrantTypes(grantTypes, public)
			if err != nil {
				return err
			}
			if slices.Contains(grants, protocol.GrantAuthorizationCode) && len(uris) == 0 {
				return usagef(`required flag "redirect-uri" not set: the authorization_code grant (a default) needs at least one; ` +
					"a client with only --grant-type client_credentials needs none")
			}
			for _, u := range uris {
				if err := protocol.ValidateRedirectURI(u); err != nil {
					return usagef("--redirect-uri: %w", err)
				}
			}
			in := repositories.ClientInput{
				Name:         name,
				RedirectURIs: uris,
				Confidential: !public,
				GrantTypes:   grants,
				Scopes:       append(strings.FieldsFunc(scopes, func(r rune) bool { return r == ',' || r == ' ' }), scopeList...),

				ProviderMetadata: provider.metadata(),
			}
			return a.withStore(cmd.Context(), func(ctx context.Context, s *authstore.Store) error {
				c, secret, err := s.Clients.Create(ctx, in)
				if err != nil {
					return err
				}
				if asJSON.JSON() {
					out := clientCreatedJSON{clientJSON: newClientJSON(c)}
					if secret != "" {
						out.ClientSecret, out.Warning = secret, secretWarning
					}
					if out.AuthorizeURL, out.CodeVerifier, err = authorizeURL(c, issuer); err != nil {
						return err
					}
					return printJSON(a.stdout, out)
				}
				fmt.Fprintf(a.stdout, "created %s client %s\n", clientType(c), c.ID)
				if err := a.printClient(c); err != nil {
					return err
				}
				if secret != "" {
					fmt.Fprintf(a.stdout, "\nclient secret: %s\n%s\n", secret, secretWarning)
				}
				return a.printAuthorizeURL(c, issuer)
			})
		},
	}
	cmd.Flags().StringVar(&issuer, "issuer", defaultIssuer, "the `URL` of authstore serve, for the authorize URL printed")
	cmd.Flags().StringVar(&name, "name", "", "name shown to users on the consent screen (required)")
	cmd.Flags().StringArrayVar(&uris, "redirect-uri", nil, "redirect URI (required for authorization_code; repeat for more)")
	cmd.Flags().StringArrayVar(&grantTypes, "grant-type", nil,
		"grant the client may use: authorization_code, refresh_token or client_credentials (repeat for more; default authorization_code and refresh_token)")
	cmd.Flags().BoolVar(&public, "public", false, "register a public client, without a secret (PKCE required)")
	cmd.Flags().StringArrayVar(&scopeList, "scope", nil, "a scope the client may be granted (repeat for more; default: any)")
	cmd.Flags().StringVar(&scopes, "scopes", "", `scopes the client may be granted, separated by spaces or commas (default: any)`)
	provider.flags(cmd)
	asJSON = addOutput(cmd, "the client and its secret")
	_ = cmd.MarkFlagRequired("name")
	return cmd
}

// clientGrantTypes checks the --grant-type values (bad usage for one the
// CLI does not offer, or client_credentials for a public client) and
// returns them without repeats, or the default grants when there are none.
func clientGrantTypes(given []string, public bool) ([]string, error) {
	offered := []string{protocol.GrantAuthorizationCode, protocol.GrantRefreshToken, protocol.GrantClientCredentials}
	if len(given) == 0 {
		return []string{protocol.GrantAuthorizationCode, protocol.GrantRefreshToken}, nil
	}
	var out []string
	for _, g := range given {
		if !slices.Contains(offered, g) {
			return nil, usagef("--grant-type %q: want one of %s", clip(g, 64), strings.Join(offered, ", "))
		}
		if !slices.Contains(out, g) {
			out = append(out, g)
		}
	}
	if public && slices.Contains(out, protocol.GrantClientCredentials) {
		return nil, usagef("a public client cannot use the client_credentials grant (it has no secret to authenticate with): drop --public or that grant")
	}
	return out, nil
}

func (a *app) clientListCommand() *cobra.Command {
	var asJSON *output
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List every client, oldest first",
		Long: `list prints every client, oldest first: its id, type (confidential,
public or personal-access), status (active or revoked), creation time and
name. No secret or hash is ever printed.

With --json it prints one JSON object: {"clients": [{"id": ..., "name": ...,
"redirect_uris": [...], "grant_types": [...], "scopes": [...],
"confidential": true, "personal_access_client": false, "revoked": false,
"created_at": ..., "updated_at": ...}, ...]}.`,
		Example: `  authstore client list
  authstore client list --json | jq -r '.clients[] | select(.revoked | not) | .id'`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.withExistingStore(cmd.Context(), func(ctx context.Context, s *authstore.Store) error {
				const page = 1000
				repo := s.Clients
				var all []models.Client
				for {
					cs, err := repo.List(ctx, page, len(all))
					if err != nil {
						return err
					}
					all = append(all, cs...)
					if len(cs) < page {
						break
					}
				}
				if asJSON.JSON() {
					out := clientListJSON{Clients: []clientJSON{}}
					for i := range all {
						out.Clients = append(out.Clients, newClientJSON(&all[i]))
					}
					return printJSON(a.stdout, out)
				}
				if len(all) == 0 {
					fmt.Fprintln(a.stdout, "no clients")
					return nil
				}
				w := tabwriter.NewWriter(a.stdout, 0, 0, 2, ' ', 0)
				fmt.Fprintln(w, "ID\tTYPE\tSTATUS\tCREATED\tNAME")
				for _, c := range all {
					fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\n", c.ID, clientType(&c), clientStatus(&c), formatTime(c.CreatedAt), oneLineText(c.Name))
				}
				return w.Flush()
			})
		},
	}
	asJSON = addOutput(cmd, "the clients")
	return cmd
}

func (a *app) clientShowCommand() *cobra.Command {
	var asJSON *output
	cmd := &cobra.Command{
		Use:   "show ID",
		Short: "Show one client",
		Long: `show prints a client: id, name, type, status, owner, redirect URIs, grant
types, scopes, what the OpenID provider (authstore serve) reads of it
(response types, token endpoint auth method, access-token type, post-logout
redirect URIs, audiences, ID token lifetime; the provider's default where
none was registered) and timestamps. It never prints the secret or its hash.

An ID that is not a UUID is bad usage (exit 2); no client with that id is a
failure (exit 1). With --json it prints the client as one JSON object, as
in client list --json.`,
		Example: `  authstore client show 0b4c6a0e-3d0f-4a59-9c1e-2f8e3a7d5b21
  authstore client show 0b4c6a0e-3d0f-4a59-9c1e-2f8e3a7d5b21 --json`,
		Args: clientIDArg,
		RunE: func(cmd *cobra.Command, args []string) error {
			id := clientID(args)
			return a.withExistingStore(cmd.Context(), func(ctx context.Context, s *authstore.Store) error {
				c, err := s.Clients.Find(ctx, id)
				if err != nil {
					return clientError(id, err)
				}
				if asJSON.JSON() {
					return printJSON(a.stdout, newClientJSON(c))
				}
				return a.printClient(c)
			})
		},
	}
	asJSON = addOutput(cmd, "the client")
	return cmd
}

func (a *app) clientUpdateCommand() *cobra.Command {
	var (
		name   string
		uris   []string
		asJSON *output
	)
	cmd := &cobra.Command{
		Use:   "update ID [--name NAME] [--redirect-uri URI ...]",
		Short: "Rename a client or replace its redirect URIs",
		Long: `update changes a client's name (--name), its redirect URIs (--redirect-uri,
repeatable: the URIs given replace every current one), or both, and prints
the updated client. What is not given stays as it is; giving neither is bad
usage (exit 2), as are an ID that is not a UUID and a --redirect-uri that is
not a valid redirect URI, checked before the database is opened.

An unknown id and a revoked client fail (exit 1). The grant types, scopes
and secret do not change (rotate-secret replaces the secret). With -o json
(or --json) it prints the client as one JSON object, as client show does.`,
		Example: `  authstore client update 0b4c6a0e-3d0f-4a59-9c1e-2f8e3a7d5b21 --name "Web app (EU)"
  authstore client update 0b4c6a0e-3d0f-4a59-9c1e-2f8e3a7d5b21 \
      --redirect-uri https://eu.app.example.com/callback --redirect-uri https://app.example.com/callback`,
		Args: clientIDArg,
		RunE: func(cmd *cobra.Command, args []string) error {
			id := clientID(args)
			setName, setURIs := cmd.Flags().Changed("name"), cmd.Flags().Changed("redirect-uri")
			if !setName && !setURIs {
				return usagef("nothing to update: give --name, --redirect-uri or both")
			}
			if setName && strings.TrimSpace(name) == "" {
				return usagef("--name must not be empty")
			}
			for _, u := range uris {
				if err := protocol.ValidateRedirectURI(u); err != nil {
					return usagef("--redirect-uri: %w", err)
				}
			}
			return a.withStore(cmd.Context(), func(ctx context.Context, s *authstore.Store) error {
				c, err := s.Clients.Find(ctx, id)
				if err != nil {
					return clientError(id, err)
				}
				newName, newURIs := c.Name, []string(c.RedirectURIs)
				if setName {
					newName = name
				}
				if setURIs {
					newURIs = uris
				}
				c, err = s.Clients.Update(ctx, id, newName, newURIs)
				if err != nil {
					return clientError(id, err)
				}
				if asJSON.JSON() {
					return printJSON(a.stdout, newClientJSON(c))
				}
				fmt.Fprintf(a.stdout, "updated client %s\n", id)
				return a.printClient(c)
			})
		},
	}
	cmd.Flags().StringVar(&name, "name", "", "the client's new name")
	cmd.Flags().StringArrayVar(&uris, "redirect-uri", nil, "a redirect URI; those given replace every current one (repeat for more)")
	asJSON = addOutput(cmd, "the updated client")
	return cmd
}

func (a *app) clientRotateSecretCommand() *cobra.Command {
	var asJSON *output
	cmd := &cobra.Command{
		Use:   "rotate-secret ID",
		Short: "Give a confidential client a new secret and print it once",
		Long: `rotate-secret generates a new secret for a confidential client, stores its
hash and prints it once. The old secret stops working at once. A public
client has no secret, and a revoked client cannot get one: both fail
(exit 1), as does an unknown id.

With --json it prints one JSON object: {"client_id": ..., "client_secret":
..., "warning": ...}.`,
		Example: `  authstore client rotate-secret 0b4c6a0e-3d0f-4a59-9c1e-2f8e3a7d5b21
  authstore client rotate-secret 0b4c6a0e-3d0f-4a59-9c1e-2f8e3a7d5b21 --json | jq -r .client_secret`,
		Args: clientIDArg,
		RunE: func(cmd *cobra.Command, args []string) error {
			id := clientID(args)
			return a.withStore(cmd.Context(), func(ctx context.Context, s *authstore.Store) error {
				secret, err := s.Clients.RotateSecret(ctx, id)
				if err != nil {
					return clientError(id, err)
				}
				if asJSON.JSON() {
					return printJSON(a.stdout, struct {
						ClientID     models.UUID `json:"client_id"`
						ClientSecret string      `json:"client_secret"`
						Warning      string      `json:"warning"`
					}{id, secret, secretWarning})
				}
				fmt.Fprintf(a.stdout, "rotated the secret of client %s; the old secret no longer works\n", id)
				fmt.Fprintf(a.stdout, "client secret: %s\n%s\n", secret, secretWarning)
				return nil
			})
		},
	}
	asJSON = addOutput(cmd, "the new secret")
	return cmd
}

func (a *app) clientRevokeCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "revoke ID",
		Short: "Revoke a client and every token and code issued to it",
		Long: `revoke marks a client revoked and, in the same transaction, revokes every
access token, refresh token and authorization code issued to it. The client
can no longer authenticate or obtain tokens. Revoking a revoked client does
nothing and succeeds; an unknown id fails (exit 1).`,
		Example: `  authstore client revoke 0b4c6a0e-3d0f-4a59-9c1e-2f8e3a7d5b21`,
		Args:    clientIDArg,
		RunE: func(cmd *cobra.Command, args []string) error {
			id := clientID(args)
			return a.withStore(cmd.Context(), func(ctx context.Context, s *authstore.Store) error {
				repo := s.Clients
				c, err := repo.Find(ctx, id)
				if err != nil {
					return clientError(id, err)
				}
				if c.Revoked {
					fmt.Fprintf(a.stdout, "client %s was already revoked\n", id)
					return nil
				}
				if err := repo.Revoke(ctx, id); err != nil {
					return clientError(id, err)
				}
				fmt.Fprintf(a.stdout, "revoked client %s and its tokens and codes\n", id)
				return nil
			})
		},
	}
}

func (a *app) clientDeleteCommand() *cobra.Command {
	var yes bool
	cmd := &cobra.Command{
		Use:   "delete ID [--yes]",
		Short: "Delete a client and every token and code issued to it",
		Long: `delete removes a client from the database, and with it (by the foreign keys)
every access token, refresh token and authorization code issued to it. The
deletion is recorded in the activity log (client.deleted). Unlike revoke,
which keeps the row and its history, nothing of the client remains: use it
for clients registered by mistake or left by a demo.

It asks for confirmation on a terminal; otherwise it needs --yes (without it
it exits with status 2 and changes nothing). An unknown id fails (exit 1).`,
		Example: `  authstore client delete 0b4c6a0e-3d0f-4a59-9c1e-2f8e3a7d5b21
  authstore client delete 0b4c6a0e-3d0f-4a59-9c1e-2f8e3a7d5b21 --yes`,
		Args: clientIDArg,
		RunE: func(cmd *cobra.Command, args []string) error {
			id := clientID(args)
			const why = "delete removes the client and every token and code issued to it"
			if err := a.refuseWithoutYes(cmd, yes, why); err != nil {
				return err
			}
			return a.withStore(cmd.Context(), func(ctx context.Context, s *authstore.Store) error {
				c, err := s.Clients.Find(ctx, id)
				if err != nil {
					return clientError(id, err)
				}
				question := fmt.Sprintf("Delete client %s (%s) and every token and code issued to it?", id, oneLineText(c.Name))
				if err := a.confirm(cmd, yes, question, why); err != nil {
					return err
				}
				if err := s.Clients.Delete(ctx, id); err != nil {
					return clientError(id, err)
				}
				fmt.Fprintf(a.stdout, "deleted client %s (%s) and its tokens and codes\n", id, oneLineText(c.Name))
				return nil
			})
		},
	}
	cmd.Flags().BoolVar(&yes, "yes", false, "delete without asking")
	return cmd
}

// clientIDArg accepts exactly one argument, a client id in UUID form.
func clientIDArg(cmd *cobra.Command, args []string) error { return uuidArg("client ID")(cmd, args) }

// uuidArg accepts one argument, a UUID that what names ("client ID").
func uuidArg(what string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) != 1 {
			return usagef("%s takes one argument, the %s, got %d", cmd.CommandPath(), what, len(args))
		}
		if _, err := models.ParseUUID(args[0]); err != nil {
			return usagef("%s %q is not a UUID", what, clip(args[0], 64))
		}
		return nil
	}
}

// clientID returns the client id argument that clientIDArg accepted, in
// canonical form.
func clientID(args []string) models.UUID {
	id, _ := models.ParseUUID(args[0])
	return id
}

// clientError rewords the errors that name the client.
func clientError(id models.UUID, err error) error {
	switch {
	case errors.Is(err, repositories.ErrNotFound):
		return fmt.Errorf("no client with id %s", id)
	case errors.Is(err, repositories.ErrRevoked):
		return fmt.Errorf("client %s is revoked", id)
	}
	return err
}

// clientJSON is a client as the CLI prints it: never its secret or hash.
type clientJSON struct {
	ID                   models.UUID  `json:"id"`
	UserID               *models.UUID `json:"user_id"`
	Name                 string       `json:"name"`
	RedirectURIs         []string     `json:"redirect_uris"`
	GrantTypes           []string     `json:"grant_types"`
	Scopes               []string     `json:"scopes"`
	Confidential         bool         `json:"confidential"`
	PersonalAccessClient bool         `json:"personal_access_client"`
	Revoked              bool         `json:"revoked"`
	// The OpenID provider's metadata, as the provider reads it (the
	// defaults of unset columns applied).
	ResponseTypes           []string  `json:"response_types"`
	TokenEndpointAuthMethod string    `json:"token_endpoint_auth_method"`
	AccessTokenType         string    `json:"access_token_type"`
	PostLogoutRedirectURIs  []string  `json:"post_logout_redirect_uris"`
	Audiences               []string  `json:"audiences"`
	IDTokenLifetimeSeconds  int64     `json:"id_token_lifetime_seconds"`
	CreatedAt               time.Time `json:"created_at"`
	UpdatedAt               time.Time `json:"updated_at"`
}

func newClientJSON(c *models.Client) clientJSON {
	orEmpty := func(s []string) []string {
		if s == nil {
			return []string{}
		}
		return s
	}
	m := newProviderView(c)
	return clientJSON{
		ID:                      c.ID,
		UserID:                  c.UserID,
		Name:                    c.Name,
		RedirectURIs:            orEmpty(c.RedirectURIs),
		GrantTypes:              orEmpty(c.GrantTypes),
		Scopes:                  orEmpty(c.Scopes),
		Confidential:            c.Confidential,
		PersonalAccessClient:    c.PersonalAccessClient,
		Revoked:                 c.Revoked,
		ResponseTypes:           m.responseTypes,
		TokenEndpointAuthMethod: m.authMethod,
		AccessTokenType:         m.accessTokenType,
		PostLogoutRedirectURIs:  orEmpty(c.PostLogoutRedirectURIs),
		Audiences:               orEmpty(c.Audiences),
		IDTokenLifetimeSeconds:  int64(m.idTokenLifetime / time.Second),
		CreatedAt:               c.CreatedAt.UTC(),
		UpdatedAt:               c.UpdatedAt.UTC(),
	}
}

// clientCreatedJSON is the output of `client create --json`.
type clientCreatedJSON struct {
	clientJSON
	ClientSecret string `json:"client_secret,omitempty"`
	Warning      string `json:"warning,omitempty"`
	// AuthorizeURL and CodeVerifier are what the table output prints for
	// a client with the authorization_code grant: a URL of authstore serve
	// to log in with, and the PKCE verifier its token request takes.
	AuthorizeURL string `json:"authorize_url,omitempty"`
	CodeVerifier string `json:"code_verifier,omitempty"`
}

// clientListJSON is the output of `client list --json`.
type clientListJSON struct {
	Clients []clientJSON `json:"clients"`
}

// printClient prints c as "key: value" lines, without its secret or hash.
func (a *app) printClient(c *models.Client) error {
	w := tabwriter.NewWriter(a.stdout, 0, 0, 2, ' ', 0)
	owner := "-"
	if c.UserID != nil {
		owner = c.UserID.String()
	}
	scopes := strings.Join(c.Scopes, " ")
	if scopes == "" {
		scopes = "(any)"
	}
	fmt.Fprintf(w, "id:\t%s\n", c.ID)
	fmt.Fprintf(w, "name:\t%s\n", oneLineText(c.Name))
	fmt.Fprintf(w, "type:\t%s\n", clientType(c))
	fmt.Fprintf(w, "status:\t%s\n", clientStatus(c))
	fmt.Fprintf(w, "owner:\t%s\n", owner)
	for i, u := range c.RedirectURIs {
		label := ""
		if i == 0 {
			label = "redirect uris:"
		}
		fmt.Fprintf(w, "%s\t%s\n", label, u)
	}
	fmt.Fprintf(w, "grant types:\t%s\n", strings.Join(c.GrantTypes, " "))
	fmt.Fprintf(w, "scopes:\t%s\n", scopes)
	m := newProviderView(c)
	fmt.Fprintf(w, "response types:\t%s\n", strings.Join(m.responseTypes, " "))
	fmt.Fprintf(w, "token endpoint auth method:\t%s\n", m.authMethod)
	fmt.Fprintf(w, "access token type:\t%s\n", m.accessTokenType)
	list := func(label string, values []string) {
		if len(values) == 0 {
			fmt.Fprintf(w, "%s\t-\n", label)
		}
		for i, v := range values {
			if i > 0 {
				label = ""
			}
			fmt.Fprintf(w, "%s\t%s\n", label, oneLineText(v))
		}
	}
	list("post-logout redirect uris:", c.PostLogoutRedirectURIs)
	list("audiences:", c.Audiences)
	fmt.Fprintf(w, "id token lifetime:\t%s\n", m.idTokenLifetime)
	fmt.Fprintf(w, "created:\t%s\n", formatTime(c.CreatedAt))
	fmt.Fprintf(w, "updated:\t%s\n", formatTime(c.UpdatedAt))
	return w.Flush()
}

// providerView is what the OpenID provider (oidcstore.Client) reads of a
// client's metadata, the defaults of unset columns applied.
type providerView struct {
	responseTypes   []string
	authMethod      string
	accessTokenType string
	idTokenLifetime time.Duration
}

func newProviderView(c *models.Client) providerView {
	oc := oidcstore.NewClient(*c)
	v := providerView{authMethod: string(oc.AuthMethod()), accessTokenType: models.AccessTokenJWT, idTokenLifetime: oc.IDTokenLifetime()}
	for _, t := range oc.ResponseTypes() {
		v.responseTypes = append(v.responseTypes, string(t))
	}
	if oc.AccessTokenType() == op.AccessTokenTypeBearer {
		v.accessTokenType = models.AccessTokenOpaque
	}
	return v
}

func clientType(c *models.Client) string {
	switch {
	case c.PersonalAccessClient:
		return "personal-access"
	case c.Confidential:
		return "confidential"
	}
	return "public"
}

func clientStatus(c *models.Client) string {
	if c.Revoked {
		return "revoked"
	}
	return "active"
}

// formatTime formats t in UTC to the second.
func formatTime(t time.Time) string {
	return t.UTC().Format(time.RFC3339)
}

// clip shortens s for an error message.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}

// providerFlags are the flags of `client create` for what an OpenID
// provider (`authstore serve`, package oidcstore) reads of a client.
type providerFlags struct {
	responseTypes   []string
	authMethod      string
	accessTokenType string
	postLogoutURIs  []string
	audiences       []string
	idTokenLifetime time.Duration
}

// metadata returns the flags' values.
func (p *providerFlags) metadata() repositories.ProviderMetadata {
	return repositories.ProviderMetadata{ResponseTypes: p.responseTypes, TokenEndpointAuthMethod: p.authMethod,
		AccessTokenType: p.accessTokenType, PostLogoutRedirectURIs: p.postLogoutURIs, Audiences: p.audiences,
		IDTokenLifetime: p.idTokenLifetime}
}

// flags registers the provider's flags on cmd.
func (p *providerFlags) flags(cmd *cobra.Command) {
	cmd.Flags().StringArrayVar(&p.responseTypes, "response-type", nil, "OpenID provider: a response type the client may ask for (only code; default code)")
	cmd.Flags().StringVar(&p.authMethod, "token-endpoint-auth-method", "",
		"OpenID provider: client_secret_basic (default) or client_secret_post for a confidential client; none for a public one")
	cmd.Flags().StringVar(&p.accessTokenType, "access-token-type", "", "OpenID provider: jwt (default) or opaque access tokens")
	cmd.Flags().StringArrayVar(&p.postLogoutURIs, "post-logout-redirect-uri", nil,
		"OpenID provider: where end session may send the browser back to (repeat for more)")
	cmd.Flags().StringArrayVar(&p.audiences, "audience", nil, "OpenID provider: a further audience of the client's access tokens (repeat for more)")
	cmd.Flags().DurationVar(&p.idTokenLifetime, "id-token-lifetime", 0, "OpenID provider: the ID token's lifetime, e.g. 15m (default 1h)")
}
