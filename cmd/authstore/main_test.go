package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/forgeauth/authstore/config"
	"github.com/forgeauth/authstore/migrations"
	_ "github.com/go-sql-driver/mysql"
	_ "github.com/jackc/pgx/v5/stdlib"
	_ "github.com/mattn/go-sqlite3"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

const (
	envPostgresURL     = "AUTHSTORE_TEST_POSTGRES_URL"
	envRequirePostgres = "AUTHSTORE_REQUIRE_POSTGRES"
)

// binary is the authstore command built by TestMain.
var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "authstore-cli-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "authstore")
	if out, err := exec.Command("go", "build", "-o", binary, ".").CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "go build: %v\n%s", err, out)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// result is what one run of the binary gave.
type result struct {
	code           int
	stdout, stderr string
}

func (r result) String() string {
	return fmt.Sprintf("exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
}

// target is a database the CLI is run against.
type target struct {
	dialect string
	dir     string   // working directory
	env     []string // KEY=VALUE besides PATH and HOME
	flags   []string // global flags before the command
	// objects lists authstore's tables and views (not schema_migrations),
	// name to "table" or "view".
	objects func(t *testing.T) map[string]string
}

// run runs the binary in tg.dir with tg's environment and flags.
func (tg target) run(t *testing.T, args ...string) result {
	t.Helper()
	return run(t, tg.dir, tg.env, append(slices.Clone(tg.flags), args...)...)
}

// run runs the binary in dir with an environment of PATH, HOME and env
// alone.
func run(t *testing.T, dir string, env []string, args ...string) result {
	t.Helper()
	return runWithInput(t, dir, env, nil, args...)
}

// runWithInput is run with stdin (nil for none) as standard input.
func runWithInput(t *testing.T, dir string, env []string, stdin io.Reader, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary, args...)
	cmd.Dir = dir
	cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME")}, env...)
	cmd.Stdin = stdin
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	r := result{stdout: stdout.String(), stderr: stderr.String()}
	var exit *exec.ExitError
	switch {
	case errors.As(err, &exit):
		r.code = exit.ExitCode()
	case err != nil:
		t.Fatalf("authstore %s: %v", strings.Join(args, " "), err)
	}
	return r
}

// mustRun runs the command and fails the test unless it exits 0.
func (tg target) mustRun(t *testing.T, args ...string) result {
	t.Helper()
	r := tg.run(t, args...)
	if r.code != 0 {
		t.Fatalf("authstore %s: %v; want exit 0", strings.Join(args, " "), r)
	}
	return r
}

// newestMigration is the newest embedded migration: the version migrate up
// reaches and baseline records.
func newestMigration(t *testing.T) migrations.Version {
	t.Helper()
	vs, err := migrations.Versions(config.DialectSQLite)
	if err != nil || len(vs) == 0 || vs[len(vs)-1].Version != migrations.Latest() {
		t.Fatalf("Versions = %v, %v; want them to end at Latest() = %d", vs, err, migrations.Latest())
	}
	return vs[len(vs)-1]
}

// atNewest is how the CLI names the newest version: "version N (name)".
func atNewest(t *testing.T) string {
	t.Helper()
	n := newestMigration(t)
	return fmt.Sprintf("version %d (%s)", n.Version, n.Name)
}

// status runs `migrate status --json` and decodes it.
func (tg target) status(t *testing.T) statusJSON {
	t.Helper()
	r := tg.mustRun(t, "migrate", "status", "--json")
	var st statusJSON
	if err := json.Unmarshal([]byte(r.stdout), &st); err != nil {
		t.Fatalf("migrate status --json: %v; output %q", err, r.stdout)
	}
	return st
}

