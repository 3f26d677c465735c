package integration

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/forgeauth/authstore"
	"github.com/forgeauth/authstore/migrations"
	"github.com/forgeauth/authstore/models"
	"github.com/forgeauth/authstore/repositories"
	"github.com/stretchr/testify/require"
	"gorm.io/driver/sqlite"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"
)

// Touch never revives a session past its idle or absolute limit.
func TestTouchDoesNotReviveExpiredSession(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b Backend) {
		ctx := context.Background()
		clock := newClock()
		s := openMigrated(t, b, authstore.WithClock(clock.Now))
		u := &models.User{Name: "T", Email: "touch@example.com", PasswordHash: "x"}
		require.NoError(t, s.DB.Create(u).Error)
		sess, token, err := s.Sessions.Create(ctx, u.ID, repositories.NewSession{})
		require.NoError(t, err)

		clock.Advance(s.Config.SessionLifetime + time.Second)
		err = s.Sessions.Touch(ctx, sess.ID)
		require.True(t, errors.Is(err, repositories.ErrExpired), "Touch(idle session) = %v; want ErrExpired", err)
		_, err = s.Sessions.Find(ctx, token)
		require.True(t, errors.Is(err, repositories.ErrExpired), "Find after Touch = %v; want ErrExpired", err)
	})
}

// New refuses a host's SQLite handle without foreign keys: deletes would
// not cascade to sessions and tokens.
func TestNewRefusesSQLiteWithoutForeignKeys(t *testing.T) {
	path := filepath.Join(t.TempDir(), "host.db")
	db, err := gorm.Open(sqlite.Open(path), &gorm.Config{Logger: logger.Discard})
	require.NoError(t, err)
	_, err = authstore.New(db)
	require.True(t, errors.Is(err, authstore.ErrUnsafeDatabase), "New(foreign keys off) = %v; want ErrUnsafeDatabase", err)

	db, err = gorm.Open(sqlite.Open(authstore.SQLiteDSN(path)), &gorm.Config{Logger: logger.Discard})
	require.NoError(t, err)
	_, err = authstore.New(db)
	require.NoError(t, err)
}

// A Migrator whose run was cancelled refuses further work instead of
// silently doing nothing.
func TestMigratorAfterCancel(t *testing.T) {
	s := openEmpty(t, backends()[0])
	m, err := migrations.NewGORM(context.Background(), s.DB)
	require.NoError(t, err)
	defer m.Close()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	require.Error(t, m.Up(ctx))
	require.NoError(t, s.Migrate(context.Background()), "a new Migrator works")
}
