package main

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/forgeauth/authstore"
	"github.com/forgeauth/authstore/models"
	"github.com/forgeauth/authstore/repositories"
)

// The tests of this file run the user administration commands (show,
// update, delete, lock, unlock, set-password, verify-email) as an operator
// would, on SQLite and PostgreSQL, and check what they change through the
// library (a Store opened in-process on the same database) or the CLI.

const (
	adaPassword = "correct horse battery"
	newPassword = "an operator's new passphrase"
)

// authenticate opens a Store on b's database in-process and returns what
// Users.Authenticate(email, password) returns.
func authenticate(t *testing.T, b backend, email, password string) error {
	t.Helper()
	s, err := authstore.Open(context.Background(), storeConfig(t, b, b.target))
	if err != nil {
		t.Fatalf("authstore.Open: %v", err)
	}
	defer s.Close()
	_, err = s.Users.Authenticate(context.Background(), email, password)
	return err
}

// showUser runs `user show REF -o json` and decodes it.
func showUser(t *testing.T, b backend, ref string) userDetailJSON {
	t.Helper()
	var u userDetailJSON
	b.mustJSON(t, &u, "user", "show", ref, "-o", "json")
	return u
}

// createUser creates a user through the CLI and returns it.
func createUser(t *testing.T, b backend, name, email, password string) userJSON {
	t.Helper()
	r := b.runInput(t, password+"\n", "user", "create", "--name", name, "--email", email, "--json")
	if r.code != 0 {
		t.Fatalf("user create %s: %v", email, r)
	}
	var u userJSON
	decodeJSON(t, r.stdout, &u)
	return u
}

// events counts the activity rows of one event for a user.
func (b backend) events(t *testing.T, event models.Event, userID string) int {
	t.Helper()
	return len(b.strings(t, "SELECT event FROM "+b.table("user_activity_log")+" WHERE event = ? AND user_id = ?", string(event), userID))
}

func TestUserShowCommand(t *testing.T) {
	t.Parallel()
	forBackends(t, func(t *testing.T, b backend) {
		b.mustRun(t, "migrate", "up")
		ada := createUser(t, b, "Ada Lovelace", "Ada@Example.com", adaPassword)
		id := ada.ID.String()

		for _, ref := range []string{id, strings.ToUpper(id), "ada@EXAMPLE.com"} {
			u := showUser(t, b, ref)
			if u.ID != ada.ID || u.Email != "Ada@Example.com" || u.Name != "Ada Lovelace" || u.Locked || u.LockedUntil != nil ||
				u.EmailVerifiedAt != nil || u.FailedLogins != 0 || u.Lockouts != 0 || u.CreatedAt.IsZero() {
				t.Errorf("user show %s -o json = %+v; want Ada, unverified, not locked", ref, u)
			}
		}

		r := b.mustRun(t, "user", "show", id)
		for _, re := range []string{
			`(?m)^id:\s+` + id + `$`,
			`(?m)^name:\s+Ada Lovelace$`,
			`(?m)^email:\s+Ada@Example\.com$`,
			`(?m)^email verified:\s+no$`,
			`(?m)^two-factor:\s+off$`,
			`(?m)^status:\s+active$`,
			`(?m)^failed logins:\s+0$`,
			`(?m)^created:\s+\d{4}-\d\d-\d\dT`,
		} {
			if !regexp.MustCompile(re).MatchString(r.stdout) {
				t.Errorf("user show printed\n%s\nwant a line matching %s", r.stdout, re)
			}
		}
		hash := b.strings(t, "SELECT password FROM "+b.table("users")+" WHERE id = ?", id)[0]
		for _, out := range []string{r.stdout, b.mustRun(t, "user", "show", id, "--json").stdout} {
			if strings.Contains(out, "argon2") || strings.Contains(out, hash) || strings.Contains(out, "password") || strings.Contains(out, "secret") {
				t.Errorf("user show printed a password hash or secret field:\n%s", out)
			}
		}

		// Failed logins show, with their time.
		if err := authenticate(t, b, ada.Email, "wrong password"); !errors.Is(err, repositories.ErrInvalidCredentials) {
			t.Fatalf("Authenticate(wrong password) = %v; want ErrInvalidCredentials", err)
		}
		if u := showUser(t, b, id); u.FailedLogins != 1 || u.LastFailedLoginAt == nil {
			t.Errorf("after a failed login: user show = %+v; want 1 failed login and its time", u)
		}
		// A success starts the count again; the last failure's time stays,
		// and the line says which is which.
		if err := authenticate(t, b, ada.Email, adaPassword); err != nil {
			t.Fatal(err)
		}
		r = b.mustRun(t, "user", "show", id)
		if re := `(?m)^failed logins:\s+0 since the last successful login; last failure \d{4}-\d\d-\d\dT\S+$`; !regexp.MustCompile(re).MatchString(r.stdout) {
			t.Errorf("user show after a failure then a success printed\n%s\nwant a line matching %s", r.stdout, re)
		}

		unknown := models.NewUUID().String()
		failsWith(t, b.run(t, "user", "show", unknown), exitFailure, "no user with id "+unknown)
		failsWith(t, b.run(t, "user", "show", "nobody@example.com"), exitFailure, `no user with email "nobody@example.com"`)
		failsWith(t, b.run(t, "user", "show", "not-a-uuid"), exitUsage, `user "not-a-uuid" is neither a UUID nor an email address`)
		failsWith(t, b.run(t, "user", "show"), exitUsage, "takes one argument")
		failsWith(t, b.run(t, "user", "show", id, "-o", "yaml"), exitUsage, "want table or json")
	})
}

