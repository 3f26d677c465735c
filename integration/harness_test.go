package integration

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/forgeauth/authstore"
	"github.com/forgeauth/authstore/config"
	"github.com/forgeauth/authstore/migrations"
	"github.com/stretchr/testify/require"
	"gorm.io/driver/postgres"
	"gorm.io/driver/sqlite"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"
)

// Backend is one database the shared suite runs against.
type Backend struct {
	// Name is "sqlite", "memory" or "postgres".
	Name string
	// Dialect is the GORM dialect name.
	Dialect migrations.Dialect
	// Config opens a fresh, empty database of this backend.
	Config func(tb testing.TB) config.Config
}

const (
	envPostgresURL     = "AUTHSTORE_TEST_POSTGRES_URL"
	envRequirePostgres = "AUTHSTORE_REQUIRE_POSTGRES"
)

// backends lists the backends a test runs on: SQLite file, in-memory SQLite
// and PostgreSQL.
func backends() []Backend {
	return []Backend{
		{Name: "sqlite", Dialect: migrations.SQLite, Config: sqliteConfig},
		{Name: "memory", Dialect: migrations.SQLite, Config: memoryConfig},
		{Name: "postgres", Dialect: migrations.Postgres, Config: postgresConfig},
	}
}

// fileBackends lists the backends with a real file or server (no memory).
func fileBackends() []Backend {
	var out []Backend
	for _, b := range backends() {
		if b.Name != "memory" {
			out = append(out, b)
		}
	}
	return out
}

// forEachBackend runs fn as a subtest on every backend.
func forEachBackend(t *testing.T, fn func(t *testing.T, b Backend)) {
	t.Helper()
	for _, b := range backends() {
		t.Run(b.Name, func(t *testing.T) { fn(t, b) })
	}
}

// forEachFileBackend runs fn on the SQLite file and PostgreSQL backends.
func forEachFileBackend(t *testing.T, fn func(t *testing.T, b Backend)) {
	t.Helper()
	for _, b := range fileBackends() {
		t.Run(b.Name, func(t *testing.T) { fn(t, b) })
	}
}

func sqliteConfig(tb testing.TB) config.Config {
	cfg := config.Default()
	cfg.DatabaseURL = "sqlite://" + filepath.Join(tb.TempDir(), "authstore.db")
	return cfg
}

func memoryConfig(tb testing.TB) config.Config {
	cfg := config.Default()
	cfg.OAuthStorage = config.StorageMemory
	cfg.AuthSessionStorage = config.StorageMemory
	return cfg
}

// postgresConfig creates a fresh schema on the test server, dropped when the
// test ends, and returns a config whose DATABASE_URL selects it.
func postgresConfig(tb testing.TB) config.Config {
	tb.Helper()
	base := os.Getenv(envPostgresURL)
	if base == "" {
		if os.Getenv(envRequirePostgres) == "1" {
			tb.Fatalf("%s is not set but %s=1: PostgreSQL tests must run", envPostgresURL, envRequirePostgres)
		}
		tb.Skipf("PostgreSQL tests skipped: set %s (e.g. postgres://postgres@127.0.0.1:5432/test?sslmode=disable)", envPostgresURL)
	}
	admin := adminDB(tb, base)
	var b [6]byte
	_, _ = rand.Read(b[:])
	schema := "authstore_test_" + hex.EncodeToString(b[:])
	require.NoError(tb, admin.Exec("CREATE SCHEMA "+schema).Error)
	tb.Cleanup(func() { admin.Exec("DROP SCHEMA " + schema + " CASCADE") })
	u, err := url.Parse(base)
	require.NoError(tb, err)
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	cfg := config.Default()
	cfg.DatabaseURL = u.String()
	return cfg
}

var (
	adminOnce sync.Once
	admin     *gorm.DB
	adminErr  error
)

// adminDB is one shared connection pool used to create and drop schemas.
func adminDB(tb testing.TB, base string) *gorm.DB {
	tb.Helper()
	adminOnce.Do(func() {
		admin, adminErr = gorm.Open(postgres.Open(base), &gorm.Config{Logger: logger.Discard})
	})
	require.NoError(tb, adminErr, "connect to %s", envPostgresURL)
	return admin
}

// Clock is a fake clock tests move by hand, so expiry needs no sleep.
type Clock struct {
	mu  sync.Mutex
	now time.Time
}

// newClock returns a clock at a fixed instant.
func newClock() *Clock {
	return &Clock{now: time.Date(2026, 1, 2, 3, 4, 5, 678901000, time.UTC)}
}

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Advance moves the clock forward.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// openEmpty opens a Store on a fresh, empty database of b.
func openEmpty(tb testing.TB, b Backend, opts ...authstore.Option) *authstore.Store {
	tb.Helper()
	return openWith(tb, b.Config(tb), opts...)
}

func openWith(tb testing.TB, cfg config.Config, opts ...authstore.Option) *authstore.Store {
	tb.Helper()
	s, err := authstore.Open(context.Background(), cfg, opts...)
	require.NoError(tb, err)
	tb.Cleanup(func() { s.Close() })
	return s
}

// openMigrated opens a Store on a fresh database of b with the SQL
// migrations applied.
func openMigrated(tb testing.TB, b Backend, opts ...authstore.Option) *authstore.Store {
	tb.Helper()
	s := openEmpty(tb, b, opts...)
	require.NoError(tb, s.Migrate(context.Background()))
	return s
}

// barrier starts n goroutines together and waits for all of them.
func barrier(n int, fn func(i int)) {
	var ready, done sync.WaitGroup
	start := make(chan struct{})
	ready.Add(n)
	done.Add(n)
	for i := 0; i < n; i++ {
		go func(i int) {
			defer done.Done()
			ready.Done()
			<-start
			fn(i)
		}(i)
	}
	ready.Wait()
	close(start)
	done.Wait()
}

// separateDB opens a second *gorm.DB over the store's connection pool.
// It has its own callbacks, so a test may register callbacks (faults) on it
// without affecting the store, and it shares the store's clock. Its logger
// is silent. Repositories use it through WithTx or their constructors.
func separateDB(t *testing.T, s *authstore.Store) *gorm.DB {
	t.Helper()
	sqlDB, err := s.DB.DB()
	require.NoError(t, err)
	var dial gorm.Dialector
	if s.DB.Dialector.Name() == "postgres" {
		dial = postgres.New(postgres.Config{Conn: sqlDB})
	} else {
		dial = sqlite.New(sqlite.Config{Conn: sqlDB})
	}
	db, err := gorm.Open(dial, &gorm.Config{Logger: logger.Discard, TranslateError: true, NowFunc: s.DB.NowFunc})
	require.NoError(t, err)
	return db
}
