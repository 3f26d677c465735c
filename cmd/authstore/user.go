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
	"github.com/forgeauth/authstore/hooks"
	"github.com/forgeauth/authstore/models"
	"github.com/forgeauth/authstore/repositories"
	"github.com/spf13/cobra"
	"golang.org/x/term"
)

// userCommand builds `authstore user` and its subcommands.
func (a *app) userCommand() *cobra.Command {
	cmd := groupCommand(&cobra.Command{
		Use:   "user",
		Short: "Create or list user accounts",
		Long: `user manages the accounts of the users table. No password or password hash
is ever printed.

Exit status: 0 on success; 1 when the command failed (email taken, an
address the database layer refuses, database unreachable, ...); 2 on bad
usage, including input checked before the database is opened (a password
that is missing, too short or not confirmed; --limit or --offset out of
range).`,
		Example: `  printf '%s\n' "$PASSWORD" | authstore user create --name "Ada Lovelace" --email ada@example.com
  authstore user list --limit 20 --offset 40`,
	})
	cmd.AddCommand(a.userCreateCommand(), a.userListCommand())
	return cmd
}

func (a *app) userCreateCommand() *cobra.Command {
	var name, email string
	var asJSON *output
	cmd := &cobra.Command{
		Use:   "create --name NAME --email EMAIL",
		Short: "Create a user; the password is read from standard input or a prompt",
		Long: fmt.Sprintf(`create registers a user account with a name, an email address (unique,
compared case-insensitively) and a password, hashed with Argon2id.

The password is never taken from a flag (it would be visible to other users
and kept in the shell history). When standard input is a terminal, create
asks for it twice, without echo; otherwise it reads the first line of
standard input (without its line ending). It must be %d to %d characters
long.

With --json it prints the created user as one JSON object.`, hooks.MinPasswordLength, hooks.MaxPasswordLength),
		Example: `  # Prompted for the password, twice
  authstore user create --name "Ada Lovelace" --email ada@example.com

  # From a secret store, in a script
  vault kv get -field=password secret/ada | authstore user create --name Ada --email ada@example.com --json`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			password, err := a.readPassword(cmd.InOrStdin())
			if err != nil {
				return err
			}
			return a.withStore(cmd.Context(), func(ctx context.Context, s *authstore.Store) error {
				u, err := s.Users.Create(ctx, repositories.UserInput{
					Name:                 name,
					Email:                email,
					Password:             password,
					PasswordConfirmation: password,
				})
				if errors.Is(err, repositories.ErrDuplicate) {
					return fmt.Errorf("a user with email %q already exists", email)
				}
				if err != nil {
					return err
				}
				if asJSON.JSON() {
					return printJSON(a.stdout, newUserJSON(u))
				}
				fmt.Fprintf(a.stdout, "created user %s (%s)\n", u.ID, u.Email)
				return nil
			})
		},
	}
	cmd.Flags().StringVar(&name, "name", "", "the user's display name (required)")
	cmd.Flags().StringVar(&email, "email", "", "the user's email address (required)")
	asJSON = addOutput(cmd, "the user")
	_ = cmd.MarkFlagRequired("name")
	_ = cmd.MarkFlagRequired("email")
	return cmd
}

// readPassword reads the new password: from a prompt with echo off, asked
// twice, when in is a terminal; otherwise the first line of in. A password
// that is missing, too short or too long, or not confirmed, is bad usage.
func (a *app) readPassword(in io.Reader) (string, error) {
	if f, ok := in.(*os.File); ok && isTerminal(f) {
		fd := int(f.Fd())
		ask := func(prompt string) (string, error) {
			fmt.Fprint(a.stderr, prompt)
			b, err := term.ReadPassword(fd)
			fmt.Fprintln(a.stderr)
			if err != nil {
				return "", fmt.Errorf("read password: %w", err)
			}
			return string(b), nil
		}
		p, err := ask("Password: ")
		if err != nil {
			return "", err
		}
		if err := hooks.CheckPasswordLength(p); err != nil {
			return "", usageError{err}
		}
		confirm, err := ask("Confirm password: ")
		if err != nil {
			return "", err
		}
		if p != confirm {
			return "", usagef("the passwords do not match")
		}
		return p, nil
	}
	// The first line, read no further than the longest password allows.
	r := bufio.NewReader(io.LimitReader(in, hooks.MaxPasswordLength+3))
	line, err := r.ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", fmt.Errorf("read password from standard input: %w", err)
	}
	if line == "" {
		return "", usagef("no password on standard input: pipe it in as the first line, or run in a terminal to be prompted")
	}
	p := strings.TrimSuffix(strings.TrimSuffix(line, "\n"), "\r")
	if err := hooks.CheckPasswordLength(p); err != nil {
		return "", usageError{err}
	}
	return p, nil
}