func TestUserUpdateCommand(t *testing.T) {
	t.Parallel()
	forBackends(t, func(t *testing.T, b backend) {
		b.mustRun(t, "migrate", "up")
		ada := createUser(t, b, "Ada Lovelace", "ada@example.com", adaPassword)
		createUser(t, b, "Grace Hopper", "grace@example.com", adaPassword)
		id := ada.ID.String()

		r := b.mustRun(t, "user", "update", id, "--name", "Ada King")
		if r.stdout != "updated user "+id+" (ada@example.com, Ada King)\n" || r.stderr != "" {
			t.Errorf("user update --name: %v", r)
		}
		if u := showUser(t, b, id); u.Name != "Ada King" || u.Email != "ada@example.com" {
			t.Errorf("after update --name: %+v", u)
		}
		if n := b.events(t, models.EventProfileUpdated, id); n != 1 {
			t.Errorf("user.updated rows = %d; want 1", n)
		}

		// A new address of a verified user is unverified again, and the
		// command says so on stderr.
		b.mustRun(t, "user", "verify-email", id)
		var updated userJSON
		r = b.runInput(t, "", "user", "update", id, "--email", "ada@lovelace.example", "-o", "json")
		if r.code != 0 || !strings.Contains(r.stderr, "unverified") || !strings.Contains(r.stderr, "user verify-email "+id) {
			t.Fatalf("user update --email of a verified user: %v; want exit 0 and a notice on stderr", r)
		}
		decodeJSON(t, r.stdout, &updated)
		if updated.Email != "ada@lovelace.example" || updated.EmailVerifiedAt != nil || updated.Name != "Ada King" {
			t.Errorf("user update --email -o json = %+v", updated)
		}
		if u := showUser(t, b, "ada@lovelace.example"); u.ID != ada.ID || u.EmailVerifiedAt != nil {
			t.Errorf("after update --email: %+v; want the new address, unverified", u)
		}

		// An update that changes nothing says so and records nothing.
		r = b.mustRun(t, "user", "update", id, "--name", "Ada King")
		if r.stdout != "user "+id+" unchanged\n" {
			t.Errorf("user update with the same name printed %q", r.stdout)
		}
		if n := b.events(t, models.EventProfileUpdated, id); n != 2 {
			t.Errorf("user.updated rows = %d; want 2", n)
		}

		before := b.mustRun(t, "user", "show", id, "-o", "json").stdout
		failsWith(t, b.run(t, "user", "update", id, "--email", "GRACE@example.com"), exitFailure, `a user with email "GRACE@example.com" already exists`)
		failsWith(t, b.run(t, "user", "update", id, "--email", "not-an-email"), exitFailure, "email is not a valid address")
		failsWith(t, b.run(t, "user", "update", id), exitUsage, "nothing to update")
		failsWith(t, b.run(t, "user", "update", id, "--name", "  "), exitUsage, "--name must not be empty")
		failsWith(t, b.run(t, "user", "update", "12345", "--name", "X"), exitUsage, `user ID "12345" is not a UUID`)
		unknown := models.NewUUID().String()
		failsWith(t, b.run(t, "user", "update", unknown, "--name", "X"), exitFailure, "no user with id "+unknown)
		if after := b.mustRun(t, "user", "show", id, "-o", "json").stdout; after != before {
			t.Errorf("refused updates changed the user: %s; want %s", after, before)
		}
	})
}

