package integration

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/forgeauth/authstore"
	"github.com/forgeauth/authstore/config"
	"github.com/forgeauth/authstore/models"
	"github.com/forgeauth/authstore/repositories"
	"github.com/stretchr/testify/require"
	"gorm.io/gorm"
)

// promptly bounds a lookup whose optional write met a lock: well under
// SQLite's ten-second busy timeout (the write gives up after 100 ms).
const promptly = 2 * time.Second

// TestHardeningSessionFindUnderLock is issue 11 class 12 (a valid session
// reported invalid): a lookup whose throttled write cannot get its lock
// returns what it read, promptly, and the write happens on the first
// lookup after the lock is gone. The lock is SQLite's write lock held by
// BEGIN IMMEDIATE on another *sql.DB over the file, and on PostgreSQL the
// rows held
// with SELECT ... FOR UPDATE by another connection, then the whole table
// held against writes (LOCK TABLE ... IN EXCLUSIVE MODE, which lets reads
// through, as a CREATE INDEX does).
//
// The in-memory database is left out of the held-lock cases: its VFS
// (memdb) lets no reader in while a writer holds the lock, so there is no
// read to keep going, and only the process itself can hold that lock.
func TestHardeningSessionFindUnderLock(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b Backend) {
		var locks []string
		switch b.Name {
		case "sqlite":
			locks = []string{"row"}
		case "postgres":
			locks = []string{"row", "table"}
		case "mysql":
			locks = []string{"row"}
		}
		for _, lock := range locks {
			t.Run(lock, func(t *testing.T) {
				f := newFixture(t, b)
				ctx := requestCtx()
				u := f.user(t, "underlock@example.com")
				sess, token, err := f.s.Sessions.Create(ctx, u.ID, repositories.SessionInput{})
				require.NoError(t, err)
				pat, patToken, err := f.s.PersonalTokens.Create(ctx, u.ID, "ci", []string{"read"}, nil)
				require.NoError(t, err)
				created := f.clock.Now()
				f.clock.Advance(f.cfg.SessionTouchInterval + repositories.LastUsedInterval) // both writes are due

				release := holdWriteLock(t, f, lock, sess.ID, pat.ID)
				start := time.Now()
				got, err := f.s.Sessions.Find(ctx, token)
				elapsed := time.Since(start)
				require.NoError(t, err, "Sessions.Find under a held lock = %v; want the session", err)
				require.Equal(t, sess.ID, got.ID)
				require.Less(t, elapsed, promptly, "Sessions.Find under a held lock took %v", elapsed)
				require.True(t, got.LastActivityAt.Equal(created), "Find returned LastActivityAt %v; the write did not happen, want the stored %v", got.LastActivityAt, created)
				t.Logf("%s: Sessions.Find under the lock: %v", b.Name, elapsed)

				start = time.Now()
				gotPAT, err := f.s.PersonalTokens.Find(ctx, patToken)
				elapsed = time.Since(start)
				require.NoError(t, err, "PersonalTokens.Find under a held lock = %v; want the token", err)
				require.Equal(t, pat.ID, gotPAT.ID)
				require.Less(t, elapsed, promptly, "PersonalTokens.Find under a held lock took %v", elapsed)
				require.Nil(t, gotPAT.LastUsedAt, "Find returned LastUsedAt; the write did not happen")

				// Reads see the rows as they were: nothing was written.
				require.Equal(t, utcFmt(created), utcText(t, f.s.DB(), "sessions", "last_activity_at", sess.ID))
				require.Zero(t, countRows(t, f.s.DB(), "oauth_personal_access_tokens", "id = ? AND last_used_at IS NOT NULL", pat.ID))

				release()
				now := f.clock.Now()
				got, err = f.s.Sessions.Find(ctx, token)
				require.NoError(t, err)
				require.True(t, got.LastActivityAt.Equal(now), "Find after the lock = LastActivityAt %v; want %v", got.LastActivityAt, now)
				require.Equal(t, utcFmt(now), utcText(t, f.s.DB(), "sessions", "last_activity_at", sess.ID),
					"the first Find after the lock did not write last_activity_at")
				gotPAT, err = f.s.PersonalTokens.Find(ctx, patToken)
				require.NoError(t, err)
				require.NotNil(t, gotPAT.LastUsedAt)
				require.True(t, gotPAT.LastUsedAt.Equal(now))
				require.Equal(t, utcFmt(now), utcText(t, f.s.DB(), "oauth_personal_access_tokens", "last_used_at", pat.ID))

				if b.Dialect == config.DialectSQLite {
					requireBusyTimeouts(t, f.s)
				}
			})
		}

		t.Run("WithTx", func(t *testing.T) {
			// Inside a caller's transaction the optional write runs in a
			// savepoint: its failure leaves the transaction usable. On
			// PostgreSQL the table is held against writes and the caller's
			// transaction has a short lock_timeout, so the write fails;
			// SQLite's caller's transaction holds the write lock itself.
			f := newFixture(t, b)
			ctx := requestCtx()
			u := f.user(t, "withtx@example.com")
			sess, token, err := f.s.Sessions.Create(ctx, u.ID, repositories.SessionInput{})
			require.NoError(t, err)
			created := f.clock.Now()
			f.clock.Advance(f.cfg.SessionTouchInterval)
			release := func() {}
			if b.Name == "postgres" {
				release = holdWriteLock(t, f, "table", sess.ID, "")
			}
			err = f.s.DB().WithContext(ctx).Transaction(func(tx *gorm.DB) error {
				if b.Name == "postgres" {
					require.NoError(t, tx.Exec("SET LOCAL lock_timeout = 50").Error)
				}
				got, err := f.s.Sessions.WithTx(tx).Find(ctx, token)
				require.NoError(t, err, "Sessions.WithTx(tx).Find = %v; want the session", err)
				require.Equal(t, sess.ID, got.ID)
				var n int64
				return tx.Model(&models.Session{}).Where("id = ?", sess.ID).Count(&n).Error // the transaction still works
			})
			require.NoError(t, err, "the caller's transaction after an optional write: %v", err)
			release()
			if b.Name == "postgres" {
				require.Equal(t, utcFmt(created), utcText(t, f.s.DB(), "sessions", "last_activity_at", sess.ID))
			} else {
				require.Equal(t, utcFmt(f.clock.Now()), utcText(t, f.s.DB(), "sessions", "last_activity_at", sess.ID))
			}
		})

		t.Run("TouchStillWaits", func(t *testing.T) {
			// Touch's write is the call's purpose, not optional: under a
			// row lock it waits for it (bounded here by the context).
			if b.Dialect == config.DialectSQLite {
				t.Skip("SQLite's wait is the busy timeout; TestLockedDatabase covers it")
			}
			f := newFixture(t, b)
			ctx := requestCtx()
			u := f.user(t, "touch@example.com")
			sess, _, err := f.s.Sessions.Create(ctx, u.ID, repositories.SessionInput{})
			require.NoError(t, err)
			f.clock.Advance(time.Minute)
			release := holdWriteLock(t, f, "row", sess.ID, "")
			defer release()
			tctx, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
			defer cancel()
			err = f.s.Sessions.Touch(tctx, sess.ID)
			require.Error(t, err, "Touch under a row lock = nil; want it to wait and fail at the deadline")
		})
	})
}