func (a *app) userListCommand() *cobra.Command {
	var limit, offset int
	var asJSON *output
	cmd := &cobra.Command{
		Use:   "list [--limit N] [--offset N]",
		Short: "List users, oldest first",
		Long: fmt.Sprintf(`list prints up to --limit users (1 to %d, default 50), oldest first,
skipping the first --offset: their id, whether the email is verified, the
creation time, the email and the name, then which users were shown out of
how many.

With --json it prints one JSON object:
  {"users": [{"id": ..., "name": ..., "email": ..., "email_verified_at": null,
              "two_factor_enabled": false, "failed_logins": 0,
              "created_at": ..., "updated_at": ...}, ...],
   "total": 120, "limit": 50, "offset": 0}`, repositories.MaxListLimit),
		Example: `  authstore user list
  authstore user list --limit 100 --offset 100
  authstore user list --json | jq -r '.users[].email'`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if limit < 1 || limit > repositories.MaxListLimit {
				return usagef("--limit must be 1 to %d, got %d", repositories.MaxListLimit, limit)
			}
			if offset < 0 {
				return usagef("--offset must not be negative, got %d", offset)
			}
			return a.withExistingStore(cmd.Context(), func(ctx context.Context, s *authstore.Store) error {
				users, err := s.Users.List(ctx, limit, offset)
				if err != nil {
					return err
				}
				total, err := s.Users.Count(ctx)
				if err != nil {
					return err
				}
				if asJSON.JSON() {
					out := userListJSON{Users: []userJSON{}, Total: total, Limit: limit, Offset: offset}
					for i := range users {
						out.Users = append(out.Users, newUserJSON(&users[i]))
					}
					return printJSON(a.stdout, out)
				}
				if len(users) == 0 {
					fmt.Fprintf(a.stdout, "no users at offset %d (%d in all)\n", offset, total)
					return nil
				}
				w := tabwriter.NewWriter(a.stdout, 0, 0, 2, ' ', 0)
				fmt.Fprintln(w, "ID\tVERIFIED\tCREATED\tEMAIL\tNAME")
				for _, u := range users {
					verified := "no"
					if u.EmailVerifiedAt != nil {
						verified = "yes"
					}
					fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\n", u.ID, verified, formatTime(u.CreatedAt), u.Email, oneLineText(u.Name))
				}
				if err := w.Flush(); err != nil {
					return err
				}
				fmt.Fprintf(a.stdout, "users %d to %d of %d\n", offset+1, offset+len(users), total)
				return nil
			})
		},
	}
	cmd.Flags().IntVar(&limit, "limit", 50, fmt.Sprintf("most users to list, 1 to %d", repositories.MaxListLimit))
	cmd.Flags().IntVar(&offset, "offset", 0, "users to skip")
	asJSON = addOutput(cmd, "the users")
	return cmd
}

// userJSON is a user as the CLI prints it: never a password hash or a
// two-factor secret.
type userJSON struct {
	ID               models.UUID `json:"id"`
	Name             string      `json:"name"`
	Email            string      `json:"email"`
	EmailVerifiedAt  *time.Time  `json:"email_verified_at"`
	TwoFactorEnabled bool        `json:"two_factor_enabled"`
	FailedLogins     int64       `json:"failed_logins"`
	CreatedAt        time.Time   `json:"created_at"`
	UpdatedAt        time.Time   `json:"updated_at"`
}

func newUserJSON(u *models.User) userJSON {
	utc := func(t *time.Time) *time.Time {
		if t == nil {
			return nil
		}
		v := t.UTC()
		return &v
	}
	return userJSON{
		ID:               u.ID,
		Name:             u.Name,
		Email:            u.Email,
		EmailVerifiedAt:  utc(u.EmailVerifiedAt),
		TwoFactorEnabled: u.TwoFactorConfirmedAt != nil,
		FailedLogins:     u.FailedLogins,
		CreatedAt:        u.CreatedAt.UTC(),
		UpdatedAt:        u.UpdatedAt.UTC(),
	}
}

// userListJSON is the output of `user list --json`.
type userListJSON struct {
	Users  []userJSON `json:"users"`
	Total  int64      `json:"total"`
	Limit  int        `json:"limit"`
	Offset int        `json:"offset"`
}
