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
		Short: "Create, list, show, update, delete, lock or unlock user accounts; set passwords; reset second factors",
		Long: `user manages the accounts of the users table. No password or password hash,
and no two-factor secret, is ever printed.

Passwords are never taken from a flag: set-password and create read them
from standard input, or ask twice without echo on a terminal. delete asks
for confirmation on a terminal and needs --yes otherwise.

Exit status: 0 on success; 1 when the command failed (no user with that id,
email taken, an address the database layer refuses, database unreachable,
...); 2 on bad usage, including input checked before the database is opened
(an ID that is not a UUID; a password that is missing, too short or not
confirmed; --limit or --offset out of range; delete without --yes and no
terminal to ask).`,
		Example: `  printf '%s\n' "$PASSWORD" | authstore user create --name "Ada Lovelace" --email ada@example.com
  authstore user list --limit 20 --offset 40
  authstore user show ada@example.com
  authstore user update 3f1e6c7a-9b2d-4e8f-a1c3-5d7b9e0f2a4c --email ada@lovelace.example
  authstore user lock 3f1e6c7a-9b2d-4e8f-a1c3-5d7b9e0f2a4c --for 24h
  authstore user unlock 3f1e6c7a-9b2d-4e8f-a1c3-5d7b9e0f2a4c
  authstore user set-password 3f1e6c7a-9b2d-4e8f-a1c3-5d7b9e0f2a4c
  authstore user verify-email 3f1e6c7a-9b2d-4e8f-a1c3-5d7b9e0f2a4c
  authstore user 2fa status 3f1e6c7a-9b2d-4e8f-a1c3-5d7b9e0f2a4c
  authstore user delete 3f1e6c7a-9b2d-4e8f-a1c3-5d7b9e0f2a4c --yes`,
	})
	cmd.AddCommand(
		a.userCreateCommand(),
		a.userListCommand(),
		a.userShowCommand(),
		a.userUpdateCommand(),
		a.userDeleteCommand(),
		a.userLockCommand(),
		a.userUnlockCommand(),
		a.userSetPasswordCommand(),
		a.userVerifyEmailCommand(),
		a.userTwoFactorCommand(),
	)
	return cmd
}

