// Package authstore is the persistence layer of an OAuth2 authorization
// server and of user accounts, on GORM, with one implementation serving
// PostgreSQL and SQLite.
//
// Open connects from a config.Config (DATABASE_URL picks the dialect) and
// applies safe settings; New does the same over a host application's own
// *gorm.DB. Development databases are built with AutoMigrate; production
// ones with the versioned SQL files of package migrations.
package authstore

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"time"

	"github.com/forgeauth/authstore/config"
	"github.com/forgeauth/authstore/hooks"
	"github.com/forgeauth/authstore/migrations"
	"github.com/forgeauth/authstore/models"
	"github.com/forgeauth/authstore/repositories"
	"gorm.io/driver/postgres"
	"gorm.io/driver/sqlite"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"
)

// ErrUnsafeDatabase is returned by Open when SQLite did not accept a setting
// authstore relies on (WAL, foreign keys, synchronous FULL, busy timeout).
var ErrUnsafeDatabase = errors.New("authstore: database settings not in effect")

// ErrUnsupportedDialect is returned for a *gorm.DB that is neither
// PostgreSQL nor SQLite.
var ErrUnsupportedDialect = errors.New("authstore: unsupported dialect")

// SQLite settings applied to every file database (see SQLiteDSN).
const (
	sqliteBusyTimeout   = 10 * time.Second
	sqliteStmtCacheSize = 64
)

// Store is an authstore handle: the database and the repositories over it.
// Its settings are fixed when it is built (Open, New and their options);
// Config returns a copy of them.
type Store struct {
	// DB is the library's GORM session: UTC microsecond clock, a logger that
	// never prints bound values, translated errors, and the Store's hasher
	// for the model hooks (a host saving models.User{Password: ...} through
	// it hashes with the Store's parameters).
	DB *gorm.DB

	Users              *repositories.Users
	Sessions           *repositories.Sessions
	PasswordResets     *repositories.PasswordResets
	EmailVerifications *repositories.EmailVerifications
	Activity           *repositories.ActivityLog
	Cleanup            *repositories.Cleanup
	Clients            *repositories.Clients
	AccessTokens       *repositories.AccessTokens
	RefreshTokens      *repositories.RefreshTokens
	AuthCodes          *repositories.AuthCodes
	PersonalTokens     *repositories.PersonalTokens
	// Tokens introspects and revokes tokens presented as strings (RFC 7662,
	// RFC 7009).
	Tokens *repositories.Tokens

	config config.Config
	clock  func() time.Time
	hasher *hooks.Hasher
	logger logger.Interface
	owned  bool
}

// Option configures New.
type Option func(*Store)

// WithConfig sets the lifetimes and policies the repositories apply; New
// validates it (config.Config.Validate). The default is config.Default().
// Open passes its own configuration.
func WithConfig(cfg config.Config) Option { return func(s *Store) { s.config = cfg } }

// WithClock replaces the clock (time.Now). Tests use it to move time without
// sleeping. Every time it returns is converted to UTC and truncated to
// microseconds, PostgreSQL's resolution.
func WithClock(now func() time.Time) Option { return func(s *Store) { s.clock = now } }

// WithHasher sets the Argon2id parameters for passwords and client secrets.
// The default is hooks.DefaultHasher() (OWASP's floor: m=19 MiB, t=2, p=1).
func WithHasher(h *hooks.Hasher) Option { return func(s *Store) { s.hasher = h } }

// WithLogger replaces the GORM logger of the Store's session (default:
// Logger()). Use one with ParameterizedQueries set: bound values hold
// digests and hashes.
func WithLogger(l logger.Interface) Option { return func(s *Store) { s.logger = l } }

// Open connects to the database named by cfg.DatabaseURL, or to a private
// in-memory SQLite database when cfg selects memory storage, and returns a
// Store over it. SQLite files are opened in WAL mode with foreign keys on,
// synchronous FULL, a busy timeout and immediate write transactions; Open
// fails with ErrUnsafeDatabase if any of them is not in effect.
//
// Open does not create tables: apply the migrations (package migrations) or
// call AutoMigrate.
func Open(ctx context.Context, cfg config.Config, opts ...Option) (*Store, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	dial, memory, err := dialector(cfg)
	if err != nil {
		return nil, err
	}
	db, err := gorm.Open(dial, &gorm.Config{Logger: logger.Discard, TranslateError: true})
	if err != nil {
		return nil, fmt.Errorf("authstore: open %s: %s", dial.Name(), cleanErr(err))
	}
	sqlDB, err := db.DB()
	if err != nil {
		return nil, fmt.Errorf("authstore: %w", err)
	}
	sqlDB.SetMaxOpenConns(cfg.MaxOpenConns)
	sqlDB.SetMaxIdleConns(cfg.MaxIdleConns)
	sqlDB.SetConnMaxLifetime(cfg.ConnMaxLifetime)
	if memory {
		// The in-memory database lives as long as one connection does.
		sqlDB.SetMaxIdleConns(max(cfg.MaxIdleConns, 1))
		sqlDB.SetConnMaxLifetime(0)
		sqlDB.SetConnMaxIdleTime(0)
	}
	if err := sqlDB.PingContext(ctx); err != nil {
		sqlDB.Close()
		return nil, fmt.Errorf("authstore: connect to %s: %s", dial.Name(), cleanErr(err))
	}
	s, err := New(db, append([]Option{WithConfig(cfg)}, opts...)...)
	if err != nil {
		sqlDB.Close()
		return nil, err
	}
	s.owned = true
	return s, nil
}

