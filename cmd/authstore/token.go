package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/forgeauth/authstore"
	"github.com/forgeauth/authstore/models"
	"github.com/forgeauth/authstore/oidcstore"
	"github.com/forgeauth/authstore/protocol"
	"github.com/forgeauth/authstore/repositories"
	"github.com/spf13/cobra"
	"golang.org/x/term"
)

// tokenCommand builds `authstore token` and its subcommands.
func (a *app) tokenCommand() *cobra.Command {
	cmd := groupCommand(&cobra.Command{
		Use:   "token",
		Short: "Inspect a token, or revoke OAuth2 tokens by jti, user or client",
		Long: `token looks at and revokes the OAuth2 tokens of the oauth_access_tokens,
oauth_refresh_tokens and oauth_authorization_codes tables, as an operator:
no client authentication is needed. No command prints a token or its digest.

Exit status: 0 on success, an inactive token included; 1 when the command
failed (no user, client or access token with that id, no JWT_SECRET to check
an access token with, database unreachable, ...); 2 on bad usage, including
an id that is not a UUID, no token on standard input, and a missing --yes
with no terminal to ask on.`,
		Example: `  printf '%s\n' "$TOKEN" | authstore token introspect -
  authstore token revoke --jti 3c6e0b8a-9f1d-4b2e-8a7c-5d4f3e2b1a09
  authstore token revoke --user 6f1c2b9e-8a4d-4f7e-9b3a-2c5d7e9f1a3b --yes
  authstore token revoke --client 0b4c6a0e-3d0f-4a59-9c1e-2f8e3a7d5b21 --yes`,
	})
	cmd.AddCommand(a.tokenIntrospectCommand(), a.tokenRevokeCommand())
	return cmd
}

func (a *app) tokenIntrospectCommand() *cobra.Command {
	var out *output
	cmd := &cobra.Command{
		Use:   "introspect (TOKEN | -)",
		Short: "Say what a token is and whether it is active",
		Long: `introspect looks a token up as an operator, with no client authentication:
whether it is active, its type (an access token, which is a JWT; a refresh
token; a personal access token, asp_...), its id (an access token's jti),
subject (the user, or the client of a client-credentials token), client,
scopes, family (the grant a refresh token, or an access token issued with
one, belongs to), when it was issued and expires, and whether it is revoked
or, for a refresh token, used. It never prints the token, and it changes
nothing: it does not count as a use of a personal token.

The state says why a token is not active: expired, revoked, used (a rotated
refresh token) or unknown (not a token of this database: malformed, a bad
signature, or its row deleted). An expired access token says no more than
that: its claims are not read once it has expired. An access token is
checked with the database's signing keys (or JWT_SECRET, for one signed
with it). An access token of the OpenID provider ('authstore serve': typ
JWT, iss the provider's URL) is checked with the same keys and its row, and
a notice on standard error names its issuer.

Pass - to read the token from standard input (its first line; on a terminal
it is asked for without echo), so that it stays out of the shell history and
the process list. Whatever the answer, active or not, the exit status is 0:
test "active" in the output, e.g. with -o json and jq -e .active.

With -o json it prints one JSON object:
  {"active": true, "state": "active", "token_type": "access_token",
   "id": ..., "client_id": ..., "user_id": ..., "subject": ...,
   "subject_type": "user", "scopes": ["read"], "name": null,
   "family_id": ..., "revoked": false, "used_at": null,
   "last_used_at": null, "issued_at": ..., "expires_at": ...}
with null for what does not apply or is not known.`,
		Example: `  printf '%s\n' "$TOKEN" | authstore token introspect -
  authstore token introspect -      # asks for it on a terminal
  printf '%s\n' "$TOKEN" | authstore token introspect - -o json | jq -e .active`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) != 1 {
				return usagef("%s takes one argument, the token or - to read it from standard input, got %d", cmd.CommandPath(), len(args))
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			token := args[0]
			if token == "-" {
				var err error
				if token, err = a.readToken(cmd.InOrStdin()); err != nil {
					return err
				}
			}
			return a.withExistingStore(cmd.Context(), func(ctx context.Context, s *authstore.Store) error {
				in, err := s.Tokens.Inspect(ctx, token)
				if errors.Is(err, repositories.ErrNoSigningKey) {
					return errors.New("the database has no signing key and JWT_SECRET is not set: an access token cannot be checked without the key it was signed with")
				}
				if err != nil {
					return err
				}
				if in.State == repositories.TokenUnknown && in.TokenType == repositories.TokenTypeAccess {
					// Not one of the Store's own access tokens: perhaps
					// the OpenID provider's (authstore serve).
					pin, issuer, err := oidcstore.InspectAccessToken(ctx, s, token)
					if err != nil {
						return err
					}
					if issuer != "" {
						in = pin
						fmt.Fprintf(a.stderr, "an access token of the OpenID provider at %s\n", issuer)
					}
				}
				if out.JSON() {
					return printJSON(a.stdout, newInspectionJSON(in))
				}
				return a.printInspection(in)
			})
		},
	}
	out = addOutput(cmd, "the token's description")
	return cmd
}

