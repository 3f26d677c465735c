package main

import (
	"bytes"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/forgeauth/authstore/models"
	"github.com/forgeauth/authstore/repositories"
)

// backend is a fresh database the operational commands (purge, stats,
// client, user, activity) are tested on: a target to run the CLI against
// and a direct SQL connection to set up and check rows.
type backend struct {
	target
	db *sql.DB
	// schema qualifies table names on PostgreSQL; "" on SQLite.
	schema string
}

// forBackends runs fn on a fresh SQLite file (through the default
// DATABASE_URL, ./authstore.db in the working directory) and on a fresh
// PostgreSQL schema, as parallel subtests.
func forBackends(t *testing.T, fn func(t *testing.T, b backend)) {
	t.Run("sqlite", func(t *testing.T) {
		t.Parallel()
		dir := t.TempDir()
		path := filepath.Join(dir, "authstore.db")
		db, err := sql.Open("sqlite3", "file:"+path+"?_busy_timeout=10000")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		fn(t, backend{target: target{dialect: "sqlite", dir: dir, objects: sqliteObjects(path)}, db: db})
	})
	t.Run("postgres", func(t *testing.T) {
		t.Parallel()
		u, schema, admin := postgresSchema(t)
		fn(t, backend{target: target{dialect: "postgres", dir: t.TempDir(), env: []string{"DATABASE_URL=" + u}}, db: admin, schema: schema})
	})
}

// table returns the name of table as SQL on b.
func (b backend) table(name string) string {
	if b.schema == "" {
		return name
	}
	return b.schema + "." + name
}

// bind rewrites the ? placeholders of q for b's driver.
func (b backend) bind(q string) string {
	if b.schema == "" {
		return q
	}
	var out strings.Builder
	n := 0
	for _, r := range q {
		if r == '?' {
			n++
			fmt.Fprintf(&out, "$%d", n)
			continue
		}
		out.WriteRune(r)
	}
	return out.String()
}

func (b backend) exec(t *testing.T, q string, args ...any) int64 {
	t.Helper()
	res, err := b.db.Exec(b.bind(q), args...)
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	n, _ := res.RowsAffected()
	return n
}

// count returns the rows of a table or view.
func (b backend) count(t *testing.T, table string) int64 {
	t.Helper()
	var n int64
	if err := b.db.QueryRow("SELECT count(*) FROM " + b.table(table)).Scan(&n); err != nil {
		t.Fatalf("count %s: %v", table, err)
	}
	return n
}

// strings returns the non-null values of one text column.
func (b backend) strings(t *testing.T, q string, args ...any) []string {
	t.Helper()
	rows, err := b.db.Query(b.bind(q), args...)
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s sql.NullString
		if err := rows.Scan(&s); err != nil {
			t.Fatal(err)
		}
		if s.Valid {
			out = append(out, s.String)
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// withDemoKeys gives a PostgreSQL backend the master and recovery keys a
// SQLite file gets as development key files, so that the demo walks
// two-factor authentication there too.
func withDemoKeys(b *backend) {
	if b.dialect == "postgres" {
		b.env = append(slices.Clone(b.env),
			"AUTHSTORE_ENCRYPTION_KEY="+base64.StdEncoding.EncodeToString([]byte("demo-test-master-key-32-bytes-xx")),
			"AUTHSTORE_RECOVERY_KEY="+base64.StdEncoding.EncodeToString([]byte("demo-test-recovery-key-32-bytes-")))
	}
}

// expiringTables lists the tables with an expires_at column.
func (b backend) expiringTables(t *testing.T) []string {
	t.Helper()
	var tables []string
	if b.schema == "" {
		tables = b.strings(t, `SELECT m.name FROM sqlite_master m, pragma_table_info(m.name) p
			WHERE m.type = 'table' AND p.name = 'expires_at'`)
	} else {
		tables = b.strings(t, `SELECT c.table_name FROM information_schema.columns c
			JOIN information_schema.tables t ON t.table_schema = c.table_schema AND t.table_name = c.table_name
			WHERE c.table_schema = ? AND c.column_name = 'expires_at' AND t.table_type = 'BASE TABLE'`, b.schema)
	}
	slices.Sort(tables)
	return tables
}

// rowCounts counts the rows of every table of tableOrder.
func (b backend) rowCounts(t *testing.T) map[string]int64 {
	t.Helper()
	out := map[string]int64{}
	for _, table := range append(slices.Clone(tableOrder), "users", "oauth_clients") {
		out[table] = b.count(t, table)
	}
	return out
}

// runInput runs the binary like tg.run, with stdin as standard input.
func (tg target) runInput(t *testing.T, stdin string, args ...string) result {
	t.Helper()
	return runWithInput(t, tg.dir, tg.env, strings.NewReader(stdin), append(slices.Clone(tg.flags), args...)...)
}

// mustJSON runs the command, which must exit 0 with nothing on stderr, and
// decodes its standard output into v.
func (tg target) mustJSON(t *testing.T, v any, args ...string) result {
	t.Helper()
	r := tg.mustRun(t, args...)
	if r.stderr != "" {
		t.Errorf("authstore %s: stderr %q; want none", strings.Join(args, " "), r.stderr)
	}
	decodeJSON(t, r.stdout, v)
	return r
}

// decodeJSON decodes s, which must be one JSON value with no field that v
// lacks, into v.
func decodeJSON(t *testing.T, s string, v any) {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(s))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		t.Fatalf("decode %q: %v", s, err)
	}
	if dec.More() {
		t.Fatalf("more than one JSON value in %q", s)
	}
}

