package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/forgeauth/authstore"
	"github.com/forgeauth/authstore/config"
	"github.com/forgeauth/authstore/hooks"
	"github.com/forgeauth/authstore/internal/demo"
	"github.com/forgeauth/authstore/models"
	"github.com/spf13/cobra"
	"gorm.io/gorm/logger"
)

// demoCommand is `authstore demo`: the main job on the configured database.
func (a *app) demoCommand() *cobra.Command {
	var asJSON *output
	var cleanup, yes bool
	cmd := &cobra.Command{
		Use:   "demo [--cleanup [--yes]]",
		Short: "Migrate the database and walk every authstore flow; --cleanup removes what demo runs left",
		Long: `demo migrates the database at DATABASE_URL (default: the SQLite file
./authstore.db, created if absent), then walks a realistic flow and prints
each step: register, a failed login, a login creating a session, session
lookup, email verification, password reset request and completion (which
ends the user's sessions), logout; then the OAuth2 flows: a confidential
and a public client, an authorization code with PKCE and its exchange,
access-token validation, refresh-token rotation, replay of the old refresh
token (reuse detected, family revoked), client-credentials validation and a
personal access token. It sends no email: the verification and reset
tokens an application would mail are used directly.

Each run creates a new user and two new clients, so it can run any number
of times on the same database; it ends by naming them and the commands
that show them (authstore stats, authstore client list, authstore user
list, authstore activity). Access tokens are RFC 9068 JWTs signed with the
current signing key (RS256 by default), which the demo makes if there is
none. Without AUTHSTORE_ENCRYPTION_KEY it generates a development master key
for the private keys: in a file beside a SQLite database (and says so), for
the run alone with the in-memory database; on PostgreSQL without one it
signs HS256 with JWT_SECRET, or a secret made for the run.

demo --cleanup deletes what earlier runs left, and runs no flow. It
matches users whose email is at @` + demo.EmailDomain + ` and clients whose
name begins with "` + demo.ClientPrefix + `"; and, from runs before those
markers, users named "Demo User" with an email demo+TAG@example.com (TAG ten
letters, digits, - or _) and clients without owner named "Demo Web App" or
"Demo Native App" with the demo's single redirect URI. Their sessions,
tokens, codes and personal tokens go with them; the activity log keeps its
rows (it is append-only; purge --activity-retention ages them out). It
lists what it found and asks for confirmation on a terminal; otherwise it
needs --yes. With --json it prints {"deleted_users": [ids],
"deleted_clients": [ids]}.

With --json it prints one JSON object; every plaintext it generated
(passwords, tokens, secrets, codes, verifiers) is a string under a key whose
name ends in password, token, secret or code, so an operator can check that
none of them is stored in the database.`,
		Example: `  authstore demo
  authstore demo --json
  authstore demo --cleanup --yes
  DATABASE_URL='postgres://postgres@127.0.0.1:5432/test?sslmode=disable' authstore demo --json`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if cleanup {
				return a.demoCleanup(cmd, asJSON, yes)
			}
			if yes {
				return usagef("--yes goes with --cleanup")
			}
			cfg, err := a.config()
			if err != nil {
				return err
			}
			_, notice, err := devMasterKey(&cfg)
			if err != nil {
				return err
			}
			devKey, err := memoryMasterKey(&cfg)
			if err != nil {
				return err
			}
			var recoveryNotice string
			if cfg.EncryptionKey != "" {
				// The demo walks two-factor authentication whatever
				// AUTH_ENABLE_TWO_FACTOR says; its user is a demo user.
				cfg.EnableTwoFactor = true
				if recoveryNotice, err = devRecoveryKey(&cfg); err != nil {
					return err
				}
				made, err := runRecoveryKey(&cfg)
				if err != nil {
					return err
				}
				if made {
					recoveryNotice = "AUTHSTORE_RECOVERY_KEY is not set: the demo's recovery codes are digested under a key made for this run"
				}
			}
			ephemeral := cfg.JWTSecret == "" && cfg.EncryptionKey == ""
			if ephemeral {
				key, err := hooks.NewToken()
				if err != nil {
					return err
				}
				cfg.JWTSecret = config.Secret(key)
			}
			s, err := authstore.Open(cmd.Context(), cfg, authstore.WithLogger(logger.Discard), authstore.WithoutSchemaCheck())
			if err != nil {
				return err
			}
			defer s.Close()
			var progress io.Writer
			if !asJSON.JSON() {
				progress = a.stdout
				fmt.Fprintf(a.stdout, "authstore demo on %s (%s)\n", databaseLabel(cfg), s.DB().Dialector.Name())
				switch {
				case notice != "":
					fmt.Fprintln(a.stdout, notice)
				case ephemeral:
					fmt.Fprintln(a.stdout, "JWT_SECRET and AUTHSTORE_ENCRYPTION_KEY are not set: access tokens are HS256, signed with a key made for this run")
				case devKey:
					fmt.Fprintln(a.stdout, "AUTHSTORE_ENCRYPTION_KEY is not set: the in-memory database's signing keys are encrypted under a master key made for this run")
				}
				if recoveryNotice != "" {
					fmt.Fprintln(a.stdout, recoveryNotice)
				}
			}
			rep, err := demo.Run(cmd.Context(), s, progress)
			if err != nil {
				return err
			}
			for _, n := range []string{notice, recoveryNotice} {
				if n != "" {
					rep.Notes = append(rep.Notes, n)
				}
			}
			if asJSON.JSON() {
				enc := json.NewEncoder(a.stdout)
				enc.SetIndent("", "  ")
				return enc.Encode(rep)
			}
			fmt.Fprintf(a.stdout, "done: %d steps; run with --json to see the generated secrets\n", len(rep.Steps))
			fmt.Fprintf(a.stdout, "created user %s <%s> and clients %s\n", rep.UserID, rep.Email, strings.Join(rep.ClientIDs, ", "))
			fmt.Fprintln(a.stdout, "look at them: authstore stats; authstore client list; authstore user list; authstore activity")
			fmt.Fprintln(a.stdout, "remove every demo user and client: authstore demo --cleanup")
			return nil
		},
	}
	cmd.Flags().BoolVar(&cleanup, "cleanup", false, "delete the users and clients earlier demo runs left, instead of running the demo")
	cmd.Flags().BoolVar(&yes, "yes", false, "with --cleanup: delete without asking")
	asJSON = addOutput(cmd, "the report")
	return cmd
}