var (
	authObjects = map[string]string{
		"users":                "table",
		"sessions":             "table",
		"password_resets":      "table",
		"email_verifications":  "table",
		"user_activity_log":    "table",
		"expired_auth_records": "view",
	}
	oauthObjects = map[string]string{
		"oauth_clients":                "table",
		"oauth_access_tokens":          "table",
		"oauth_refresh_tokens":         "table",
		"oauth_authorization_codes":    "table",
		"oauth_personal_access_tokens": "table",
		"oauth_expired_tokens":         "view",
	}
	// keyObjects are what migrations after 2 add (000005: signing keys;
	// 000006: the OpenID provider's authorization requests; 000007:
	// two-factor authentication).
	keyObjects = map[string]string{"signing_keys": "table", "oauth_auth_requests": "table", "recovery_codes": "table",
		"two_factor_used_steps": "table", "two_factor_challenges": "table"}
)

func union(ms ...map[string]string) map[string]string {
	out := map[string]string{}
	for _, m := range ms {
		maps.Copy(out, m)
	}
	return out
}

// testMigrate runs up, status, down 1, down --all and up again on tg and
// checks the versions and the schema after each.
func testMigrate(t *testing.T, tg target) {
	checkObjects := func(step string, want map[string]string) {
		t.Helper()
		if got := tg.objects(t); !maps.Equal(got, want) {
			t.Fatalf("after %s: tables and views = %v; want %v", step, got, want)
		}
	}
	latest := migrations.Latest()
	checkVersion := func(step string, want uint) {
		t.Helper()
		st := tg.status(t)
		if st.Dialect != tg.dialect || st.Version != want || st.Dirty || st.Latest != latest || len(st.Migrations) != int(latest) {
			t.Fatalf("after %s: status = %+v; want dialect %s, version %d, latest %d, not dirty", step, st, tg.dialect, want, latest)
		}
		for _, m := range st.Migrations {
			wantState := "pending"
			if m.Version <= want {
				wantState = "applied"
			}
			if m.State != wantState {
				t.Errorf("after %s: migration %d is %s; want %s", step, m.Version, m.State, wantState)
			}
		}
	}

	r := tg.mustRun(t, "migrate", "up")
	if want := fmt.Sprintf("migrated %s database to %s\n", tg.dialect, atNewest(t)); r.stdout != want {
		t.Errorf("migrate up printed %q; want %q", r.stdout, want)
	}
	checkObjects("up", union(authObjects, oauthObjects, keyObjects))
	checkVersion("up", latest)

	r = tg.mustRun(t, "migrate", "up")
	if !strings.Contains(r.stdout, "already at "+atNewest(t)) {
		t.Errorf("second migrate up printed %q; want it to say already at %s", r.stdout, atNewest(t))
	}

	r = tg.mustRun(t, "migrate", "status")
	for _, re := range []string{
		`(?m)^dialect:\s+` + tg.dialect + `$`,
		`(?m)^version:\s+` + regexp.QuoteMeta(strings.TrimPrefix(atNewest(t), "version ")) + `$`,
		`(?m)^dirty:\s+false$`,
		fmt.Sprintf(`(?m)^latest:\s+%d$`, latest),
		`(?m)^\s+1\s+create_auth_tables\s+applied$`,
		`(?m)^\s+2\s+create_oauth_tables\s+applied$`,
		`(?m)^\s+3\s+add_user_lockout\s+applied$`,
	} {
		if !regexp.MustCompile(re).MatchString(r.stdout) {
			t.Errorf("migrate status printed\n%s\nwant a line matching %s", r.stdout, re)
		}
	}

	// Down to version 2: down 1 when 3 is the newest.
	r = tg.mustRun(t, "migrate", "down", fmt.Sprint(latest-2), "--yes")
	if want := "to version 2 (create_oauth_tables)"; !strings.Contains(r.stdout, want) {
		t.Errorf("migrate down %d printed %q; want %q in it", latest-2, r.stdout, want)
	}
	checkObjects("down to 2", union(authObjects, oauthObjects))
	checkVersion("down to 2", 2)

	r = tg.mustRun(t, "migrate", "down", "1", "--yes")
	if want := "to version 1 (create_auth_tables)"; !strings.Contains(r.stdout, want) {
		t.Errorf("migrate down 1 printed %q; want %q in it", r.stdout, want)
	}
	checkObjects("down 1 again", authObjects)
	checkVersion("down 1 again", 1)

	r = tg.run(t, "migrate", "down", "--all")
	if r.code != 2 || !strings.Contains(r.stderr, "--yes") {
		t.Errorf("migrate down --all without --yes and no terminal: %v; want exit 2 naming --yes", r)
	}
	checkObjects("down --all unconfirmed", authObjects)

	tg.mustRun(t, "migrate", "down", "--all", "--yes")
	checkObjects("down --all", map[string]string{})
	checkVersion("down --all", 0)

	r = tg.run(t, "migrate", "down", "1", "--yes")
	if r.code != 1 || r.stdout != "" || !oneLine(r.stderr) {
		t.Errorf("migrate down 1 with nothing applied: %v; want exit 1 and one line on stderr", r)
	}

	tg.mustRun(t, "migrate", "up")
	checkObjects("up again", union(authObjects, oauthObjects, keyObjects))
	checkVersion("up again", latest)
}

