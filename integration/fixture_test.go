package integration

// The harness every test uses: the backends (a SQLite file, in-memory
// SQLite, PostgreSQL, MySQL/MariaDB), the fake clock, the barrier, the fixture type (a
// fresh migrated Store with the users, clients, codes and grants a test
// needs) and the helpers shared by several files: request metadata, row
// counts, catalogue reads, snapshots, secret scans, near-miss tokens and
// allocation measurement.

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/forgeauth/authstore"
	"github.com/forgeauth/authstore/config"
	"github.com/forgeauth/authstore/hooks"
	"github.com/forgeauth/authstore/models"
	"github.com/forgeauth/authstore/protocol"
	"github.com/forgeauth/authstore/repositories"
	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/argon2"
	"gorm.io/driver/postgres"
	"gorm.io/driver/sqlite"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"
)

// Backend is one database the shared suite runs against.
type Backend struct {
	// Name is "sqlite", "memory", "postgres" or "mysql".
	Name string
	// Dialect is the GORM dialect name.
	Dialect config.Dialect
	// Config opens a fresh, empty database of this backend.
	Config func(tb testing.TB) config.Config
}

const (
	envPostgresURL     = "AUTHSTORE_TEST_POSTGRES_URL"
	envRequirePostgres = "AUTHSTORE_REQUIRE_POSTGRES"
	envMySQLURL        = "AUTHSTORE_TEST_MYSQL_URL"
	envRequireMySQL    = "AUTHSTORE_REQUIRE_MYSQL"
)

