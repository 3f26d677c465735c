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

// patCommand builds `authstore pat` and its subcommands.
func (a *app) patCommand() *cobra.Command {
	cmd := groupCommand(&cobra.Command{
		Use:   "pat",
		Short: "Create, list or revoke users' personal access tokens",
		Long: `pat manages personal access tokens (table oauth_personal_access_tokens):
long-lived tokens a user makes for scripts. A token starts with "` + repositories.PersonalTokenPrefix + `"; it is
printed once, by create, and only its SHA-256 digest is stored. list shows
its first characters (the prefix) so it can be recognised, never the token.

Exit status: 0 on success; 1 when the command failed (no user or token with
that id, a scope the database layer refuses, database unreachable, ...); 2
on bad usage (an id that is not a UUID, a missing flag, a malformed
--expires).`,
		Example: `  authstore pat create --user 7d0c8a4e-5f7b-4a0e-9a51-0b1f8f3c2d64 --name deploy --scope read --expires 90d
  authstore pat list --user 7d0c8a4e-5f7b-4a0e-9a51-0b1f8f3c2d64
  authstore pat revoke --user 7d0c8a4e-5f7b-4a0e-9a51-0b1f8f3c2d64 5e2f0a9c-8b1d-4c3e-a7f6-2d9b0c4e1a38`,
	})
	cmd.AddCommand(a.patCreateCommand(), a.patListCommand(), a.patRevokeCommand())
	return cmd
}

// patWarning follows every personal access token the CLI prints.
const patWarning = "This token will not be shown again: store it now. " +
	"Only its digest is kept; 'authstore pat revoke --user USER_ID TOKEN_ID' revokes it."

func (a *app) patCreateCommand() *cobra.Command {
	var (
		user, name string
		scopes     []string
		expires    string
		out        *output
	)
	cmd := &cobra.Command{
		Use:   "create --user ID --name NAME [--scope S ...] [--expires DURATION]",
		Short: "Create a personal access token for a user and print it once",
		Long: `create makes a personal access token for the user and prints it once, on
standard output, with its id: only its digest is stored, so it cannot be
shown again (revoke it and create another if it is lost). The creation is
recorded in the activity log (personal_token.created).

--name says what the token is for. --scope, repeatable, sets its scopes
(none by default). --expires sets its lifetime from now: a Go duration (90m,
36h) or days (30d, 1.5d); without it the token does not expire.

An unknown user fails (exit 1). With -o json (or --json) it prints one JSON
object: the token's row as pat list shows it, plus "token" and a "warning".`,
		Example: `  authstore pat create --user 7d0c8a4e-5f7b-4a0e-9a51-0b1f8f3c2d64 --name deploy --scope read --expires 90d
  authstore pat create --user 7d0c8a4e-5f7b-4a0e-9a51-0b1f8f3c2d64 --name ci -o json | jq -r .token`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			uid, err := uuidFlag("user", user)
			if err != nil {
				return err
			}
			if strings.TrimSpace(name) == "" {
				return usagef("--name must not be empty")
			}
			var lifetime time.Duration
			if cmd.Flags().Changed("expires") {
				if lifetime, err = parseDuration(expires); err != nil {
					return usagef("--expires %q: %w", clip(expires, 64), err)
				}
			}
			return a.withStore(cmd.Context(), func(ctx context.Context, s *authstore.Store) error {
				var expiresAt *time.Time
				if lifetime > 0 {
					t := s.Now().Add(lifetime)
					expiresAt = &t
				}
				row, token, err := s.PersonalTokens.Create(ctx, uid, name, scopes, expiresAt)
				if errors.Is(err, repositories.ErrMissingReferent) {
					return fmt.Errorf("no user with id %s", uid)
				}
				if err != nil {
					return err
				}
				if out.JSON() {
					return printJSON(a.stdout, patCreatedJSON{patJSON: newPatJSON(row, s.Now()), Token: token, Warning: patWarning})
				}
				fmt.Fprintf(a.stdout, "created personal access token %s (%s) for user %s\n", row.ID, oneLineText(row.Name), uid)
				fmt.Fprintf(a.stdout, "scopes:  %s\nexpires: %s\n", scopeText(row.Scopes), expiryText(row.ExpiresAt))
				fmt.Fprintf(a.stdout, "\ntoken: %s\n%s\n", token, strings.Replace(patWarning, "USER_ID TOKEN_ID", string(uid)+" "+string(row.ID), 1))
				return nil
			})
		},
	}
	cmd.Flags().StringVar(&user, "user", "", "the id of the user the token acts for (required)")
	cmd.Flags().StringVar(&name, "name", "", "what the token is for (required)")
	cmd.Flags().StringArrayVar(&scopes, "scope", nil, "a scope of the token (repeat for more; default none)")
	cmd.Flags().StringVar(&expires, "expires", "", "lifetime from now, such as 90d or 36h (default: never expires)")
	_ = cmd.MarkFlagRequired("user")
	_ = cmd.MarkFlagRequired("name")
	a.completeUserFlag(cmd, "user")
	out = addOutput(cmd, "the token")
	return cmd
}

