package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/forgeauth/authstore"
	"github.com/forgeauth/authstore/config"
	"github.com/forgeauth/authstore/migrations"
)

// The tests of this file adopt authstore into a database that is not its
// own: beside a host application's tables under a table prefix, over a
// schema that AutoMigrate built (baseline), read-only, and migrated by hand
// from `migrate sql`.

// adoptPrefix is the table prefix these tests use.
const adoptPrefix = "auth_"

// prefixEnv sets adoptPrefix for the CLI.
const prefixEnv = "AUTHSTORE_TABLE_PREFIX=" + adoptPrefix

// withEnv returns tg with kv (KEY=VALUE) added to its environment.
func withEnv(tg target, kv ...string) target {
	tg.env = append(slices.Clone(tg.env), kv...)
	return tg
}

// prefixedObjects returns authstore's tables and views under prefix, and
// its version table (AUTHSTORE_MIGRATIONS_TABLE's default) under it too.
func prefixedObjects(prefix string) map[string]string {
	out := map[string]string{prefix + "authstore_schema_migrations": "table"}
	for name, typ := range union(authObjects, oauthObjects, keyObjects) {
		out[prefix+name] = typ
	}
	return out
}

// allObjects lists every table and view of b's database: the SQLite file
// (but SQLite's own sqlite_ tables) or the PostgreSQL schema, version
// tables included.
func allObjects(t *testing.T, b backend, schema string) map[string]string {
	t.Helper()
	if b.schema == "" {
		return objects(t, b.db, `SELECT name, type FROM sqlite_master
			WHERE type IN ('table', 'view') AND name NOT LIKE 'sqlite_%'`)
	}
	return objects(t, b.db, `SELECT table_name, CASE table_type WHEN 'VIEW' THEN 'view' ELSE 'table' END
		FROM information_schema.tables WHERE table_schema = $1`, schema)
}

// indexNames lists the indexes and (on PostgreSQL) constraints of the
// tables whose names start with tablePrefix in b's database, name to
// table.
func indexNames(t *testing.T, b backend, tablePrefix string) map[string]string {
	t.Helper()
	if b.schema == "" {
		return objects(t, b.db, `SELECT name, tbl_name FROM sqlite_master
			WHERE type = 'index' AND tbl_name LIKE ? || '%'`, tablePrefix)
	}
	return objects(t, b.db, `SELECT conname, c.relname FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid
			WHERE k.connamespace = (SELECT oid FROM pg_namespace WHERE nspname = $1) AND c.relname LIKE $2 || '%'
		UNION SELECT indexname, tablename FROM pg_indexes WHERE schemaname = $1 AND tablename LIKE $2 || '%'`,
		b.schema, tablePrefix)
}

