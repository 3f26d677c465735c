package integration

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/forgeauth/authstore"
	"github.com/forgeauth/authstore/config"
	"github.com/forgeauth/authstore/models"
	"github.com/forgeauth/authstore/repositories"
	"github.com/stretchr/testify/require"
	"gorm.io/driver/mysql"
	"gorm.io/driver/sqlite"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"
)

// TestHardeningDeadlines is issue 11 class 4 (deadlines): while another
// connection holds the lock a write needs (SQLite's write lock by BEGIN
// IMMEDIATE; on PostgreSQL every table locked IN EXCLUSIVE MODE, which
// lets reads through as SQLite's WAL does), every write call gives up at
// its context's deadline, not at SQLite's ten-second busy timeout, with
// ErrTimeout wrapping context.DeadlineExceeded and no driver text, having
// written nothing; once the lock is gone the same calls succeed. A lock
// held past the database's own wait (a short SQLite busy timeout,
// PostgreSQL lock_timeout and statement_timeout) is ErrTimeout too.
func TestHardeningDeadlines(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b Backend) {
		f := newFixture(t, b)
		u := f.user(t, "deadline@example.com")
		client, _ := f.confidentialClient(t, &u.ID)
		calls := deadlineCalls(f, u, client)
		before := rowCounts(t, f.s.DB())

		release := holdAllWrites(t, f)
		// The call the issue names: a 1 s deadline returns at about 1 s.
		requireGivesUpAt(t, "Activity.Record", time.Second, calls["Activity.Record"])
		for name, call := range calls {
			requireGivesUpAt(t, name, 200*time.Millisecond, call)
		}
		release()

		require.Equal(t, before, rowCounts(t, f.s.DB()), "a call that timed out wrote something")
		for name, call := range calls {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			require.NoError(t, call(ctx), "%s after the lock was released", name)
			cancel()
		}

		t.Run("database wait", func(t *testing.T) {
			switch b.Name {
			case "sqlite":
				// A host handle whose busy timeout is 200 ms: no deadline,
				// the busy timeout ends the wait.
				cfgURL, err := f.cfg.Database()
				require.NoError(t, err)
				host, err := gorm.Open(sqlite.Open(strings.Replace(authstore.SQLiteDSN(cfgURL.DSN), "_busy_timeout=10000", "_busy_timeout=200", 1)), &gorm.Config{Logger: logger.Discard})
				require.NoError(t, err)
				s, err := authstore.New(host, authstore.WithConfig(f.cfg))
				require.NoError(t, err)
				release := holdAllWrites(t, f)
				defer release()
				start := time.Now()
				err = s.Activity.Record(context.Background(), &u.ID, models.EventLogout, nil)
				requireTimeout(t, "Activity.Record past a 200 ms busy timeout", err, false)
				require.Less(t, time.Since(start), 2*time.Second)
			case "postgres":
				release := holdAllWrites(t, f)
				defer release()
				for _, setting := range []string{"lock_timeout", "statement_timeout"} {
					start := time.Now()
					err := f.s.DB().Transaction(func(tx *gorm.DB) error {
						require.NoError(t, tx.Exec(fmt.Sprintf("SET LOCAL %s = 150", setting)).Error)
						return f.s.Activity.WithTx(tx).Record(context.Background(), &u.ID, models.EventLogout, nil)
					})
					requireTimeout(t, "Activity.Record past "+setting, err, false)
					require.Less(t, time.Since(start), 2*time.Second, setting)
				}
			case "mysql":
				// A host handle whose lock_wait_timeout (a table's lock) is
				// 1 s, MySQL's shortest: no deadline, the server ends the wait.
				d, err := f.cfg.Database()
				require.NoError(t, err)
				c, err := authstore.MySQLConnector(d.DSN + "?lock_wait_timeout=1")
				require.NoError(t, err)
				pool := sql.OpenDB(c)
				t.Cleanup(func() { pool.Close() })
				host, err := gorm.Open(mysql.New(mysql.Config{Conn: pool}), &gorm.Config{Logger: logger.Discard})
				require.NoError(t, err)
				s, err := authstore.New(host, authstore.WithConfig(f.cfg))
				require.NoError(t, err)
				release := holdAllWrites(t, f)
				defer release()
				start := time.Now()
				err = s.Activity.Record(context.Background(), &u.ID, models.EventLogout, nil)
				requireTimeout(t, "Activity.Record past a 1 s lock_wait_timeout", err, false)
				require.Less(t, time.Since(start), 3*time.Second)
			default:
				t.Skip("only the process itself can hold the in-memory database's lock, and its busy timeout is the Store's")
			}
		})
	})
}