// demoCleanupJSON is the output of `demo --cleanup --json`.
type demoCleanupJSON struct {
	DeletedUsers   []models.UUID `json:"deleted_users"`
	DeletedClients []models.UUID `json:"deleted_clients"`
}

// demoCleanup is `authstore demo --cleanup`: find what demo runs left,
// confirm, delete.
func (a *app) demoCleanup(cmd *cobra.Command, out *output, yes bool) error {
	return a.withStore(cmd.Context(), func(ctx context.Context, s *authstore.Store) error {
		l, err := demo.Find(ctx, s)
		if err != nil {
			return err
		}
		if l.Empty() {
			if out.JSON() {
				return printJSON(a.stdout, demoCleanupJSON{DeletedUsers: []models.UUID{}, DeletedClients: []models.UUID{}})
			}
			fmt.Fprintln(a.stdout, "no demo users or clients found; nothing to delete")
			return nil
		}
		if !yes && isTerminal(cmd.InOrStdin()) {
			// What the question is about, before it is asked.
			for _, u := range l.Users {
				fmt.Fprintf(a.stderr, "user   %s  %s\n", u.ID, u.Email)
			}
			for _, c := range l.Clients {
				fmt.Fprintf(a.stderr, "client %s  %s\n", c.ID, oneLineText(c.Name))
			}
		}
		question := fmt.Sprintf("Delete these %d demo users and %d demo clients, with their sessions and tokens?", len(l.Users), len(l.Clients))
		why := fmt.Sprintf("demo --cleanup deletes %d users and %d clients", len(l.Users), len(l.Clients))
		if err := a.confirm(cmd, yes, question, why); err != nil {
			return err
		}
		users, clients, err := demo.Cleanup(ctx, s, l)
		if err != nil {
			return err
		}
		if out.JSON() {
			return printJSON(a.stdout, demoCleanupJSON{DeletedUsers: users, DeletedClients: clients})
		}
		fmt.Fprintf(a.stdout, "deleted %d demo users and %d demo clients\n", len(users), len(clients))
		return nil
	})
}
