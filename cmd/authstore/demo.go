package main

import (
	"encoding/json"
	"fmt"
	"io"

	"github.com/forgeauth/authstore"
	"github.com/forgeauth/authstore/config"
	"github.com/forgeauth/authstore/hooks"
	"github.com/forgeauth/authstore/internal/demo"
	"github.com/spf13/cobra"
	"gorm.io/gorm/logger"
)

// demoCommand is `authstore demo`: the main job on the configured database.
func (a *app) demoCommand() *cobra.Command {
	var asJSON *output
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Migrate the database and walk every authstore flow",
		Long: `demo migrates the database at DATABASE_URL (default: the SQLite file
./authstore.db, created if absent), then walks a realistic flow and prints
each step: register, a failed login, a login creating a session, session
lookup, email verification, password reset request and completion (which
ends the user's sessions), logout; then the OAuth2 flows: a confidential
and a public client, an authorization code with PKCE and its exchange,
access-token validation, refresh-token rotation, replay of the old refresh
token (reuse detected, family revoked), client-credentials validation and a
personal access token.

Each run creates a new user and new clients, so it can run any number of
times on the same database. Without JWT_SECRET the demo signs access tokens
with a key generated for this run only.

With --json it prints one JSON object; every plaintext it generated
(passwords, tokens, secrets, codes, verifiers) is a string under a key whose
name ends in password, token, secret or code, so an operator can check that
none of them is stored in the database.`,
		Example: `  authstore demo
  authstore demo --json
  DATABASE_URL='postgres://postgres@127.0.0.1:5432/test?sslmode=disable' authstore demo --json`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := a.config()
			if err != nil {
				return err
			}
			ephemeral := cfg.JWTSecret == ""
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
				if ephemeral {
					fmt.Fprintln(a.stdout, "JWT_SECRET is not set: access tokens are signed with a key made for this run")
				}
			}
			rep, err := demo.Run(cmd.Context(), s, progress)
			if err != nil {
				return err
			}
			if asJSON.JSON() {
				enc := json.NewEncoder(a.stdout)
				enc.SetIndent("", "  ")
				return enc.Encode(rep)
			}
			fmt.Fprintf(a.stdout, "done: %d steps; run with --json to see the generated secrets\n", len(rep.Steps))
			return nil
		},
	}
	asJSON = addOutput(cmd, "the report")
	return cmd
}