// sqliteObjects lists the tables and views of the SQLite file at path.
func sqliteObjects(path string) func(t *testing.T) map[string]string {
	return func(t *testing.T) map[string]string {
		t.Helper()
		if _, err := os.Stat(path); err != nil {
			t.Fatalf("database file: %v", err)
		}
		db, err := sql.Open("sqlite3", path)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		return objects(t, db, `SELECT name, type FROM sqlite_master
			WHERE type IN ('table', 'view') AND name NOT LIKE 'sqlite_%' AND name NOT IN ('schema_migrations', 'authstore_schema_migrations')`)
	}
}

// objects runs q, which selects (name, type), into a map.
func objects(t *testing.T, db *sql.DB, q string, args ...any) map[string]string {
	t.Helper()
	rows, err := db.Query(q, args...)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[string]string{}
	for rows.Next() {
		var name, typ string
		if err := rows.Scan(&name, &typ); err != nil {
			t.Fatal(err)
		}
		out[name] = typ
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestMigrateSQLiteDefaultURL(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, "authstore.db")
	if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("before migrate up: stat %s: %v; want it absent", path, err)
	}
	testMigrate(t, target{dialect: "sqlite", dir: dir, objects: sqliteObjects(path)})
}

func TestMigrateSQLiteFlagOverridesEnv(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(t.TempDir(), "auth.db")
	testMigrate(t, target{
		dialect: "sqlite",
		dir:     dir,
		env:     []string{"DATABASE_URL=sqlserver://u:hunter2@h/x"},
		flags:   []string{"--database-url", "sqlite://" + path},
		objects: sqliteObjects(path),
	})
	if _, err := os.Stat(filepath.Join(dir, "authstore.db")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("./authstore.db: %v; want no default database created", err)
	}
}

func TestMigratePostgres(t *testing.T) {
	t.Parallel()
	u, schema, admin := postgresSchema(t)
	testMigrate(t, target{
		dialect: "postgres",
		dir:     t.TempDir(),
		env:     []string{"DATABASE_URL=" + u},
		objects: func(t *testing.T) map[string]string {
			t.Helper()
			got := objects(t, admin, `SELECT table_name,
					CASE table_type WHEN 'VIEW' THEN 'view' ELSE 'table' END
				FROM information_schema.tables
				WHERE table_schema = $1 AND table_name NOT IN ('schema_migrations', 'authstore_schema_migrations')`, schema)
			return got
		},
	})
}

var (
	adminOnce sync.Once
	adminDB   *sql.DB
)

