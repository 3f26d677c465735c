package integration

// Helpers shared by the authentication tests (auth_*_test.go): users,
// sessions, password resets, email verifications and the activity log.
// Their names start with "auth" so that they do not collide with the OAuth
// suite's helpers in the same package.

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/forgeauth/authstore"
	"github.com/forgeauth/authstore/hooks"
	"github.com/forgeauth/authstore/models"
	"github.com/forgeauth/authstore/repositories"
	"github.com/stretchr/testify/require"
	"gorm.io/gorm"
)

const (
	// authPassword is the password of every user made by authInsertUser.
	authPassword = "correct horse battery staple"
	authIP       = "203.0.113.7"
	authUA       = "authstore-test/1.0 (integration)"
)

// authCtx returns a context carrying request metadata, as an HTTP handler
// would set it.
func authCtx() context.Context {
	return hooks.WithRequestMeta(context.Background(), hooks.RequestMeta{IP: authIP, UserAgent: authUA})
}

// authHash is the Argon2id hash of authPassword, made once per test binary
// so that tests which do not exercise hashing do not pay for it.
var authHash = sync.OnceValue(func() string {
	h, err := hooks.DefaultHasher().Hash(authPassword)
	if err != nil {
		panic(err)
	}
	return h
})

// authClockStore opens a migrated store of b on a fake clock.
func authClockStore(t *testing.T, b Backend, opts ...authstore.Option) (*authstore.Store, *Clock) {
	t.Helper()
	clock := newClock()
	return openMigrated(t, b, append([]authstore.Option{authstore.WithClock(clock.Now)}, opts...)...), clock
}

// authInsertUser writes a user whose password is authPassword through GORM
// (the model hooks run: id, email normalisation, user.registered) without
// hashing.
func authInsertUser(t *testing.T, s *authstore.Store, email string) *models.User {
	t.Helper()
	u := &models.User{Name: "Ada Lovelace", Email: email, PasswordHash: authHash()}
	require.NoError(t, s.DB.WithContext(authCtx()).Create(u).Error, "insert user %s", email)
	return u
}

// authRegister registers a user through Users.Create (one Argon2id hash).
func authRegister(t *testing.T, users *repositories.Users, email, password string) *models.User {
	t.Helper()
	u, err := users.Create(authCtx(), repositories.NewUser{Name: "Ada Lovelace", Email: email, Password: password, PasswordConfirmation: password})
	require.NoError(t, err, "Create(%s) = %v; want nil", email, err)
	return u
}

// authRequestReset requests a password reset for email and returns the
// token handed to the deliver callback.
func authRequestReset(t *testing.T, resets *repositories.PasswordResets, email string) string {
	t.Helper()
	var token string
	calls := 0
	err := resets.Request(authCtx(), email, func(_ context.Context, _, tok string) error {
		calls++
		token = tok
		return nil
	})
	require.NoError(t, err, "Request(%s) = %v; want nil", email, err)
	require.Equal(t, 1, calls, "Request(%s) called deliver %d times; want 1", email, calls)
	return token
}

// authCount counts the rows of table matching where.
func authCount(t *testing.T, db *gorm.DB, table, where string, args ...any) int64 {
	t.Helper()
	var n int64
	q := db.Table(table)
	if where != "" {
		q = q.Where(where, args...)
	}
	require.NoError(t, q.Count(&n).Error, "count %s where %s", table, where)
	return n
}

// authEvents counts the activity rows of a user (nil for none) with event.
func authEvents(t *testing.T, db *gorm.DB, userID *models.UUID, event hooks.Event) int64 {
	t.Helper()
	if userID == nil {
		return authCount(t, db, "user_activity_log", "user_id IS NULL AND event = ?", string(event))
	}
	return authCount(t, db, "user_activity_log", "user_id = ? AND event = ?", *userID, string(event))
}

// authStoredHash reads users.password as stored.
func authStoredHash(t *testing.T, db *gorm.DB, id models.UUID) string {
	t.Helper()
	var h string
	require.NoError(t, db.Raw("SELECT password FROM users WHERE id = ?", id).Scan(&h).Error)
	require.NotEmpty(t, h, "users.password of %s is empty", id)
	return h
}

// authTables lists every base table of the database, from its catalogue.
func authTables(t *testing.T, db *gorm.DB) []string {
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

// authColumn is a column and its declared type.
type authColumn struct{ Name, Type string }

// authColumns lists the columns of table, from the catalogue.
func authColumns(t *testing.T, db *gorm.DB, table string) []authColumn {
	t.Helper()
	q := `SELECT name, type FROM pragma_table_info(?) ORDER BY cid`
	if db.Dialector.Name() == "postgres" {
		q = `SELECT column_name AS name, data_type AS type FROM information_schema.columns
			WHERE table_schema = CURRENT_SCHEMA() AND table_name = ? ORDER BY ordinal_position`
	}
	var out []authColumn
	require.NoError(t, db.Raw(q, table).Scan(&out).Error)
	require.NotEmpty(t, out, "table %s has no columns", table)
	return out
}

// authRender renders a column value so that two reads of one row compare
// equal.
func authRender(v any) string {
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

// authSnapshot returns every row of every table (ordered by id), rendered
// as text: two snapshots are equal when no row was written.
func authSnapshot(t *testing.T, db *gorm.DB) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	for _, table := range authTables(t, db) {
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
				fmt.Fprintf(&b, "%s=%s;", c, authRender(vals[i]))
			}
			out[table] = append(out[table], b.String())
		}
		require.NoError(t, rows.Err())
		require.NoError(t, rows.Close())
	}
	return out
}

