//go:build loadtest

package integration

// The mixed-load test: 32 goroutines for 10 s per backend, mixing session
// lookups (80%), refresh-token rotations (10%), logins (5%, paying
// Argon2id) and registrations (5%). It fails on any error and checks the
// row counts at the end. Not part of the default run:
//
//	AUTHSTORE_TEST_POSTGRES_URL='postgres://postgres@127.0.0.1:5432/test?sslmode=disable' \
//	    go test -tags loadtest -run TestMixedLoad -v -timeout 10m ./integration

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/forgeauth/authstore"
	"github.com/forgeauth/authstore/hooks"
	"github.com/forgeauth/authstore/models"
	"github.com/forgeauth/authstore/protocol"
	"github.com/forgeauth/authstore/repositories"
	"github.com/stretchr/testify/require"
	"gorm.io/gorm/logger"
)

const (
	loadWorkers  = 32
	loadUsers    = 2000
	loadPassword = "load test password"
)

func loadDuration(t *testing.T) time.Duration {
	if v := os.Getenv("AUTHSTORE_LOAD_DURATION"); v != "" {
		d, err := time.ParseDuration(v)
		require.NoError(t, err, "AUTHSTORE_LOAD_DURATION")
		return d
	}
	return 10 * time.Second
}

type opStats struct {
	mu  sync.Mutex
	lat map[string][]time.Duration
}

func (s *opStats) add(op string, d time.Duration) {
	s.mu.Lock()
	s.lat[op] = append(s.lat[op], d)
	s.mu.Unlock()
}

