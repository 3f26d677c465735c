package integration

// SECURITY.md 30 and 31: SQLite settings and concurrent writers, and
// PostgreSQL surviving terminated connections.

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/forgeauth/authstore"
	"github.com/forgeauth/authstore/models"
	"github.com/stretchr/testify/require"
	"gorm.io/gorm"
)

// SECURITY 30: SQLite is opened in WAL with foreign keys on, a busy
// timeout, immediate write transactions and synchronous FULL; two handles
// writing at once see zero "database is locked" errors.
func TestSQLiteSettingsAndTwoWriters(t *testing.T) {
	cfg := sqliteConfig(t)
	a := openWith(t, cfg, authstore.WithMigrate())
	b := openWith(t, cfg) // a second pool on the same file
	for pragma, want := range map[string]string{"journal_mode": "wal", "foreign_keys": "1", "synchronous": "2", "busy_timeout": "10000"} {
		var got string
		require.NoError(t, b.DB().Raw("PRAGMA "+pragma).Scan(&got).Error)
		require.Equal(t, want, got, "PRAGMA %s", pragma)
	}
	u := &models.User{Name: "W", Email: "writers@example.com", PasswordHash: "x"}
	require.NoError(t, a.DB().Create(u).Error)

	var failures atomic.Int64
	var first atomic.Value
	const n = 40
	barrier(n, func(i int) {
		s := a
		if i%2 == 1 {
			s = b
		}
		// A read-then-write transaction: the pattern that fails with
		// "database is locked" under deferred transactions.
		err := s.DB().Transaction(func(tx *gorm.DB) error {
			var cnt int64
			if err := tx.Model(&models.Session{}).Where("user_id = ?", u.ID).Count(&cnt).Error; err != nil {
				return err
			}
			return tx.Create(&models.Session{UserID: u.ID, TokenHash: fmt.Sprintf("w-%d", i), LastActivityAt: s.Now(), ExpiresAt: s.Now()}).Error
		})
		if err != nil {
			failures.Add(1)
			first.CompareAndSwap(nil, err.Error())
		}
	})
	require.Zero(t, failures.Load(), "first error: %v", first.Load())
	require.Equal(t, int64(n), countRows(t, a.DB(), "sessions", "user_id = ?", u.ID))
}

// SECURITY 31: after pg_terminate_backend of every pooled connection, at
// most one call fails, later calls succeed, and nothing is written twice.
func TestPostgresSurvivesTerminatedConnections(t *testing.T) {
	ctx := context.Background()
	cfg := postgresConfig(t)
	app := fmt.Sprintf("authstore_terminate_%d", newClock().Now().UnixNano()%1e9)
	u, err := url.Parse(cfg.DatabaseURL)
	require.NoError(t, err)
	q := u.Query()
	q.Set("application_name", app)
	u.RawQuery = q.Encode()
	cfg.DatabaseURL = u.String()
	s := openWith(t, cfg, authstore.WithMigrate())
	user := &models.User{Name: "T", Email: "terminate@example.com", PasswordHash: "x"}
	require.NoError(t, s.DB().Create(user).Error)

	// Fill the pool with several connections.
	barrier(8, func(int) { s.DB().Exec("SELECT pg_sleep(0.05)") })
	var pooled int64
	admin := adminDB(t, os.Getenv(envPostgresURL))
	require.NoError(t, admin.Raw("SELECT count(*) FROM pg_stat_activity WHERE application_name = ?", app).Scan(&pooled).Error)
	require.Greater(t, pooled, int64(1), "the pool holds several connections")
	var killed int64
	require.NoError(t, admin.Raw("SELECT count(*) FROM (SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = ?) k", app).Scan(&killed).Error)
	require.Greater(t, killed, int64(1), "several pooled connections terminated")

	var failed, ok int
	for i := 0; i < 20; i++ {
		err := s.Activity.Record(ctx, &user.ID, models.EventLogout, map[string]any{"i": i})
		if err != nil {
			failed++
			require.True(t, strings.Contains(err.Error(), "57P01") || strings.Contains(strings.ToLower(err.Error()), "terminat"), "unexpected error: %v", err)
			continue
		}
		ok++
	}
	t.Logf("%d connections terminated; %d of 20 calls failed", killed, failed)
	require.LessOrEqual(t, failed, 1, "calls failed after the connections were terminated")
	require.Equal(t, int64(ok), countRows(t, s.DB(), "user_activity_log", "event = ?", "logout"), "every success written once")
}

// SECURITY 31 on MySQL: after KILL of every pooled connection, at most one
// call fails, later calls succeed, and nothing is written twice.
func TestMySQLSurvivesKilledConnections(t *testing.T) {
	ctx := context.Background()
	cfg := mysqlConfig(t)
	s := openWith(t, cfg, authstore.WithMigrate())
	user := &models.User{Name: "T", Email: "kill@example.com", PasswordHash: "x"}
	require.NoError(t, s.DB().Create(user).Error)

	// Fill the pool with several connections.
	barrier(8, func(int) { s.DB().Exec("SELECT SLEEP(0.05)") })
	var database string
	require.NoError(t, s.DB().Raw("SELECT DATABASE()").Scan(&database).Error)
	admin := mysqlAdminDB(t, os.Getenv(envMySQLURL))
	rows, err := admin.QueryContext(ctx, "SELECT id FROM information_schema.processlist WHERE db = ?", database)
	require.NoError(t, err)
	var ids []int64
	for rows.Next() {
		var id int64
		require.NoError(t, rows.Scan(&id))
		ids = append(ids, id)
	}
	require.NoError(t, rows.Err())
	rows.Close()
	require.Greater(t, len(ids), 1, "the pool holds several connections")
	for _, id := range ids {
		_, err := admin.ExecContext(ctx, fmt.Sprintf("KILL %d", id))
		require.NoError(t, err)
	}

	var failed, ok int
	for i := 0; i < 20; i++ {
		err := s.Activity.Record(ctx, &user.ID, models.EventLogout, map[string]any{"i": i})
		if err != nil {
			failed++
			t.Logf("call %d: %v", i, err)
			continue
		}
		ok++
	}
	t.Logf("%d connections killed; %d of 20 calls failed", len(ids), failed)
	require.LessOrEqual(t, failed, 1, "calls failed after the connections were killed")
	require.Equal(t, int64(ok), countRows(t, s.DB(), "user_activity_log", "event = ?", "logout"), "every success written once")
}