func (a *app) userCreateCommand() *cobra.Command {
	var name, email string
	var asJSON *output
	cmd := &cobra.Command{
		Use:   "create --name NAME --email EMAIL",
		Short: "Create a user; the password is read from standard input or a prompt",
		Long: fmt.Sprintf(`create registers a user account with a name, an email address (unique,
compared in its NFKC case-folded form) and a password, hashed with Argon2id.

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

// lockUntilUnlocked is how long `user lock` locks without --for: a
// hundred years, which is until an operator unlocks the account.
const lockUntilUnlocked = repositories.MaxOperatorLock

func (a *app) userShowCommand() *cobra.Command {
	var asJSON *output
	cmd := &cobra.Command{
		Use:   "show ID|EMAIL",
		Short: "Show one user: profile, verification, lockout state, failed logins",
		Long: `show prints a user, found by id or by email address (compared
in its NFKC case-folded form): id, name, email, whether and when the email was
verified, whether two-factor authentication is on, the lockout state
(locked until when, locks since the last successful login), failed logins
since the last success and the last one's time, and the creation and update
times. It never prints the password hash or a two-factor secret.

An argument that is neither a UUID nor an email address is bad usage
(exit 2); no user with that id or email is a failure (exit 1).

With -o json it prints one JSON object: the fields of user list --json plus
"locked", "locked_until", "lockouts" and "last_failed_login_at".`,
		Example: `  authstore user show 3f1e6c7a-9b2d-4e8f-a1c3-5d7b9e0f2a4c
  authstore user show ada@example.com
  authstore user show ada@example.com -o json | jq .locked`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) != 1 {
				return usagef("%s takes one argument, the user's ID or email, got %d", cmd.CommandPath(), len(args))
			}
			if _, err := models.ParseUUID(args[0]); err != nil && !strings.Contains(args[0], "@") {
				return usagef("user %q is neither a UUID nor an email address", clip(args[0], 64))
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.withExistingStore(cmd.Context(), func(ctx context.Context, s *authstore.Store) error {
				var u *models.User
				var err error
				if id, perr := models.ParseUUID(args[0]); perr == nil {
					u, err = s.Users.FindByID(ctx, id)
					err = userError(id, err)
				} else {
					u, err = s.Users.FindByEmail(ctx, args[0])
					if errors.Is(err, repositories.ErrNotFound) {
						err = fmt.Errorf("no user with email %q", clip(args[0], 320))
					}
				}
				if err != nil {
					return err
				}
				now := time.Now()
				if asJSON.JSON() {
					return printJSON(a.stdout, newUserDetailJSON(u, now))
				}
				return a.printUser(u, now)
			})
		},
	}
	asJSON = addOutput(cmd, "the user")
	return cmd
}

func (a *app) userUpdateCommand() *cobra.Command {
	var name, email string
	var asJSON *output
	cmd := &cobra.Command{
		Use:   "update ID [--name NAME] [--email EMAIL]",
		Short: "Change a user's name or email address",
		Long: `update changes a user's display name, email address, or both; at least one
of --name and --email is required. A new email address (other than a change
of case) is unverified until verified again, and verification links sent to
the old address stop working; update says so on standard error. The email
must be free (compared in its NFKC case-folded form). A user.updated activity row
records the change; an update that changes nothing writes nothing.

An ID that is not a UUID, no flag, or an empty --name is bad usage (exit 2);
no user with that id, a taken or invalid email is a failure (exit 1).

With -o json it prints the user as one JSON object, as in user list --json.`,
		Example: `  authstore user update 3f1e6c7a-9b2d-4e8f-a1c3-5d7b9e0f2a4c --name "Ada King"
  authstore user update 3f1e6c7a-9b2d-4e8f-a1c3-5d7b9e0f2a4c --email ada@lovelace.example -o json`,
		Args: userIDArg,
		RunE: func(cmd *cobra.Command, args []string) error {
			id := userID(args)
			var in repositories.ProfileInput
			if cmd.Flags().Changed("name") {
				if strings.TrimSpace(name) == "" {
					return usagef("--name must not be empty")
				}
				in.Name = &name
			}
			if cmd.Flags().Changed("email") {
				in.Email = &email
			}
			if in.Name == nil && in.Email == nil {
				return usagef("nothing to update: pass --name, --email or both")
			}
			return a.withStore(cmd.Context(), func(ctx context.Context, s *authstore.Store) error {
				before, err := s.Users.FindByID(ctx, id)
				if err != nil {
					return userError(id, err)
				}
				u, err := s.Users.UpdateProfile(ctx, id, in)
				if errors.Is(err, repositories.ErrDuplicate) {
					return fmt.Errorf("a user with email %q already exists", email)
				}
				if err != nil {
					return userError(id, err)
				}
				changed := u.Name != before.Name || u.Email != before.Email
				if before.EmailVerifiedAt != nil && u.EmailVerifiedAt == nil {
					fmt.Fprintf(a.stderr, "the new email address is unverified; once it is confirmed, run 'authstore user verify-email %s'\n", id)
				}
				if asJSON.JSON() {
					return printJSON(a.stdout, newUserJSON(u))
				}
				if !changed {
					fmt.Fprintf(a.stdout, "user %s unchanged\n", id)
					return nil
				}
				fmt.Fprintf(a.stdout, "updated user %s (%s, %s)\n", id, u.Email, oneLineText(u.Name))
				return nil
			})
		},
	}
	cmd.Flags().StringVar(&name, "name", "", "the new display name")
	cmd.Flags().StringVar(&email, "email", "", "the new email address")
	asJSON = addOutput(cmd, "the updated user")
	return cmd
}

func (a *app) userDeleteCommand() *cobra.Command {
	var yes bool
	cmd := &cobra.Command{
		Use:   "delete ID [--yes]",
		Short: "Delete a user and everything of theirs",
		Long: `delete removes a user account. Their sessions, password resets, email
verifications, authorization codes, access, refresh and personal tokens and
the clients they own go with it; their activity log rows stay, with the user
id cleared, and a user.deleted row records the deletion and the id. It
cannot be undone.

On a terminal delete asks for confirmation; otherwise it needs --yes and,
without it, changes nothing and exits with status 2. An ID that is not a
UUID is bad usage (exit 2); no user with that id is a failure (exit 1).`,
		Example: `  authstore user delete 3f1e6c7a-9b2d-4e8f-a1c3-5d7b9e0f2a4c
  authstore user delete 3f1e6c7a-9b2d-4e8f-a1c3-5d7b9e0f2a4c --yes`,
		Args: userIDArg,
		RunE: func(cmd *cobra.Command, args []string) error {
			id := userID(args)
			return a.withStore(cmd.Context(), func(ctx context.Context, s *authstore.Store) error {
				u, err := s.Users.FindByID(ctx, id)
				if err != nil {
					return userError(id, err)
				}
				err = a.confirm(cmd, yes,
					fmt.Sprintf("Delete user %s (%s) with their sessions, tokens and owned clients?", id, u.Email),
					"delete removes the user and everything of theirs for good")
				if err != nil {
					return err
				}
				if err := s.Users.Delete(ctx, id); err != nil {
					return userError(id, err)
				}
				fmt.Fprintf(a.stdout, "deleted user %s (%s)\n", id, u.Email)
				return nil
			})
		},
	}
	cmd.Flags().BoolVar(&yes, "yes", false, "delete without asking")
	return cmd
}

func (a *app) userLockCommand() *cobra.Command {
	var lockFor durationFlag
	cmd := &cobra.Command{
		Use:   "lock ID [--for DURATION]",
		Short: "Lock a user out: every login is refused until unlocked or the time is up",
		Long: fmt.Sprintf(`lock locks an account: every password login is refused, the right password
included, as after too many failed logins. Without --for the lock lasts
until 'authstore user unlock' ends it (it is stored as a lock of 100
years, and user show says "locked until unlocked"); with --for (90m, 36h,
7d) it ends by itself then. It replaces a lock in force, and unlike the
locks after failed logins it is not capped at %g hours. An account.locked
activity row records it.

A lock refuses new logins only: the user's sessions and tokens keep working
until they are revoked or expire.

An ID that is not a UUID or a bad --for is bad usage (exit 2); no user with
that id is a failure (exit 1).`, repositories.MaxLockout.Hours()),
		Example: `  authstore user lock 3f1e6c7a-9b2d-4e8f-a1c3-5d7b9e0f2a4c
  authstore user lock 3f1e6c7a-9b2d-4e8f-a1c3-5d7b9e0f2a4c --for 24h`,
		Args: userIDArg,
		RunE: func(cmd *cobra.Command, args []string) error {
			id := userID(args)
			d := lockFor.d
			if d == 0 {
				d = lockUntilUnlocked
			}
			return a.withStore(cmd.Context(), func(ctx context.Context, s *authstore.Store) error {
				if err := s.Users.Lock(ctx, id, d); err != nil {
					return userError(id, err)
				}
				if lockFor.d == 0 {
					fmt.Fprintf(a.stdout, "locked user %s until unlocked ('authstore user unlock %s')\n", id, id)
					return nil
				}
				u, err := s.Users.FindByID(ctx, id)
				if err != nil {
					return userError(id, err)
				}
				until := time.Now().Add(d)
				if u.LockedUntil != nil {
					until = *u.LockedUntil
				}
				fmt.Fprintf(a.stdout, "locked user %s until %s\n", id, formatTime(until))
				return nil
			})
		},
	}
	cmd.Flags().Var(&lockFor, "for", "how long the lock lasts, e.g. 90m, 36h, 7d (default: until unlocked)")
	return cmd
}

func (a *app) userUnlockCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "unlock ID",
		Short: "End a user's lock and clear their failed logins",
		Long: `unlock ends a lock, whether an operator's or one after failed logins, and
clears the failed-login counts, so the user can log in at once. An
account.unlocked activity row records it. Unlocking an account that is not
locked changes nothing and succeeds.

An ID that is not a UUID is bad usage (exit 2); no user with that id is a
failure (exit 1).`,
		Example: `  authstore user unlock 3f1e6c7a-9b2d-4e8f-a1c3-5d7b9e0f2a4c`,
		Args:    userIDArg,
		RunE: func(cmd *cobra.Command, args []string) error {
			id := userID(args)
			return a.withStore(cmd.Context(), func(ctx context.Context, s *authstore.Store) error {
				u, err := s.Users.FindByID(ctx, id)
				if err != nil {
					return userError(id, err)
				}
				if !userLocked(u, time.Now()) {
					fmt.Fprintf(a.stdout, "user %s was not locked\n", id)
					return nil
				}
				if err := s.Users.Unlock(ctx, id); err != nil {
					return userError(id, err)
				}
				fmt.Fprintf(a.stdout, "unlocked user %s\n", id)
				return nil
			})
		},
	}
}

func (a *app) userSetPasswordCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "set-password ID",
		Short: "Set a user's password; ends their sessions and revokes their tokens",
		Long: fmt.Sprintf(`set-password gives a user a new password without the current one, as a
completed password reset does: in one transaction it stores the new
Argon2id hash, ends every session of the user, revokes their authorization
codes, access, refresh and personal tokens, and voids outstanding password
resets. password.changed and password.set_by_operator activity rows record
it. A lock stays in force ('authstore user unlock' ends it).

The password is never taken from a flag. When standard input is a terminal,
set-password asks for it twice, without echo; otherwise it reads the first
line of standard input (without its line ending). It must be %d to %d
characters long.

An ID that is not a UUID, or a password that is missing, too short, too
long or not confirmed, is bad usage (exit 2) and nothing is opened; no user
with that id is a failure (exit 1).`, hooks.MinPasswordLength, hooks.MaxPasswordLength),
		Example: `  # Prompted for the password, twice
  authstore user set-password 3f1e6c7a-9b2d-4e8f-a1c3-5d7b9e0f2a4c

  # From a secret store, in a script
  vault kv get -field=password secret/ada | authstore user set-password 3f1e6c7a-9b2d-4e8f-a1c3-5d7b9e0f2a4c`,
		Args: userIDArg,
		RunE: func(cmd *cobra.Command, args []string) error {
			id := userID(args)
			password, err := a.readPassword(cmd.InOrStdin())
			if err != nil {
				return err
			}
			return a.withStore(cmd.Context(), func(ctx context.Context, s *authstore.Store) error {
				if err := s.Users.SetPassword(ctx, id, password); err != nil {
					return userError(id, err)
				}
				fmt.Fprintf(a.stdout, "set the password of user %s; ended their sessions and revoked their tokens\n", id)
				return nil
			})
		},
	}
}

func (a *app) userVerifyEmailCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "verify-email ID",
		Short: "Mark a user's email address verified",
		Long: `verify-email records that the user's current email address is verified, as
following a verification link does, for an address the operator confirmed
some other way. An email.verified activity row records it. An address
already verified is left as it was (its time unchanged) and the command
succeeds.

An ID that is not a UUID is bad usage (exit 2); no user with that id is a
failure (exit 1).`,
		Example: `  authstore user verify-email 3f1e6c7a-9b2d-4e8f-a1c3-5d7b9e0f2a4c`,
		Args:    userIDArg,
		RunE: func(cmd *cobra.Command, args []string) error {
			id := userID(args)
			return a.withStore(cmd.Context(), func(ctx context.Context, s *authstore.Store) error {
				u, err := s.Users.FindByID(ctx, id)
				if err != nil {
					return userError(id, err)
				}
				if u.EmailVerifiedAt != nil {
					fmt.Fprintf(a.stdout, "the email of user %s (%s) was already verified at %s\n", id, u.Email, formatTime(*u.EmailVerifiedAt))
					return nil
				}
				if err := s.Users.MarkEmailVerified(ctx, id); err != nil {
					return userError(id, err)
				}
				fmt.Fprintf(a.stdout, "marked the email of user %s (%s) verified\n", id, u.Email)
				return nil
			})
		},
	}
}

// userIDArg accepts exactly one argument, a user id in UUID form.
func userIDArg(cmd *cobra.Command, args []string) error {
	if len(args) != 1 {
		return usagef("%s takes one argument, the user ID, got %d", cmd.CommandPath(), len(args))
	}
	if _, err := models.ParseUUID(args[0]); err != nil {
		return usagef("user ID %q is not a UUID", clip(args[0], 64))
	}
	return nil
}

// userID returns the user id argument that userIDArg accepted, in
// canonical form.
func userID(args []string) models.UUID {
	id, _ := models.ParseUUID(args[0])
	return id
}

// userError rewords the errors that name the user.
func userError(id models.UUID, err error) error {
	if errors.Is(err, repositories.ErrNotFound) {
		return fmt.Errorf("no user with id %s; 'authstore user list' lists them", id)
	}
	return err
}

// userLocked reports whether u's lock is in force at now.
func userLocked(u *models.User, now time.Time) bool {
	return u.LockedUntil != nil && now.Before(*u.LockedUntil)
}

// userDetailJSON is the output of `user show -o json`: the user of user
// list, with the lockout state.
type userDetailJSON struct {
	userJSON
	Locked            bool       `json:"locked"`
	LockedUntil       *time.Time `json:"locked_until"`
	Lockouts          int64      `json:"lockouts"`
	LastFailedLoginAt *time.Time `json:"last_failed_login_at"`
}

func newUserDetailJSON(u *models.User, now time.Time) userDetailJSON {
	utc := func(t *time.Time) *time.Time {
		if t == nil {
			return nil
		}
		v := t.UTC()
		return &v
	}
	return userDetailJSON{
		userJSON:          newUserJSON(u),
		Locked:            userLocked(u, now),
		LockedUntil:       utc(u.LockedUntil),
		Lockouts:          u.Lockouts,
		LastFailedLoginAt: utc(u.LastFailedLoginAt),
	}
}

// printUser prints u as "key: value" lines, without its password hash or
// two-factor secrets.
func (a *app) printUser(u *models.User, now time.Time) error {
	yesAt := func(t *time.Time) string {
		if t == nil {
			return "no"
		}
		return "yes, " + formatTime(*t)
	}
	status := "active"
	if userLocked(u, now) {
		status = "locked until " + formatTime(*u.LockedUntil)
		if u.LockedUntil.Sub(now) > lockUntilUnlocked/2 {
			status = "locked until unlocked"
		}
	}
	twoFactor := "off"
	if u.TwoFactorConfirmedAt != nil {
		twoFactor = "on"
	}
	// The count starts again at each successful login; the time of the
	// last failure stays.
	failed := fmt.Sprintf("%d since the last successful login", u.FailedLogins)
	if u.FailedLogins == 0 && u.LastFailedLoginAt == nil {
		failed = "0"
	}
	if u.LastFailedLoginAt != nil {
		failed += "; last failure " + formatTime(*u.LastFailedLoginAt)
	}
	rows := [][]string{
		{"id:", string(u.ID)},
		{"name:", u.Name},
		{"email:", u.Email},
		{"email verified:", yesAt(u.EmailVerifiedAt)},
		{"two-factor:", twoFactor},
		{"status:", status},
		{"lockouts:", fmt.Sprint(u.Lockouts)},
		{"failed logins:", failed},
		{"created:", formatTime(u.CreatedAt)},
		{"updated:", formatTime(u.UpdatedAt)},
	}
	w := tabwriter.NewWriter(a.stdout, 0, 0, 2, ' ', 0)
	for _, r := range rows {
		fmt.Fprintf(w, "%s\t%s\n", r[0], oneLineText(r[1]))
	}
	return w.Flush()
}

func (a *app) userTwoFactorCommand() *cobra.Command {
	cmd := groupCommand(&cobra.Command{
		Use:   "2fa",
		Short: "Show whether a user has a second factor; reset it",
		Long: `2fa shows and resets a user's two-factor authentication (a TOTP factor and
its recovery codes). Neither command prints a secret or a code: status says
whether a factor is enrolled and confirmed and how many recovery codes are
left; reset removes the factor and the codes, for a user who lost both, so
that their password alone logs them in until they enrol again.

reset asks for confirmation on a terminal and needs --yes otherwise.`,
		Example: `  authstore user 2fa status 3f1e6c7a-9b2d-4e8f-a1c3-5d7b9e0f2a4c
  authstore user 2fa status 3f1e6c7a-9b2d-4e8f-a1c3-5d7b9e0f2a4c --json
  authstore user 2fa reset 3f1e6c7a-9b2d-4e8f-a1c3-5d7b9e0f2a4c --yes`,
	})
	cmd.AddCommand(a.userTwoFactorStatusCommand(), a.userTwoFactorResetCommand())
	return cmd
}

func (a *app) userTwoFactorStatusCommand() *cobra.Command {
	var out *output
	cmd := &cobra.Command{
		Use:   "status ID",
		Short: "Show whether a user has a second factor and how many recovery codes are left",
		Long: `status reports a user's second factor: none, enrolled but not confirmed (it
is not asked for yet), or confirmed (asked for at every login), with when it
was confirmed and how many unused recovery codes are left.

An ID that is not a UUID is bad usage (exit 2); no user with that id is a
failure (exit 1).`,
		Example: `  authstore user 2fa status 3f1e6c7a-9b2d-4e8f-a1c3-5d7b9e0f2a4c --json`,
		Args:    userIDArg,
		RunE: func(cmd *cobra.Command, args []string) error {
			id := userID(args)
			return a.withStore(cmd.Context(), func(ctx context.Context, s *authstore.Store) error {
				st, err := s.TwoFactor.Status(ctx, id)
				if err != nil {
					return userError(id, err)
				}
				if out.JSON() {
					return printJSON(a.stdout, st)
				}
				switch {
				case st.Confirmed:
					fmt.Fprintf(a.stdout, "user %s: TOTP factor confirmed %s; %d recovery codes left\n", id, formatTime(*st.ConfirmedAt), st.RecoveryCodesLeft)
				case st.Enrolled:
					fmt.Fprintf(a.stdout, "user %s: TOTP factor enrolled, not confirmed (not asked for at login)\n", id)
				default:
					fmt.Fprintf(a.stdout, "user %s: no second factor\n", id)
				}
				return nil
			})
		},
	}
	out = addOutput(cmd, "the status")
	return cmd
}

func (a *app) userTwoFactorResetCommand() *cobra.Command {
	var yes bool
	cmd := &cobra.Command{
		Use:   "reset ID [--yes]",
		Short: "Remove a user's second factor and recovery codes",
		Long: `reset removes a user's TOTP factor, their recovery codes and their open
second-factor challenges, without a code: for a user who lost their device
and their codes. Their password alone logs them in afterwards, until they
enrol again. A two_factor.reset activity row records it. A user without a
factor is left as is, and reset says so.

On a terminal reset asks for confirmation; otherwise it needs --yes and,
without it, changes nothing and exits with status 2. An ID that is not a
UUID is bad usage (exit 2); no user with that id is a failure (exit 1).`,
		Example: `  authstore user 2fa reset 3f1e6c7a-9b2d-4e8f-a1c3-5d7b9e0f2a4c --yes`,
		Args:    userIDArg,
		RunE: func(cmd *cobra.Command, args []string) error {
			id := userID(args)
			return a.withStore(cmd.Context(), func(ctx context.Context, s *authstore.Store) error {
				u, err := s.Users.FindByID(ctx, id)
				if err != nil {
					return userError(id, err)
				}
				st, err := s.TwoFactor.Status(ctx, id)
				if err != nil {
					return userError(id, err)
				}
				if !st.Enrolled && st.RecoveryCodesLeft == 0 {
					fmt.Fprintf(a.stdout, "user %s (%s) has no second factor: nothing to reset\n", id, u.Email)
					return nil
				}
				err = a.confirm(cmd, yes,
					fmt.Sprintf("Remove the second factor and recovery codes of user %s (%s)?", id, u.Email),
					"reset leaves the account protected by its password alone")
				if err != nil {
					return err
				}
				if err := s.TwoFactor.Reset(ctx, id); err != nil {
					return userError(id, err)
				}
				fmt.Fprintf(a.stdout, "reset the second factor of user %s (%s)\n", id, u.Email)
				return nil
			})
		},
	}
	cmd.Flags().BoolVar(&yes, "yes", false, "reset without asking")
	return cmd
}
