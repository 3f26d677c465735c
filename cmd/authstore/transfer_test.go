package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/forgeauth/authstore"
	"github.com/forgeauth/authstore/config"
	"github.com/forgeauth/authstore/hooks"
	"github.com/forgeauth/authstore/models"
	"golang.org/x/crypto/bcrypt"
)

// freshTarget returns a second, empty database beside b's (another SQLite
// file in b's folder, or another PostgreSQL schema), migrated, with its
// DATABASE_URL.
func freshTarget(t *testing.T, b backend) (target, string) {
	t.Helper()
	var tg target
	var u string
	if b.schema == "" {
		u = "sqlite://" + filepath.Join(t.TempDir(), "dest.db")
		tg = target{dialect: "sqlite", dir: b.dir, flags: []string{"--database-url", u}}
	} else {
		u, _, _ = postgresSchema(t)
		tg = target{dialect: "postgres", dir: t.TempDir(), env: []string{"DATABASE_URL=" + u}}
	}
	tg.mustRun(t, "migrate", "up")
	return tg, u
}

// databaseURL returns the DATABASE_URL of b.
func (b backend) databaseURL() string {
	if b.schema == "" {
		return "sqlite://" + filepath.Join(b.dir, "authstore.db")
	}
	for _, kv := range b.env {
		if v, ok := strings.CutPrefix(kv, "DATABASE_URL="); ok {
			return v
		}
	}
	return ""
}