// readToken reads a token: from a prompt with echo off when in is a
// terminal, otherwise the first line of in, without surrounding white
// space. No token is bad usage.
func (a *app) readToken(in io.Reader) (string, error) {
	if f, ok := in.(*os.File); ok && isTerminal(f) {
		fmt.Fprint(a.stderr, "Token: ")
		b, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(a.stderr)
		if err != nil {
			return "", fmt.Errorf("read token: %w", err)
		}
		if t := strings.TrimSpace(string(b)); t != "" {
			return t, nil
		}
		return "", usagef("no token given")
	}
	// The first line, read no further than the longest token allows.
	r := bufio.NewReader(io.LimitReader(in, protocol.MaxJWTLength+2))
	line, err := r.ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", fmt.Errorf("read token from standard input: %w", err)
	}
	if t := strings.TrimSpace(line); t != "" {
		return t, nil
	}
	return "", usagef("no token on standard input: pipe it in as the first line, or run in a terminal to be asked for it")
}

// tokenTypeLabel names a token type for the table output.
func tokenTypeLabel(typ string) string {
	switch typ {
	case repositories.TokenTypeAccess:
		return "access token (JWT)"
	case repositories.TokenTypeRefresh:
		return "refresh token"
	case repositories.TokenTypePersonal:
		return "personal access token"
	}
	return "-"
}

// printInspection prints in as "key: value" lines; for a token no row
// backs, only what is known.
func (a *app) printInspection(in repositories.Inspection) error {
	w := tabwriter.NewWriter(a.stdout, 0, 0, 2, ' ', 0)
	active := "no"
	if in.Active {
		active = "yes"
	}
	fmt.Fprintf(w, "active:\t%s\n", active)
	fmt.Fprintf(w, "state:\t%s\n", in.State)
	fmt.Fprintf(w, "type:\t%s\n", tokenTypeLabel(in.TokenType))
	if in.ID != "" {
		label := "id:"
		if in.TokenType == repositories.TokenTypeAccess {
			label = "jti:"
		}
		fmt.Fprintf(w, "%s\t%s\n", label, in.ID)
		if in.Subject != "" {
			fmt.Fprintf(w, "subject:\t%s %s\n", in.SubjectType, in.Subject)
		}
		fmt.Fprintf(w, "client:\t%s\n", dashIfEmpty(in.ClientID.String()))
		if in.Name != "" {
			fmt.Fprintf(w, "name:\t%s\n", oneLineText(in.Name))
		}
		scopes := strings.Join(in.Scopes, " ")
		if scopes == "" {
			scopes = "(none)"
		}
		fmt.Fprintf(w, "scopes:\t%s\n", scopes)
		if in.FamilyID != nil {
			fmt.Fprintf(w, "family:\t%s\n", *in.FamilyID)
		}
		revoked := "no"
		if in.Revoked {
			revoked = "yes"
		}
		fmt.Fprintf(w, "revoked:\t%s\n", revoked)
		if in.TokenType == repositories.TokenTypeRefresh {
			fmt.Fprintf(w, "used:\t%s\n", timeOr(in.UsedAt, "no"))
		}
		if in.TokenType == repositories.TokenTypePersonal {
			fmt.Fprintf(w, "last used:\t%s\n", timeOr(in.LastUsedAt, "never"))
		}
		fmt.Fprintf(w, "issued:\t%s\n", formatTime(in.IssuedAt))
		fmt.Fprintf(w, "expires:\t%s\n", timeOr(in.ExpiresAt, "never"))
	}
	return w.Flush()
}

// timeOr formats t, or returns none when it is nil.
func timeOr(t *time.Time, none string) string {
	if t == nil {
		return none
	}
	return formatTime(*t)
}