// holdWriteLock holds, from a connection the Store does not use for the
// call under test, the lock an optional write of the session sessionID
// (and the personal token patID, if not empty) needs, and returns the
// function that releases it. kind is "row" (SQLite: the database's write
// lock, BEGIN IMMEDIATE; PostgreSQL: SELECT ... FOR UPDATE of the rows) or
// "table" (PostgreSQL: LOCK TABLE ... IN EXCLUSIVE MODE, reads allowed).
// The SQLite file is locked from a second *sql.DB over the file.
func holdWriteLock(t *testing.T, f *fixture, kind string, sessionID, patID models.UUID) func() {
	t.Helper()
	ctx := context.Background()
	conn := secondConn(ctx, t, f)
	exec := func(q string, args ...any) {
		t.Helper()
		_, err := conn.ExecContext(ctx, q, args...)
		require.NoError(t, err, q)
	}
	switch f.b.Dialect {
	case config.DialectSQLite:
		exec("BEGIN IMMEDIATE")
		requireSQLiteLocked(t, f)
	case config.DialectMySQL:
		require.Equal(t, "row", kind, "MySQL: row locks only")
		exec("BEGIN")
		exec("SELECT id FROM sessions WHERE id = ? FOR UPDATE", sessionID)
		if patID != "" {
			exec("SELECT id FROM oauth_personal_access_tokens WHERE id = ? FOR UPDATE", patID)
		}
		// The lock holds: a read that may not wait for it fails.
		err := f.s.DB().Transaction(func(tx *gorm.DB) error {
			return tx.Exec("SELECT id FROM sessions WHERE id = ? FOR UPDATE NOWAIT", sessionID).Error
		})
		require.Error(t, err, "the session row is not locked")
	default:
		exec("BEGIN")
		if kind == "table" {
			exec("LOCK TABLE sessions, oauth_personal_access_tokens IN EXCLUSIVE MODE")
		} else {
			exec("SELECT id FROM sessions WHERE id = $1 FOR UPDATE", sessionID)
			if patID != "" {
				exec("SELECT id FROM oauth_personal_access_tokens WHERE id = $1 FOR UPDATE", patID)
			}
		}
		// The lock holds: a write that may not wait fails (NOWAIT covers row
		// locks only; lock_timeout covers the table's).
		err := f.s.DB().Transaction(func(tx *gorm.DB) error {
			if err := tx.Exec("SET LOCAL lock_timeout = 10").Error; err != nil {
				return err
			}
			return tx.Exec("SELECT id FROM sessions WHERE id = ? FOR UPDATE NOWAIT", sessionID).Error
		})
		require.Error(t, err, "the session row is not locked")
	}
	released := false
	release := func() {
		if !released {
			released = true
			exec("ROLLBACK")
			conn.Close()
		}
	}
	t.Cleanup(release)
	return release
}