// failsWith checks that r is exit code, nothing on stdout and stderr
// holding the one error line (plus the usage hint for exit 2) that
// contains every one of want.
func failsWith(t *testing.T, r result, code int, want ...string) {
	t.Helper()
	lines := strings.Split(strings.TrimSuffix(r.stderr, "\n"), "\n")
	wantLines := 1
	if code == exitUsage {
		wantLines = 2
	}
	ok := r.code == code && r.stdout == "" && strings.HasSuffix(r.stderr, "\n") && len(lines) == wantLines &&
		strings.HasPrefix(lines[0], "authstore: ")
	if code == exitUsage && ok {
		ok = strings.HasPrefix(lines[1], "run 'authstore") && strings.HasSuffix(lines[1], " --help' for usage")
	}
	for _, w := range want {
		ok = ok && strings.Contains(lines[0], w)
	}
	if !ok {
		t.Errorf("%v; want exit %d and %d line(s) on stderr, the first holding %q", r, code, wantLines, want)
	}
}

// setAllExpired sets expires_at to a day ago in every table that has it.
func (b backend) setAllExpired(t *testing.T) {
	t.Helper()
	tables := b.expiringTables(t)
	if len(tables) < 7 {
		t.Fatalf("tables with expires_at: %v; want the 7 expiring tables", tables)
	}
	past := time.Now().UTC().Add(-24 * time.Hour).Truncate(time.Microsecond)
	for _, table := range tables {
		b.exec(t, "UPDATE "+b.table(table)+" SET expires_at = ?", past)
	}
}

