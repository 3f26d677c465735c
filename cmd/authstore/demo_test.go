package main

import (
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/base32"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/forgeauth/authstore/config"
	"github.com/forgeauth/authstore/hooks"
	"github.com/forgeauth/authstore/models"
)

// TestDemoLeavesNoPlaintext is the "done when" of the authentication and
// OAuth2 issues: `authstore demo --json`, run twice on a fresh database,
// leaves Argon2id PHC strings in users.password and in the secrets of
// confidential clients, none of the printed plaintexts anywhere in a dump
// of the database, and activity rows of at least six distinct events.
func TestDemoLeavesNoPlaintext(t *testing.T) {
	t.Parallel()
	forBackends(t, func(t *testing.T, b backend) {
		var secrets []string
		for run := 0; run < 2; run++ {
			var report map[string]any
			b.mustJSON(t, &report, "demo", "--json")
			n := 0
			for k, v := range report {
				s, ok := v.(string)
				if !ok || !(strings.HasSuffix(k, "password") || strings.HasSuffix(k, "token") || strings.HasSuffix(k, "secret") || strings.HasSuffix(k, "code")) {
					continue
				}
				if len(s) < 16 {
					t.Fatalf("demo --json %s = %q: too short to be a generated secret", k, s)
				}
				secrets = append(secrets, s)
				n++
			}
			if n < 15 {
				t.Fatalf("demo --json printed %d plaintexts; want every generated one (>= 15)", n)
			}
		}

		dump := b.dump(t)
		for _, s := range secrets {
			if strings.Contains(dump, s) {
				t.Errorf("a plaintext printed by demo --json is stored in the database")
			}
		}
		for _, h := range b.strings(t, "SELECT password FROM "+b.table("users")) {
			if !hooks.IsArgon2id(h) {
				t.Errorf("users.password holds a value that is not an Argon2id PHC string")
			}
		}
		confidential := b.strings(t, "SELECT secret FROM "+b.table("oauth_clients")+" WHERE confidential = ?", true)
		if len(confidential) != 2 {
			t.Errorf("confidential clients with a secret = %d; want 2 (one per run)", len(confidential))
		}
		for _, h := range confidential {
			if !hooks.IsArgon2id(h) {
				t.Errorf("oauth_clients.secret holds a value that is not an Argon2id PHC string")
			}
		}
		if events := b.strings(t, "SELECT DISTINCT event FROM "+b.table("user_activity_log")); len(events) < 6 {
			t.Errorf("distinct activity events = %v; want at least 6", events)
		}
	})
}