// requireSQLiteLocked checks that SQLite's write lock is held: a
// connection that may not wait cannot start a write.
func requireSQLiteLocked(t *testing.T, f *fixture) {
	t.Helper()
	ctx := context.Background()
	pool, err := f.s.DB().DB()
	require.NoError(t, err)
	conn, err := pool.Conn(ctx)
	require.NoError(t, err)
	defer conn.Close()
	_, err = conn.ExecContext(ctx, "PRAGMA busy_timeout = 0")
	require.NoError(t, err)
	defer conn.ExecContext(ctx, fmt.Sprintf("PRAGMA busy_timeout = %d", (10*time.Second).Milliseconds()))
	_, err = conn.ExecContext(ctx, "BEGIN IMMEDIATE")
	if err == nil {
		conn.ExecContext(ctx, "ROLLBACK")
	}
	require.Error(t, err, "SQLite's write lock is not held")
	require.True(t, strings.Contains(err.Error(), "locked") || strings.Contains(err.Error(), "busy"), "BEGIN IMMEDIATE: %v", err)
}

// requireBusyTimeouts checks that every connection of the Store's pool has
// the ten-second busy timeout: an optional write gave its connection's
// back.
func requireBusyTimeouts(t *testing.T, s *authstore.Store) {
	t.Helper()
	ctx := context.Background()
	pool, err := s.DB().DB()
	require.NoError(t, err)
	n := pool.Stats().OpenConnections
	require.Positive(t, n)
	conns := make([]*sql.Conn, 0, n)
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	for range n {
		c, err := pool.Conn(ctx)
		require.NoError(t, err)
		conns = append(conns, c)
		var ms int64
		require.NoError(t, c.QueryRowContext(ctx, "PRAGMA busy_timeout").Scan(&ms))
		require.Equal(t, int64(10000), ms, "a pooled connection has busy_timeout %d ms", ms)
	}
}