func (a *app) patListCommand() *cobra.Command {
	var user string
	var out *output
	cmd := &cobra.Command{
		Use:   "list --user ID",
		Short: "List a user's personal access tokens (never the tokens themselves)",
		Long: `list prints a user's personal access tokens, oldest first, revoked and
expired ones included: id, prefix (the token's first characters), status
(active, expired or revoked), scopes, last use, expiry and name. The token
itself is never stored, so never shown. It only reads: a SQLite file is
opened read-only.

An unknown user fails (exit 1). With -o json (or --json) it prints one JSON
object: {"user_id": ..., "tokens": [{"id": ..., "user_id": ..., "name": ...,
"prefix": ..., "scopes": [...], "last_used_at": null, "expires_at": null,
"revoked": false, "expired": false, "created_at": ...}, ...]}.`,
		Example: `  authstore pat list --user 7d0c8a4e-5f7b-4a0e-9a51-0b1f8f3c2d64
  authstore pat list --user 7d0c8a4e-5f7b-4a0e-9a51-0b1f8f3c2d64 -o json | jq -r '.tokens[] | select(.revoked | not) | .id'`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.withUserReadOnly(cmd, user, func(ctx context.Context, s *authstore.Store, uid models.UUID) error {
				tokens, err := s.PersonalTokens.ListForUser(ctx, uid)
				if err != nil {
					return err
				}
				now := s.Now()
				if out.JSON() {
					res := patListJSON{UserID: uid, Tokens: []patJSON{}}
					for i := range tokens {
						res.Tokens = append(res.Tokens, newPatJSON(&tokens[i], now))
					}
					return printJSON(a.stdout, res)
				}
				if len(tokens) == 0 {
					fmt.Fprintf(a.stdout, "user %s has no personal access tokens\n", uid)
					return nil
				}
				rows := make([][]string, 0, len(tokens))
				for i := range tokens {
					t := &tokens[i]
					lastUsed := "never"
					if t.LastUsedAt != nil {
						lastUsed = formatTime(*t.LastUsedAt)
					}
					rows = append(rows, []string{string(t.ID), t.Prefix, patStatus(t, now), scopeText(t.Scopes), lastUsed, expiryText(t.ExpiresAt), t.Name})
				}
				return printTable(a.stdout, []string{"ID", "PREFIX", "STATUS", "SCOPES", "LAST USED", "EXPIRES", "NAME"}, rows)
			})
		},
	}
	cmd.Flags().StringVar(&user, "user", "", "the user's id (required)")
	_ = cmd.MarkFlagRequired("user")
	a.completeUserFlag(cmd, "user")
	out = addOutput(cmd, "the tokens")
	return cmd
}