// dump returns every value of every column of every table as text.
func (b backend) dump(t *testing.T) string {
	t.Helper()
	var tables []string
	if b.schema == "" {
		tables = b.strings(t, "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")
	} else {
		tables = b.strings(t, "SELECT table_name FROM information_schema.tables WHERE table_schema = ? AND table_type = 'BASE TABLE'", b.schema)
	}
	if len(tables) < 10 {
		t.Fatalf("dump found tables %v; want the ten of authstore", tables)
	}
	var sb strings.Builder
	for _, table := range tables {
		rows, err := b.db.Query("SELECT * FROM " + b.table(table))
		if err != nil {
			t.Fatalf("dump %s: %v", table, err)
		}
		cols, _ := rows.Columns()
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		for rows.Next() {
			if err := rows.Scan(ptrs...); err != nil {
				t.Fatal(err)
			}
			for _, v := range vals {
				if bs, ok := v.([]byte); ok {
					v = string(bs)
				}
				fmt.Fprintf(&sb, "%v\x00", v)
			}
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		rows.Close()
	}
	return sb.String()
}

// TestDemoCleanup checks that `demo --cleanup` deletes the users and
// clients of earlier demo runs, those of runs before the markers included,
// with their sessions and tokens, and nothing else; that it needs --yes
// without a terminal; and that the demo's output says what it made and
// how to look at it, and claims to send no email.
func TestDemoCleanup(t *testing.T) {
	t.Parallel()
	forBackends(t, func(t *testing.T, b backend) {
		r := b.mustRun(t, "demo")
		for _, want := range []string{"created user ", "authstore stats", "authstore client list", "authstore demo --cleanup", "sends nothing"} {
			if !strings.Contains(r.stdout, want) {
				t.Errorf("demo printed\n%s\nwant %q in it", r.stdout, want)
			}
		}
		if strings.Contains(r.stdout, "sent to") {
			t.Errorf("demo claims to send email:\n%s", r.stdout)
		}
		var rep struct {
			UserID    string   `json:"user_id"`
			Email     string   `json:"email"`
			ClientIDs []string `json:"client_ids"`
		}
		r = b.mustRun(t, "demo", "--json")
		if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
			t.Fatal(err)
		}
		if !strings.HasSuffix(rep.Email, "@demo.authstore.invalid") || len(rep.ClientIDs) != 2 {
			t.Errorf("demo --json = %+v; want an email at demo.authstore.invalid and two client ids", rep)
		}

		// What runs before the markers left, and near misses that are not
		// the demo's.
		hash := phpBcrypt(t, "a password 123")
		b.mustRun(t, "import", writeLines(t,
			fmt.Sprintf(`{"kind":"user","name":"Demo User","email":"demo+abcdefghij@example.com","password":%q}`, hash),
			fmt.Sprintf(`{"kind":"user","name":"Demo User","email":"demo+abc@example.com","password":%q}`, hash),
			fmt.Sprintf(`{"kind":"user","name":"Ada","email":"ada@example.com","password":%q}`, hash),
			fmt.Sprintf(`{"kind":"client","id":%q,"name":"Demo Web App","redirect_uris":["https://app.example.com/callback"],"grant_types":["authorization_code"]}`, models.NewUUID()),
			fmt.Sprintf(`{"kind":"client","id":%q,"name":"Demo Web App","redirect_uris":["https://other.example.com/callback"],"grant_types":["authorization_code"]}`, models.NewUUID()),
			fmt.Sprintf(`{"kind":"client","id":%q,"name":"My authstore demo: app","redirect_uris":["https://app.example.com/callback"],"grant_types":["authorization_code"]}`, models.NewUUID()),
		))
		users, clients := b.count(t, "users"), b.count(t, "oauth_clients")
		if users != 5 || clients != 7 {
			t.Fatalf("before cleanup: %d users, %d clients; want 5 and 7", users, clients)
		}

		r = b.run(t, "demo", "--cleanup")
		failsWith(t, r, exitUsage, "--yes")
		if b.count(t, "users") != users || b.count(t, "oauth_clients") != clients {
			t.Fatalf("demo --cleanup without --yes deleted rows")
		}
		failsWith(t, b.run(t, "demo", "--yes"), exitUsage, "--cleanup")

		var out demoCleanupJSON
		b.mustJSON(t, &out, "demo", "--cleanup", "--yes", "--json")
		if len(out.DeletedUsers) != 3 || len(out.DeletedClients) != 5 {
			t.Errorf("demo --cleanup = %+v; want 3 users (two runs and an old one) and 5 clients", out)
		}
		for _, id := range append([]string{rep.UserID}, rep.ClientIDs...) {
			if !strings.Contains(fmt.Sprint(out), id) {
				t.Errorf("demo --cleanup did not delete %s", id)
			}
		}
		if got := b.strings(t, "SELECT email FROM "+b.table("users")+" ORDER BY email"); fmt.Sprint(got) != "[ada@example.com demo+abc@example.com]" {
			t.Errorf("users left = %v; want the two that are not the demo's", got)
		}
		if got := b.strings(t, "SELECT name FROM "+b.table("oauth_clients")+" ORDER BY name"); fmt.Sprint(got) != "[Demo Web App My authstore demo: app]" {
			t.Errorf("clients left = %v; want the two that are not the demo's", got)
		}
		for _, table := range []string{"sessions", "oauth_access_tokens", "oauth_refresh_tokens", "oauth_authorization_codes", "oauth_personal_access_tokens"} {
			if n := b.count(t, table); n != 0 {
				t.Errorf("%s holds %d rows after cleanup; want the demo's gone", table, n)
			}
		}
		if n := len(b.strings(t, "SELECT event FROM "+b.table("user_activity_log")+" WHERE event = ?", "user.deleted")); n != 3 {
			t.Errorf("user.deleted rows = %d; want 3 (the log keeps the trail)", n)
		}

		r = b.mustRun(t, "demo", "--cleanup")
		if !strings.Contains(r.stdout, "nothing to delete") {
			t.Errorf("second cleanup printed %q; want nothing to delete", r.stdout)
		}
	})
}