func TestUserDeleteCommand(t *testing.T) {
	t.Parallel()
	forBackends(t, func(t *testing.T, b backend) {
		b.mustRun(t, "migrate", "up")
		ada := createUser(t, b, "Ada Lovelace", "ada@example.com", adaPassword)
		grace := createUser(t, b, "Grace Hopper", "grace@example.com", adaPassword)
		b.seedOAuth(t) // sessions and tokens of Ada, the first user
		id := ada.ID.String()

		// Without --yes and no terminal: bad usage, nothing deleted.
		failsWith(t, b.run(t, "user", "delete", id), exitUsage, "--yes")
		if n := b.count(t, "users"); n != 2 {
			t.Fatalf("users = %d after an unconfirmed delete; want 2", n)
		}
		if n := len(b.strings(t, "SELECT id FROM "+b.table("sessions")+" WHERE user_id = ?", id)); n != 1 {
			t.Errorf("Ada's sessions = %d after an unconfirmed delete; want 1", n)
		}

		failsWith(t, b.run(t, "user", "delete", "nope", "--yes"), exitUsage, `user ID "nope" is not a UUID`)
		unknown := models.NewUUID().String()
		failsWith(t, b.run(t, "user", "delete", unknown, "--yes"), exitFailure, "no user with id "+unknown)

		r := b.mustRun(t, "user", "delete", id, "--yes")
		if r.stdout != "deleted user "+id+" (ada@example.com)\n" {
			t.Errorf("user delete --yes printed %q", r.stdout)
		}
		failsWith(t, b.run(t, "user", "show", id), exitFailure, "no user with id "+id)
		if u := showUser(t, b, grace.ID.String()); u.ID != grace.ID {
			t.Errorf("another user went: %+v", u)
		}
		for _, table := range []string{"sessions", "oauth_personal_access_tokens", "oauth_authorization_codes"} {
			if n := len(b.strings(t, "SELECT id FROM "+b.table(table)+" WHERE user_id = ?", id)); n != 0 {
				t.Errorf("%s rows of the deleted user = %d; want 0", table, n)
			}
		}
		if n := len(b.strings(t, "SELECT event FROM "+b.table("user_activity_log")+" WHERE event = ?", string(models.EventUserDeleted))); n != 1 {
			t.Errorf("user.deleted rows = %d; want 1", n)
		}
		failsWith(t, b.run(t, "user", "delete", id, "--yes"), exitFailure, "no user with id "+id)
	})
}