// deadlineCalls are write calls of several repositories, each a
// transaction that needs the lock holdAllWrites holds.
func deadlineCalls(f *fixture, u *models.User, client *models.Client) map[string]func(ctx context.Context) error {
	return map[string]func(ctx context.Context) error{
		"Activity.Record": func(ctx context.Context) error {
			return f.s.Activity.Record(ctx, &u.ID, models.EventLogout, nil)
		},
		"Sessions.Create": func(ctx context.Context) error {
			_, _, err := f.s.Sessions.Create(ctx, u.ID, repositories.SessionInput{})
			return err
		},
		"PasswordResets.Request": func(ctx context.Context) error {
			return f.s.PasswordResets.Request(ctx, u.Email, func(context.Context, string, string) error { return nil })
		},
		"EmailVerifications.Issue": func(ctx context.Context) error {
			_, _, err := f.s.EmailVerifications.Issue(ctx, u.ID)
			return err
		},
		"Users.UpdateProfile": func(ctx context.Context) error {
			name := "Dee Adline"
			_, err := f.s.Users.UpdateProfile(ctx, u.ID, repositories.ProfileInput{Name: &name})
			return err
		},
		"Clients.Revoke": func(ctx context.Context) error {
			return f.s.Clients.Revoke(ctx, client.ID)
		},
	}
}

// requireGivesUpAt runs call with a deadline of d and requires ErrTimeout
// wrapping context.DeadlineExceeded at about d.
func requireGivesUpAt(t *testing.T, name string, d time.Duration, call func(ctx context.Context) error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	start := time.Now()
	err := call(ctx)
	took := time.Since(start)
	requireTimeout(t, fmt.Sprintf("%s with a %v deadline", name, d), err, true)
	require.GreaterOrEqual(t, took, d-10*time.Millisecond, "%s returned before its deadline", name)
	require.Less(t, took, d+time.Second, "%s with a %v deadline returned after %v", name, d, took)
}

// requireTimeout requires err to be ErrTimeout (and context.DeadlineExceeded
// when deadline), with no driver text.
func requireTimeout(t *testing.T, what string, err error, deadline bool) {
	t.Helper()
	require.ErrorIs(t, err, repositories.ErrTimeout, "%s = %v; want ErrTimeout", what, err)
	require.Equal(t, deadline, errors.Is(err, context.DeadlineExceeded), "%s = %v; context.DeadlineExceeded want %v", what, err, deadline)
	msg := strings.ToLower(err.Error())
	for _, raw := range []string{"database is locked", "canceling statement", "lock timeout", "sqlstate"} {
		require.NotContains(t, msg, raw, "%s = %q shows the driver's text", what, err)
	}
}

// holdAllWrites holds, from a connection that is not the Store's, what
// every write needs: SQLite's write lock (BEGIN IMMEDIATE; for the
// in-memory database, which only the process can reach, a transaction on
// the Store's own pool), or on PostgreSQL every table IN EXCLUSIVE MODE.
// It returns the release.
func holdAllWrites(t *testing.T, f *fixture) func() {
	t.Helper()
	ctx := context.Background()
	var conn *sql.Conn
	switch f.b.Name {
	case "memory":
		// Opening a connection to it reads the database, which waits for
		// the writer beyond any deadline: the calls use idle ones.
		pool, err := f.s.DB().DB()
		require.NoError(t, err)
		var idle []*sql.Conn
		for range 3 {
			c, err := pool.Conn(ctx)
			require.NoError(t, err)
			idle = append(idle, c)
		}
		for _, c := range idle {
			c.Close()
		}
		conn, err = pool.Conn(ctx)
		require.NoError(t, err)
	default:
		conn = secondConn(ctx, t, f)
	}
	exec := func(q string) {
		t.Helper()
		_, err := conn.ExecContext(ctx, q)
		require.NoError(t, err, q)
	}
	unlock := "ROLLBACK"
	switch f.b.Dialect {
	case config.DialectSQLite:
		exec("BEGIN IMMEDIATE")
	case config.DialectMySQL:
		// READ: other connections read, and no one writes.
		exec("LOCK TABLES " + strings.Join(allTables(t, f.s.DB()), " READ, ") + " READ")
		unlock = "UNLOCK TABLES"
	default:
		exec("BEGIN")
		exec("LOCK TABLE " + strings.Join(allTables(t, f.s.DB()), ", ") + " IN EXCLUSIVE MODE")
	}
	released := false
	release := func() {
		if !released {
			released = true
			exec(unlock)
			conn.Close()
		}
	}
	t.Cleanup(release)
	return release
}