// postgresSchema creates a fresh schema on the test server, dropped when the
// test ends, and returns a DATABASE_URL that selects it, its name and an
// administrative connection pool.
func postgresSchema(t *testing.T) (string, string, *sql.DB) {
	t.Helper()
	base := os.Getenv(envPostgresURL)
	if base == "" {
		if os.Getenv(envRequirePostgres) == "1" {
			t.Fatalf("%s is not set but %s=1: PostgreSQL tests must run", envPostgresURL, envRequirePostgres)
		}
		t.Skipf("PostgreSQL tests skipped: set %s (e.g. postgres://postgres@127.0.0.1:5432/test?sslmode=disable)", envPostgresURL)
	}
	adminOnce.Do(func() {
		var err error
		if adminDB, err = sql.Open("pgx", base); err != nil {
			panic(err) // only a malformed DSN; reported below by Ping otherwise
		}
	})
	if err := adminDB.Ping(); err != nil {
		t.Fatalf("connect to %s: %v", envPostgresURL, err)
	}
	var b [6]byte
	_, _ = rand.Read(b[:])
	schema := "authstore_cli_test_" + hex.EncodeToString(b[:])
	if _, err := adminDB.Exec("CREATE SCHEMA " + schema); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if _, err := adminDB.Exec("DROP SCHEMA " + schema + " CASCADE"); err != nil {
			t.Errorf("drop schema %s: %v", schema, err)
		}
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String(), schema, adminDB
}

// oneLine reports whether s is exactly one non-empty line.
func oneLine(s string) bool {
	return len(s) > 1 && strings.Count(s, "\n") == 1 && strings.HasSuffix(s, "\n")
}

func TestInvalidDatabaseURL(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		env  []string
		args []string
	}{
		{"flag", nil, []string{"--database-url", "sqlserver://x", "migrate", "up"}},
		{"flag empty", nil, []string{"--database-url", "", "migrate", "up"}},
		{"env with password", []string{"DATABASE_URL=sqlserver://u:hunter2@h/x"}, []string{"migrate", "status"}},
		{"sqlite with query", []string{"DATABASE_URL=sqlite://a.db?_journal_mode=DELETE"}, []string{"migrate", "up"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			r := run(t, dir, tc.env, tc.args...)
			if r.code != 1 || r.stdout != "" || !oneLine(r.stderr) ||
				!strings.HasPrefix(r.stderr, "authstore: DATABASE_URL: ") || strings.Contains(r.stderr, "hunter2") {
				t.Errorf("%v; want exit 1 and one line on stderr naming DATABASE_URL, without the password", r)
			}
			if entries, _ := os.ReadDir(dir); len(entries) != 0 {
				t.Errorf("working directory holds %d files; want none created", len(entries))
			}
		})
	}
}

func TestUnreachableDatabase(t *testing.T) {
	t.Parallel()
	r := run(t, t.TempDir(), nil, "--database-url",
		"postgres://postgres:hunter2@127.0.0.1:1/x?sslmode=disable&connect_timeout=2", "migrate", "up")
	if r.code != 1 || r.stdout != "" || !oneLine(r.stderr) || !strings.HasPrefix(r.stderr, "authstore: ") {
		t.Errorf("%v; want exit 1 and one line on stderr", r)
	}
	for _, bad := range []string{"hunter2", "goroutine", "panic"} {
		if strings.Contains(r.stderr, bad) {
			t.Errorf("stderr %q holds %q", r.stderr, bad)
		}
	}
}

func TestMemoryStorageRefused(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	r := run(t, dir, []string{"OAUTH_STORAGE=memory", "AUTH_SESSION_STORAGE=memory"}, "migrate", "up")
	if r.code != 1 || !oneLine(r.stderr) || !strings.Contains(r.stderr, "memory") {
		t.Errorf("%v; want exit 1 and one line on stderr about memory storage", r)
	}
}