func TestUserLockUnlockCommands(t *testing.T) {
	t.Parallel()
	forBackends(t, func(t *testing.T, b backend) {
		b.mustRun(t, "migrate", "up")
		ada := createUser(t, b, "Ada Lovelace", "ada@example.com", adaPassword)
		id := ada.ID.String()

		// Without --for: until unlocked.
		r := b.mustRun(t, "user", "lock", id)
		if !strings.HasPrefix(r.stdout, "locked user "+id+" until unlocked") {
			t.Errorf("user lock printed %q", r.stdout)
		}
		u := showUser(t, b, id)
		if !u.Locked || u.LockedUntil == nil || time.Until(*u.LockedUntil) < 50*365*24*time.Hour || u.Lockouts != 1 {
			t.Errorf("after user lock: %+v; want locked for a century", u)
		}
		if r := b.mustRun(t, "user", "show", id); !regexp.MustCompile(`(?m)^status:\s+locked until unlocked$`).MatchString(r.stdout) {
			t.Errorf("user show of a locked user printed\n%s", r.stdout)
		}
		if err := authenticate(t, b, ada.Email, adaPassword); !errors.Is(err, repositories.ErrAccountLocked) {
			t.Errorf("Authenticate(right password) of a locked user = %v; want ErrAccountLocked", err)
		}

		r = b.mustRun(t, "user", "unlock", id)
		if r.stdout != "unlocked user "+id+"\n" {
			t.Errorf("user unlock printed %q", r.stdout)
		}
		if u := showUser(t, b, id); u.Locked || u.LockedUntil != nil || u.FailedLogins != 0 {
			t.Errorf("after user unlock: %+v; want not locked", u)
		}
		if err := authenticate(t, b, ada.Email, adaPassword); err != nil {
			t.Errorf("Authenticate(right password) after unlock = %v; want nil", err)
		}
		r = b.mustRun(t, "user", "unlock", id)
		if r.stdout != "user "+id+" was not locked\n" {
			t.Errorf("a second user unlock printed %q", r.stdout)
		}
		if n := b.events(t, models.EventAccountUnlocked, id); n != 1 {
			t.Errorf("account.unlocked rows = %d; want 1", n)
		}

		// With --for: a lock that ends by itself.
		start := time.Now()
		r = b.mustRun(t, "user", "lock", id, "--for", "2h")
		if !strings.HasPrefix(r.stdout, "locked user "+id+" until ") {
			t.Errorf("user lock --for 2h printed %q", r.stdout)
		}
		u = showUser(t, b, id)
		if !u.Locked || u.LockedUntil == nil || u.LockedUntil.Before(start.Add(2*time.Hour-time.Minute)) || u.LockedUntil.After(time.Now().Add(2*time.Hour+time.Minute)) {
			t.Errorf("after user lock --for 2h: %+v; want locked for two hours", u)
		}
		if n := b.events(t, models.EventAccountLocked, id); n != 2 {
			t.Errorf("account.locked rows = %d; want 2", n)
		}

		for _, bad := range []string{"0s", "-1h", "soon"} {
			failsWith(t, b.run(t, "user", "lock", id, "--for", bad), exitUsage, "positive duration")
		}
		failsWith(t, b.run(t, "user", "lock", "nope"), exitUsage, `user ID "nope" is not a UUID`)
		failsWith(t, b.run(t, "user", "unlock", "nope"), exitUsage, `user ID "nope" is not a UUID`)
		unknown := models.NewUUID().String()
		failsWith(t, b.run(t, "user", "lock", unknown), exitFailure, "no user with id "+unknown)
		failsWith(t, b.run(t, "user", "unlock", unknown), exitFailure, "no user with id "+unknown)
	})
}

func TestUserSetPasswordCommand(t *testing.T) {
	t.Parallel()
	forBackends(t, func(t *testing.T, b backend) {
		b.mustRun(t, "migrate", "up")
		ada := createUser(t, b, "Ada Lovelace", "ada@example.com", adaPassword)
		grace := createUser(t, b, "Grace Hopper", "grace@example.com", adaPassword)
		b.seedOAuth(t) // a session, codes and tokens of Ada, the first user
		id := ada.ID.String()
		hash := func() string { return b.strings(t, "SELECT password FROM "+b.table("users")+" WHERE id = ?", id)[0] }
		before := hash()

		// Bad input changes nothing: no password, a short one, a bad or
		// unknown id.
		failsWith(t, b.runInput(t, "", "user", "set-password", id), exitUsage, "no password on standard input")
		failsWith(t, b.run(t, "user", "set-password", id), exitUsage, "no password on standard input")
		failsWith(t, b.runInput(t, "short\n", "user", "set-password", id), exitUsage, "password")
		failsWith(t, b.runInput(t, newPassword+"\n", "user", "set-password", "nope"), exitUsage, `user ID "nope" is not a UUID`)
		unknown := models.NewUUID().String()
		failsWith(t, b.runInput(t, newPassword+"\n", "user", "set-password", unknown), exitFailure, "no user with id "+unknown)
		failsWith(t, b.runInput(t, newPassword+"\n", "user", "set-password", id, "--password", "x"), exitUsage, "unknown flag")
		if hash() != before {
			t.Fatal("refused set-password runs changed the password")
		}

		r := b.runInput(t, newPassword+"\n", "user", "set-password", id)
		if r.code != 0 || r.stdout != "set the password of user "+id+"; ended their sessions and revoked their tokens\n" {
			t.Fatalf("user set-password: %v", r)
		}
		if strings.Contains(r.stdout+r.stderr, newPassword) {
			t.Errorf("user set-password printed the password: %v", r)
		}
		if err := authenticate(t, b, ada.Email, adaPassword); !errors.Is(err, repositories.ErrInvalidCredentials) {
			t.Errorf("Authenticate(old password) = %v; want ErrInvalidCredentials", err)
		}
		if err := authenticate(t, b, ada.Email, newPassword); err != nil {
			t.Errorf("Authenticate(new password) = %v; want nil", err)
		}
		if err := authenticate(t, b, grace.Email, adaPassword); err != nil {
			t.Errorf("Authenticate(another user's password) = %v; want nil", err)
		}

		// Everything the old password opened is ended, as by a reset.
		if n := len(b.strings(t, "SELECT id FROM "+b.table("sessions")+" WHERE user_id = ?", id)); n != 0 {
			t.Errorf("Ada's sessions after set-password = %d; want 0", n)
		}
		for _, table := range []string{"oauth_access_tokens", "oauth_refresh_tokens", "oauth_authorization_codes", "oauth_personal_access_tokens"} {
			live := b.strings(t, "SELECT id FROM "+b.table(table)+" WHERE user_id = ? AND revoked = ?", id, false)
			if len(live) != 0 {
				t.Errorf("%s: %d rows of Ada still live after set-password; want 0", table, len(live))
			}
		}
		for _, e := range []models.Event{models.EventPasswordSetByOperator, models.EventPasswordChanged} {
			if n := b.events(t, e, id); n != 1 {
				t.Errorf("%s rows = %d; want 1", e, n)
			}
		}
	})
}