// inspectionJSON is the output of `token introspect -o json`: every key
// always present, null when it does not apply or is not known. It never
// holds the token or its digest.
type inspectionJSON struct {
	Active      bool         `json:"active"`
	State       string       `json:"state"`
	TokenType   *string      `json:"token_type"`
	ID          *models.UUID `json:"id"`
	ClientID    *models.UUID `json:"client_id"`
	UserID      *models.UUID `json:"user_id"`
	Subject     *string      `json:"subject"`
	SubjectType *string      `json:"subject_type"`
	Scopes      []string     `json:"scopes"`
	Name        *string      `json:"name"`
	FamilyID    *models.UUID `json:"family_id"`
	Revoked     bool         `json:"revoked"`
	UsedAt      *time.Time   `json:"used_at"`
	LastUsedAt  *time.Time   `json:"last_used_at"`
	IssuedAt    *time.Time   `json:"issued_at"`
	ExpiresAt   *time.Time   `json:"expires_at"`
}

func newInspectionJSON(in repositories.Inspection) inspectionJSON {
	str := func(s string) *string {
		if s == "" {
			return nil
		}
		return &s
	}
	id := func(u models.UUID) *models.UUID {
		if u == "" {
			return nil
		}
		return &u
	}
	utc := func(t *time.Time) *time.Time {
		if t == nil || t.IsZero() {
			return nil
		}
		v := t.UTC()
		return &v
	}
	out := inspectionJSON{
		Active:      in.Active,
		State:       in.State,
		TokenType:   str(in.TokenType),
		ID:          id(in.ID),
		ClientID:    id(in.ClientID),
		UserID:      in.UserID,
		Subject:     str(in.Subject),
		SubjectType: str(in.SubjectType),
		Scopes:      []string{},
		Name:        str(in.Name),
		FamilyID:    in.FamilyID,
		Revoked:     in.Revoked,
		UsedAt:      utc(in.UsedAt),
		LastUsedAt:  utc(in.LastUsedAt),
		IssuedAt:    utc(&in.IssuedAt),
		ExpiresAt:   utc(in.ExpiresAt),
	}
	if in.Scopes != nil {
		out.Scopes = in.Scopes
	}
	return out
}

