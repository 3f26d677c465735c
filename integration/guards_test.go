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

// No access token outlives its client's revocation: issues racing a revoke
// either fail with ErrRevoked or are revoked by it.
func TestClientRevocationRacesIssues(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b Backend) {
		ctx := context.Background()
		cfg := b.Config(t)
		cfg.JWTSecret = "guards-test-signing-key-0123456789abcdef"
		s := openWith(t, cfg)
		require.NoError(t, s.Migrate(ctx))
		c, _, err := s.Clients.Create(ctx, repositories.ClientInput{Name: "race", RedirectURIs: []string{"https://app.example.com/cb"}, Confidential: true})
		require.NoError(t, err)
		var unexpected []error
		var mu = make(chan struct{}, 1)
		barrier(21, func(i int) {
			var err error
			if i == 0 {
				err = s.Clients.Revoke(ctx, c.ID)
			} else {
				_, _, err = s.AccessTokens.Issue(ctx, c.ID, nil, nil, nil)
				if errors.Is(err, repositories.ErrRevoked) {
					err = nil
				}
			}
			if err != nil {
				mu <- struct{}{}
				unexpected = append(unexpected, err)
				<-mu
			}
		})
		require.Empty(t, unexpected)
		require.Zero(t, countRows(t, s.DB, "oauth_access_tokens", "client_id = ? AND revoked = ?", c.ID, false),
			"access tokens of a revoked client left unrevoked")
	})
}