// New returns a Store over a host application's *gorm.DB. A SQLite handle
// must have foreign keys on (authstore.SQLiteDSN sets it and the other
// settings Open uses); New returns ErrUnsafeDatabase otherwise. The host's handle
// is not modified: the Store works on its own session of it, with the UTC
// microsecond clock, translated errors, a logger that never prints bound
// values and the Store's hasher for the model hooks.
//
// It returns an error wrapping config.ErrInvalid, naming every bad key,
// for an invalid WithConfig (config.Config.ValidatePolicies: the connection
// keys are Open's and are not checked here). Start a hand-built
// configuration from config.Default().
func New(db *gorm.DB, opts ...Option) (*Store, error) {
	dialect := config.Dialect(db.Dialector.Name())
	switch dialect {
	case config.DialectPostgres, config.DialectSQLite:
	default:
		return nil, fmt.Errorf("%w: %q", ErrUnsupportedDialect, dialect)
	}
	s := &Store{config: config.Default(), clock: time.Now, logger: Logger()}
	for _, o := range opts {
		o(s)
	}
	if err := s.config.ValidatePolicies(); err != nil {
		return nil, fmt.Errorf("authstore: %w", err)
	}
	if s.hasher == nil {
		s.hasher = hooks.DefaultHasher()
	}
	clock := s.clock
	session := db.Session(&gorm.Session{
		NewDB:   true,
		NowFunc: func() time.Time { return clock().UTC().Truncate(time.Microsecond) },
		Logger:  s.logger,
	})
	session.Config.TranslateError = true
	s.DB = models.WithHasher(session, s.hasher)
	if dialect == config.DialectSQLite {
		if err := checkSQLite(s.DB); err != nil {
			return nil, err
		}
	}
	ro := repositories.Options{Config: s.config, Hasher: s.hasher}
	s.Users = repositories.NewUsers(s.DB, ro)
	s.Sessions = repositories.NewSessions(s.DB, ro)
	s.PasswordResets = repositories.NewPasswordResets(s.DB, ro)
	s.EmailVerifications = repositories.NewEmailVerifications(s.DB, ro)
	s.Activity = repositories.NewActivityLog(s.DB, ro)
	s.Cleanup = repositories.NewCleanup(s.DB, ro)
	s.Clients = repositories.NewClients(s.DB, ro)
	s.AccessTokens = repositories.NewAccessTokens(s.DB, ro)
	s.RefreshTokens = repositories.NewRefreshTokens(s.DB, ro)
	s.AuthCodes = repositories.NewAuthCodes(s.DB, ro)
	s.PersonalTokens = repositories.NewPersonalTokens(s.DB, ro)
	s.Tokens = repositories.NewTokens(s.DB, ro)
	return s, nil
}

// Now returns the Store's current time: UTC, truncated to microseconds.
func (s *Store) Now() time.Time { return s.DB.NowFunc() }

// Config returns a copy of the configuration the Store was built with.
// Changing the copy changes nothing: build a new Store instead.
func (s *Store) Config() config.Config { return s.config }

// Close closes the database if Open opened it; a Store made by New leaves
// the host's handle open.
func (s *Store) Close() error {
	if !s.owned {
		return nil
	}
	sqlDB, err := s.DB.DB()
	if err != nil {
		return err
	}
	return sqlDB.Close()
}

// Migrate applies every pending SQL migration to the Store's database.
func (s *Store) Migrate(ctx context.Context) error {
	m, err := migrations.NewGORM(ctx, s.DB)
	if err != nil {
		return err
	}
	defer m.Close()
	return m.Up(ctx)
}

// AutoMigrate creates or updates the ten tables with GORM's AutoMigrate and
// creates the two monitoring views if they are missing. It is meant for
// development; production databases use the SQL migrations, which build
// the same schema.
func AutoMigrate(db *gorm.DB) error {
	if err := db.AutoMigrate(models.All()...); err != nil {
		return fmt.Errorf("authstore: automigrate: %w", err)
	}
	q := "SELECT count(*) FROM sqlite_master WHERE type = 'view' AND name = ?"
	if config.Dialect(db.Dialector.Name()) == config.DialectPostgres {
		q = "SELECT count(*) FROM information_schema.views WHERE table_schema = CURRENT_SCHEMA() AND table_name = ?"
	}
	for _, v := range migrations.Views() {
		var n int64
		if err := db.Raw(q, v.Name).Scan(&n).Error; err != nil {
			return fmt.Errorf("authstore: automigrate: view %s: %w", v.Name, err)
		}
		if n > 0 {
			continue
		}
		if err := db.Exec(v.SQL).Error; err != nil {
			return fmt.Errorf("authstore: automigrate: create view %s: %w", v.Name, err)
		}
	}
	return nil
}