// seedOAuth adds, for the first user and a new confidential client, live
// rows to the tables the demo leaves empty: a session, an access token,
// an authorization code, a personal access token and two refresh-token
// families of two tokens each (the first used). It returns the families'
// ids.
func (b backend) seedOAuth(t *testing.T) [2]string {
	t.Helper()
	var client clientCreatedJSON
	b.mustJSON(t, &client, "client", "create", "--name", "Seed", "--redirect-uri", "https://seed.example.com/cb", "--json")
	users := b.strings(t, "SELECT id FROM "+b.table("users")+" ORDER BY created_at")
	if len(users) == 0 {
		t.Fatal("no user to own the seeded rows")
	}
	user, cid := users[0], client.ID.String()
	now := time.Now().UTC().Truncate(time.Microsecond)
	live := now.Add(time.Hour)
	digest := func() string { return strings.ReplaceAll(models.NewUUID().String()+models.NewUUID().String(), "-", "") }
	b.exec(t, "INSERT INTO "+b.table("sessions")+` (id, user_id, token_hash, ip_address, user_agent, remember,
		last_activity_at, expires_at, created_at) VALUES (?, ?, ?, '', '', ?, ?, ?, ?)`,
		models.NewUUID().String(), user, digest(), false, now, live, now)
	access := models.NewUUID().String()
	b.exec(t, "INSERT INTO "+b.table("oauth_access_tokens")+` (id, client_id, user_id, name, scopes, revoked,
		expires_at, created_at, updated_at) VALUES (?, ?, ?, '', '[]', ?, ?, ?, ?)`,
		access, cid, user, false, live, now, now)
	b.exec(t, "INSERT INTO "+b.table("oauth_authorization_codes")+` (id, code_hash, client_id, user_id, scopes,
		redirect_uri, revoked, expires_at, created_at) VALUES (?, ?, ?, ?, '[]', 'https://seed.example.com/cb', ?, ?, ?)`,
		models.NewUUID().String(), digest(), cid, user, false, live, now)
	b.exec(t, "INSERT INTO "+b.table("oauth_auth_requests")+` (id, client_id, redirect_uri, scopes, state, nonce,
		response_type, response_mode, prompt, login_hint, amr, done, revoked, expires_at, created_at)
		VALUES (?, ?, 'https://seed.example.com/cb', '[]', '', '', 'code', '', '[]', '', '[]', ?, ?, ?, ?)`,
		models.NewUUID().String(), cid, false, false, live, now)
	b.exec(t, "INSERT INTO "+b.table("oauth_personal_access_tokens")+` (id, user_id, name, token_hash, prefix,
		scopes, revoked, expires_at, created_at, updated_at) VALUES (?, ?, 'seed', ?, 'pat_', '[]', ?, ?, ?, ?)`,
		models.NewUUID().String(), user, digest(), false, live, now, now)
	var families [2]string
	for i := range families {
		families[i] = models.NewUUID().String()
		parent := models.NewUUID().String()
		b.exec(t, "INSERT INTO "+b.table("oauth_refresh_tokens")+` (id, token_hash, access_token_id, family_id,
			client_id, user_id, scopes, used_at, revoked, expires_at, created_at) VALUES (?, ?, ?, ?, ?, ?, '[]', ?, ?, ?, ?)`,
			parent, digest(), access, families[i], cid, user, now, false, live, now)
		b.exec(t, "INSERT INTO "+b.table("oauth_refresh_tokens")+` (id, token_hash, family_id, parent_id,
			client_id, user_id, scopes, revoked, expires_at, created_at) VALUES (?, ?, ?, ?, ?, ?, '[]', ?, ?, ?)`,
			models.NewUUID().String(), digest(), families[i], parent, cid, user, false, live, now)
	}
	return families
}