// TestHardeningConfiguration is issue 11 class 9 (configuration), on every
// backend: New validates every setting Open does that it uses (a lifetime
// that is zero, negative or above config.MaxLifetime is refused naming the
// key, before any work), the longest lifetimes give expiries that read back
// exactly, and a personal token's expiry past year 9999 (which SQLite would
// read back as the zero time) is refused with ErrInvalidInput, writing
// nothing, while the last instant of year 9999 reads back exactly.
func TestHardeningConfiguration(t *testing.T) {
	require.Equal(t, repositories.MaxLockout, config.MaxLockoutDuration, "the longest lock and the longest AUTH_LOCKOUT_DURATION")
	forEachBackend(t, func(t *testing.T, b Backend) {
		f := newFixture(t, b)
		ctx := requestCtx()

		t.Run("NewRefusesBadLifetimes", func(t *testing.T) {
			for _, tc := range []struct {
				key    string
				change func(*config.Config)
			}{
				{"OAUTH_ACCESS_TOKEN_LIFETIME", func(c *config.Config) { c.AccessTokenLifetime = 0 }},
				{"AUTH_SESSION_LIFETIME", func(c *config.Config) { c.SessionLifetime = -time.Second }},
				{"OAUTH_REFRESH_TOKEN_LIFETIME", func(c *config.Config) { c.RefreshTokenLifetime = config.MaxLifetime + time.Second }},
				{"AUTH_REMEMBER_LIFETIME", func(c *config.Config) { c.RememberLifetime = 1 << 62 }},
				{"AUTH_PASSWORD_RESET_THROTTLE", func(c *config.Config) { c.PasswordResetThrottle = config.MaxLifetime + time.Second }},
				{"AUTH_LOCKOUT_DURATION", func(c *config.Config) { c.LockoutDuration = config.MaxLockoutDuration + time.Second }},
				{"AUTH_SESSION_TOUCH_INTERVAL", func(c *config.Config) { c.SessionTouchInterval = c.SessionLifetime }},
			} {
				cfg := f.configWith(tc.change)
				s, err := authstore.New(f.s.DB(), authstore.WithConfig(cfg))
				require.ErrorIs(t, err, config.ErrInvalid, "New(%s) = %v; want config.ErrInvalid", tc.key, err)
				require.Nil(t, s)
				require.Contains(t, err.Error(), tc.key+": want ", "New's error names the key")
				_, err = authstore.Open(context.Background(), cfg)
				require.ErrorIs(t, err, config.ErrInvalid, "Open(%s) = %v; want config.ErrInvalid", tc.key, err)
			}
		})

		t.Run("LongestLifetimesReadBack", func(t *testing.T) {
			cfg := f.configWith(func(c *config.Config) {
				c.SessionLifetime, c.SessionAbsoluteLifetime, c.RememberLifetime = config.MaxLifetime, config.MaxLifetime, config.MaxLifetime
			})
			s := f.sibling(t, authstore.WithConfig(cfg))
			u := f.user(t, "longest@example.com")
			for _, remember := range []bool{false, true} {
				sess, token, err := s.Sessions.Create(ctx, u.ID, repositories.SessionInput{Remember: remember})
				require.NoError(t, err)
				want := f.clock.Now().Add(config.MaxLifetime)
				require.True(t, sess.ExpiresAt.Equal(want))
				got, err := s.Sessions.Find(ctx, token)
				require.NoError(t, err)
				require.True(t, got.ExpiresAt.Equal(want), "ExpiresAt read back as %v; want %v", got.ExpiresAt, want)
			}
		})

		t.Run("PersonalTokenExpiry", func(t *testing.T) {
			u := f.user(t, "expiry@example.com")
			tokens := func() int64 { return countRows(t, f.s.DB(), "oauth_personal_access_tokens", "") }
			events := func() int64 { return countEvents(t, f.s.DB(), models.EventPersonalTokenCreated) }
			beforeTokens, beforeEvents := tokens(), events()
			for _, at := range []time.Time{
				time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC),
				time.Date(9999, 12, 31, 23, 59, 59, 999999000, time.FixedZone("west", -3600)), // 10000-01-01 in UTC
				time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC).Add(-500 * time.Nanosecond),      // truncates to 9999, but is after it
				time.Date(300000, 1, 1, 0, 0, 0, 0, time.UTC),                                 // past PostgreSQL's range
			} {
				row, token, err := f.s.PersonalTokens.Create(ctx, u.ID, "far future", []string{"read"}, &at)
				require.ErrorIs(t, err, repositories.ErrInvalidInput, "Create(expiresAt %v) = %v; want ErrInvalidInput", at, err)
				require.Nil(t, row)
				require.Empty(t, token)
				require.Contains(t, err.Error(), "expiry", "the error names the field")
				require.Less(t, len(err.Error()), 120)
			}
			require.Equal(t, beforeTokens, tokens(), "a refused personal token was written")
			require.Equal(t, beforeEvents, events(), "a refused personal token was recorded")

			last := time.Date(9999, 12, 31, 23, 59, 59, 999999000, time.UTC)
			row, token, err := f.s.PersonalTokens.Create(ctx, u.ID, "until 9999", []string{"read"}, &last)
			require.NoError(t, err, "Create(expiresAt %v) = %v; want nil", last, err)
			require.True(t, row.ExpiresAt.Equal(last))
			got, err := f.s.PersonalTokens.Find(ctx, token)
			require.NoError(t, err)
			require.NotNil(t, got.ExpiresAt)
			require.True(t, got.ExpiresAt.Equal(last), "ExpiresAt read back as %v; want %v", got.ExpiresAt, last)
			list, err := f.s.PersonalTokens.ListForUser(ctx, u.ID)
			require.NoError(t, err)
			require.Len(t, list, 1)
			require.True(t, list[0].ExpiresAt.Equal(last), "ListForUser: ExpiresAt read back as %v; want %v", list[0].ExpiresAt, last)
		})
	})
}