// backends lists the backends a test runs on: SQLite file, in-memory
// SQLite, PostgreSQL and MySQL (MariaDB in CI).
func backends() []Backend {
	return []Backend{
		{Name: "sqlite", Dialect: config.DialectSQLite, Config: sqliteConfig},
		{Name: "memory", Dialect: config.DialectSQLite, Config: memoryConfig},
		{Name: "postgres", Dialect: config.DialectPostgres, Config: postgresConfig},
		{Name: "mysql", Dialect: config.DialectMySQL, Config: mysqlConfig},
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

// forEachFileBackend runs fn on the SQLite file, PostgreSQL and MySQL
// backends.
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

// mysqlConfig creates a fresh database on the MySQL test server, dropped
// when the test ends, and returns a config whose DATABASE_URL selects it.
func mysqlConfig(tb testing.TB) config.Config {
	tb.Helper()
	base := os.Getenv(envMySQLURL)
	if base == "" {
		if os.Getenv(envRequireMySQL) == "1" {
			tb.Fatalf("%s is not set but %s=1: MySQL tests must run", envMySQLURL, envRequireMySQL)
		}
		tb.Skipf("MySQL tests skipped: set %s (e.g. mysql://root@127.0.0.1:3306/test)", envMySQLURL)
	}
	admin := mysqlAdminDB(tb, base)
	var b [6]byte
	_, _ = rand.Read(b[:])
	name := "authstore_test_" + hex.EncodeToString(b[:])
	_, err := admin.Exec("CREATE DATABASE " + name + " CHARACTER SET utf8mb4 COLLATE utf8mb4_bin")
	require.NoError(tb, err)
	tb.Cleanup(func() { admin.Exec("DROP DATABASE IF EXISTS " + name) })
	u, err := url.Parse(base)
	require.NoError(tb, err)
	u.Path = "/" + name
	cfg := config.Default()
	cfg.DatabaseURL = u.String()
	return cfg
}

var (
	mysqlAdminOnce sync.Once
	mysqlAdmin     *sql.DB
	mysqlAdminErr  error
)

// mysqlAdminDB is one shared connection pool used to create and drop
// databases.
func mysqlAdminDB(tb testing.TB, base string) *sql.DB {
	tb.Helper()
	mysqlAdminOnce.Do(func() {
		var u config.DatabaseURL
		if u, mysqlAdminErr = config.ParseDatabaseURL(base); mysqlAdminErr != nil {
			return
		}
		if mysqlAdmin, mysqlAdminErr = sql.Open("mysql", u.DSN); mysqlAdminErr == nil {
			mysqlAdminErr = mysqlAdmin.Ping()
		}
	})
	require.NoError(tb, mysqlAdminErr, "connect to %s", envMySQLURL)
	return mysqlAdmin
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

// openEmpty opens a Store on a fresh, empty database of b, without the
// schema check (there is no schema yet; the in-memory database is
// migrated by Open all the same).
func openEmpty(tb testing.TB, b Backend, opts ...authstore.Option) *authstore.Store {
	tb.Helper()
	return openWith(tb, b.Config(tb), append([]authstore.Option{authstore.WithoutSchemaCheck()}, opts...)...)
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
	return openWith(tb, b.Config(tb), append([]authstore.Option{authstore.WithMigrate()}, opts...)...)
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
// is silent. Repositories use it through their constructors (WithTx takes
// only a transaction's connection, and keeps the Store's callbacks).
func separateDB(t *testing.T, s *authstore.Store) *gorm.DB {
	t.Helper()
	sqlDB, err := s.DB().DB()
	require.NoError(t, err)
	var dial gorm.Dialector
	switch s.DB().Dialector.Name() {
	case "postgres":
		dial = postgres.New(postgres.Config{Conn: sqlDB})
	case "mysql":
		// The Store's own dialector: the repositories' account lock (FOR
		// NO KEY UPDATE) is written FOR UPDATE by it alone.
		dial = s.DB().Dialector
	default:
		dial = sqlite.New(sqlite.Config{Conn: sqlDB})
	}
	db, err := gorm.Open(dial, &gorm.Config{Logger: logger.Discard, TranslateError: true, NowFunc: s.DB().NowFunc})
	require.NoError(t, err)
	return db
}

// jwtSecret signs the access tokens of every fixture (at least 32 bytes).
const jwtSecret = "integration-test-jwt-secret-0123456789abcdef"

const (
	// redirectURI and loopbackURI are the redirect URIs of the fixture's
	// clients.
	redirectURI = "https://app.example.com/cb"
	loopbackURI = "http://127.0.0.1:8080/cb"
)

// userPassword is the password of every user made by fixture.user.
const userPassword = "correct horse battery staple"

// userHash is the Argon2id hash of userPassword, made once per test binary
// so that tests which do not exercise hashing do not pay for it.
var userHash = sync.OnceValue(func() string {
	h, err := hooks.DefaultHasher().Hash(userPassword)
	if err != nil {
		panic(err)
	}
	return h
})

// lightHash is an Argon2id hash of userPassword with 1 MiB of memory and
// one pass, below OWASP's floor for new hashes but accepted by Verify
// (stored hashes are only capped), made once per test binary. A test that
// runs many verifications at once to race them at the database, and checks
// what the database counts, stores it instead of userHash: 50 concurrent
// verifications of userHash hold 50 x 19 MiB, several GB of resident
// memory under the race detector.
var lightHash = sync.OnceValue(func() string {
	const memory, passes = 1024, 1 // KiB, iterations
	salt := make([]byte, 16)
	if _, err := rand.Read(salt); err != nil {
		panic(err)
	}
	key := argon2.IDKey([]byte(userPassword), salt, passes, memory, 1, 32)
	return fmt.Sprintf("$argon2id$v=19$m=%d,t=%d,p=1$%s$%s", memory, passes,
		base64.RawStdEncoding.EncodeToString(salt), base64.RawStdEncoding.EncodeToString(key))
})

// lightHasher is a Hasher with OWASP's lowest-memory row (7 MiB, five
// passes) that runs n hashes at once: for a test that lets n goroutines
// hash a new password at once so that they reach the database together,
// and checks the race, not the hash. The default parameters would hold
// n x 19 MiB (with n = 20, over 2 GB of resident memory under the race
// detector); the CPU time per hash is about the same.
func lightHasher(t *testing.T, n int) *hooks.Hasher {
	t.Helper()
	h, err := hooks.NewHasher(hooks.Params{Memory: 7 * 1024, Iterations: 5, Parallelism: 1, SaltLength: 16, KeyLength: 32})
	require.NoError(t, err)
	return h.WithConcurrency(n)
}

// fixture is one test's database: a fresh, migrated database of a backend
// and a Store over it on a fake clock. The Store was opened with cfg
// (config.Default() from the backend, a JWT secret, then the test's
// mutations), so every repository a test uses is the Store's own
// (f.s.Users, f.s.RefreshTokens, ...). cfg is kept for the few tests that
// build repositories over another *gorm.DB (fault injection, logging).
type fixture struct {
	b     Backend
	s     *authstore.Store
	cfg   config.Config
	clock *Clock
}

// fixtureOption changes how newFixture opens the Store.
type fixtureOption func(*fixtureSettings)

type fixtureSettings struct {
	mutate []func(*config.Config)
	opts   []authstore.Option
}

// withConfig changes the configuration the Store is opened with
// (RequireEmailVerification, EnablePKCE, ...).
func withConfig(mutate func(*config.Config)) fixtureOption {
	return func(fs *fixtureSettings) { fs.mutate = append(fs.mutate, mutate) }
}

// withStoreOptions adds options to the Store's (authstore.WithHasher, ...).
func withStoreOptions(opts ...authstore.Option) fixtureOption {
	return func(fs *fixtureSettings) { fs.opts = append(fs.opts, opts...) }
}

// newFixture opens a fresh, migrated database of b on a fake clock.
func newFixture(t testing.TB, b Backend, opts ...fixtureOption) *fixture {
	t.Helper()
	var fs fixtureSettings
	for _, o := range opts {
		o(&fs)
	}
	cfg := b.Config(t)
	cfg.JWTSecret = jwtSecret
	// Tests request resets for one account in quick succession; the
	// throttle's default is proven by TestPasswordResetsThrottled.
	cfg.PasswordResetThrottle = 0
	for _, m := range fs.mutate {
		m(&cfg)
	}
	clock := newClock()
	s := openWith(t, cfg, append([]authstore.Option{authstore.WithConfig(cfg), authstore.WithClock(clock.Now), authstore.WithMigrate()}, fs.opts...)...)
	return &fixture{b: b, s: s, cfg: cfg, clock: clock}
}

// sibling returns another Store over the fixture's database, opened with
// the fixture's config and clock and then opts: a test that compares two
// settings (another hasher, another config) uses the sibling's own
// repositories. The fixture's own store options (WithHasher) are not
// inherited.
func (f *fixture) sibling(t *testing.T, opts ...authstore.Option) *authstore.Store {
	t.Helper()
	s, err := authstore.New(f.s.DB(), append([]authstore.Option{authstore.WithConfig(f.cfg), authstore.WithClock(f.clock.Now)}, opts...)...)
	require.NoError(t, err)
	return s
}

// repoOptions are the options of the fixture's Store, for repositories a
// test builds over another handle (separateDB).
func (f *fixture) repoOptions() repositories.Options { return repositories.Options{Config: f.cfg} }

// idErr is the sentinel the contract (repositories/doc.go) gives when no
// row has id: ErrInvalidInput for an id that is not a canonical UUID,
// otherwise want.
func idErr(id models.UUID, want error) error {
	if !id.Valid() {
		return repositories.ErrInvalidInput
	}
	return want
}

// configWith returns a copy of the fixture's config changed by mutate.
func (f *fixture) configWith(mutate func(*config.Config)) config.Config {
	cfg := f.cfg
	mutate(&cfg)
	return cfg
}

// user writes a user whose password is userPassword through GORM (the
// model hooks run: id, email normalisation) without hashing, and records
// its registration (user.registered) as Users.Create would.
func (f *fixture) user(t *testing.T, email string) *models.User {
	t.Helper()
	u := &models.User{Name: "Ada Lovelace", Email: email, PasswordHash: userHash()}
	require.NoError(t, f.s.DB().WithContext(requestCtx()).Create(u).Error, "insert user %s", email)
	require.NoError(t, f.s.Activity.Record(requestCtx(), &u.ID, models.EventRegistered, nil), "record registration of %s", email)
	return u
}

// register registers a user through Users.Create (one Argon2id hash).
func (f *fixture) register(t *testing.T, email, password string) *models.User {
	t.Helper()
	u, err := f.s.Users.Create(requestCtx(), repositories.UserInput{Name: "Ada Lovelace", Email: email, Password: password, PasswordConfirmation: password})
	require.NoError(t, err, "Create(%s) = %v; want nil", email, err)
	return u
}

// requestReset requests a password reset for email and returns the token
// handed to the deliver callback.
func (f *fixture) requestReset(t *testing.T, email string) string {
	t.Helper()
	var token string
	calls := 0
	err := f.s.PasswordResets.Request(requestCtx(), email, func(_ context.Context, _, tok string) error {
		calls++
		token = tok
		return nil
	})
	require.NoError(t, err, "Request(%s) = %v; want nil", email, err)
	require.Equal(t, 1, calls, "Request(%s) called deliver %d times; want 1", email, calls)
	return token
}

// storedHash reads users.password as stored.
func (f *fixture) storedHash(t *testing.T, id models.UUID) string {
	t.Helper()
	var h string
	require.NoError(t, f.s.DB().Raw("SELECT password FROM users WHERE id = ?", id).Scan(&h).Error)
	require.NotEmpty(t, h, "users.password of %s is empty", id)
	return h
}

// publicClient registers a public client (no hashing work) with the test
// redirect URIs and scopes read, write and admin.
func (f *fixture) publicClient(t *testing.T) *models.Client {
	t.Helper()
	c, secret, err := f.s.Clients.Create(requestCtx(), repositories.ClientInput{
		Name: "Public app", RedirectURIs: []string{redirectURI, loopbackURI}, Scopes: []string{"read", "write", "admin"},
	})
	require.NoError(t, err, "Create(public client) = %v; want nil", err)
	require.Empty(t, secret, "a public client got a secret")
	return c
}

// confidentialClient registers a confidential client (one Argon2id hash)
// and returns it with its secret.
func (f *fixture) confidentialClient(t *testing.T, owner *models.UUID) (*models.Client, string) {
	t.Helper()
	c, secret, err := f.s.Clients.Create(requestCtx(), repositories.ClientInput{
		Name: "Server app", RedirectURIs: []string{redirectURI}, Confidential: true, UserID: owner,
		GrantTypes: []string{protocol.GrantAuthorizationCode, protocol.GrantRefreshToken, protocol.GrantClientCredentials},
	})
	require.NoError(t, err, "Create(confidential client) = %v; want nil", err)
	require.NotEmpty(t, secret)
	rememberSecret(c.ID, secret)
	return c, secret
}

var (
	clientSecrets sync.Map // client id -> secret, of the clients tests made
	authedClients sync.Map // client id -> repositories.AuthenticatedClient
)

// rememberSecret records a confidential client's secret for authed.
func rememberSecret(id models.UUID, secret string) { clientSecrets.Store(id, secret) }

// authed authenticates a client on s as a token endpoint would
// (Clients.Authenticate, with the secret rememberSecret recorded, or none
// for a public client) and returns the result, cached per client: a test
// that revokes a client after its first token call still presents the
// authentication it had, as a request in flight does. A client that fails
// to authenticate (unknown, malformed, revoked first) gives the zero
// value, which every token call refuses with ErrInvalidCredentials.
func authed(s *authstore.Store, id models.UUID) repositories.AuthenticatedClient {
	if a, ok := authedClients.Load(id); ok {
		return a.(repositories.AuthenticatedClient)
	}
	secret, _ := clientSecrets.Load(id)
	sec, _ := secret.(string)
	a, err := s.Clients.Authenticate(context.Background(), id, sec)
	if err != nil {
		return repositories.AuthenticatedClient{}
	}
	authedClients.Store(id, a)
	return a
}

// code issues an S256 authorization code for redirectURI and returns it
// with its verifier.
func (f *fixture) code(t *testing.T, clientID, userID models.UUID, scopes ...string) (string, string) {
	t.Helper()
	verifier, err := protocol.NewVerifier()
	require.NoError(t, err)
	row, code, err := f.s.AuthCodes.Create(requestCtx(), repositories.AuthCodeInput{
		ClientID: clientID, UserID: userID, RedirectURI: redirectURI, Scopes: scopes,
		CodeChallenge: protocol.S256Challenge(verifier), CodeChallengeMethod: protocol.PKCEMethodS256,
	})
	require.NoError(t, err, "AuthCodes.Create = %v; want nil", err)
	require.Equal(t, hooks.Digest(code), row.CodeHash)
	return code, verifier
}

// pair starts a grant with RefreshTokens.Issue.
func (f *fixture) pair(t *testing.T, clientID models.UUID, userID *models.UUID, scopes ...string) *repositories.TokenPair {
	t.Helper()
	p, err := f.s.RefreshTokens.Issue(requestCtx(), clientID, userID, scopes)
	require.NoError(t, err, "RefreshTokens.Issue = %v; want nil", err)
	return p
}

// grantRows is an OAuth client with a refresh and an access token of one
// user, written directly with GORM.
type grantRows struct {
	Client  *models.Client
	Access  *models.AccessToken
	Refresh *models.RefreshToken
}

// insertGrant writes a client and a grant of userID (an access and a
// refresh token) with GORM, as host code would.
func (f *fixture) insertGrant(t *testing.T, userID models.UUID) grantRows {
	t.Helper()
	db := f.s.DB().WithContext(requestCtx())
	now := f.s.Now()
	c := &models.Client{Name: "app", RedirectURIs: models.Strings{redirectURI},
		GrantTypes: models.Strings{"authorization_code", "refresh_token"}, Scopes: models.Strings{"read"}}
	require.NoError(t, db.Create(c).Error)
	at := &models.AccessToken{ClientID: c.ID, UserID: &userID, Name: "", Scopes: models.Strings{"read"}, ExpiresAt: now.Add(time.Hour)}
	require.NoError(t, db.Create(at).Error)
	tok, err := hooks.NewToken()
	require.NoError(t, err)
	rt := &models.RefreshToken{TokenHash: hooks.Digest(tok), AccessTokenID: &at.ID, ClientID: c.ID, UserID: &userID,
		Scopes: models.Strings{"read"}, ExpiresAt: now.Add(24 * time.Hour)}
	require.NoError(t, db.Create(rt).Error)
	at.FamilyID = &rt.FamilyID
	require.NoError(t, db.Model(at).Update("family_id", rt.FamilyID).Error)
	return grantRows{Client: c, Access: at, Refresh: rt}
}

// revoked reports whether the grant's refresh and access tokens are revoked.
func (g grantRows) revoked(t *testing.T, db *gorm.DB) (refresh, access bool) {
	t.Helper()
	var rt models.RefreshToken
	require.NoError(t, db.Where("id = ?", g.Refresh.ID).Take(&rt).Error)
	var at models.AccessToken
	require.NoError(t, db.Where("id = ?", g.Access.ID).Take(&at).Error)
	return rt.Revoked, at.Revoked
}

// freshDB returns a handle on the fixture's database through a new
// connection pool (a new Store opened with the fixture's config), or the
// store's own handle for the in-memory backend, which lives in one pool.
func (f *fixture) freshDB(t *testing.T) *gorm.DB {
	t.Helper()
	if f.b.Name == "memory" {
		return f.s.DB()
	}
	return openWith(t, f.cfg).DB()
}

// warmPool opens the store's whole PostgreSQL or MySQL connection pool
// (MaxOpenConns) and keeps it idle, so that goroutines released by a
// barrier run their transactions truly at once: opening a connection takes
// long enough to serialise a race. SQLite connections open at once; there
// it does nothing.
func (f *fixture) warmPool(t *testing.T) {
	t.Helper()
	sleep := map[string]string{"postgres": "SELECT pg_sleep(0.05)", "mysql": "SELECT SLEEP(0.05)"}[f.s.DB().Dialector.Name()]
	if sleep == "" {
		return
	}
	sqlDB, err := f.s.DB().DB()
	require.NoError(t, err)
	n := f.cfg.MaxOpenConns
	sqlDB.SetMaxIdleConns(n)
	errs := make([]error, n)
	barrier(n, func(i int) { errs[i] = f.s.DB().Exec(sleep).Error })
	for _, err := range errs {
		require.NoError(t, err)
	}
	require.Equal(t, n, sqlDB.Stats().Idle, "the pool did not stay warm")
}

// lastEvent returns the newest activity row with event.
func lastEvent(t *testing.T, db *gorm.DB, event models.Event) models.Activity {
	t.Helper()
	var a models.Activity
	require.NoError(t, db.Where("event = ?", string(event)).Order("id DESC").Take(&a).Error, "no %s activity row", event)
	return a
}

// requireNoLockErrors fails if any error is SQLite's "database is
// locked"/"busy", a PostgreSQL deadlock or serialization failure, or a
// MySQL deadlock (1213) or lock wait timeout (1205).
func requireNoLockErrors(t *testing.T, errs []error) {
	t.Helper()
	for i, err := range errs {
		if err == nil {
			continue
		}
		msg := strings.ToLower(err.Error())
		for _, bad := range []string{"database is locked", "table is locked", "busy", "deadlock", "40p01", "40001", "could not serialize", "lock wait timeout", "error 1213", "error 1205"} {
			require.NotContains(t, msg, bad, "goroutine %d: %v", i, err)
		}
	}
}

// rowCounts returns the number of rows of every table.
func rowCounts(t *testing.T, db *gorm.DB) map[string]int64 {
	t.Helper()
	out := map[string]int64{}
	for _, table := range allTables(t, db) {
		out[table] = countRows(t, db, table, "")
	}
	return out
}

// utcText reads a timestamp column as UTC text, "2006-01-02 15:04:05.999999",
// from the database itself: it proves the stored instant.
func utcText(t *testing.T, db *gorm.DB, table, column string, id any) string {
	t.Helper()
	var s string
	switch db.Dialector.Name() {
	case "postgres":
		require.NoError(t, db.Raw(fmt.Sprintf(`SELECT to_char(%s AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US') FROM %s WHERE id = ?`, column, table), id).Scan(&s).Error)
		return s
	case "mysql":
		// DATETIME holds no zone: the Store writes UTC (loc=UTC).
		require.NoError(t, db.Raw(fmt.Sprintf(`SELECT DATE_FORMAT(%s, '%%Y-%%m-%%d %%H:%%i:%%s.%%f') FROM %s WHERE id = ?`, column, table), id).Scan(&s).Error)
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

// utcFmt is the format of utcText.
func utcFmt(ts time.Time) string { return ts.UTC().Format("2006-01-02 15:04:05.000000") }

// phcRE matches an Argon2id PHC string (passwords and client secrets).
var phcRE = regexp.MustCompile(`^\$argon2id\$v=19\$m=\d+,t=\d+,p=\d+\$[A-Za-z0-9+/]+\$[A-Za-z0-9+/]+$`)

const (
	// requestIP and requestUA are the request metadata requestCtx carries.
	requestIP = "203.0.113.7"
	requestUA = "authstore-test/1.0 (integration)"
)

// requestCtx returns a context carrying request metadata (requestIP,
// requestUA), as an HTTP handler would set it.
func requestCtx() context.Context {
	return models.WithRequestMeta(context.Background(), models.RequestMeta{IP: requestIP, UserAgent: requestUA})
}

// countRows counts the rows of table matching where ("" for every row).
func countRows(t *testing.T, db *gorm.DB, table, where string, args ...any) int64 {
	t.Helper()
	var n int64
	q := db.Table(table)
	if where != "" {
		q = q.Where(where, args...)
	}
	require.NoError(t, q.Count(&n).Error, "count %s where %s", table, where)
	return n
}

// countEvents counts the activity rows with event. With no user it counts
// the rows of every user (and of none); with one it counts only that user's
// rows, where a nil user means the rows with no user (user_id IS NULL).
func countEvents(t *testing.T, db *gorm.DB, event models.Event, user ...*models.UUID) int64 {
	t.Helper()
	switch {
	case len(user) == 0:
		return countRows(t, db, "user_activity_log", "event = ?", string(event))
	case len(user) > 1:
		t.Fatalf("countEvents(%s) given %d users; want at most one", event, len(user))
	case user[0] == nil:
		return countRows(t, db, "user_activity_log", "user_id IS NULL AND event = ?", string(event))
	}
	return countRows(t, db, "user_activity_log", "user_id = ? AND event = ?", *user[0], string(event))
}

// allTables lists every base table of the database, from its catalogue, and
// fails if one of wantTables is missing.
func allTables(t *testing.T, db *gorm.DB) []string {
	t.Helper()
	q := `SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name`
	switch db.Dialector.Name() {
	case "postgres":
		q = `SELECT table_name FROM information_schema.tables
			WHERE table_schema = CURRENT_SCHEMA() AND table_type = 'BASE TABLE' ORDER BY table_name`
	case "mysql":
		q = `SELECT table_name FROM information_schema.tables
			WHERE table_schema = DATABASE() AND table_type = 'BASE TABLE' ORDER BY table_name`
	}
	var out []string
	require.NoError(t, db.Raw(q).Scan(&out).Error)
	require.Subset(t, out, wantTables, "the catalogue is missing tables")
	return out
}

// tableColumn is a column and its declared type.
type tableColumn struct{ Name, Type string }

// tableColumns lists the columns of table in order, from the catalogue, and
// fails if there are none.
func tableColumns(t *testing.T, db *gorm.DB, table string) []tableColumn {
	t.Helper()
	q := `SELECT name, type FROM pragma_table_info(?) ORDER BY cid`
	switch db.Dialector.Name() {
	case "postgres":
		q = `SELECT column_name AS name, data_type AS type FROM information_schema.columns
			WHERE table_schema = CURRENT_SCHEMA() AND table_name = ? ORDER BY ordinal_position`
	case "mysql":
		q = `SELECT column_name AS name, column_type AS type FROM information_schema.columns
			WHERE table_schema = DATABASE() AND table_name = ? ORDER BY ordinal_position`
	}
	var out []tableColumn
	require.NoError(t, db.Raw(q, table).Scan(&out).Error)
	require.NotEmpty(t, out, "table %s has no columns", table)
	return out
}

// renderValue renders a column value so that two reads of one row compare
// equal.
func renderValue(v any) string {
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

// snapshotTables returns every row of every table of the catalogue (ordered
// by id; the migrations' version table by version), rendered as text: two snapshots are
// equal when no row was written in between.
func snapshotTables(t *testing.T, db *gorm.DB) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	for _, table := range allTables(t, db) {
		order := "id"
		if strings.HasSuffix(table, "schema_migrations") {
			order = "version"
		}
		rows, err := db.Table(table).Order(order).Rows()
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
				fmt.Fprintf(&b, "%s=%s;", c, renderValue(vals[i]))
			}
			out[table] = append(out[table], b.String())
		}
		require.NoError(t, rows.Err())
		require.NoError(t, rows.Close())
	}
	return out
}

// scanForSecrets reads every column of every table (text or not, cast to
// text) and returns "NAME in TABLE.COLUMN" once for each needle found in
// that column, in table, column and needle-name order. It also returns how
// many columns it read.
func scanForSecrets(t *testing.T, db *gorm.DB, needles map[string]string) (found []string, columns int) {
	t.Helper()
	names := make([]string, 0, len(needles))
	for name := range needles {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, table := range allTables(t, db) {
		for _, col := range tableColumns(t, db, table) {
			columns++
			var vals []sql.NullString
			q := fmt.Sprintf(`SELECT CAST(%q AS TEXT) FROM %q`, col.Name, table)
			if db.Dialector.Name() == "mysql" {
				q = fmt.Sprintf("SELECT CAST(`%s` AS CHAR) FROM `%s`", col.Name, table)
			}
			require.NoError(t, db.Raw(q).Scan(&vals).Error, "read %s.%s", table, col.Name)
			for _, name := range names {
				for _, v := range vals {
					if v.Valid && strings.Contains(v.String, needles[name]) {
						found = append(found, fmt.Sprintf("%s in %s.%s", name, table, col.Name))
						break
					}
				}
			}
		}
	}
	return found, columns
}

// tokenMutations returns tokens that differ from tok by one character or in
// case only: near misses that must not be accepted for tok.
func tokenMutations(tok string) map[string]string {
	flip := func(i int) string {
		b := []byte(tok)
		if b[i] == 'A' {
			b[i] = 'B'
		} else {
			b[i] = 'A'
		}
		return string(b)
	}
	out := map[string]string{
		"first character changed":  flip(0),
		"middle character changed": flip(len(tok) / 2),
		"last character changed":   flip(len(tok) - 1),
		"last character dropped":   tok[:len(tok)-1],
		"character appended":       tok + "A",
		"upper case":               strings.ToUpper(tok),
		"lower case":               strings.ToLower(tok),
	}
	for i := 0; i < len(tok); i++ { // the first letter's case swapped
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
	for i := len(tok) - 1; i >= 0; i-- { // the last lower-case letter upper-cased
		if c := tok[i]; 'a' <= c && c <= 'z' {
			out["last lower-case letter upper-cased"] = tok[:i] + string(c-'a'+'A') + tok[i+1:]
			break
		}
	}
	for name, m := range out {
		if m == tok {
			delete(out, name) // e.g. a token with no upper-case letter
		}
	}
	return out
}

// allocatedBytes returns the bytes allocated while fn ran.
func allocatedBytes(fn func()) uint64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	fn()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// execScript runs a script of several statements (migrations.Script's) as
// a client would: in one Exec where the driver takes several statements,
// and on MySQL, whose driver takes one at a time, statement by statement
// on one connection (the script's temporary table and session variable
// are the connection's), stopping at the first error.
func execScript(t *testing.T, db *gorm.DB, script string) error {
	t.Helper()
	if db.Dialector.Name() != "mysql" {
		return db.Exec(script).Error
	}
	pool, err := db.DB()
	require.NoError(t, err)
	conn, err := pool.Conn(context.Background())
	require.NoError(t, err)
	defer conn.Close()
	for _, st := range strings.Split(script, ";\n") {
		var code []string
		for _, l := range strings.Split(st, "\n") {
			if l = strings.TrimSpace(l); l != "" && !strings.HasPrefix(l, "--") {
				code = append(code, l)
			}
		}
		if len(code) == 0 {
			continue
		}
		if _, err := conn.ExecContext(context.Background(), strings.Join(code, "\n")); err != nil {
			return err
		}
	}
	return nil
}