func TestUserVerifyEmailCommand(t *testing.T) {
	t.Parallel()
	forBackends(t, func(t *testing.T, b backend) {
		b.mustRun(t, "migrate", "up")
		ada := createUser(t, b, "Ada Lovelace", "ada@example.com", adaPassword)
		id := ada.ID.String()

		r := b.mustRun(t, "user", "verify-email", id)
		if r.stdout != "marked the email of user "+id+" (ada@example.com) verified\n" {
			t.Errorf("user verify-email printed %q", r.stdout)
		}
		u := showUser(t, b, id)
		if u.EmailVerifiedAt == nil {
			t.Fatalf("after verify-email: %+v; want verified", u)
		}
		if r := b.mustRun(t, "user", "show", id); !regexp.MustCompile(`(?m)^email verified:\s+yes, \d{4}-`).MatchString(r.stdout) {
			t.Errorf("user show of a verified user printed\n%s", r.stdout)
		}

		// Again: nothing changes, the time stays.
		r = b.mustRun(t, "user", "verify-email", id)
		if !strings.HasPrefix(r.stdout, "the email of user "+id+" (ada@example.com) was already verified at ") {
			t.Errorf("a second verify-email printed %q", r.stdout)
		}
		if again := showUser(t, b, id); again.EmailVerifiedAt == nil || !again.EmailVerifiedAt.Equal(*u.EmailVerifiedAt) {
			t.Errorf("a second verify-email moved the time: %v; want %v", again.EmailVerifiedAt, u.EmailVerifiedAt)
		}
		if n := b.events(t, models.EventEmailVerified, id); n != 1 {
			t.Errorf("email.verified rows = %d; want 1", n)
		}

		failsWith(t, b.run(t, "user", "verify-email", "nope"), exitUsage, `user ID "nope" is not a UUID`)
		unknown := models.NewUUID().String()
		failsWith(t, b.run(t, "user", "verify-email", unknown), exitFailure, "no user with id "+unknown)
		failsWith(t, b.run(t, "user", "verify-email"), exitUsage, "takes one argument, the user ID")
	})
}

// TestUserAdminOnATerminal answers the prompts of delete and set-password
// on a pseudo-terminal, as an operator would: delete asks before it
// deletes; set-password asks twice, without echo, and refuses a mismatch.
func TestUserAdminOnATerminal(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "authstore.db") // the file storeConfig names
	tg := target{dialect: "sqlite", dir: dir, env: []string{"DATABASE_URL=sqlite://" + path}}
	b := backend{target: tg}
	tg.mustRun(t, "migrate", "up")
	ada := createUser(t, b, "Ada Lovelace", "ada@example.com", adaPassword)
	id := ada.ID.String()

	out, code := runPrompted(t, tg, []string{newPassword, newPassword + "!"}, "user", "set-password", id)
	if code != 2 || !strings.Contains(out, "do not match") || strings.Contains(out, newPassword) {
		t.Errorf("set-password with a mismatched confirmation: exit %d, output %q; want exit 2, no echo", code, out)
	}
	out, code = runPrompted(t, tg, []string{newPassword, newPassword}, "user", "set-password", id)
	if code != 0 || !strings.Contains(out, "Confirm password: ") || strings.Contains(out, newPassword) {
		t.Errorf("set-password on a terminal: exit %d, output %q; want exit 0, two prompts, no echo", code, out)
	}
	if err := authenticate(t, b, ada.Email, newPassword); err != nil {
		t.Errorf("Authenticate(password typed at the prompt) = %v; want nil", err)
	}

	r := runOnTerminal(t, tg, "n\n", "user", "delete", id)
	if r.code != 1 || !strings.Contains(r.out, "Delete user "+id+" (ada@example.com)") || !strings.Contains(r.out, "not confirmed; nothing changed") {
		t.Errorf("user delete answered no: exit %d, output %q", r.code, r.out)
	}
	showUser(t, b, id)
	r = runOnTerminal(t, tg, "y\n", "user", "delete", id)
	if r.code != 0 || !strings.Contains(r.out, "deleted user "+id) {
		t.Errorf("user delete answered yes: exit %d, output %q", r.code, r.out)
	}
	failsWith(t, tg.run(t, "user", "show", id), exitFailure, "no user with id "+id)
}