// TestDemoMySQLDump is issue 15's "done when": on a fresh MySQL (MariaDB)
// database, `authstore demo --json` builds what it needs and runs, and a
// mysqldump of the database afterwards holds none of the plaintexts it
// printed, while the users' passwords are Argon2id PHC strings.
func TestDemoMySQLDump(t *testing.T) {
	t.Parallel()
	base := os.Getenv("AUTHSTORE_TEST_MYSQL_URL")
	if base == "" {
		if os.Getenv("AUTHSTORE_REQUIRE_MYSQL") == "1" {
			t.Fatal("AUTHSTORE_TEST_MYSQL_URL is not set but AUTHSTORE_REQUIRE_MYSQL=1: MySQL tests must run")
		}
		t.Skip("MySQL tests skipped: set AUTHSTORE_TEST_MYSQL_URL (e.g. mysql://root@127.0.0.1:3306/test)")
	}
	mysqldump, err := exec.LookPath("mysqldump")
	if err != nil {
		mysqldump, err = exec.LookPath("mariadb-dump")
	}
	if err != nil {
		t.Fatal("neither mysqldump nor mariadb-dump is on PATH")
	}
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	d, err := config.ParseDatabaseURL(base)
	if err != nil {
		t.Fatal(err)
	}
	admin, err := sql.Open("mysql", d.DSN)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	var r [6]byte
	_, _ = rand.Read(r[:])
	name := "authstore_cli_test_" + hex.EncodeToString(r[:])
	if _, err := admin.Exec("CREATE DATABASE " + name); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { admin.Exec("DROP DATABASE IF EXISTS " + name) })
	u.Path = "/" + name
	tg := target{dialect: "mysql", dir: t.TempDir(), env: []string{"DATABASE_URL=" + u.String()}}

	var report map[string]any
	tg.mustJSON(t, &report, "demo", "--json")
	var secrets []string
	for k, v := range report {
		s, ok := v.(string)
		if ok && (strings.HasSuffix(k, "password") || strings.HasSuffix(k, "token") || strings.HasSuffix(k, "secret") || strings.HasSuffix(k, "code")) {
			secrets = append(secrets, s)
		}
	}
	if len(secrets) < 15 {
		t.Fatalf("demo --json printed %d plaintexts; want every generated one (>= 15)", len(secrets))
	}

	args := []string{"--skip-extended-insert", "--single-transaction", "-h", u.Hostname(), "-P", u.Port(), "-u", u.User.Username()}
	if pw, ok := u.User.Password(); ok {
		args = append(args, "-p"+pw)
	}
	out, err := exec.Command(mysqldump, append(args, name)...).Output()
	if err != nil {
		t.Fatalf("mysqldump: %v", err)
	}
	dump := string(out)
	if !strings.Contains(dump, "INSERT INTO `users`") || !strings.Contains(dump, "INSERT INTO `oauth_refresh_tokens`") {
		t.Fatal("the dump holds no users or refresh tokens: the demo wrote nothing")
	}
	for _, s := range secrets {
		if strings.Contains(dump, s) {
			t.Errorf("a plaintext printed by demo --json is in the mysqldump of the database")
		}
	}
	rows, err := admin.Query("SELECT password FROM " + name + ".users")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		var h string
		if err := rows.Scan(&h); err != nil {
			t.Fatal(err)
		}
		if !hooks.IsArgon2id(h) {
			t.Errorf("users.password holds a value that is not an Argon2id PHC string")
		}
		n++
	}
	if n == 0 {
		t.Error("the demo made no user")
	}
}

// TestDemoTwoFactorLeavesNoTrace is the "done when" of the two-factor
// issue: demo --json prints a TOTP secret and recovery codes, and a dump of
// every column of every table afterwards holds none of them, nor the
// secret's key bytes, nor any one's plain SHA-256 digest, in any encoding
// (raw, hex, base32, base64 standard and URL, padded or not).
func TestDemoTwoFactorLeavesNoTrace(t *testing.T) {
	t.Parallel()
	forBackends(t, func(t *testing.T, b backend) {
		withDemoKeys(&b)
		var report map[string]any
		b.mustJSON(t, &report, "demo", "--json")
		secret, _ := report["totp_secret"].(string)
		if secret == "" {
			t.Fatalf("demo --json printed no totp_secret: %v", report["steps"])
		}
		key, err := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(strings.TrimRight(secret, "="))
		if err != nil {
			t.Fatalf("totp_secret is not base32: %v", err)
		}
		plaintexts := [][]byte{[]byte(secret), key}
		var codes int
		for k, v := range report {
			if s, ok := v.(string); ok && strings.HasPrefix(k, "recovery_") && strings.HasSuffix(k, "_code") {
				plaintexts = append(plaintexts, []byte(s), []byte(strings.ReplaceAll(s, "-", "")))
				codes++
			}
		}
		if codes != 10 {
			t.Fatalf("demo --json printed %d recovery codes; want 10", codes)
		}
		dump := b.dump(t)
		for i, p := range plaintexts {
			sum := sha256.Sum256(p)
			for _, v := range [][]byte{p, sum[:]} {
				for _, form := range everyEncoding(v) {
					if len(form) >= 8 && strings.Contains(dump, form) {
						t.Errorf("plaintext %d (or its SHA-256 digest) is in the dump, encoded as %.6q...", i, form)
					}
				}
			}
		}
		if events := b.strings(t, "SELECT DISTINCT event FROM "+b.table("user_activity_log")+" WHERE event LIKE 'two_factor.%'"); len(events) < 5 {
			t.Errorf("two-factor activity events = %v; want enrolment, confirmation, challenge, failure, success, codes, recovery use", events)
		}
	})
}

// everyEncoding returns b as text (when it is), hex (both cases), base32
// (standard, padded or not, both cases) and base64 (standard and URL,
// padded or not).
func everyEncoding(b []byte) []string {
	b32 := base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b)
	return []string{
		string(b),
		hex.EncodeToString(b), strings.ToUpper(hex.EncodeToString(b)),
		base32.StdEncoding.EncodeToString(b), b32, strings.ToLower(b32),
		base64.StdEncoding.EncodeToString(b), base64.RawStdEncoding.EncodeToString(b),
		base64.URLEncoding.EncodeToString(b), base64.RawURLEncoding.EncodeToString(b),
	}
}
