package main

import (
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/forgeauth/authstore/hooks"
)

// TestUserAndActivityCommands walks user create and list and the activity
// log they leave.
func TestUserAndActivityCommands(t *testing.T) {
	t.Parallel()
	forBackends(t, func(t *testing.T, b backend) {
		var outputs []string
		keep := func(r result) result {
			outputs = append(outputs, r.stdout, r.stderr)
			return r
		}
		b.mustRun(t, "migrate", "up")

		// The password is the first line of standard input, CR LF or not.
		r := keep(b.runInput(t, "correct horse battery\r\nignored second line\n", "user", "create", "--name", "Ada Lovelace", "--email", "Ada@Example.com"))
		m := regexp.MustCompile(`^created user ([0-9a-f-]{36}) \(Ada@Example\.com\)\n$`).FindStringSubmatch(r.stdout)
		if r.code != 0 || m == nil || r.stderr != "" {
			t.Fatalf("user create: %v; want exit 0 and 'created user ID (Ada@Example.com)'", r)
		}
		adaID := m[1]
		checkPassword(t, b, adaID, "correct horse battery")

		var grace userJSON
		r = keep(b.runInput(t, "another good one", "user", "create", "--name", "Grace Hopper", "--email", "grace@example.com", "--json"))
		if r.code != 0 {
			t.Fatalf("user create --json: %v", r)
		}
		decodeJSON(t, r.stdout, &grace)
		if grace.Email != "grace@example.com" || grace.Name != "Grace Hopper" || grace.EmailVerifiedAt != nil || grace.ID == "" {
			t.Errorf("user create --json = %+v", grace)
		}
		checkPassword(t, b, grace.ID.String(), "another good one")

		// A taken email (compared case-insensitively) and an invalid one
		// fail (exit 1) with one line; no user is added.
		failsWith(t, keep(b.runInput(t, "correct horse battery\n", "user", "create", "--name", "Ada", "--email", "ada@example.COM")),
			exitFailure, `a user with email "ada@example.COM" already exists`)
		failsWith(t, keep(b.runInput(t, "correct horse battery\n", "user", "create", "--name", "Bob", "--email", "not-an-email")),
			exitFailure, "email is not a valid address")
		if n := b.count(t, "users"); n != 2 {
			t.Errorf("users has %d rows; want 2", n)
		}

		// list, in text and JSON, with limit and offset.
		r = keep(b.mustRun(t, "user", "list"))
		for _, re := range []string{
			`(?m)^ID\s+VERIFIED\s+CREATED\s+EMAIL\s+NAME$`,
			`(?m)^` + adaID + `\s+no\s+\S+\s+Ada@Example\.com\s+Ada Lovelace$`,
			`(?m)^` + grace.ID.String() + `\s+no\s+\S+\s+grace@example\.com\s+Grace Hopper$`,
			`(?m)^users 1 to 2 of 2$`,
		} {
			if !regexp.MustCompile(re).MatchString(r.stdout) {
				t.Errorf("user list printed\n%s\nwant a line matching %s", r.stdout, re)
			}
		}
		var list userListJSON
		keep(b.mustJSON(t, &list, "user", "list", "--limit", "1", "--offset", "1", "--json"))
		if list.Total != 2 || list.Limit != 1 || list.Offset != 1 || len(list.Users) != 1 || list.Users[0].ID != grace.ID {
			t.Errorf("user list --limit 1 --offset 1 --json = %+v; want Grace, of 2", list)
		}
		keep(b.mustJSON(t, &list, "user", "list", "--offset", "5", "--json"))
		if list.Total != 2 || len(list.Users) != 0 {
			t.Errorf("user list --offset 5 --json = %+v; want no user, of 2", list)
		}
		r = keep(b.mustRun(t, "user", "list", "--offset", "5"))
		if r.stdout != "no users at offset 5 (2 in all)\n" {
			t.Errorf("user list --offset 5 printed %q", r.stdout)
		}

		// activity: the registrations and a client creation, made by the
		// CLI.
		var client clientCreatedJSON
		keep(b.mustJSON(t, &client, "client", "create", "--name", "App", "--redirect-uri", "https://app.example.com/cb", "--json"))
		var act activityListJSON
		keep(b.mustJSON(t, &act, "activity", "--json"))
		if len(act.Events) != 3 || act.Events[0].Event != "client.created" ||
			act.Events[1].Event != "user.registered" || act.Events[2].Event != "user.registered" {
			t.Fatalf("activity --json = %+v; want client.created and two user.registered, newest first", act)
		}
		for _, e := range act.Events {
			if e.UserAgent != cliUserAgent || time.Since(e.CreatedAt) > time.Hour || time.Since(e.CreatedAt) < -time.Minute {
				t.Errorf("event %+v; want user agent %q and a recent time", e, cliUserAgent)
			}
		}
		if !strings.Contains(string(act.Events[0].Metadata), client.ID.String()) {
			t.Errorf("client.created metadata %s; want the client id", act.Events[0].Metadata)
		}
		keep(b.mustJSON(t, &act, "activity", "--user", adaID, "--json"))
		if len(act.Events) != 1 || act.Events[0].UserID == nil || act.Events[0].UserID.String() != adaID || act.Events[0].Event != "user.registered" {
			t.Errorf("activity --user %s --json = %+v; want Ada's registration", adaID, act)
		}
		keep(b.mustJSON(t, &act, "activity", "--limit", "1", "--since", "1h", "--json"))
		if len(act.Events) != 1 || act.Events[0].Event != "client.created" {
			t.Errorf("activity --limit 1 --since 1h --json = %+v; want the newest event", act)
		}
		keep(b.mustJSON(t, &act, "activity", "--user", grace.ID.String(), "--since", "1d", "--json"))
		if len(act.Events) != 1 {
			t.Errorf("activity --user --since 1d --json = %+v; want Grace's registration", act)
		}
		// Events of two days ago are outside --since 1d.
		b.exec(t, "UPDATE "+b.table("user_activity_log")+" SET created_at = ?", time.Now().UTC().Add(-48*time.Hour).Truncate(time.Microsecond))
		for _, args := range [][]string{
			{"activity", "--since", "1d", "--json"},
			{"activity", "--user", grace.ID.String(), "--since", "24h", "--json"},
			{"activity", "--user", "0b4c6a0e-3d0f-4a59-9c1e-2f8e3a7d5b21", "--json"},
		} {
			keep(b.mustJSON(t, &act, args...))
			if len(act.Events) != 0 {
				t.Errorf("%s = %+v; want no event", strings.Join(args, " "), act)
			}
		}
		r = keep(b.mustRun(t, "activity", "--since", "1d"))
		if r.stdout != "no events\n" {
			t.Errorf("activity --since 1d printed %q; want no events", r.stdout)
		}
		r = keep(b.mustRun(t, "activity"))
		for _, re := range []string{
			`(?m)^TIME\s+EVENT\s+USER\s+IP\s+DETAILS$`,
			`(?m)^\S+Z\s+client\.created\s+-\s+-\s+\{"client_id":"` + client.ID.String() + `".*\}$`,
			`(?m)^\S+Z\s+user\.registered\s+` + adaID + `\s+-\s+-$`,
		} {
			if !regexp.MustCompile(re).MatchString(r.stdout) {
				t.Errorf("activity printed\n%s\nwant a line matching %s", r.stdout, re)
			}
		}

		// No output holds a password hash.
		hashes := b.strings(t, "SELECT password FROM "+b.table("users"))
		for _, out := range outputs {
			if strings.Contains(out, "$argon2") || strings.Contains(out, "correct horse") {
				t.Errorf("output %q holds a password or an Argon2id hash", out)
			}
			for _, h := range hashes {
				if strings.Contains(out, h) {
					t.Errorf("output %q holds a stored password hash", out)
				}
			}
		}
	})
}

// checkPassword checks that password matches the hash stored for the user.
func checkPassword(t *testing.T, b backend, id, password string) {
	t.Helper()
	hashes := b.strings(t, "SELECT password FROM "+b.table("users")+" WHERE id = ?", id)
	if len(hashes) != 1 {
		t.Fatalf("user %s: %d stored passwords; want 1", id, len(hashes))
	}
	if ok, err := hooks.DefaultHasher().Verify(hashes[0], password); !ok || err != nil {
		t.Errorf("user %s: the stored hash does not match %q: %v", id, password, err)
	}
}