func (a *app) patRevokeCommand() *cobra.Command {
	var user string
	cmd := &cobra.Command{
		Use:   "revoke --user ID TOKEN_ID",
		Short: "Revoke one of a user's personal access tokens",
		Long: `revoke revokes the user's personal access token with the id TOKEN_ID (as
pat list shows it), at once, and records it in the activity log
(personal_token.revoked). Revoking a revoked token changes nothing and
succeeds. A user or token id that is not a UUID is bad usage (exit 2); a
token the user does not have fails (exit 1).`,
		Example: `  authstore pat revoke --user 7d0c8a4e-5f7b-4a0e-9a51-0b1f8f3c2d64 5e2f0a9c-8b1d-4c3e-a7f6-2d9b0c4e1a38`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) != 1 {
				return usagef("%s takes one argument, the token ID, got %d", cmd.CommandPath(), len(args))
			}
			if _, err := models.ParseUUID(args[0]); err != nil {
				return usagef("token ID %q is not a UUID", clip(args[0], 64))
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			uid, err := uuidFlag("user", user)
			if err != nil {
				return err
			}
			tid, _ := models.ParseUUID(args[0])
			return a.withStore(cmd.Context(), func(ctx context.Context, s *authstore.Store) error {
				if err := requireUser(ctx, s, uid); err != nil {
					return err
				}
				tokens, err := s.PersonalTokens.ListForUser(ctx, uid)
				if err != nil {
					return err
				}
				for _, t := range tokens {
					if t.ID == tid && t.Revoked {
						fmt.Fprintf(a.stdout, "personal access token %s was already revoked\n", tid)
						return nil
					}
				}
				err = s.PersonalTokens.Revoke(ctx, uid, tid)
				if errors.Is(err, repositories.ErrNotFound) {
					return fmt.Errorf("user %s has no personal access token with id %s; 'authstore pat list --user %s' lists them", uid, tid, uid)
				}
				if err != nil {
					return err
				}
				fmt.Fprintf(a.stdout, "revoked personal access token %s of user %s\n", tid, uid)
				return nil
			})
		},
	}
	cmd.Flags().StringVar(&user, "user", "", "the id of the user the token belongs to (required)")
	_ = cmd.MarkFlagRequired("user")
	a.completeUserFlag(cmd, "user")
	return cmd
}

// patJSON is a personal access token as the CLI prints it: never the token
// or its digest.
type patJSON struct {
	ID         models.UUID `json:"id"`
	UserID     models.UUID `json:"user_id"`
	Name       string      `json:"name"`
	Prefix     string      `json:"prefix"`
	Scopes     []string    `json:"scopes"`
	LastUsedAt *time.Time  `json:"last_used_at"`
	ExpiresAt  *time.Time  `json:"expires_at"`
	Revoked    bool        `json:"revoked"`
	Expired    bool        `json:"expired"`
	CreatedAt  time.Time   `json:"created_at"`
}

func newPatJSON(t *models.PersonalAccessToken, now time.Time) patJSON {
	utc := func(t *time.Time) *time.Time {
		if t == nil {
			return nil
		}
		v := t.UTC()
		return &v
	}
	scopes := []string(t.Scopes)
	if scopes == nil {
		scopes = []string{}
	}
	return patJSON{
		ID:         t.ID,
		UserID:     t.UserID,
		Name:       t.Name,
		Prefix:     t.Prefix,
		Scopes:     scopes,
		LastUsedAt: utc(t.LastUsedAt),
		ExpiresAt:  utc(t.ExpiresAt),
		Revoked:    t.Revoked,
		Expired:    t.ExpiresAt != nil && !now.Before(*t.ExpiresAt),
		CreatedAt:  t.CreatedAt.UTC(),
	}
}

// patCreatedJSON is the output of `pat create -o json`.
type patCreatedJSON struct {
	patJSON
	Token   string `json:"token"`
	Warning string `json:"warning"`
}

// patListJSON is the output of `pat list -o json`.
type patListJSON struct {
	UserID models.UUID `json:"user_id"`
	Tokens []patJSON   `json:"tokens"`
}

// patStatus is active, expired or revoked.
func patStatus(t *models.PersonalAccessToken, now time.Time) string {
	switch {
	case t.Revoked:
		return "revoked"
	case t.ExpiresAt != nil && !now.Before(*t.ExpiresAt):
		return "expired"
	}
	return "active"
}

// expiryText shows an optional expiry: its time, or "never".
func expiryText(t *time.Time) string {
	if t == nil {
		return "never"
	}
	return formatTime(*t)
}
