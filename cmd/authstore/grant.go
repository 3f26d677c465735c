package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/forgeauth/authstore"
	"github.com/forgeauth/authstore/models"
	"github.com/forgeauth/authstore/repositories"
	"github.com/spf13/cobra"
)

// grantCommand builds `authstore grant` and its subcommands.
func (a *app) grantCommand() *cobra.Command {
	cmd := groupCommand(&cobra.Command{
		Use:   "grant",
		Short: "List or revoke the clients a user has authorized",
		Long: `grant shows and withdraws the access a user has given OAuth2 clients: a
client holds a grant of a user while it has a live (unrevoked, unexpired)
access or refresh token for that user.

Exit status: 0 on success; 1 when the command failed (no user or client with
that id, database unreachable, ...); 2 on bad usage (an id that is not a
UUID, a missing flag, revoke without --yes and no terminal to ask).`,
		Example: `  authstore grant list --user 7d0c8a4e-5f7b-4a0e-9a51-0b1f8f3c2d64
  authstore grant revoke --user 7d0c8a4e-5f7b-4a0e-9a51-0b1f8f3c2d64 --client 0b4c6a0e-3d0f-4a59-9c1e-2f8e3a7d5b21`,
	})
	cmd.AddCommand(a.grantListCommand(), a.grantRevokeCommand())
	return cmd
}

func (a *app) grantListCommand() *cobra.Command {
	var user string
	var out *output
	cmd := &cobra.Command{
		Use:   "list --user ID",
		Short: "List the clients a user has authorized, with their scopes and last use",
		Long: `list prints, for each client that holds a live grant of the user (an
unrevoked, unexpired access or refresh token), the client's id, the scopes
granted (the union over its live tokens), when the grant began, when a token
was last issued (each exchange or refresh issues one) and the client's name,
oldest grant first. Expired and revoked grants are not shown. It only reads:
a SQLite file is opened read-only.

An unknown user fails (exit 1). With -o json (or --json) it prints one JSON
object: {"user_id": ..., "grants": [{"client_id": ..., "client_name": ...,
"scopes": [...], "first_granted_at": ..., "last_used_at": ...}, ...]}.`,
		Example: `  authstore grant list --user 7d0c8a4e-5f7b-4a0e-9a51-0b1f8f3c2d64
  authstore grant list --user 7d0c8a4e-5f7b-4a0e-9a51-0b1f8f3c2d64 -o json | jq -r '.grants[].client_id'`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.withUserReadOnly(cmd, user, func(ctx context.Context, s *authstore.Store, uid models.UUID) error {
				grants, err := s.Grants.ListForUser(ctx, uid)
				if err != nil {
					return err
				}
				if out.JSON() {
					res := grantListJSON{UserID: uid, Grants: []grantJSON{}}
					for _, g := range grants {
						res.Grants = append(res.Grants, newGrantJSON(g))
					}
					return printJSON(a.stdout, res)
				}
				if len(grants) == 0 {
					fmt.Fprintf(a.stdout, "user %s has authorized no client\n", uid)
					return nil
				}
				rows := make([][]string, 0, len(grants))
				for _, g := range grants {
					rows = append(rows, []string{string(g.ClientID), scopeText(g.Scopes), formatTime(g.FirstGrantedAt), formatTime(g.LastUsedAt), g.ClientName})
				}
				return printTable(a.stdout, []string{"CLIENT", "SCOPES", "GRANTED", "LAST USED", "NAME"}, rows)
			})
		},
	}
	cmd.Flags().StringVar(&user, "user", "", "the user's id (required)")
	_ = cmd.MarkFlagRequired("user")
	a.completeUserFlag(cmd, "user")
	out = addOutput(cmd, "the grants")
	return cmd
}