// TestPurgeDoneWhen is the acceptance scenario: on a fresh database
// run demo, expire everything by SQL, then a dry run reports the expired
// rows and deletes nothing, a purge deletes them and empties the two
// views, and a second purge deletes nothing.
func TestPurgeDoneWhen(t *testing.T) {
	t.Parallel()
	forBackends(t, func(t *testing.T, b backend) {
		withDemoKeys(&b)
		b.mustRun(t, "demo")
		// The demo fills the auth tables; rows in the OAuth tables too.
		b.seedOAuth(t)
		b.setAllExpired(t)
		before := b.rowCounts(t)
		// The views list tokens and auth records, two-factor challenges
		// included.
		expiredBefore := b.count(t, "oauth_expired_tokens") + b.count(t, "expired_auth_records")
		if expiredBefore == 0 {
			t.Fatalf("after expiring every row, the views list nothing; counts %v", before)
		}

		var st statsJSON
		b.mustJSON(t, &st, "stats", "--json")
		if st.TotalExpired != expiredBefore {
			t.Errorf("stats --json: total_expired %d; want %d, what the views list", st.TotalExpired, expiredBefore)
		}
		for _, ts := range st.Tables {
			if ts.Rows != before[ts.Table] {
				t.Errorf("stats --json: %s has %d rows; want %d", ts.Table, ts.Rows, before[ts.Table])
			}
			if ts.Expired > 0 && (ts.OldestExpiredAge < 23*time.Hour || ts.OldestExpiredAgeSeconds < 23*3600) {
				t.Errorf("stats --json: %s oldest expired age %v (%vs); want about a day", ts.Table, ts.OldestExpiredAge, ts.OldestExpiredAgeSeconds)
			}
		}
		r := b.mustRun(t, "stats")
		if !regexp.MustCompile(`(?m)^email_verifications\s+[1-9]\d*\s+[1-9]\d*\s+(1d 0h|23h \d+m) ago$`).MatchString(r.stdout) {
			t.Errorf("stats printed\n%s\nwant email_verifications with rows expired a day ago", r.stdout)
		}

		var dry repositories.PurgeResult
		b.mustJSON(t, &dry, "purge", "--dry-run", "--json")
		if !dry.DryRun || dry.Total != expiredBefore || dry.Total <= 0 {
			t.Errorf("purge --dry-run --json = %+v; want a dry run counting %d rows", dry, expiredBefore)
		}
		for _, table := range b.expiringTables(t) {
			if dry.Tables[table] != before[table] || before[table] == 0 {
				t.Errorf("purge --dry-run --json counts %d rows of %s; want all its %d rows, more than none", dry.Tables[table], table, before[table])
			}
		}
		if got := b.rowCounts(t); !equalCounts(got, before) {
			t.Errorf("after a dry run, row counts %v; want unchanged %v", got, before)
		}
		r = b.mustRun(t, "purge", "--dry-run")
		if !strings.Contains(r.stdout, fmt.Sprintf("dry run: %d expired rows would be deleted; nothing was deleted", expiredBefore)) ||
			!regexp.MustCompile(`(?m)^email_verifications: [1-9]\d* rows? would be deleted$`).MatchString(r.stdout) ||
			!regexp.MustCompile(fmt.Sprintf(`(?m)^  total\s+%d$`, expiredBefore)).MatchString(r.stdout) {
			t.Errorf("purge --dry-run printed\n%s\nwant a line per table and a summary with the total %d", r.stdout, expiredBefore)
		}

		var res repositories.PurgeResult
		r = b.mustJSON(t, &res, "purge", "--json")
		if res.DryRun || res.Total != dry.Total || !equalCounts(res.Tables, dry.Tables) {
			t.Errorf("purge --json = %+v; want the dry run's counts %+v", res, dry)
		}
		if strings.Contains(r.stdout, "deleted") {
			t.Errorf("purge --json printed progress: %q", r.stdout)
		}
		if n := b.count(t, "oauth_expired_tokens"); n != 0 {
			t.Errorf("after purge, oauth_expired_tokens lists %d rows; want none", n)
		}
		if n := b.count(t, "expired_auth_records"); n != 0 {
			t.Errorf("after purge, expired_auth_records lists %d rows; want none", n)
		}
		after := b.rowCounts(t)
		for table, n := range before {
			if want := n - res.Tables[table]; after[table] != want {
				t.Errorf("after purge, %s has %d rows; want %d", table, after[table], want)
			}
		}

		var again repositories.PurgeResult
		b.mustJSON(t, &again, "purge", "--json")
		if again.Total != 0 {
			t.Errorf("second purge --json = %+v; want total 0", again)
		}
		b.mustJSON(t, &st, "stats", "--json")
		if st.TotalExpired != 0 {
			t.Errorf("stats --json after purge: %+v; want no backlog", st)
		}
	})
}

func equalCounts(a, b map[string]int64) bool {
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	for k, v := range b {
		if a[k] != v {
			return false
		}
	}
	return true
}

