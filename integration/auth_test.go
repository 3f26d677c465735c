package integration

// Helpers of the authentication tests (auth_*_test.go): users, sessions,
// password resets, email verifications and the activity log. Their names
// start with "auth" so that they do not collide with the OAuth suite's
// helpers in the same package; helpers both suites use are in
// helpers_test.go.

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

// authPassword is the password of every user made by authInsertUser.
const authPassword = "correct horse battery staple"

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
	require.NoError(t, s.DB.WithContext(requestCtx()).Create(u).Error, "insert user %s", email)
	return u
}

// authRegister registers a user through Users.Create (one Argon2id hash).
func authRegister(t *testing.T, users *repositories.Users, email, password string) *models.User {
	t.Helper()
	u, err := users.Create(requestCtx(), repositories.NewUser{Name: "Ada Lovelace", Email: email, Password: password, PasswordConfirmation: password})
	require.NoError(t, err, "Create(%s) = %v; want nil", email, err)
	return u
}

// authRequestReset requests a password reset for email and returns the
// token handed to the deliver callback.
func authRequestReset(t *testing.T, resets *repositories.PasswordResets, email string) string {
	t.Helper()
	var token string
	calls := 0
	err := resets.Request(requestCtx(), email, func(_ context.Context, _, tok string) error {
		calls++
		token = tok
		return nil
	})
	require.NoError(t, err, "Request(%s) = %v; want nil", email, err)
	require.Equal(t, 1, calls, "Request(%s) called deliver %d times; want 1", email, calls)
	return token
}

// authStoredHash reads users.password as stored.
func authStoredHash(t *testing.T, db *gorm.DB, id models.UUID) string {
	t.Helper()
	var h string
	require.NoError(t, db.Raw("SELECT password FROM users WHERE id = ?", id).Scan(&h).Error)
	require.NotEmpty(t, h, "users.password of %s is empty", id)
	return h
}

// authRowCounts returns the number of rows of every table.
func authRowCounts(t *testing.T, db *gorm.DB) map[string]int64 {
	t.Helper()
	out := map[string]int64{}
	for _, table := range allTables(t, db) {
		out[table] = countRows(t, db, table, "")
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