// openURL opens a Store over the database at u, in this process.
func openURL(t *testing.T, u string) *authstore.Store {
	t.Helper()
	cfg := config.Default()
	cfg.DatabaseURL = u
	s, err := authstore.Open(context.Background(), cfg)
	if err != nil {
		t.Fatalf("open %s: %v", u, err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// phpBcrypt returns a $2y$ bcrypt hash of password at cost 10, as Laravel
// stores it.
func phpBcrypt(t *testing.T, password string) string {
	t.Helper()
	h, err := bcrypt.GenerateFromPassword([]byte(password), 10)
	if err != nil {
		t.Fatal(err)
	}
	return "$2y$" + string(h[4:])
}

// writeLines writes lines to a file in a new folder and returns its path.
func writeLines(t *testing.T, lines ...string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "import.jsonl")
	if err := os.WriteFile(p, []byte(strings.Join(lines, "\n")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// importSummary runs import -o json and decodes its summary.
func importSummary(t *testing.T, tg target, args ...string) importJSON {
	t.Helper()
	r := tg.mustRun(t, append([]string{"import", "-o", "json"}, args...)...)
	var s importJSON
	decodeJSON(t, r.stdout, &s)
	return s
}

func TestExportImport(t *testing.T) {
	t.Parallel()
	forBackends(t, func(t *testing.T, b backend) {
		var rep map[string]any
		b.mustJSON(t, &rep, "demo", "--json")
		const laravelPassword = "laravel secret 42"
		laravel := fmt.Sprintf(`{"kind":"user","name":"Taylor","email":"Taylor@Example.com","password":%q}`, phpBcrypt(t, laravelPassword))
		b.mustRun(t, "import", writeLines(t, laravel))
		b.runInput(t, "owner password 1\n", "user", "create", "--name", "Owner", "--email", "owner@example.com")
		r := b.mustRun(t, "client", "create", "--name", "Billing service", "--grant-type", "client_credentials", "-o", "json")
		var created struct {
			clientJSON
			ClientSecret string `json:"client_secret"`
			Warning      string `json:"warning"`
		}
		if err := json.Unmarshal([]byte(r.stdout), &created); err != nil {
			t.Fatal(err)
		}
		svc := created.clientJSON

		t.Run("Export", func(t *testing.T) {
			r := b.mustRun(t, "export")
			lines := strings.Split(strings.TrimSuffix(r.stdout, "\n"), "\n")
			if len(lines) != 6 || r.stderr != "exported 3 users and 3 clients\n" {
				t.Fatalf("export: %d lines, stderr %q; want 6 lines (3 users, 3 clients) and the counts", len(lines), r.stderr)
			}
			for i, l := range lines {
				var m map[string]any
				if err := json.Unmarshal([]byte(l), &m); err != nil {
					t.Fatalf("line %d: %v", i+1, err)
				}
				wantKind := "user"
				if i >= 3 {
					wantKind = "client"
				}
				if m["kind"] != wantKind {
					t.Errorf("line %d kind %v; want %s (users first)", i+1, m["kind"], wantKind)
				}
				for k, v := range m {
					if s, ok := v.(string); ok && (k == "password" || k == "secret") && !hooks.IsArgon2id(s) && !strings.HasPrefix(s, "$2y$") {
						t.Errorf("line %d %s is not a stored hash", i+1, k)
					}
				}
			}
			for k, v := range rep {
				if s, ok := v.(string); ok && strings.HasSuffix(k, "secret") && strings.Contains(r.stdout, s) {
					t.Errorf("export holds the plaintext %s", k)
				}
			}
			if strings.Contains(r.stdout, created.ClientSecret) {
				t.Errorf("export holds a client's plaintext secret")
			}
			if got := b.mustRun(t, "export", "--users").stdout; strings.Count(got, "\n") != 3 || strings.Contains(got, `"kind":"client"`) {
				t.Errorf("export --users = %q; want the 3 users only", got)
			}
			if got := b.mustRun(t, "export", "--clients").stdout; strings.Count(got, "\n") != 3 || strings.Contains(got, `"kind":"user"`) {
				t.Errorf("export --clients = %q; want the 3 clients only", got)
			}
		})

		t.Run("RoundTrip", func(t *testing.T) {
			export := b.mustRun(t, "export").stdout
			dst, dstURL := freshTarget(t, b)

			dry := importSummary(t, dst, "--dry-run", writeLines(t, export))
			want := importJSON{DryRun: true, Users: importCountsJSON{Created: 3}, Clients: importCountsJSON{Created: 3}, Skipped: []importSkipJSON{}}
			if fmt.Sprint(dry) != fmt.Sprint(want) {
				t.Errorf("import --dry-run = %+v; want %+v", dry, want)
			}
			if got := dst.mustRun(t, "export").stdout; got != "" {
				t.Fatalf("after --dry-run the destination exports %q; want nothing written", got)
			}

			r := dst.runInput(t, export, "import", "-")
			if r.code != 0 || !strings.Contains(r.stdout, "users    3") || !strings.Contains(r.stdout, "clients  3") {
				t.Fatalf("import -: %v; want a table of 3 users and 3 clients created", r)
			}
			if got := dst.mustRun(t, "export").stdout; got != export {
				t.Errorf("the destination exports\n%s\nwant the source's export\n%s", got, export)
			}

			s := openURL(t, dstURL)
			ctx := context.Background()
			for email, password := range map[string]string{
				rep["email"].(string): rep["new_password"].(string), "taylor@example.com": laravelPassword, "owner@example.com": "owner password 1",
			} {
				u, err := s.Users.Authenticate(ctx, email, password)
				if err != nil {
					t.Errorf("Authenticate(%s) on the destination = %v; want the old password to work", email, err)
					continue
				}
				if !hooks.IsArgon2id(u.PasswordHash) {
					t.Errorf("%s: hash not upgraded to Argon2id at login", email)
				}
			}
			if _, err := s.Clients.Authenticate(ctx, svc.ID, created.ClientSecret); err != nil {
				t.Errorf("Clients.Authenticate(imported client, its secret) = %v", err)
			}
			var imported int64
			s.DB().Model(&models.Activity{}).Where("event IN ?", []string{"user.imported", "client.imported"}).Count(&imported)
			if imported != 6 {
				t.Errorf("imported activity rows = %d; want 6", imported)
			}

			again := importSummary(t, dst, writeLines(t, export))
			// Taylor's login upgraded the bcrypt hash: that user is skipped,
			// not overwritten; the rest is unchanged.
			if again.Users.Created != 0 || again.Users.Unchanged != 2 || again.Users.Skipped != 1 || again.Clients.Unchanged != 3 || len(again.Skipped) != 1 {
				t.Errorf("second import = %+v; want Taylor skipped (password upgraded at login), the rest unchanged", again)
			}
			for _, sk := range again.Skipped {
				if sk.Kind != "user" || !strings.Contains(sk.Reason, "password") || sk.Line < 1 || sk.Line > 3 {
					t.Errorf("skipped %+v; want a user line 1-3 whose password differs", sk)
				}
			}
			s.DB().Model(&models.Activity{}).Where("event IN ?", []string{"user.imported", "client.imported"}).Count(&imported)
			if imported != 6 {
				t.Errorf("after the second import, imported activity rows = %d; want still 6", imported)
			}
		})

		t.Run("Idempotent", func(t *testing.T) {
			file := writeLines(t, laravel, `{"kind":"user","name":"Grace","email":"grace@example.com","password":"`+phpBcrypt(t, "grace password")+`"}`)
			dst, _ := freshTarget(t, b)
			first := importSummary(t, dst, file)
			second := importSummary(t, dst, file)
			if first.Users.Created != 2 || second.Users.Unchanged != 2 || second.Users.Created != 0 || second.Users.Skipped != 0 {
				t.Errorf("imports = %+v then %+v; want 2 created, then 2 unchanged", first, second)
			}
		})

		t.Run("BadLines", func(t *testing.T) {
			dst, _ := freshTarget(t, b)
			file := writeLines(t,
				laravel,
				`{"kind":"user","name":"P","email":"p@example.com","password":"hunter2hunter2"}`,
				`{"kind":"user","name":"Q","email":"q@example.com","pasword":"$2y$10$x"}`,
				``,
				`{"kind":"group","name":"admins"}`,
				`not json`,
				`{"kind":"client","name":"No id","grant_types":["client_credentials"],"confidential":true,"secret":null}`,
			)
			r := dst.run(t, "import", file)
			lines := strings.Split(strings.TrimSuffix(r.stderr, "\n"), "\n")
			last := lines[len(lines)-1]
			if r.code != 1 || r.stdout != "" || !strings.Contains(last, "5 bad line(s)") || !strings.Contains(last, "first line 2: ") ||
				!strings.Contains(last, "nothing was imported") || strings.Contains(r.stderr, "hunter2") {
				t.Errorf("%v; want exit 1, the bad lines listed and one error naming their count and the first", r)
			}
			for _, want := range []string{"line 2: password hash is neither", "line 3: json: unknown field", "line 5: \"kind\" is \"group\"", "line 6: not a JSON object", "line 7: client id is required"} {
				if !strings.Contains(r.stderr, want) {
					t.Errorf("stderr %q; want %q", r.stderr, want)
				}
			}
			if got := dst.mustRun(t, "export").stdout; got != "" {
				t.Errorf("after a failed import the destination exports %q; want nothing written", got)
			}
		})

		t.Run("SkippedOwner", func(t *testing.T) {
			dst, _ := freshTarget(t, b)
			owner := models.NewUUID()
			client := fmt.Sprintf(`{"kind":"client","id":%q,"user_id":%q,"name":"Owned","grant_types":["authorization_code"],"redirect_uris":["https://x.example.com/cb"],"confidential":false}`, models.NewUUID(), owner)
			s := importSummary(t, dst, writeLines(t, laravel, client))
			if s.Users.Created != 1 || s.Clients.Skipped != 1 || len(s.Skipped) != 1 || s.Skipped[0].Line != 2 || !strings.Contains(s.Skipped[0].Reason, string(owner)) {
				t.Errorf("import = %+v; want the client of line 2 skipped, naming its missing owner", s)
			}
		})

		t.Run("Usage", func(t *testing.T) {
			failsWith(t, b.run(t, "import"), exitUsage, "one argument")
			failsWith(t, b.run(t, "import", "a", "b"), exitUsage, "one argument")
			failsWith(t, b.run(t, "import", "-o", "yaml", "-"), exitUsage)
			failsWith(t, b.run(t, "import", filepath.Join(t.TempDir(), "missing.jsonl")), exitFailure, "missing.jsonl")
			failsWith(t, b.run(t, "import", "-"), exitFailure, "standard input holds no rows")
			failsWith(t, b.run(t, "export", "extra"), exitUsage)
		})
	})
}

func TestExportMissingDatabase(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	failsWith(t, run(t, dir, nil, "export"), exitFailure, "does not exist")
	line := fmt.Sprintf(`{"kind":"user","name":"Taylor","email":"taylor@example.com","password":%q}`, phpBcrypt(t, "laravel secret 42"))
	failsWith(t, run(t, dir, nil, "import", "--dry-run", writeLines(t, line)), exitFailure, "does not exist")
	failsWith(t, run(t, dir, nil, "import", "--dry-run", writeLines(t, `{"kind":"user"}`)), exitFailure, "line 1: name is empty")
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("export created %d files; want none", len(entries))
	}
}