// TestPurgeProgressAndRetention checks the text output of a real purge (a
// line per batch, then the summary) and the activity retention.
func TestPurgeProgressAndRetention(t *testing.T) {
	t.Parallel()
	forBackends(t, func(t *testing.T, b backend) {
		b.mustRun(t, "demo")
		b.mustRun(t, "demo")
		families := b.seedOAuth(t)
		b.setAllExpired(t)
		// One token alive keeps its whole family, used tokens included.
		b.exec(t, "UPDATE "+b.table("oauth_refresh_tokens")+" SET expires_at = ? WHERE family_id = ? AND parent_id IS NOT NULL",
			time.Now().UTC().Add(time.Hour).Truncate(time.Microsecond), families[1])
		// Every refresh token goes but the two of the family kept alive
		// (the demo's families are dead too).
		wantRefresh := b.rowCounts(t)["oauth_refresh_tokens"] - 2
		var dry repositories.PurgeResult
		b.mustJSON(t, &dry, "purge", "--dry-run", "--json")
		if dry.Tables["oauth_refresh_tokens"] != wantRefresh {
			t.Errorf("purge --dry-run --json = %+v; want %d refresh tokens: all but the live family's 2", dry, wantRefresh)
		}

		r := b.mustRun(t, "purge", "--batch-size", "1")
		batches := regexp.MustCompile(`(?m)^(\w+): deleted 1 row \((\d+) so far\)$`).FindAllStringSubmatch(r.stdout, -1)
		if int64(len(batches)) != dry.Total {
			t.Errorf("purge --batch-size 1 printed\n%s\nwant %d batch lines of 1 row", r.stdout, dry.Total)
		}
		if !strings.Contains(r.stdout, fmt.Sprintf("deleted %d expired rows\n", dry.Total)) {
			t.Errorf("purge printed\n%s\nwant the summary 'deleted %d expired rows'", r.stdout, dry.Total)
		}
		for table, n := range dry.Tables {
			if !regexp.MustCompile(fmt.Sprintf(`(?m)^  %s\s+%d$`, table, n)).MatchString(r.stdout) {
				t.Errorf("purge printed\n%s\nwant a summary line for %s: %d", r.stdout, table, n)
			}
		}

		kept := b.strings(t, "SELECT family_id FROM "+b.table("oauth_refresh_tokens"))
		if len(kept) != 2 || kept[0] != families[1] || kept[1] != families[1] {
			t.Errorf("refresh tokens left by purge are of families %v; want the 2 of the live family %s", kept, families[1])
		}
		if n := b.count(t, "oauth_expired_tokens") + b.count(t, "expired_auth_records"); n != 0 {
			t.Errorf("after purge, the views list %d rows; want none", n)
		}

		// Retention: activity rows of two days ago go with a one-day
		// retention, and are kept without it.
		var res repositories.PurgeResult
		b.mustJSON(t, &res, "purge", "--json")
		if _, ok := res.Tables["user_activity_log"]; ok || res.Total != 0 {
			t.Errorf("purge --json without retention = %+v; want no activity table and nothing deleted", res)
		}
		events := b.count(t, "user_activity_log")
		b.exec(t, "UPDATE "+b.table("user_activity_log")+" SET created_at = ?", time.Now().UTC().Add(-48*time.Hour).Truncate(time.Microsecond))
		b.mustJSON(t, &res, "purge", "--activity-retention", "3d", "--json")
		if res.Tables["user_activity_log"] != 0 || b.count(t, "user_activity_log") != events {
			t.Errorf("purge --activity-retention 3d = %+v; want no activity row of two days ago deleted", res)
		}
		b.mustJSON(t, &res, "purge", "--activity-retention", "24h", "--batch-size", "7", "--json")
		if res.Tables["user_activity_log"] != events || res.Total != events || b.count(t, "user_activity_log") != 0 {
			t.Errorf("purge --activity-retention 24h = %+v; want the %d activity rows deleted", res, events)
		}
	})
}

