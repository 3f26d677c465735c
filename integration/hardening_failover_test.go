package integration

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"testing"
	"time"

	"github.com/forgeauth/authstore"
	"github.com/forgeauth/authstore/models"
	"github.com/forgeauth/authstore/repositories"
	"github.com/stretchr/testify/require"
)

// failoverRuns is how many times TestHardeningFailover ends every pooled
// connection (the issue saw several calls fail in one run of two).
const failoverRuns = 20

// TestHardeningFailover is issue 11 class 13 and SECURITY 31, repeated:
// after pg_terminate_backend of every pooled connection (what a failover
// or a restart does), with no pause, at most one of the
// next 20 calls fails, and only with ErrConnectionLost; the others succeed
// and each success is written exactly once. The calls mix a write
// transaction (Activity.Record), a read (Users.FindByEmail) and a write with
// a read before it (Sessions.Create). PostgreSQL only: SQLite has no server
// to lose.
func TestHardeningFailover(t *testing.T) {
	b := backends()[2]
	require.Equal(t, "postgres", b.Name)
	ctx := context.Background()
	admin := adminDB(t, os.Getenv(envPostgresURL))
	worst := 0
	for run := range failoverRuns {
		cfg := b.Config(t)
		app := fmt.Sprintf("authstore_failover_%d_%d", run, time.Now().UnixNano()%1e9)
		u, err := url.Parse(cfg.DatabaseURL)
		require.NoError(t, err)
		q := u.Query()
		q.Set("application_name", app)
		u.RawQuery = q.Encode()
		cfg.DatabaseURL = u.String()
		s, err := authstore.Open(ctx, cfg, authstore.WithMigrate())
		require.NoError(t, err)
		user := &models.User{Name: "T", Email: fmt.Sprintf("failover%d@example.com", run), PasswordHash: "x"}
		require.NoError(t, s.DB().Create(user).Error)

		barrier(8, func(int) { s.DB().Exec("SELECT pg_sleep(0.05)") })
		var killed int64
		require.NoError(t, admin.Raw("SELECT count(*) FROM (SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = ?) k", app).Scan(&killed).Error)
		require.Greater(t, killed, int64(1), "run %d: several pooled connections terminated", run)
		failed, records, sessions := 0, 0, 0
		for i := range 20 {
			var err error
			switch i % 3 {
			case 0:
				if err = s.Activity.Record(ctx, &user.ID, models.EventLogout, map[string]any{"i": i}); err == nil {
					records++
				}
			case 1:
				_, err = s.Users.FindByEmail(ctx, user.Email)
			case 2:
				if _, _, err = s.Sessions.Create(ctx, user.ID, repositories.SessionInput{}); err == nil {
					sessions++
				}
			}
			if err != nil {
				failed++
				require.ErrorIs(t, err, repositories.ErrConnectionLost, "run %d, call %d", run, i)
			}
		}
		worst = max(worst, failed)
		require.LessOrEqual(t, failed, 1, "run %d: %d of 20 calls failed after %d connections were terminated", run, failed, killed)
		require.Equal(t, int64(records), countRows(t, s.DB(), "user_activity_log", "event = ?", "logout"), "run %d: every recorded event written once", run)
		require.Equal(t, int64(sessions), countRows(t, s.DB(), "sessions", "user_id = ?", user.ID), "run %d: every session written once", run)
		require.NoError(t, s.Close())
	}
	t.Logf("%d runs: at most %d failed call per run", failoverRuns, worst)
}
