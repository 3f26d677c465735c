package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/forgeauth/authstore"
	"github.com/forgeauth/authstore/models"
	"github.com/forgeauth/authstore/repositories"
	"github.com/spf13/cobra"
)

// sessionCommand builds `authstore session` and its subcommands.
func (a *app) sessionCommand() *cobra.Command {
	cmd := groupCommand(&cobra.Command{
		Use:   "session",
		Short: "List or revoke users' login sessions",
		Long: `session manages the login sessions of the sessions table. No session token
or digest of one is ever printed: a session is named by its id.

Exit status: 0 on success; 1 when the command failed (no user or session
with that id, database unreachable, ...); 2 on bad usage, including an id
that is not a UUID and, for revoke --user, a missing --yes with no terminal
to ask on.`,
		Example: `  authstore session list --user 6f1c2b9e-8a4d-4f7e-9b3a-2c5d7e9f1a3b
  authstore session revoke 0d9e8c7b-6a5f-4e3d-8c2b-1a0f9e8d7c6b
  authstore session revoke --user 6f1c2b9e-8a4d-4f7e-9b3a-2c5d7e9f1a3b --yes`,
	})
	cmd.AddCommand(a.sessionListCommand(), a.sessionRevokeCommand())
	return cmd
}

func (a *app) sessionListCommand() *cobra.Command {
	var user string
	var out *output
	cmd := &cobra.Command{
		Use:   "list --user ID",
		Short: "List a user's sessions, newest first",
		Long: `list prints every session of a user, newest first, expired ones included
(purge deletes those): its id, when it was created, its last activity, when
it expires at the latest, whether it is a remember-me session, and the IP
address and user agent it was created from. A session also ends earlier
when idle longer than AUTH_SESSION_LIFETIME (AUTH_REMEMBER_LIFETIME for a
remembered one). It never prints a session token or its digest.

With -o json it prints one JSON object:
  {"user_id": ..., "sessions": [{"id": ..., "user_id": ..., "created_at": ...,
   "last_activity_at": ..., "expires_at": ..., "remember": false,
   "ip_address": ..., "user_agent": ...}, ...]}`,
		Example: `  authstore session list --user 6f1c2b9e-8a4d-4f7e-9b3a-2c5d7e9f1a3b
  authstore session list --user 6f1c2b9e-8a4d-4f7e-9b3a-2c5d7e9f1a3b -o json | jq -r '.sessions[].id'`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.withUserReadOnly(cmd, user, func(ctx context.Context, s *authstore.Store, uid models.UUID) error {
				sessions, err := s.Sessions.ListForUser(ctx, uid)
				if err != nil {
					return err
				}
				if out.JSON() {
					res := sessionListJSON{UserID: uid, Sessions: []sessionJSON{}}
					for i := range sessions {
						res.Sessions = append(res.Sessions, newSessionJSON(&sessions[i]))
					}
					return printJSON(a.stdout, res)
				}
				if len(sessions) == 0 {
					fmt.Fprintf(a.stdout, "user %s has no sessions\n", uid)
					return nil
				}
				rows := make([][]string, 0, len(sessions))
				for _, s := range sessions {
					remember := "no"
					if s.Remember {
						remember = "yes"
					}
					rows = append(rows, []string{s.ID.String(), formatTime(s.CreatedAt), formatTime(s.LastActivityAt),
						formatTime(s.ExpiresAt), remember, dashIfEmpty(s.IPAddress), dashIfEmpty(s.UserAgent)})
				}
				return printTable(a.stdout, []string{"ID", "CREATED", "LAST ACTIVITY", "EXPIRES", "REMEMBER", "IP", "USER AGENT"}, rows)
			})
		},
	}
	cmd.Flags().StringVar(&user, "user", "", "the user whose sessions to list (required)")
	_ = cmd.MarkFlagRequired("user")
	a.completeUserFlag(cmd, "user")
	out = addOutput(cmd, "the sessions")
	return cmd
}