// TestOpsUsageErrors checks bad command lines of the operational commands:
// exit 2, an error line naming the problem and the usage hint, and no
// database opened.
func TestOpsUsageErrors(t *testing.T) {
	t.Parallel()
	const id = "0b4c6a0e-3d0f-4a59-9c1e-2f8e3a7d5b21"
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"purge", "--batch-size", "0"}, "--batch-size must be a positive number"},
		{[]string{"purge", "--batch-size", "-5"}, "--batch-size must be a positive number"},
		{[]string{"purge", "--batch-size", "abc"}, "--batch-size"},
		{[]string{"purge", "--activity-retention", "abc"}, "positive duration"},
		{[]string{"purge", "--activity-retention", "-1h"}, "positive duration"},
		{[]string{"purge", "--activity-retention", "0"}, "positive duration"},
		{[]string{"purge", "extra"}, "takes no argument"},
		{[]string{"stats", "extra"}, "takes no argument"},
		{[]string{"stats", "--bogus"}, "bogus"},
		{[]string{"client", "bogus"}, "unknown command"},
		{[]string{"client", "create", "--redirect-uri", "https://app.example.com/cb"}, `"name"`},
		{[]string{"client", "create", "--name", "App"}, `"redirect-uri"`},
		{[]string{"client", "create", "--name", " ", "--redirect-uri", "https://app.example.com/cb"}, "--name must not be empty"},
		{[]string{"client", "create", "--name", "App", "--redirect-uri", "/callback"}, "is not absolute"},
		{[]string{"client", "create", "--name", "App", "--redirect-uri", "https://app.example.com/cb#frag"}, "has a fragment"},
		{[]string{"client", "create", "--name", "App", "--redirect-uri", "https://app.example.com/cb", "--redirect-uri", "https://u:p@app.example.com/cb"}, "user information"},
		{[]string{"client", "show"}, "takes one argument"},
		{[]string{"client", "show", "not-a-uuid"}, `client ID "not-a-uuid" is not a UUID`},
		{[]string{"client", "show", id, id}, "takes one argument"},
		{[]string{"client", "rotate-secret", "42"}, "is not a UUID"},
		{[]string{"client", "revoke"}, "takes one argument"},
		{[]string{"user", "create", "--name", "Ada"}, `"email"`},
		{[]string{"user", "create", "--name", "Ada", "--email", "ada@example.com"}, "no password on standard input"},
		{[]string{"user", "list", "--limit", "0"}, "--limit must be 1 to 1000"},
		{[]string{"user", "list", "--limit", "1001"}, "--limit must be 1 to 1000"},
		{[]string{"user", "list", "--offset", "-1"}, "--offset must not be negative"},
		{[]string{"activity", "--since", "abc"}, "positive duration"},
		{[]string{"activity", "--since", "-2h"}, "positive duration"},
		{[]string{"activity", "--since", "7x"}, "positive duration"},
		{[]string{"activity", "--user", "bob"}, `--user "bob" is not a UUID`},
		{[]string{"activity", "--limit", "0"}, "--limit must be 1 to 1000"},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			failsWith(t, run(t, dir, nil, tc.args...), exitUsage, tc.want)
			if entries, _ := os.ReadDir(dir); len(entries) != 0 {
				t.Errorf("working directory holds %d files; want no database opened", len(entries))
			}
		})
	}
}

// TestOpsPasswordInputErrors checks that a bad password on standard input
// is bad usage, caught before the database is opened.
func TestOpsPasswordInputErrors(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ stdin, want string }{
		{"", "no password on standard input"},
		{"\n", "password must be at least 8 characters"},
		{"short\nlonger-second-line\n", "password must be at least 8 characters"},
		{strings.Repeat("p", 1025) + "\n", "password must be at most 1024 bytes"},
	} {
		tg := target{dir: t.TempDir()}
		r := tg.runInput(t, tc.stdin, "user", "create", "--name", "Ada", "--email", "ada@example.com")
		failsWith(t, r, exitUsage, tc.want)
		if entries, _ := os.ReadDir(tg.dir); len(entries) != 0 {
			t.Errorf("stdin %q: working directory holds %d files; want no database opened", tc.stdin, len(entries))
		}
	}
}

// TestOpsUnreachableDatabase runs every operational command against a
// database that does not answer: exit 1, one line, no password.
func TestOpsUnreachableDatabase(t *testing.T) {
	t.Parallel()
	const url = "postgres://postgres:hunter2@127.0.0.1:1/x?sslmode=disable&connect_timeout=2"
	for _, args := range [][]string{
		{"purge"}, {"purge", "--dry-run", "--json"}, {"stats"}, {"stats", "--json"},
		{"client", "create", "--name", "App", "--redirect-uri", "https://app.example.com/cb"},
		{"client", "list"}, {"client", "show", "0b4c6a0e-3d0f-4a59-9c1e-2f8e3a7d5b21"},
		{"client", "rotate-secret", "0b4c6a0e-3d0f-4a59-9c1e-2f8e3a7d5b21"},
		{"client", "revoke", "0b4c6a0e-3d0f-4a59-9c1e-2f8e3a7d5b21"},
		{"user", "create", "--name", "Ada", "--email", "ada@example.com"},
		{"user", "list"}, {"activity"}, {"activity", "--since", "1h", "--json"},
	} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			t.Parallel()
			tg := target{dir: t.TempDir(), flags: []string{"--database-url", url}}
			r := tg.runInput(t, "correct horse battery\n", args...)
			failsWith(t, r, exitFailure, "postgres", "connection refused")
			for _, bad := range []string{"hunter2", "goroutine", "panic"} {
				if strings.Contains(r.stderr, bad) {
					t.Errorf("stderr %q holds %q", r.stderr, bad)
				}
			}
		})
	}
}