// dialector returns the GORM dialector for cfg and whether it is the
// in-memory database.
func dialector(cfg config.Config) (gorm.Dialector, bool, error) {
	if cfg.Memory() {
		return sqlite.Open(MemoryDSN()), true, nil
	}
	u, err := cfg.Database()
	if err != nil {
		return nil, false, err
	}
	if u.Dialect == config.DialectPostgres {
		return postgres.New(postgres.Config{DSN: u.DSN}), false, nil
	}
	return sqlite.Open(SQLiteDSN(u.DSN)), false, nil
}

// SQLiteDSN returns the mattn/go-sqlite3 DSN authstore uses for a database
// file: WAL journal, busy timeout, foreign keys on, immediate write
// transactions (so a read-then-write transaction never fails to upgrade its
// lock), synchronous FULL (a committed revocation survives power loss) and
// the driver's prepared-statement cache.
//
// New checks on a host's handle every one of these that a connection
// reports (foreign keys, busy timeout, journal mode, synchronous) and
// refuses the handle with ErrUnsafeDatabase naming the first that does not
// hold. Immediate transactions (_txlock=immediate) and the statement cache
// cannot be read back from a connection: a handle opened without this DSN
// may lack them, and then a read-then-write transaction can fail with
// "database is locked" under concurrent writers.
func SQLiteDSN(path string) string {
	return "file:" + (&url.URL{Path: path}).EscapedPath() + "?" + sqliteParams(true)
}

// MemoryDSN returns the DSN of a new private in-memory SQLite database that
// every pooled connection shares (the memdb VFS; plain :memory: would give
// each connection its own empty database, and cache=shared gives "table is
// locked" errors that bypass the busy timeout).
func MemoryDSN() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return "file:/authstore-" + hex.EncodeToString(b[:]) + "?vfs=memdb&" + sqliteParams(false)
}

func sqliteParams(file bool) string {
	v := url.Values{}
	v.Set("_busy_timeout", fmt.Sprint(sqliteBusyTimeout.Milliseconds()))
	v.Set("_foreign_keys", "1")
	v.Set("_txlock", "immediate")
	v.Set("_stmt_cache_size", fmt.Sprint(sqliteStmtCacheSize))
	if file {
		v.Set("_journal_mode", "WAL")
		v.Set("_synchronous", "FULL")
	}
	return v.Encode()
}

// checkSQLite verifies, on one connection of db, every setting authstore
// relies on that a connection can report, and names the first that does
// not hold: foreign keys on (deleting a user or client relies on ON DELETE
// CASCADE), a busy timeout (without one, concurrent writers fail with
// "database is locked"), and for a file WAL journaling and synchronous FULL
// or EXTRA (a committed revocation survives power loss). The in-memory
// database (journal_mode "memory") needs neither of the last two.
func checkSQLite(db *gorm.DB) error {
	var fk, busy, sync int
	var journal string
	for _, p := range []struct {
		name string
		dest any
	}{{"foreign_keys", &fk}, {"busy_timeout", &busy}, {"journal_mode", &journal}, {"synchronous", &sync}} {
		if err := db.Raw("PRAGMA " + p.name).Scan(p.dest).Error; err != nil {
			return fmt.Errorf("authstore: read sqlite pragma %s: %w", p.name, err)
		}
	}
	const fix = "open the database with authstore.SQLiteDSN(path)"
	switch {
	case fk != 1:
		return fmt.Errorf("%w: sqlite foreign_keys is off (want 1, _foreign_keys=1); %s", ErrUnsafeDatabase, fix)
	case busy <= 0:
		return fmt.Errorf("%w: sqlite busy_timeout is %d (want a positive timeout, _busy_timeout=10000); %s", ErrUnsafeDatabase, busy, fix)
	case journal == "memory":
		return nil // the in-memory database: no journal file, no fsync
	case journal != "wal":
		return fmt.Errorf("%w: sqlite journal_mode is %q (want \"wal\", _journal_mode=WAL); %s", ErrUnsafeDatabase, journal, fix)
	case sync < 2:
		return fmt.Errorf("%w: sqlite synchronous is %d (want 2, FULL, _synchronous=FULL); %s", ErrUnsafeDatabase, sync, fix)
	}
	return nil
}

// cleanErr returns a driver error's text without a password the driver may
// have echoed from the DSN.
func cleanErr(err error) string {
	return redactURLs(err.Error())
}