// secondConn opens a connection to f's database outside the Store's pool
// (a second *sql.DB over the SQLite file, PostgreSQL or MySQL server), closed
// when the test ends: the other process of a lock test.
func secondConn(ctx context.Context, t *testing.T, f *fixture) *sql.Conn {
	t.Helper()
	var conn *sql.Conn
	switch f.b.Name {
	case "sqlite":
		u, err := f.cfg.Database()
		require.NoError(t, err)
		db, err := sql.Open("sqlite3", authstore.SQLiteDSN(u.DSN))
		require.NoError(t, err)
		t.Cleanup(func() { db.Close() })
		conn, err = db.Conn(ctx)
		require.NoError(t, err)
	case "postgres":
		db, err := sql.Open("pgx", f.cfg.DatabaseURL)
		require.NoError(t, err)
		t.Cleanup(func() { db.Close() })
		conn, err = db.Conn(ctx)
		require.NoError(t, err)
	case "mysql":
		u, err := f.cfg.Database()
		require.NoError(t, err)
		c, err := authstore.MySQLConnector(u.DSN)
		require.NoError(t, err)
		db := sql.OpenDB(c)
		t.Cleanup(func() { db.Close() })
		conn, err = db.Conn(ctx)
		require.NoError(t, err)
	default:
		t.Fatalf("secondConn: no second connection to the %s database", f.b.Name)
	}
	return conn
}