// TestOpsMemoryStorageRefused checks that the commands refuse memory
// storage, where there is no database to work on.
func TestOpsMemoryStorageRefused(t *testing.T) {
	t.Parallel()
	r := run(t, t.TempDir(), []string{"OAUTH_STORAGE=memory", "AUTH_SESSION_STORAGE=memory"}, "stats")
	failsWith(t, r, exitFailure, "memory")
}

func TestOpsHelp(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{
		{"purge", "--help"}, {"stats", "--help"}, {"client"}, {"client", "--help"},
		{"client", "create", "--help"}, {"client", "list", "--help"}, {"client", "show", "--help"},
		{"client", "rotate-secret", "--help"}, {"client", "revoke", "--help"},
		{"user"}, {"user", "create", "--help"}, {"user", "list", "--help"}, {"activity", "--help"},
		{"help", "purge"},
	} {
		r := run(t, t.TempDir(), nil, args...)
		if r.code != 0 || r.stderr != "" || !strings.Contains(r.stdout, "Usage:") || !strings.Contains(r.stdout, "Examples:") {
			t.Errorf("authstore %s: %v; want exit 0 and help with examples on stdout", strings.Join(args, " "), r)
		}
	}
	r := run(t, t.TempDir(), nil, "--help")
	for _, cmd := range []string{"purge", "stats", "client", "user", "activity"} {
		if !regexp.MustCompile(`(?m)^  ` + cmd + `\s+\S`).MatchString(r.stdout) {
			t.Errorf("authstore --help does not list %s:\n%s", cmd, r.stdout)
		}
	}
}

// TestPurgeProgressBar checks the terminal progress bars of purge in
// process: one bar per table that reaches the rows deleted.
func TestPurgeProgressBar(t *testing.T) {
	var buf bytes.Buffer
	rep := &purgeReporter{w: &buf, bars: map[string]int64{"oauth_access_tokens": 3, "sessions": 10}}
	rep.progress("oauth_access_tokens", 2, 2)
	rep.progress("oauth_access_tokens", 1, 3)
	rep.progress("sessions", 4, 4) // fewer than counted: the bar ends at 4
	rep.progress("user_activity_log", 5, 5)
	rep.progress("user_activity_log", 5, 10) // no count known: the bar grows
	rep.finish()
	out := buf.String()
	for _, want := range []string{"oauth_access_tokens", "(3/3", "sessions", "(4/4", "user_activity_log", "(10/10"} {
		if !strings.Contains(out, want) {
			t.Errorf("progress bars %q; want %q in them", out, want)
		}
	}
	if n := strings.Count(out, "\n"); n != 3 {
		t.Errorf("progress bars %q end %d lines; want 3, one per table", out, n)
	}
}

func TestParseDuration(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want time.Duration
	}{
		{"90m", 90 * time.Minute}, {"36h", 36 * time.Hour}, {"7d", 7 * 24 * time.Hour},
		{"1.5d", 36 * time.Hour}, {"1h30m", 90 * time.Minute},
	} {
		if got, err := parseDuration(tc.in); err != nil || got != tc.want {
			t.Errorf("parseDuration(%q) = %v, %v; want %v", tc.in, got, err, tc.want)
		}
	}
	for _, bad := range []string{"", "0", "0d", "-1h", "-2d", "abc", "d", "7", "NaNd", "1e300d", "1w"} {
		if got, err := parseDuration(bad); err == nil {
			t.Errorf("parseDuration(%q) = %v; want an error", bad, got)
		}
	}
}

func TestHumanDuration(t *testing.T) {
	for _, tc := range []struct {
		in   time.Duration
		want string
	}{
		{0, "0s"}, {500 * time.Millisecond, "0s"}, {12 * time.Second, "12s"},
		{4*time.Minute + 10*time.Second, "4m 10s"}, {2*time.Hour + 5*time.Minute + 9*time.Second, "2h 5m"},
		{time.Hour + 3*time.Second, "1h 0m"}, {24 * time.Hour, "1d 0h"}, {76*time.Hour + 59*time.Minute, "3d 4h"},
	} {
		if got := humanDuration(tc.in); got != tc.want {
			t.Errorf("humanDuration(%v) = %q; want %q", tc.in, got, tc.want)
		}
	}
}