func TestMixedLoad(t *testing.T) {
	forEachFileBackend(t, func(t *testing.T, b Backend) {
		ctx := context.Background()
		cfg := b.Config(t)
		cfg.JWTSecret = benchSecret
		cfg.MaxOpenConns, cfg.MaxIdleConns = loadWorkers, loadWorkers
		s := openWith(t, cfg, authstore.WithLogger(logger.Discard), authstore.WithMigrate())
		refresh := s.RefreshTokens
		client, secret, err := s.Clients.Create(ctx, repositories.ClientInput{Name: "load", RedirectURIs: []string{"https://app.example.com/cb"}, Confidential: true,
			GrantTypes: []string{protocol.GrantAuthorizationCode, protocol.GrantRefreshToken, protocol.GrantClientCredentials}})
		require.NoError(t, err)
		auth, err := s.Clients.Authenticate(ctx, client.ID, secret)
		require.NoError(t, err)

		// Seed users sharing one pre-computed hash, and a session each.
		hash, err := hooks.DefaultHasher().Hash(loadPassword)
		require.NoError(t, err)
		now := s.Now()
		users := make([]models.User, loadUsers)
		sessions := make([]models.Session, loadUsers)
		tokens := make([]string, loadUsers)
		for i := range users {
			email := fmt.Sprintf("load%05d@example.com", i)
			users[i] = models.User{ID: models.NewUUID(), Name: "Load", Email: email, EmailNormalized: email, PasswordHash: hash, CreatedAt: now, UpdatedAt: now}
			tokens[i], err = hooks.NewToken()
			require.NoError(t, err)
			sessions[i] = models.Session{ID: models.NewUUID(), UserID: users[i].ID, TokenHash: hooks.Digest(tokens[i]), LastActivityAt: now, ExpiresAt: now.Add(24 * time.Hour), CreatedAt: now}
		}
		require.NoError(t, s.DB().Session(&gormSkipHooks).CreateInBatches(&users, 500).Error)
		require.NoError(t, s.DB().Session(&gormSkipHooks).CreateInBatches(&sessions, 500).Error)

		// Phase 1: lookups alone, the latency baseline.
		stats := &opStats{lat: map[string][]time.Duration{}}
		run := func(d time.Duration, mixed bool) (rotations, logins, registrations int64, errs []error) {
			var errMu sync.Mutex
			var nRot, nLogin, nReg atomic.Int64
			deadline := time.Now().Add(d)
			barrier(loadWorkers, func(w int) {
				rng := rand.New(rand.NewPCG(uint64(w), 42))
				var chain string
				for time.Now().Before(deadline) {
					op := "session_lookup"
					if mixed {
						switch p := rng.IntN(100); {
						case p < 10:
							op = "refresh_rotation"
						case p < 15:
							op = "login"
						case p < 20:
							op = "registration"
						}
					}
					start := time.Now()
					var err error
					switch op {
					case "session_lookup":
						_, err = s.Sessions.Find(ctx, tokens[rng.IntN(len(tokens))])
					case "refresh_rotation":
						var pair *repositories.TokenPair
						if chain == "" {
							pair, err = refresh.Issue(ctx, client.ID, nil, nil)
						} else {
							pair, err = refresh.Rotate(ctx, auth, chain, nil)
						}
						if err == nil {
							chain = pair.RefreshToken
							nRot.Add(1)
						}
					case "login":
						_, err = s.Users.Authenticate(ctx, users[rng.IntN(len(users))].Email, loadPassword)
						if err == nil {
							nLogin.Add(1)
						}
					case "registration":
						email := fmt.Sprintf("new-%d-%d@example.com", w, rng.Uint64())
						_, err = s.Users.Create(ctx, repositories.UserInput{Name: "New", Email: email, Password: loadPassword, PasswordConfirmation: loadPassword})
						if err == nil {
							nReg.Add(1)
						}
					}
					if err != nil {
						errMu.Lock()
						errs = append(errs, fmt.Errorf("%s: %w", op, err))
						errMu.Unlock()
						continue
					}
					if mixed {
						stats.add(op, time.Since(start))
					} else {
						stats.add("session_lookup_alone", time.Since(start))
					}
				}
			})
			return nRot.Load(), nLogin.Load(), nReg.Load(), errs
		}
		_, _, _, errs := run(2*time.Second, false)
		require.Empty(t, errs)

		d := loadDuration(t)
		var refreshBefore, loginsBefore int64
		require.NoError(t, s.DB().Model(&models.RefreshToken{}).Count(&refreshBefore).Error)
		require.NoError(t, s.DB().Model(&models.Activity{}).Where("event = ?", models.EventLoginSucceeded).Count(&loginsBefore).Error)
		rotations, logins, registrations, errs := run(d, true)
		require.Empty(t, errs, "errors under load (first: %v)", firstErr(errs))

		// Counts: nothing lost, nothing duplicated.
		var nUsers, nRefresh, nLogins int64
		require.NoError(t, s.DB().Model(&models.User{}).Count(&nUsers).Error)
		require.NoError(t, s.DB().Model(&models.RefreshToken{}).Count(&nRefresh).Error)
		require.NoError(t, s.DB().Model(&models.Activity{}).Where("event = ?", models.EventLoginSucceeded).Count(&nLogins).Error)
		require.Equal(t, int64(loadUsers)+registrations, nUsers, "users")
		require.Equal(t, refreshBefore+rotations, nRefresh, "refresh tokens: one per issue or rotation")
		require.Equal(t, loginsBefore+logins, nLogins, "login.succeeded rows")

		t.Logf("%s: %d workers for %s", b.Name, loadWorkers, d)
		t.Logf("%-22s %8s %10s %10s %10s", "operation", "count", "ops/s", "p50", "p99")
		for _, op := range []string{"session_lookup_alone", "session_lookup", "refresh_rotation", "login", "registration"} {
			lat := stats.lat[op]
			secs := d.Seconds()
			if op == "session_lookup_alone" {
				secs = 2
			}
			t.Logf("%-22s %8d %10.0f %9.0fµs %9.0fµs", op, len(lat), float64(len(lat))/secs, percentile(lat, 0.5), percentile(lat, 0.99))
		}
		// Argon2id runs outside transactions: a login must not stall the
		// writers behind it. Rotations (writes) keep a p99 far below the
		// time of even a few hashes queued behind a lock.
		require.Less(t, percentile(stats.lat["refresh_rotation"], 0.99), 500e3, "rotation p99 (µs)")
	})
}

func firstErr(errs []error) error {
	if len(errs) == 0 {
		return nil
	}
	return errs[0]
}