func (a *app) grantRevokeCommand() *cobra.Command {
	var user, client string
	var yes bool
	var out *output
	cmd := &cobra.Command{
		Use:   "revoke --user ID --client ID [--yes]",
		Short: "Withdraw what a user granted a client: revoke its tokens and codes for that user",
		Long: `revoke revokes, in one transaction, every authorization code, refresh token
and access token the user holds for the client, and records it in the
activity log (grant.revoked). The client can no longer act for the user until
the user authorizes it again; the client itself, the user's grants to other
clients and other users' grants to this client are left alone (client revoke
revokes the client for everyone).

It asks for confirmation on a terminal; otherwise it needs --yes (without it
it exits with status 2 and changes nothing). An unknown user or client fails
(exit 1). Revoking a grant the user no longer holds succeeds and revokes
nothing. With -o json (or --json) it prints {"user_id": ..., "client_id":
..., "revoked": N}, N being the codes and tokens revoked.`,
		Example: `  authstore grant revoke --user 7d0c8a4e-5f7b-4a0e-9a51-0b1f8f3c2d64 --client 0b4c6a0e-3d0f-4a59-9c1e-2f8e3a7d5b21
  authstore grant revoke --user 7d0c8a4e-5f7b-4a0e-9a51-0b1f8f3c2d64 --client 0b4c6a0e-3d0f-4a59-9c1e-2f8e3a7d5b21 --yes`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			uid, err := uuidFlag("user", user)
			if err != nil {
				return err
			}
			cid, err := uuidFlag("client", client)
			if err != nil {
				return err
			}
			const why = "revoke ends the client's access to the user's account"
			if err := a.refuseWithoutYes(cmd, yes, why); err != nil {
				return err
			}
			return a.withStore(cmd.Context(), func(ctx context.Context, s *authstore.Store) error {
				if err := requireUser(ctx, s, uid); err != nil {
					return err
				}
				c, err := s.Clients.Find(ctx, cid)
				if err != nil {
					return clientError(cid, err)
				}
				question := fmt.Sprintf("Revoke every token and code of user %s for client %s (%s)?", uid, cid, oneLineText(c.Name))
				if err := a.confirm(cmd, yes, question, why); err != nil {
					return err
				}
				n, err := s.Grants.Revoke(ctx, uid, cid)
				if err != nil {
					return err
				}
				if out.JSON() {
					return printJSON(a.stdout, grantRevokedJSON{UserID: uid, ClientID: cid, Revoked: n})
				}
				if n == 0 {
					fmt.Fprintf(a.stdout, "user %s held no token or code for client %s; nothing to revoke\n", uid, cid)
					return nil
				}
				fmt.Fprintf(a.stdout, "revoked %d tokens and codes of user %s for client %s\n", n, uid, cid)
				return nil
			})
		},
	}
	cmd.Flags().StringVar(&user, "user", "", "the user's id (required)")
	cmd.Flags().StringVar(&client, "client", "", "the client's id (required)")
	cmd.Flags().BoolVar(&yes, "yes", false, "revoke without asking")
	_ = cmd.MarkFlagRequired("user")
	_ = cmd.MarkFlagRequired("client")
	a.completeUserFlag(cmd, "user")
	_ = cmd.RegisterFlagCompletionFunc("client", func(cmd *cobra.Command, _ []string, tc string) ([]string, cobra.ShellCompDirective) {
		return a.completeClientIDs(cmd, nil, tc)
	})
	out = addOutput(cmd, "the count of revoked tokens and codes")
	return cmd
}

// grantJSON is one grant as `grant list -o json` prints it.
type grantJSON struct {
	ClientID       models.UUID `json:"client_id"`
	ClientName     string      `json:"client_name"`
	Scopes         []string    `json:"scopes"`
	FirstGrantedAt time.Time   `json:"first_granted_at"`
	LastUsedAt     time.Time   `json:"last_used_at"`
}

func newGrantJSON(g repositories.Grant) grantJSON {
	scopes := []string(g.Scopes)
	if scopes == nil {
		scopes = []string{}
	}
	return grantJSON{
		ClientID:       g.ClientID,
		ClientName:     g.ClientName,
		Scopes:         scopes,
		FirstGrantedAt: g.FirstGrantedAt.UTC(),
		LastUsedAt:     g.LastUsedAt.UTC(),
	}
}

// grantListJSON is the output of `grant list -o json`.
type grantListJSON struct {
	UserID models.UUID `json:"user_id"`
	Grants []grantJSON `json:"grants"`
}

// grantRevokedJSON is the output of `grant revoke -o json`.
type grantRevokedJSON struct {
	UserID   models.UUID `json:"user_id"`
	ClientID models.UUID `json:"client_id"`
	Revoked  int64       `json:"revoked"`
}

// scopeText shows scopes in a table cell: space-separated, "-" for none.
func scopeText(scopes []string) string {
	if len(scopes) == 0 {
		return "-"
	}
	return strings.Join(scopes, " ")
}

// uuidFlag parses the id given to --name; one that is missing or not a
// UUID is bad usage.
func uuidFlag(name, value string) (models.UUID, error) {
	if value == "" {
		return "", usagef("--%s is required", name)
	}
	id, err := models.ParseUUID(value)
	if err != nil {
		return "", usagef("--%s %q is not a UUID", name, clip(value, 64))
	}
	return id, nil
}

// withUserReadOnly is what a command that lists a user's rows does first:
// it parses --user (bad usage unless it is a UUID), opens the Store
// read-only and fails, naming the id, unless the user exists; then it
// calls fn.
func (a *app) withUserReadOnly(cmd *cobra.Command, user string, fn func(context.Context, *authstore.Store, models.UUID) error) error {
	uid, err := uuidFlag("user", user)
	if err != nil {
		return err
	}
	return a.withExistingStore(cmd.Context(), func(ctx context.Context, s *authstore.Store) error {
		if err := requireUser(ctx, s, uid); err != nil {
			return err
		}
		return fn(ctx, s, uid)
	})
}

// requireUser fails, naming the id, unless the user exists.
func requireUser(ctx context.Context, s *authstore.Store, id models.UUID) error {
	_, err := s.Users.FindByID(ctx, id)
	if errors.Is(err, repositories.ErrNotFound) {
		return fmt.Errorf("no user with id %s", id)
	}
	return err
}

// refuseWithoutYes returns the bad-usage error of confirm before anything
// is opened when the command may not ask (no terminal) and --yes is
// missing; otherwise nil, and the command asks later, once it can name
// what it would change.
func (a *app) refuseWithoutYes(cmd *cobra.Command, yes bool, why string) error {
	if yes || isTerminal(cmd.InOrStdin()) {
		return nil
	}
	return a.confirm(cmd, false, "", why)
}

// completeUserFlag completes the user id given to flag from the database.
func (a *app) completeUserFlag(cmd *cobra.Command, flag string) {
	_ = cmd.RegisterFlagCompletionFunc(flag, func(cmd *cobra.Command, _ []string, tc string) ([]string, cobra.ShellCompDirective) {
		return a.completeUserIDs(cmd, nil, tc)
	})
}