func (a *app) sessionRevokeCommand() *cobra.Command {
	var user string
	var yes bool
	var out *output
	cmd := &cobra.Command{
		Use:   "revoke (ID | --user ID --yes)",
		Short: "End one session, or every session of a user",
		Long: `revoke ends a session at once: the session token stops working, and whoever
held it must log in again. Each revocation is recorded in the user's
activity log (event session.deleted).

With an ID it ends that one session. With --user it ends every session of
the user (logging them out everywhere); that asks for confirmation on a
terminal and needs --yes otherwise. Give an ID or --user, not both.

An id that is not a UUID is bad usage (exit 2); no session or user with that
id is a failure (exit 1). Revoking a user's sessions when there are none
succeeds and says so. With -o json it prints {"revoked": N} with the
session_id or user_id it acted on.

Tokens the user's OAuth2 clients hold are not sessions: see 'authstore
token revoke --user'.`,
		Example: `  authstore session revoke 0d9e8c7b-6a5f-4e3d-8c2b-1a0f9e8d7c6b

  # Log a user out everywhere (in a script: no terminal to confirm on)
  authstore session revoke --user 6f1c2b9e-8a4d-4f7e-9b3a-2c5d7e9f1a3b --yes`,
		Args: func(cmd *cobra.Command, args []string) error {
			switch {
			case len(args) > 1:
				return usagef("%s takes at most one argument, the session ID, got %d", cmd.CommandPath(), len(args))
			case len(args) == 1 && cmd.Flags().Changed("user"):
				return usagef("give a session ID or --user, not both")
			case len(args) == 0 && !cmd.Flags().Changed("user"):
				return usagef("give the session ID to revoke, or --user ID to revoke every session of a user")
			case len(args) == 1:
				if _, err := models.ParseUUID(args[0]); err != nil {
					return usagef("session ID %q is not a UUID", clip(args[0], 64))
				}
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 1 {
				id, _ := models.ParseUUID(args[0])
				return a.withStore(cmd.Context(), func(ctx context.Context, s *authstore.Store) error {
					err := s.Sessions.Revoke(ctx, id)
					if errors.Is(err, repositories.ErrNotFound) {
						return fmt.Errorf("no session with id %s (run 'authstore session list --user ID' to see a user's sessions)", id)
					}
					if err != nil {
						return err
					}
					if out.JSON() {
						return printJSON(a.stdout, sessionRevokedJSON{Revoked: 1, SessionID: &id})
					}
					fmt.Fprintf(a.stdout, "revoked session %s\n", id)
					return nil
				})
			}
			uid, err := uuidFlag("user", user)
			if err != nil {
				return err
			}
			if err := a.confirm(cmd, yes, fmt.Sprintf("End every session of user %s?", uid),
				"session revoke --user logs the user out everywhere"); err != nil {
				return err
			}
			return a.withStore(cmd.Context(), func(ctx context.Context, s *authstore.Store) error {
				n, err := s.Sessions.RevokeForUser(ctx, uid)
				if err != nil {
					return userError(uid, err)
				}
				if out.JSON() {
					return printJSON(a.stdout, sessionRevokedJSON{Revoked: n, UserID: &uid})
				}
				if n == 0 {
					fmt.Fprintf(a.stdout, "user %s had no sessions; nothing changed\n", uid)
					return nil
				}
				fmt.Fprintf(a.stdout, "revoked %d %s of user %s\n", n, pluralNoun(n, "session", "sessions"), uid)
				return nil
			})
		},
	}
	cmd.Flags().StringVar(&user, "user", "", "revoke every session of this user")
	cmd.Flags().BoolVar(&yes, "yes", false, "do not ask for confirmation (with --user)")
	a.completeUserFlag(cmd, "user")
	out = addOutput(cmd, "the count of revoked sessions")
	return cmd
}

// dashIfEmpty returns s, or "-" when it is empty, for a table cell.
func dashIfEmpty(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// pluralNoun returns one when n is 1, else many.
func pluralNoun(n int64, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// sessionJSON is a session as the CLI prints it: never its token or digest.
type sessionJSON struct {
	ID             models.UUID `json:"id"`
	UserID         models.UUID `json:"user_id"`
	CreatedAt      time.Time   `json:"created_at"`
	LastActivityAt time.Time   `json:"last_activity_at"`
	ExpiresAt      time.Time   `json:"expires_at"`
	Remember       bool        `json:"remember"`
	IPAddress      string      `json:"ip_address"`
	UserAgent      string      `json:"user_agent"`
}

func newSessionJSON(s *models.Session) sessionJSON {
	return sessionJSON{
		ID:             s.ID,
		UserID:         s.UserID,
		CreatedAt:      s.CreatedAt.UTC(),
		LastActivityAt: s.LastActivityAt.UTC(),
		ExpiresAt:      s.ExpiresAt.UTC(),
		Remember:       s.Remember,
		IPAddress:      s.IPAddress,
		UserAgent:      s.UserAgent,
	}
}

// sessionListJSON is the output of `session list -o json`.
type sessionListJSON struct {
	UserID   models.UUID   `json:"user_id"`
	Sessions []sessionJSON `json:"sessions"`
}

// sessionRevokedJSON is the output of `session revoke -o json`: how many
// sessions ended, and the session or user it acted on.
type sessionRevokedJSON struct {
	Revoked   int64        `json:"revoked"`
	SessionID *models.UUID `json:"session_id,omitempty"`
	UserID    *models.UUID `json:"user_id,omitempty"`
}
