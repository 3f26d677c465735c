package main

import (
	"database/sql"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	_ "github.com/mattn/go-sqlite3"
)

// TestMigrateForceClearsDirty walks an operator through a failed
// migration on SQLite: a host's index bearing the name of one of
// authstore's makes 000001 fail (one line naming the file, the line and
// the statement), the database is dirty and up refuses, force
// wants --yes without a terminal, force 0 --yes clears it, and after the
// repair up succeeds.
func TestMigrateForceClearsDirty(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, "host.db")
	db, err := sql.Open("sqlite3", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec("CREATE TABLE orders (id integer PRIMARY KEY, created_at datetime); CREATE INDEX idx_users_created_at ON orders (created_at)"); err != nil {
		t.Fatal(err)
	}
	flags := []string{"--database-url", "sqlite://" + path}
	cli := func(args ...string) result { return run(t, dir, nil, append(append([]string{}, flags...), args...)...) }

	r := cli("migrate", "up")
	if r.code != 1 || !oneLine(r.stderr) || !strings.Contains(r.stderr, "000001_create_auth_tables.up.sql line 21 (CREATE INDEX idx_users_created_at") || strings.Contains(r.stderr, "CREATE TABLE") {
		t.Fatalf("migrate up beside a host's index named idx_users_created_at: %v; want exit 1 and one line naming the file, line and statement", r)
	}
	if r = cli("migrate", "up"); r.code != 1 || !strings.Contains(r.stderr, "dirty") || !strings.Contains(r.stderr, "authstore migrate force") {
		t.Fatalf("migrate up on a dirty database: %v; want exit 1 saying dirty", r)
	}
	if r = cli("migrate", "force", "0"); r.code != 2 || !strings.Contains(r.stderr, "--yes") {
		t.Fatalf("migrate force without --yes and no terminal: %v; want exit 2 asking for --yes", r)
	}
	if r = cli("migrate", "force", "99", "--yes"); r.code != 1 || !oneLine(r.stderr) {
		t.Fatalf("migrate force to an unknown version: %v; want exit 1", r)
	}
	if r = cli("migrate", "force", "0", "--yes"); r.code != 0 || !strings.Contains(r.stdout, "clean") {
		t.Fatalf("migrate force 0 --yes: %v; want exit 0", r)
	}
	var st struct {
		Version uint `json:"version"`
		Dirty   bool `json:"dirty"`
	}
	if r = cli("migrate", "status", "--json"); r.code != 0 || json.Unmarshal([]byte(r.stdout), &st) != nil || st.Version != 0 || st.Dirty {
		t.Fatalf("migrate status after force: %v; want version 0, clean", r)
	}
	if _, err := db.Exec("DROP INDEX idx_users_created_at; CREATE INDEX idx_orders_created_at ON orders (created_at)"); err != nil { // the operator's repair
		t.Fatal(err)
	}
	if r = cli("migrate", "up"); r.code != 0 {
		t.Fatalf("migrate up after the repair: %v; want exit 0", r)
	}
}

// TestReadOnlyCommandsCreateNoFile checks that the commands that only read
// refuse a SQLite path that does not exist, naming it, and create nothing,
// while migrate up still creates the file.
func TestReadOnlyCommandsCreateNoFile(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, "typo.db")
	flags := []string{"--database-url", "sqlite://" + path}
	for _, args := range [][]string{
		{"stats"}, {"migrate", "status"}, {"client", "list"}, {"client", "show", "3f8e0c84-2b8e-4a39-9c1e-0e7f3a8b9d10"},
		{"user", "list"}, {"activity", "--since", "1h"},
	} {
		r := run(t, dir, nil, append(append([]string{}, flags...), args...)...)
		if r.code != 1 || !oneLine(r.stderr) || !strings.Contains(r.stderr, path) || !strings.Contains(r.stderr, "does not exist") {
			t.Errorf("%v on a missing file: %v; want exit 1 and one line naming %s", args, r, path)
		}
		if _, err := os.Stat(path); err == nil {
			t.Fatalf("%v created %s", args, path)
		}
	}
	if r := run(t, dir, nil, append(append([]string{}, flags...), "migrate", "up")...); r.code != 0 {
		t.Fatalf("migrate up: %v", r)
	}
	if r := run(t, dir, nil, append(append([]string{}, flags...), "stats")...); r.code != 0 {
		t.Fatalf("stats after migrate up: %v", r)
	}
}