// authRowCounts returns the number of rows of every table.
func authRowCounts(t *testing.T, db *gorm.DB) map[string]int64 {
	t.Helper()
	out := map[string]int64{}
	for _, table := range authTables(t, db) {
		out[table] = authCount(t, db, table, "")
	}
	return out
}

// authErrInjected is the fault authFaults injects.
var authErrInjected = errors.New("injected fault")

// authFaults fails the k-th statement (query, insert, update or delete) run
// through the *gorm.DB it was installed on.
type authFaults struct {
	failAt atomic.Int64 // 0: never
	n      atomic.Int64
	fired  atomic.Bool
}

// authInjectFaults installs an authFaults on db's callbacks (db must come
// from authSeparateDB).
func authInjectFaults(t *testing.T, db *gorm.DB) *authFaults {
	t.Helper()
	f := &authFaults{}
	fn := func(tx *gorm.DB) {
		if tx.Error != nil {
			return
		}
		if n := f.n.Add(1); n == f.failAt.Load() {
			f.fired.Store(true)
			tx.AddError(authErrInjected)
		}
	}
	cb := db.Callback()
	require.NoError(t, cb.Create().Before("gorm:create").Register("test:inject_create", fn))
	require.NoError(t, cb.Update().Before("gorm:update").Register("test:inject_update", fn))
	require.NoError(t, cb.Delete().Before("gorm:delete").Register("test:inject_delete", fn))
	require.NoError(t, cb.Query().Before("gorm:query").Register("test:inject_query", fn))
	require.NoError(t, cb.Raw().Before("gorm:raw").Register("test:inject_raw", fn))
	return f
}

// arm makes the k-th statement from now on fail (k = 0: none).
func (f *authFaults) arm(k int) {
	f.n.Store(0)
	f.fired.Store(false)
	f.failAt.Store(int64(k))
}

// authMutations returns tokens that differ from tok by one character or in
// case only.
func authMutations(tok string) map[string]string {
	out := map[string]string{}
	flip := func(i int) string {
		b := []byte(tok)
		if b[i] == 'A' {
			b[i] = 'B'
		} else {
			b[i] = 'A'
		}
		return string(b)
	}
	out["first character changed"] = flip(0)
	out["middle character changed"] = flip(len(tok) / 2)
	out["last character changed"] = flip(len(tok) - 1)
	out["last character dropped"] = tok[:len(tok)-1]
	out["character appended"] = tok + "A"
	out["upper case"] = strings.ToUpper(tok)
	out["lower case"] = strings.ToLower(tok)
	for i := 0; i < len(tok); i++ { // one letter's case swapped
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
	for name, m := range out {
		if m == tok {
			delete(out, name) // e.g. a token with no upper-case letter
		}
	}
	return out
}

// authUTC returns u with every time in UTC, so that whole structs read
// from different drivers compare equal.
func authUTC(u models.User) models.User {
	utc := func(p *time.Time) *time.Time {
		if p == nil {
			return nil
		}
		v := p.UTC()
		return &v
	}
	u.CreatedAt, u.UpdatedAt = u.CreatedAt.UTC(), u.UpdatedAt.UTC()
	u.EmailVerifiedAt = utc(u.EmailVerifiedAt)
	u.TwoFactorConfirmedAt = utc(u.TwoFactorConfirmedAt)
	u.LastFailedLoginAt = utc(u.LastFailedLoginAt)
	return u
}

// authUTCText reads a timestamp column as UTC text, "2006-01-02 15:04:05.999999",
// from the database itself: it proves the stored instant.
func authUTCText(t *testing.T, db *gorm.DB, table, column string, id any) string {
	t.Helper()
	var s string
	if db.Dialector.Name() == "postgres" {
		require.NoError(t, db.Raw(fmt.Sprintf(`SELECT to_char(%s AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US') FROM %s WHERE id = ?`, column, table), id).Scan(&s).Error)
		return s
	}
	require.NoError(t, db.Raw(fmt.Sprintf(`SELECT CAST(%s AS TEXT) FROM %s WHERE id = ?`, column, table), id).Scan(&s).Error)
	// mattn/go-sqlite3 stores "2006-01-02 15:04:05.999999999-07:00": only
	// a +00:00 offset is UTC.
	require.True(t, strings.HasSuffix(s, "+00:00"), "%s.%s stored as %q; want a UTC (+00:00) timestamp", table, column, s)
	ts, err := time.Parse("2006-01-02 15:04:05.999999999-07:00", s)
	require.NoError(t, err)
	return ts.Format("2006-01-02 15:04:05.000000")
}

// authFmt is the format of authUTCText.
func authFmt(ts time.Time) string { return ts.UTC().Format("2006-01-02 15:04:05.000000") }