// runPrompted runs the binary on a pseudo-terminal and types each of
// answers after the next "password: " prompt (case-insensitive), once the
// prompt has turned the echo off (it is printed before). It returns what
// the terminal showed and the exit status.
func runPrompted(t *testing.T, tg target, answers []string, args ...string) (string, int) {
	t.Helper()
	tm := startTerminal(t, tg, args...)
	for i, answer := range answers {
		tm.waitUntil(fmt.Sprintf("password prompt %d with the echo off", i+1), func() bool {
			return strings.Count(strings.ToLower(tm.shown()), "password: ") > i && !tm.echoOn()
		})
		tm.typeText(answer + "\r")
	}
	r := tm.wait()
	return r.out, r.code
}

func TestUserTwoFactorCommands(t *testing.T) {
	t.Parallel()
	forBackends(t, func(t *testing.T, b backend) {
		withDemoKeys(&b)
		var report map[string]any
		b.mustJSON(t, &report, "demo", "--json") // a demo user with a confirmed factor
		id, _ := report["user_id"].(string)

		var st repositories.TwoFactorStatus
		b.mustJSON(t, &st, "user", "2fa", "status", id, "--json")
		if !st.Enrolled || !st.Confirmed || st.ConfirmedAt == nil || st.RecoveryCodesLeft != repositories.RecoveryCodeCount-1 {
			t.Errorf("user 2fa status --json = %+v; want a confirmed factor with 9 recovery codes left", st)
		}
		r := b.mustRun(t, "user", "2fa", "status", id)
		if !strings.Contains(r.stdout, "TOTP factor confirmed") || !strings.Contains(r.stdout, "9 recovery codes left") {
			t.Errorf("user 2fa status printed %q", r.stdout)
		}
		secret, _ := report["totp_secret"].(string)
		if secret == "" || strings.Contains(r.stdout, secret) {
			t.Errorf("user 2fa status printed the secret, or the demo printed none")
		}

		failsWith(t, b.run(t, "user", "2fa", "reset", id), exitUsage, "--yes")
		failsWith(t, b.run(t, "user", "2fa", "status", "nope"), exitUsage, `user ID "nope" is not a UUID`)
		unknown := models.NewUUID().String()
		failsWith(t, b.run(t, "user", "2fa", "reset", unknown, "--yes"), exitFailure, "no user with id "+unknown)

		r = b.mustRun(t, "user", "2fa", "reset", id, "--yes")
		if !strings.HasPrefix(r.stdout, "reset the second factor of user "+id) {
			t.Errorf("user 2fa reset --yes printed %q", r.stdout)
		}
		if r := b.mustRun(t, "user", "2fa", "status", id); r.stdout != "user "+id+": no second factor\n" {
			t.Errorf("user 2fa status after reset printed %q", r.stdout)
		}
		if n := b.count(t, "recovery_codes"); n != 0 {
			t.Errorf("recovery codes after reset = %d; want 0", n)
		}
		// Again: nothing to reset, said so, and no second activity row.
		r = b.mustRun(t, "user", "2fa", "reset", id, "--yes")
		if !strings.HasSuffix(r.stdout, "has no second factor: nothing to reset\n") {
			t.Errorf("user 2fa reset of a user without a factor printed %q", r.stdout)
		}
		if n := len(b.strings(t, "SELECT event FROM "+b.table("user_activity_log")+" WHERE event = ?", string(models.EventTwoFactorReset))); n != 1 {
			t.Errorf("two_factor.reset rows = %d; want 1", n)
		}
	})
}