// dump returns a table's columns and rows, in primary key order, as text.
func dump(t *testing.T, b backend, table string) string {
	t.Helper()
	rows, err := b.db.Query("SELECT * FROM " + b.table(table) + " ORDER BY 1")
	if err != nil {
		t.Fatalf("dump %s: %v", table, err)
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	fmt.Fprintln(&out, cols)
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		for i, v := range vals {
			if bs, ok := v.([]byte); ok {
				vals[i] = string(bs)
			}
		}
		fmt.Fprintln(&out, vals...)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out.String()
}

// hostTables are a host application's own tables, named as authstore's
// are without a prefix, and golang-migrate's version table at a
// timestamp version.
var hostTables = map[string]string{"users": "table", "sessions": "table", "password_resets": "table", "schema_migrations": "table"}

// createHostTables creates hostTables in b's database with a few rows.
func createHostTables(t *testing.T, b backend) {
	t.Helper()
	versionTable := "CREATE TABLE " + b.table("schema_migrations") + " (version bigint NOT NULL PRIMARY KEY, dirty boolean NOT NULL)"
	if b.schema == "" { // as golang-migrate's sqlite3 driver creates it
		versionTable = "CREATE TABLE schema_migrations (version uint64, dirty bool); " +
			"CREATE UNIQUE INDEX version_unique ON schema_migrations (version)"
	}
	for _, q := range []string{
		"CREATE TABLE " + b.table("users") + " (id integer PRIMARY KEY, login text NOT NULL, email text)",
		"CREATE TABLE " + b.table("sessions") + " (sid text PRIMARY KEY, user_id integer, data text)",
		"CREATE TABLE " + b.table("password_resets") + " (login text PRIMARY KEY, token text)",
		versionTable,
		"INSERT INTO " + b.table("schema_migrations") + " (version, dirty) VALUES (20240101120000, false)",
		"INSERT INTO " + b.table("users") + " (id, login, email) VALUES (1, 'ada', 'ada@host.example'), (2, 'bob', NULL), (3, 'eve', 'eve@host.example')",
		"INSERT INTO " + b.table("sessions") + " (sid, user_id, data) VALUES ('s1', 1, '{}')",
	} {
		b.exec(t, q)
	}
}

// TestMigratePrefixKeepsHostTables is the first "done when": with
// AUTHSTORE_TABLE_PREFIX=auth_, migrate up beside a host's own users,
// sessions, password_resets and golang-migrate schema_migrations tables
// creates only auth_ tables and views (authstore's 10 tables, 2 views and
// its version table), migrate status reads the newest version from its own table,
// and down --all removes them all, the version table too; the host's
// tables and rows are untouched throughout.
func TestMigratePrefixKeepsHostTables(t *testing.T) {
	t.Parallel()
	forBackends(t, func(t *testing.T, b backend) {
		createHostTables(t, b)
		host := map[string]string{}
		for table := range hostTables {
			host[table] = dump(t, b, table)
		}
		checkHost := func(step string) {
			t.Helper()
			for table, want := range host {
				if got := dump(t, b, table); got != want {
					t.Errorf("after %s: host table %s =\n%s\nwant it untouched:\n%s", step, table, got, want)
				}
			}
		}
		tg := withEnv(b.target, prefixEnv)

		r := tg.mustRun(t, "migrate", "up")
		if want := fmt.Sprintf("migrated %s database to %s\n", b.dialect, atNewest(t)); r.stdout != want || r.stderr != "" {
			t.Errorf("migrate up: %v; want stdout %q and nothing on stderr", r, want)
		}
		got := allObjects(t, b, b.schema)
		added := map[string]string{}
		for name, typ := range got {
			if _, ok := hostTables[name]; !ok {
				added[name] = typ
				if !strings.HasPrefix(name, adoptPrefix) {
					t.Errorf("migrate up created %s %s; want every new name to start with %s", typ, name, adoptPrefix)
				}
			}
		}
		if want := prefixedObjects(adoptPrefix); !maps.Equal(added, want) {
			t.Errorf("migrate up created %v; want exactly %v", added, want)
		}
		for name := range hostTables {
			if got[name] != "table" {
				t.Errorf("after migrate up: host table %s is missing", name)
			}
		}
		idx := indexNames(t, b, adoptPrefix)
		if len(idx) < 10 {
			t.Errorf("indexes and constraints of the %s tables = %v; want at least one per table", adoptPrefix, idx)
		}
		for name, table := range idx {
			if !strings.Contains(name, adoptPrefix) {
				t.Errorf("index or constraint %s of %s has no %s in its name", name, table, adoptPrefix)
			}
		}
		checkHost("migrate up")

		if st, latest := tg.status(t), migrations.Latest(); st.Version != latest || st.Dirty || st.Latest != latest || st.Pending != 0 {
			t.Errorf("migrate status --json = %+v; want version %d, latest %d, clean, nothing pending", st, latest, latest)
		}
		r = tg.mustRun(t, "migrate", "status")
		for _, re := range []string{
			`(?m)^version table:\s+` + adoptPrefix + `authstore_schema_migrations$`,
			`(?m)^version:\s+` + regexp.QuoteMeta(strings.TrimPrefix(atNewest(t), "version ")) + `$`,
		} {
			if !regexp.MustCompile(re).MatchString(r.stdout) {
				t.Errorf("migrate status printed\n%s\nwant a line matching %s", r.stdout, re)
			}
		}
		if r = tg.mustRun(t, "migrate", "up"); !strings.Contains(r.stdout, "already at "+atNewest(t)) {
			t.Errorf("second migrate up printed %q; want already at %s", r.stdout, atNewest(t))
		}

		r = tg.mustRun(t, "migrate", "down", "--all", "--yes")
		if !strings.Contains(r.stdout, "to version 0") {
			t.Errorf("migrate down --all printed %q; want version 0", r.stdout)
		}
		got = allObjects(t, b, b.schema)
		if !maps.Equal(got, hostTables) {
			t.Errorf("after down --all: tables and views = %v; want the host's alone, %v", got, hostTables)
		}
		checkHost("migrate down --all")
		if st := tg.status(t); st.Version != 0 || st.Dirty {
			t.Errorf("migrate status after down --all = %+v; want version 0, clean", st)
		}
	})
}

// storeConfig returns the configuration the CLI reads in tg's environment,
// with an absolute DATABASE_URL for b's SQLite file.
func storeConfig(t *testing.T, b backend, tg target) config.Config {
	t.Helper()
	environ := map[string]string{}
	for _, kv := range tg.env {
		k, v, _ := strings.Cut(kv, "=")
		environ[k] = v
	}
	if b.schema == "" {
		environ["DATABASE_URL"] = "sqlite://" + filepath.Join(b.dir, "authstore.db")
	}
	cfg, err := config.LoadFrom(environ)
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// autoMigrate builds authstore's schema in tg's database with the Go API's
// AutoMigrate, under tg's configuration, and closes the Store.
func autoMigrate(t *testing.T, b backend, tg target) {
	t.Helper()
	s, err := authstore.Open(context.Background(), storeConfig(t, b, tg), authstore.WithAutoMigrate())
	if err != nil {
		t.Fatalf("authstore.Open(WithAutoMigrate()): %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
}

// forPrefixes runs fn for no table prefix and for adoptPrefix, on both
// backends, each on a fresh database.
func forPrefixes(t *testing.T, fn func(t *testing.T, b backend, tg target, prefix string)) {
	for _, prefix := range []string{"", adoptPrefix} {
		name := "prefix " + prefix
		if prefix == "" {
			name = "no prefix"
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			forBackends(t, func(t *testing.T, b backend) {
				tg := b.target
				if prefix != "" {
					tg = withEnv(tg, prefixEnv)
				}
				fn(t, b, tg, prefix)
			})
		})
	}
}

// TestBaselineAdoptsAutoMigrate is the second "done when": a
// database built by AutoMigrate is recorded at the newest version by migrate
// baseline, after which migrate up has nothing to do.
func TestBaselineAdoptsAutoMigrate(t *testing.T) {
	t.Parallel()
	forPrefixes(t, func(t *testing.T, b backend, tg target, prefix string) {
		autoMigrate(t, b, tg)
		if _, ok := allObjects(t, b, b.schema)[prefix+"users"]; !ok {
			t.Fatalf("AutoMigrate built no %susers table", prefix)
		}
		r := tg.mustRun(t, "migrate", "baseline")
		if want := "recorded " + b.dialect + " database at " + atNewest(t); !strings.Contains(r.stdout, want) || r.stderr != "" {
			t.Errorf("migrate baseline: %v; want %q on stdout and nothing on stderr", r, want)
		}
		if st := tg.status(t); st.Version != migrations.Latest() || st.Dirty {
			t.Errorf("migrate status after baseline = %+v; want version %d, clean", st, migrations.Latest())
		}
		r = tg.mustRun(t, "migrate", "up")
		if want := b.dialect + " database already at " + atNewest(t) + "\n"; r.stdout != want {
			t.Errorf("migrate up after baseline printed %q; want %q", r.stdout, want)
		}
		if got, want := allObjects(t, b, b.schema), prefixedObjects(prefix); !maps.Equal(got, want) {
			t.Errorf("after baseline and up: tables and views = %v; want %v", got, want)
		}
	})
}

// TestBaselineRefusesMissingColumn checks that migrate baseline refuses a
// database built by AutoMigrate that lacks one column, naming it in one
// line, and records nothing.
func TestBaselineRefusesMissingColumn(t *testing.T) {
	t.Parallel()
	forPrefixes(t, func(t *testing.T, b backend, tg target, prefix string) {
		autoMigrate(t, b, tg)
		b.exec(t, "ALTER TABLE "+b.table(prefix+"users")+" DROP COLUMN lockouts")
		r := tg.run(t, "migrate", "baseline")
		if r.code != 1 || r.stdout != "" || !oneLine(r.stderr) || !strings.Contains(r.stderr, "lockouts") {
			t.Errorf("migrate baseline without users.lockouts: %v; want exit 1 and one line on stderr naming lockouts", r)
		}
		if st := tg.status(t); st.Version != 0 || st.Dirty {
			t.Errorf("migrate status after a refused baseline = %+v; want version 0, clean", st)
		}
	})
}

// TestBaselineWithoutThePrefix checks that migrate baseline run without
// the AUTHSTORE_TABLE_PREFIX the tables were built with says, in one line,
// that no table has the configured names and which key to give, and
// records nothing.
func TestBaselineWithoutThePrefix(t *testing.T) {
	t.Parallel()
	forBackends(t, func(t *testing.T, b backend) {
		autoMigrate(t, b, withEnv(b.target, prefixEnv))
		r := b.target.run(t, "migrate", "baseline")
		if r.code != 1 || r.stdout != "" || !oneLine(r.stderr) || strings.Count(r.stderr, "migrations:") != 1 ||
			!strings.Contains(r.stderr, "named as configured (no table prefix") || !strings.Contains(r.stderr, "give AUTHSTORE_TABLE_PREFIX") {
			t.Errorf("migrate baseline without the prefix: %v; want exit 1 and one line saying no table has the configured names", r)
		}
		if st := withEnv(b.target, prefixEnv).status(t); st.Version != 0 || st.Dirty {
			t.Errorf("migrate status after a refused baseline = %+v; want version 0, clean", st)
		}
	})
}

// runAs runs bin in dir with an environment of PATH and HOME=dir alone, as
// the user cred names (nil: this process's).
func runAs(t *testing.T, cred *syscall.Credential, bin, dir string, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Dir = dir
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + dir}
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	var exit *exec.ExitError
	if err := cmd.Run(); err != nil && !errors.As(err, &exit) {
		t.Fatalf("authstore %s: %v", strings.Join(args, " "), err)
	}
	return result{code: cmd.ProcessState.ExitCode(), stdout: stdout.String(), stderr: stderr.String()}
}

// dirNames lists the names in dir.
func dirNames(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

// TestReadOnlySQLiteFolder is the third "done when": stats and
// user list work on a read-only SQLite file in a read-only folder, run by
// a user that file modes bind (root ignores them, so as root the commands
// run as nobody; another user runs them as itself), and create no -wal,
// -shm or -journal file beside it; stats on a missing file names it and
// creates nothing.
func TestReadOnlySQLiteFolder(t *testing.T) {
	t.Parallel()
	var cred *syscall.Credential // nil: this process's user, bound by file modes
	if os.Geteuid() == 0 {
		cred = &syscall.Credential{Uid: 65534, Gid: 65534} // nobody
	}
	// A folder that nobody can traverse, unlike t.TempDir's (0700).
	root, err := os.MkdirTemp("", "authstore-readonly-")
	if err != nil {
		t.Fatal(err)
	}
	dbDir := filepath.Join(root, "db")
	t.Cleanup(func() {
		_ = os.Chmod(dbDir, 0o755)
		if err := os.RemoveAll(root); err != nil {
			t.Error(err)
		}
	})
	if err := os.Chmod(root, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(dbDir, 0o755); err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(root, "authstore")
	data, err := os.ReadFile(binary)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bin, data, 0o755); err != nil {
		t.Fatal(err)
	}
	if cred != nil {
		if r := runAs(t, cred, bin, root, "version"); r.code != 0 {
			t.Skipf("cannot run the binary as uid %d: %v", cred.Uid, r)
		}
	}

	path := filepath.Join(dbDir, "authstore.db")
	flags := []string{"--database-url", "sqlite://" + path}
	tg := target{dialect: "sqlite", dir: dbDir, flags: flags}
	tg.mustRun(t, "migrate", "up")
	tg.runInputOK(t, "correct horse battery\n", "user", "create", "--name", "Ada Lovelace", "--email", "ada@example.com")
	if names := dirNames(t, dbDir); !slices.Equal(names, []string{"authstore.db"}) {
		t.Fatalf("after migrate up and user create the folder holds %v; want authstore.db alone (the last connection checkpoints the WAL)", names)
	}
	if err := os.Chmod(path, 0o444); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dbDir, 0o555); err != nil {
		t.Fatal(err)
	}

	t.Run("WritesRefused", func(t *testing.T) {
		// The setup is what it claims: this user cannot write there.
		if r := runAs(t, cred, bin, dbDir, append(slices.Clone(flags), "migrate", "up")...); r.code == 0 {
			t.Errorf("migrate up on the read-only file: %v; want it refused", r)
		}
	})
	t.Run("StatsOK", func(t *testing.T) {
		r := runAs(t, cred, bin, dbDir, append(slices.Clone(flags), "stats")...)
		// user create logged one activity row.
		if r.code != 0 || r.stderr != "" || !regexp.MustCompile(`(?m)^user_activity_log\s+1\s`).MatchString(r.stdout) {
			t.Errorf("stats: %v; want exit 0 and the counts, user_activity_log 1", r)
		}
	})
	t.Run("UserListOK", func(t *testing.T) {
		r := runAs(t, cred, bin, dbDir, append(slices.Clone(flags), "user", "list")...)
		if r.code != 0 || r.stderr != "" || !strings.Contains(r.stdout, "ada@example.com") || !strings.Contains(r.stdout, "users 1 to 1 of 1") {
			t.Errorf("user list: %v; want exit 0 and the user ada@example.com", r)
		}
	})
	t.Run("MissingFileNamed", func(t *testing.T) {
		missing := filepath.Join(dbDir, "typo.db")
		r := runAs(t, cred, bin, dbDir, "--database-url", "sqlite://"+missing, "stats")
		if r.code != 1 || r.stdout != "" || !oneLine(r.stderr) || !strings.Contains(r.stderr, missing) {
			t.Errorf("stats on a missing file: %v; want exit 1 and one line naming %s", r, missing)
		}
	})
	if names := dirNames(t, dbDir); !slices.Equal(names, []string{"authstore.db"}) {
		t.Errorf("after the read-only commands the folder holds %v; want authstore.db alone", names)
	}

	t.Run("MissingFileInWritableFolderNotCreated", func(t *testing.T) {
		dir := t.TempDir()
		missing := filepath.Join(dir, "typo.db")
		r := run(t, dir, []string{prefixEnv}, "--database-url", "sqlite://"+missing, "stats")
		if r.code != 1 || r.stdout != "" || !oneLine(r.stderr) || !strings.Contains(r.stderr, missing) {
			t.Errorf("stats on a missing file: %v; want exit 1 and one line naming %s", r, missing)
		}
		if names := dirNames(t, dir); len(names) != 0 {
			t.Errorf("stats on a missing file created %v", names)
		}
	})
}

// runInputOK runs the command with stdin and fails the test unless it
// exits 0.
func (tg target) runInputOK(t *testing.T, stdin string, args ...string) result {
	t.Helper()
	r := tg.runInput(t, stdin, args...)
	if r.code != 0 {
		t.Fatalf("authstore %s: %v; want exit 0", strings.Join(args, " "), r)
	}
	return r
}

// applyScript runs script, the output of `migrate sql`, in b's database
// with the dialect's own client: sqlite3 on the file (through
// database/sql when sqlite3 is not installed), psql on the test server
// with search_path set to b's schema.
func applyScript(t *testing.T, b backend, script string) {
	t.Helper()
	var cmd *exec.Cmd
	if b.schema == "" {
		path := filepath.Join(b.dir, "authstore.db")
		if _, err := exec.LookPath("sqlite3"); err != nil {
			if _, err := b.db.Exec(script); err != nil {
				t.Fatalf("apply migrate sql output through database/sql: %v", err)
			}
			return
		}
		cmd = exec.Command("sqlite3", "-bail", path)
	} else {
		if _, err := exec.LookPath("psql"); err != nil {
			t.Skip("psql is not installed")
		}
		cmd = exec.Command("psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-1", "-f", "-", "-d", os.Getenv(envPostgresURL))
		cmd.Env = append(os.Environ(), "PGOPTIONS=-c search_path="+b.schema)
	}
	cmd.Stdin = strings.NewReader(script)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%s: %v\n%s", strings.Join(cmd.Args, " "), err, out)
	}
}

// checkAppliedByHand checks a database that `migrate sql` output built in
// schema (b's own, or AUTHSTORE_SCHEMA's): its objects are authstore's
// under adoptPrefix, migrate status reads the newest version and migrate up has
// nothing to do; then the down script, applied the same way, leaves
// nothing of authstore's.
func checkAppliedByHand(t *testing.T, b backend, tg target, schema string) {
	t.Helper()
	if got, want := allObjects(t, b, schema), prefixedObjects(adoptPrefix); !maps.Equal(got, want) {
		t.Errorf("after applying migrate sql: tables and views = %v; want %v", got, want)
	}
	if st := tg.status(t); st.Version != migrations.Latest() || st.Dirty || st.Pending != 0 {
		t.Errorf("migrate status --json after applying migrate sql = %+v; want version %d, clean", st, migrations.Latest())
	}
	if r := tg.mustRun(t, "migrate", "up"); r.stdout != b.dialect+" database already at "+atNewest(t)+"\n" {
		t.Errorf("migrate up after applying migrate sql printed %q; want already at %s", r.stdout, atNewest(t))
	}

	applyScript(t, b, tg.mustRun(t, "migrate", "sql", "--dialect", b.dialect, "--down").stdout)
	if got := allObjects(t, b, schema); len(got) != 0 {
		t.Errorf("after applying migrate sql --down: tables and views = %v; want none", got)
	}
	if st := tg.status(t); st.Version != 0 || st.Dirty {
		t.Errorf("migrate status --json after applying migrate sql --down = %+v; want version 0, clean", st)
	}
}

// TestMigrateSQLAppliedByHand is the fourth "done when": the
// output of migrate sql, piped into psql or sqlite3, builds the schema
// under the prefix and records the newest version, so migrate status and migrate
// up agree; the output of migrate sql --down removes it again.
func TestMigrateSQLAppliedByHand(t *testing.T) {
	t.Parallel()
	forBackends(t, func(t *testing.T, b backend) {
		tg := withEnv(b.target, prefixEnv)
		applyScript(t, b, tg.mustRun(t, "migrate", "sql", "--dialect", b.dialect).stdout)
		checkAppliedByHand(t, b, tg, b.schema)
	})
}

// TestMigrateSQLAppliedByHandInSchema is TestMigrateSQLAppliedByHand on
// PostgreSQL with AUTHSTORE_SCHEMA: the script creates the schema and puts
// every table in it, none in the connection's search_path.
func TestMigrateSQLAppliedByHandInSchema(t *testing.T) {
	t.Parallel()
	u, searchPath, admin := postgresSchema(t)
	var r [4]byte
	_, _ = rand.Read(r[:])
	schema := "as_" + hex.EncodeToString(r[:]) // with the prefix and a dot, 20 bytes at most
	t.Cleanup(func() {
		if _, err := admin.Exec("DROP SCHEMA IF EXISTS " + schema + " CASCADE"); err != nil {
			t.Errorf("drop schema %s: %v", schema, err)
		}
	})
	b := backend{target: target{dialect: "postgres", dir: t.TempDir(), env: []string{"DATABASE_URL=" + u}}, db: admin, schema: searchPath}
	tg := withEnv(b.target, prefixEnv, "AUTHSTORE_SCHEMA="+schema)
	applyScript(t, b, tg.mustRun(t, "migrate", "sql", "--dialect", "postgres").stdout)
	if got := allObjects(t, b, searchPath); len(got) != 0 {
		t.Errorf("the search_path schema %s holds %v; want nothing there", searchPath, got)
	}
	checkAppliedByHand(t, b, tg, schema)
	if got := allObjects(t, b, searchPath); len(got) != 0 {
		t.Errorf("the search_path schema %s holds %v; want nothing there", searchPath, got)
	}
}