func (a *app) tokenRevokeCommand() *cobra.Command {
	var jti, user, client string
	var yes bool
	var out *output
	cmd := &cobra.Command{
		Use:   "revoke (--jti ID | --user ID --yes | --client ID --yes)",
		Short: "Revoke an access token by jti, or every token of a user or a client",
		Long: `revoke revokes OAuth2 tokens at once: a revoked token is refused when
presented, and a revoked refresh token cannot be rotated. Give exactly one
of:

  --jti ID     the access token with that jti (the JWT's id; see token
               introspect). Only that access token: the refresh token of its
               grant, if any, keeps working.
  --user ID    every access token, refresh token and authorization code of
               the user, whichever client holds them. Personal access tokens
               and login sessions are not OAuth2 tokens: see 'authstore
               session revoke --user'.
  --client ID  every access token, refresh token and authorization code
               issued to the client. The client itself stays registered and
               can obtain new tokens; 'authstore client revoke ID' revokes
               the client too.

--user and --client ask for confirmation on a terminal and need --yes
otherwise. Each revocation is recorded in the activity log (event
token.revoked). Revoking what is already revoked changes nothing and
succeeds. It prints how many tokens and codes it revoked; with -o json, one
JSON object: {"revoked": N} with the jti, user_id or client_id it acted on.

An id that is not a UUID is bad usage (exit 2); no access token, user or
client with that id is a failure (exit 1).`,
		Example: `  authstore token revoke --jti 3c6e0b8a-9f1d-4b2e-8a7c-5d4f3e2b1a09
  authstore token revoke --user 6f1c2b9e-8a4d-4f7e-9b3a-2c5d7e9f1a3b --yes
  authstore token revoke --client 0b4c6a0e-3d0f-4a59-9c1e-2f8e3a7d5b21 --yes -o json`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var given []string
			for _, name := range []string{"jti", "user", "client"} {
				if cmd.Flags().Changed(name) {
					given = append(given, "--"+name)
				}
			}
			if len(given) != 1 {
				return usagef("give exactly one of --jti, --user or --client, got %d", len(given))
			}
			switch given[0] {
			case "--jti":
				id, err := uuidFlag("jti", jti)
				if err != nil {
					return err
				}
				return a.revokeJTI(cmd.Context(), out, id)
			case "--user":
				id, err := uuidFlag("user", user)
				if err != nil {
					return err
				}
				if err := a.confirm(cmd, yes, fmt.Sprintf("Revoke every OAuth2 token and code of user %s?", id),
					"token revoke --user signs the user out of every client"); err != nil {
					return err
				}
				return a.withStore(cmd.Context(), func(ctx context.Context, s *authstore.Store) error {
					if err := requireUser(ctx, s, id); err != nil {
						return err
					}
					n, err := s.RefreshTokens.RevokeForUser(ctx, id)
					if err != nil {
						return err
					}
					return a.printRevoked(out, tokensRevokedJSON{Revoked: n, UserID: &id}, "of user "+id.String())
				})
			default:
				id, err := uuidFlag("client", client)
				if err != nil {
					return err
				}
				if err := a.confirm(cmd, yes, fmt.Sprintf("Revoke every token and code issued to client %s?", id),
					"token revoke --client signs every user out of the client"); err != nil {
					return err
				}
				return a.withStore(cmd.Context(), func(ctx context.Context, s *authstore.Store) error {
					n, err := s.Tokens.RevokeForClient(ctx, id)
					if errors.Is(err, repositories.ErrNotFound) {
						return fmt.Errorf("no client with id %s (run 'authstore client list' to see the clients)", id)
					}
					if err != nil {
						return err
					}
					return a.printRevoked(out, tokensRevokedJSON{Revoked: n, ClientID: &id}, "issued to client "+id.String())
				})
			}
		},
	}
	cmd.Flags().StringVar(&jti, "jti", "", "revoke the access token with this jti")
	cmd.Flags().StringVar(&user, "user", "", "revoke every access token, refresh token and code of this user")
	cmd.Flags().StringVar(&client, "client", "", "revoke every access token, refresh token and code issued to this client")
	cmd.Flags().BoolVar(&yes, "yes", false, "do not ask for confirmation (with --user or --client)")
	a.completeUserFlag(cmd, "user")
	_ = cmd.RegisterFlagCompletionFunc("client", func(cmd *cobra.Command, _ []string, toComplete string) ([]string, cobra.ShellCompDirective) {
		return a.completeClientIDs(cmd, nil, toComplete)
	})
	out = addOutput(cmd, "the count of revoked tokens")
	return cmd
}

// revokeJTI revokes one access token, saying so when it was revoked
// already; an unknown jti is a failure.
func (a *app) revokeJTI(ctx context.Context, out *output, jti models.UUID) error {
	return a.withStore(ctx, func(ctx context.Context, s *authstore.Store) error {
		in, err := s.Tokens.InspectJTI(ctx, jti)
		if errors.Is(err, repositories.ErrNotFound) {
			return fmt.Errorf("no access token with jti %s", jti)
		}
		if err != nil {
			return err
		}
		res := tokensRevokedJSON{JTI: &jti}
		if !in.Revoked {
			if err := s.AccessTokens.Revoke(ctx, jti); err != nil {
				return err
			}
			res.Revoked = 1
		}
		if out.JSON() {
			return printJSON(a.stdout, res)
		}
		if res.Revoked == 0 {
			fmt.Fprintf(a.stdout, "access token %s was already revoked; nothing changed\n", jti)
			return nil
		}
		fmt.Fprintf(a.stdout, "revoked access token %s\n", jti)
		return nil
	})
}

// printRevoked prints the outcome of a revocation by user or client; whose
// ends the sentence ("of user ID").
func (a *app) printRevoked(out *output, res tokensRevokedJSON, whose string) error {
	if out.JSON() {
		return printJSON(a.stdout, res)
	}
	if res.Revoked == 0 {
		fmt.Fprintf(a.stdout, "no live tokens or codes %s; nothing changed\n", whose)
		return nil
	}
	fmt.Fprintf(a.stdout, "revoked %d %s %s\n", res.Revoked, pluralNoun(res.Revoked, "token or code", "tokens and codes"), whose)
	return nil
}

// tokensRevokedJSON is the output of `token revoke -o json`: how many
// tokens and codes were revoked, and the jti, user or client it acted on.
type tokensRevokedJSON struct {
	Revoked  int64        `json:"revoked"`
	JTI      *models.UUID `json:"jti,omitempty"`
	UserID   *models.UUID `json:"user_id,omitempty"`
	ClientID *models.UUID `json:"client_id,omitempty"`
}
