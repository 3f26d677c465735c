package integration

// Helpers shared by the authentication suite (auth_*_test.go) and the OAuth
// suite (oauth_*_test.go): request metadata, row counts, catalogue reads,
// snapshots, secret scans, near-miss tokens and allocation measurement.

import (
	"context"
	"database/sql"
	"fmt"
	"runtime"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/forgeauth/authstore/hooks"
	"github.com/forgeauth/authstore/models"
	"github.com/stretchr/testify/require"
	"gorm.io/gorm"
)

const (
	// requestIP and requestUA are the request metadata requestCtx carries.
	requestIP = "203.0.113.7"
	requestUA = "authstore-test/1.0 (integration)"
)

// requestCtx returns a context carrying request metadata (requestIP,
// requestUA), as an HTTP handler would set it.
func requestCtx() context.Context {
	return hooks.WithRequestMeta(context.Background(), hooks.RequestMeta{IP: requestIP, UserAgent: requestUA})
}

// countRows counts the rows of table matching where ("" for every row).
func countRows(t *testing.T, db *gorm.DB, table, where string, args ...any) int64 {
	t.Helper()
	var n int64
	q := db.Table(table)
	if where != "" {
		q = q.Where(where, args...)
	}
	require.NoError(t, q.Count(&n).Error, "count %s where %s", table, where)
	return n
}

// countEvents counts the activity rows with event. With no user it counts
// the rows of every user (and of none); with one it counts only that user's
// rows, where a nil user means the rows with no user (user_id IS NULL).
func countEvents(t *testing.T, db *gorm.DB, event hooks.Event, user ...*models.UUID) int64 {
	t.Helper()
	switch {
	case len(user) == 0:
		return countRows(t, db, "user_activity_log", "event = ?", string(event))
	case len(user) > 1:
		t.Fatalf("countEvents(%s) given %d users; want at most one", event, len(user))
	case user[0] == nil:
		return countRows(t, db, "user_activity_log", "user_id IS NULL AND event = ?", string(event))
	}
	return countRows(t, db, "user_activity_log", "user_id = ? AND event = ?", *user[0], string(event))
}

// allTables lists every base table of the database, from its catalogue, and
// fails if one of wantTables is missing.
func allTables(t *testing.T, db *gorm.DB) []string {
	t.Helper()
	q := `SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name`
	if db.Dialector.Name() == "postgres" {
		q = `SELECT table_name FROM information_schema.tables
			WHERE table_schema = CURRENT_SCHEMA() AND table_type = 'BASE TABLE' ORDER BY table_name`
	}
	var out []string
	require.NoError(t, db.Raw(q).Scan(&out).Error)
	require.Subset(t, out, wantTables, "the catalogue is missing tables")
	return out
}

// tableColumn is a column and its declared type.
type tableColumn struct{ Name, Type string }

// tableColumns lists the columns of table in order, from the catalogue, and
// fails if there are none.
func tableColumns(t *testing.T, db *gorm.DB, table string) []tableColumn {
	t.Helper()
	q := `SELECT name, type FROM pragma_table_info(?) ORDER BY cid`
	if db.Dialector.Name() == "postgres" {
		q = `SELECT column_name AS name, data_type AS type FROM information_schema.columns
			WHERE table_schema = CURRENT_SCHEMA() AND table_name = ? ORDER BY ordinal_position`
	}
	var out []tableColumn
	require.NoError(t, db.Raw(q, table).Scan(&out).Error)
	require.NotEmpty(t, out, "table %s has no columns", table)
	return out
}

// renderValue renders a column value so that two reads of one row compare
// equal.
func renderValue(v any) string {
	switch x := v.(type) {
	case nil:
		return "NULL"
	case []byte:
		return string(x)
	case time.Time:
		return x.UTC().Format(time.RFC3339Nano)
	}
	return fmt.Sprint(v)
}

// snapshotTables returns every row of every table of the catalogue (ordered
// by id; schema_migrations by version), rendered as text: two snapshots are
// equal when no row was written in between.
func snapshotTables(t *testing.T, db *gorm.DB) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	for _, table := range allTables(t, db) {
		order := "id"
		if table == "schema_migrations" {
			order = "version"
		}
		rows, err := db.Raw(fmt.Sprintf(`SELECT * FROM %q ORDER BY %s`, table, order)).Rows()
		require.NoError(t, err, "snapshot %s", table)
		cols, err := rows.Columns()
		require.NoError(t, err)
		out[table] = []string{}
		for rows.Next() {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			require.NoError(t, rows.Scan(ptrs...))
			var b strings.Builder
			for i, c := range cols {
				fmt.Fprintf(&b, "%s=%s;", c, renderValue(vals[i]))
			}
			out[table] = append(out[table], b.String())
		}
		require.NoError(t, rows.Err())
		require.NoError(t, rows.Close())
	}
	return out
}

// scanForSecrets reads every column of every table (text or not, cast to
// text) and returns "NAME in TABLE.COLUMN" once for each needle found in
// that column, in table, column and needle-name order. It also returns how
// many columns it read.
func scanForSecrets(t *testing.T, db *gorm.DB, needles map[string]string) (found []string, columns int) {
	t.Helper()
	names := make([]string, 0, len(needles))
	for name := range needles {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, table := range allTables(t, db) {
		for _, col := range tableColumns(t, db, table) {
			columns++
			var vals []sql.NullString
			require.NoError(t, db.Raw(fmt.Sprintf(`SELECT CAST(%q AS TEXT) FROM %q`, col.Name, table)).Scan(&vals).Error,
				"read %s.%s", table, col.Name)
			for _, name := range names {
				for _, v := range vals {
					if v.Valid && strings.Contains(v.String, needles[name]) {
						found = append(found, fmt.Sprintf("%s in %s.%s", name, table, col.Name))
						break
					}
				}
			}
		}
	}
	return found, columns
}

// tokenMutations returns tokens that differ from tok by one character or in
// case only: near misses that must not be accepted for tok.
func tokenMutations(tok string) map[string]string {
	flip := func(i int) string {
		b := []byte(tok)
		if b[i] == 'A' {
			b[i] = 'B'
		} else {
			b[i] = 'A'
		}
		return string(b)
	}
	out := map[string]string{
		"first character changed":  flip(0),
		"middle character changed": flip(len(tok) / 2),
		"last character changed":   flip(len(tok) - 1),
		"last character dropped":   tok[:len(tok)-1],
		"character appended":       tok + "A",
		"upper case":               strings.ToUpper(tok),
		"lower case":               strings.ToLower(tok),
	}
	for i := 0; i < len(tok); i++ { // the first letter's case swapped
		c := tok[i]
		var sw byte
		switch {
		case 'a' <= c && c <= 'z':
			sw = c - 'a' + 'A'
		case 'A' <= c && c <= 'Z':
			sw = c - 'A' + 'a'
		default:
			continue
		}
		out["one letter's case swapped"] = tok[:i] + string(sw) + tok[i+1:]
		break
	}
	for i := len(tok) - 1; i >= 0; i-- { // the last lower-case letter upper-cased
		if c := tok[i]; 'a' <= c && c <= 'z' {
			out["last lower-case letter upper-cased"] = tok[:i] + string(c-'a'+'A') + tok[i+1:]
			break
		}
	}
	for name, m := range out {
		if m == tok {
			delete(out, name) // e.g. a token with no upper-case letter
		}
	}
	return out
}

// allocatedBytes returns the bytes allocated while fn ran.
func allocatedBytes(fn func()) uint64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	fn()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}