func TestUsageErrors(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		args []string
		help string // command named in the hint
	}{
		{[]string{"migrate", "down"}, "authstore migrate down"},
		{[]string{"migrate", "down", "abc"}, "authstore migrate down"},
		{[]string{"migrate", "down", "0"}, "authstore migrate down"},
		{[]string{"migrate", "down", "-1"}, "authstore migrate down"},
		{[]string{"migrate", "down", "1", "2"}, "authstore migrate down"},
		{[]string{"migrate", "down", "1", "--all"}, "authstore migrate down"},
		{[]string{"migrate", "up", "extra"}, "authstore migrate up"},
		{[]string{"migrate", "status", "--bogus"}, "authstore migrate status"},
		{[]string{"migrate", "--bogus"}, "authstore migrate"},
		{[]string{"migrate", "bogus"}, "authstore migrate"},
		{[]string{"--bogus", "migrate", "up"}, "authstore"},
		{[]string{"bogus"}, "authstore"},
		{[]string{"completion", "tcsh"}, "authstore completion"},
		{[]string{"keys", "rotate", "--algorithm", "HS256"}, "authstore keys rotate"},
		{[]string{"serve", "--addr", "0.0.0.0:18080"}, "authstore serve"},
		{[]string{"serve", "--addr", ":18080"}, "authstore serve"},
		{[]string{"serve", "--addr", "localhost"}, "authstore serve"},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			r := run(t, dir, nil, tc.args...)
			lines := strings.Split(strings.TrimSuffix(r.stderr, "\n"), "\n")
			hint := fmt.Sprintf("run '%s --help' for usage", tc.help)
			if r.code != 2 || r.stdout != "" || len(lines) != 2 || !strings.HasPrefix(lines[0], "authstore: ") || lines[1] != hint {
				t.Errorf("%v; want exit 2, an error line and %q on stderr", r, hint)
			}
			if entries, _ := os.ReadDir(dir); len(entries) != 0 {
				t.Errorf("working directory holds %d files; want no database opened", len(entries))
			}
		})
	}
}

func TestHelp(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{
		{"--help"}, {}, {"migrate"}, {"migrate", "--help"}, {"help", "migrate"},
		{"migrate", "up", "--help"}, {"migrate", "down", "-h"}, {"migrate", "status", "--help"},
	} {
		r := run(t, t.TempDir(), nil, args...)
		if r.code != 0 || r.stderr != "" || !strings.Contains(r.stdout, "Usage:") || !strings.Contains(r.stdout, "Examples:") {
			t.Errorf("authstore %s: %v; want exit 0 and help with examples on stdout", strings.Join(args, " "), r)
		}
	}
}

// TestCommandsDocumented checks that every command has a short and a long
// description and examples.
func TestCommandsDocumented(t *testing.T) {
	var walk func(cmd *cobra.Command)
	walk = func(cmd *cobra.Command) {
		if cmd.Short == "" || cmd.Long == "" || cmd.Example == "" {
			t.Errorf("%s: Short, Long and Example must all be set", cmd.CommandPath())
		}
		// pflag takes a flag's placeholder from the first back-quoted word
		// of its usage: "--issuer authstore serve" reads as two arguments.
		cmd.LocalFlags().VisitAll(func(f *pflag.Flag) {
			if name, _ := pflag.UnquoteUsage(f); strings.ContainsAny(name, " \t") {
				t.Errorf("%s --%s: placeholder %q in the help; want one word (back quotes in a usage name it)", cmd.CommandPath(), f.Name, name)
			}
		})
		for _, sub := range cmd.Commands() {
			if sub.Name() != "help" && sub.Name() != "completion" {
				walk(sub)
			}
		}
	}
	walk(newApp(io.Discard, io.Discard, os.Environ).rootCommand())
}

func TestErrorLine(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		err  error
		want string
	}{
		{errors.New("authstore: connect to postgres: refused"), "authstore: connect to postgres: refused"},
		{errors.New("migrations: dirty"), "authstore: migrations: dirty"},
		{errors.New("A: bad\nB: bad\n"), "authstore: A: bad; B: bad"},
		{fmt.Errorf("migrations: %w", context.Canceled), "authstore: migrations: context canceled"},
	} {
		if got := errorLine(ctx, tc.err); got != tc.want {
			t.Errorf("errorLine(%q) = %q; want %q", tc.err, got, tc.want)
		}
	}
	canceled, cancel := context.WithCancel(ctx)
	cancel()
	if got, want := errorLine(canceled, fmt.Errorf("x: %w", context.Canceled)), "authstore: interrupted"; got != want {
		t.Errorf("errorLine after cancel = %q; want %q", got, want)
	}
}
