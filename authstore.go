// Package authstore is the persistence layer of an OAuth2 authorization
// server and of user accounts, on GORM, with one implementation serving
// PostgreSQL, SQLite and MySQL (MySQL 8, MariaDB 10.11).
//
// Open connects from a config.Config (DATABASE_URL picks the dialect) and
// applies safe settings; New does the same over a host application's own
// *gorm.DB. Development databases are built with AutoMigrate; production
// ones with the versioned SQL files of package migrations.
package authstore

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"time"

	"github.com/forgeauth/authstore/config"
	"github.com/forgeauth/authstore/envelope"
	"github.com/forgeauth/authstore/hooks"
	"github.com/forgeauth/authstore/models"
	"github.com/forgeauth/authstore/repositories"
	"github.com/jackc/pgx/v5/stdlib"
	"golang.org/x/sys/unix"
	"gorm.io/driver/postgres"
	"gorm.io/driver/sqlite"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"
)

// ErrUnsafeDatabase is returned by Open and New when the database did not
// accept a setting authstore relies on: on SQLite WAL, foreign keys,
// synchronous FULL, a busy timeout; on MySQL parseTime in UTC, the UTC
// time zone, strict SQL mode, utf8mb4, READ COMMITTED, clientFoundRows.
var ErrUnsafeDatabase = errors.New("authstore: database settings not in effect")

// ErrUnsupportedDialect is returned for a *gorm.DB that is not PostgreSQL,
// SQLite or MySQL.
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
	// AuthRequests are an OpenID provider's pending authorization requests
	// (package oidcstore).
	AuthRequests *repositories.AuthRequests
	// Grants lists and revokes the clients a user has authorized.
	Grants *repositories.Grants
	// Tokens introspects and revokes tokens presented as strings (RFC 7662,
	// RFC 7009).
	Tokens *repositories.Tokens
	// Keys are the signing keys of access tokens: rotation, retirement,
	// the JWKS and re-encryption of their private keys.
	Keys *repositories.SigningKeys
	// TwoFactor enrols and verifies users' second factors (TOTP and
	// recovery codes) and completes the logins Users.Login leaves at
	// their second factor.
	TwoFactor *repositories.TwoFactor

	db       *gorm.DB
	config   config.Config
	clock    func() time.Time
	hasher   *hooks.Hasher
	crypt    envelope.Provider
	logger   logger.Interface
	owned    bool
	readOnly bool
	schema   schemaStep
}

// DB returns the Store's GORM handle over its database: UTC microsecond
// clock, a logger that never prints bound values, translated errors, the
// configured table names, and the Store's hasher for the model hooks (a
// host saving models.User{Password: ...} through it hashes with the
// Store's parameters). Use it for authstore's models and to register GORM
// plugins on the Store's queries; it is not the host's handle.
func (s *Store) DB() *gorm.DB { return s.db }

// Option configures New.
type Option func(*Store)

// WithConfig sets the lifetimes and policies the repositories apply; New
// validates it (config.Config.ValidatePolicies: every key but the
// connection ones, which New does not use). The default is config.Default().
// Open passes its own configuration.
func WithConfig(cfg config.Config) Option { return func(s *Store) { s.config = cfg } }

// WithClock replaces the clock (time.Now; nil keeps it). Tests use it to
// move time without sleeping. Every time it returns is converted to UTC and
// truncated to microseconds, PostgreSQL's resolution.
func WithClock(now func() time.Time) Option { return func(s *Store) { s.clock = now } }

// WithHasher sets the Argon2id parameters for passwords and client secrets.
// The default is hooks.DefaultHasher() (OWASP's floor: m=19 MiB, t=2, p=1).
func WithHasher(h *hooks.Hasher) Option { return func(s *Store) { s.hasher = h } }

// WithEncryption sets the provider of the master keys that encrypt the
// private signing keys (a host's KMS or Vault adapter). The default is the
// local provider of AUTHSTORE_ENCRYPTION_KEY and
// AUTHSTORE_ENCRYPTION_KEYS_PREVIOUS (envelope.FromConfig), or none when
// the configuration has no key.
func WithEncryption(p envelope.Provider) Option { return func(s *Store) { s.crypt = p } }

// WithLogger replaces the GORM logger of the Store's session (default:
// Logger()). Use one with ParameterizedQueries set: bound values hold
// digests and hashes.
func WithLogger(l logger.Interface) Option { return func(s *Store) { s.logger = l } }

// WithMigrate makes Open and New apply every pending SQL migration
// (Store.Migrate) before they check the schema version.
func WithMigrate() Option { return func(s *Store) { s.schema = schemaMigrate } }

// WithAutoMigrate makes Open and New build or update the schema with
// AutoMigrate before they check it: for development. Production databases
// use the SQL migrations (WithMigrate, `authstore migrate up`).
func WithAutoMigrate() Option { return func(s *Store) { s.schema = schemaAutoMigrate } }

// WithoutSchemaCheck makes Open and New leave the schema alone: for tools
// that inspect or repair it (`authstore migrate`). A Store built with it
// may meet missing tables.
func WithoutSchemaCheck() Option { return func(s *Store) { s.schema = schemaSkip } }

// WithReadOnly makes Open open a SQLite file read-only, for commands that
// only read (a backup, an auditor's copy): a missing file is an error, not
// a new empty database, the database file is never written, and every
// write fails. A file in a folder the process cannot write, with no
// write-ahead log beside it, is opened immutable, as SQLite requires for a
// WAL database there. In a folder it can write, SQLite keeps the -wal and
// -shm files of WAL mode beside the file, and a read-only connection leaves
// them when it closes (empty; the next writer removes them). It changes
// nothing for PostgreSQL and the in-memory database.
func WithReadOnly() Option { return func(s *Store) { s.readOnly = true } }

// Open connects to the database named by cfg.DatabaseURL, or to a private
// in-memory SQLite database when cfg selects memory storage, and returns a
// Store over it. SQLite files are opened in WAL mode with foreign keys on,
// synchronous FULL, a busy timeout and immediate write transactions; MySQL
// and MariaDB (mysql:// or mariadb://) with MySQLConnector's settings;
// Open fails with ErrUnsafeDatabase if any of them is not in effect.
//
// Open checks the schema version as New does. It creates no table but in
// the in-memory database, which it migrates: apply the migrations first
// (`authstore migrate up`, WithMigrate) or, in development, use
// WithAutoMigrate.
func Open(ctx context.Context, cfg config.Config, opts ...Option) (*Store, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	var probe Store
	for _, o := range opts {
		o(&probe)
	}
	dial, memory, err := dialector(cfg, probe.readOnly)
	if err != nil {
		return nil, err
	}
	db, err := gorm.Open(dial, &gorm.Config{Logger: logger.Discard, TranslateError: true})
	if err != nil {
		if hint := mysqlOpenHint(err); hint != "" {
			return nil, fmt.Errorf("authstore: open %s: %s; %s", dial.Name(), cleanErr(err), hint)
		}
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
	first := []Option{WithConfig(cfg)}
	if memory {
		// Nothing but this process can build an in-memory database.
		first = append(first, WithMigrate())
	}
	s, err := newStore(ctx, db, append(first, opts...)...)
	if err != nil {
		sqlDB.Close()
		return nil, err
	}
	s.owned = true
	return s, nil
}

// New returns a Store over a host application's *gorm.DB. A SQLite handle
// must have the settings SQLiteDSN sets that a connection can report, and
// a MySQL handle those MySQLConnector sets (open it with
// sql.OpenDB(MySQLConnector(dsn))); New returns ErrUnsafeDatabase naming
// the first that does not hold.
//
// The Store works on a GORM instance of its own over the host's connection
// pool: the host's handle, its naming strategy, callbacks and plugins are
// neither used nor modified, and the Store's are the UTC microsecond clock,
// translated errors, a logger that never prints bound values, the Store's
// hasher for the model hooks, and the table names of the configuration
// (AUTHSTORE_TABLE_PREFIX, AUTHSTORE_SCHEMA). Register a GORM plugin for
// the Store's queries (tracing, say) on DB().
//
// New checks the schema version (see CheckSchema) unless WithoutSchemaCheck
// is given, after WithMigrate or WithAutoMigrate have run.
//
// It returns an error wrapping config.ErrInvalid, naming every bad key,
// for an invalid WithConfig (config.Config.ValidatePolicies: the connection
// keys are Open's and are not checked here). Load the configuration with
// config.Load, or start a hand-built one from config.Default().
func New(db *gorm.DB, opts ...Option) (*Store, error) {
	return newStore(context.Background(), db, opts...)
}

func newStore(ctx context.Context, db *gorm.DB, opts ...Option) (*Store, error) {
	dialect := config.Dialect(db.Dialector.Name())
	switch dialect {
	case config.DialectPostgres, config.DialectSQLite, config.DialectMySQL:
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
	if dialect == config.DialectSQLite && s.config.Schema != "" {
		return nil, fmt.Errorf("authstore: %w: AUTHSTORE_SCHEMA: want empty on SQLite (a schema is PostgreSQL's), got %q", config.ErrInvalid, s.config.Schema)
	}
	if dialect == config.DialectMySQL && s.config.Schema != "" {
		return nil, fmt.Errorf("authstore: %w: AUTHSTORE_SCHEMA: want empty on MySQL (its schema is the connection's database), got %q", config.ErrInvalid, s.config.Schema)
	}
	if s.clock == nil {
		s.clock = time.Now // WithClock(nil) would panic at the first write
	}
	if s.hasher == nil {
		s.hasher = hooks.DefaultHasher()
	}
	own, err := ownGORM(db, dialect, s.config.Tables(), s.clock, s.logger)
	if err != nil {
		return nil, err
	}
	s.db = models.WithHasher(own, s.hasher)
	if dialect == config.DialectSQLite {
		if err := checkSQLite(s.db, s.readOnly); err != nil {
			return nil, err
		}
	}
	if dialect == config.DialectMySQL {
		if err := checkMySQL(ctx, s.db); err != nil {
			return nil, err
		}
	}
	if err := boundOptionalWrites(own, dialect); err != nil {
		return nil, err
	}
	if err := s.prepareSchema(ctx); err != nil {
		return nil, err
	}
	if s.crypt == nil {
		local, err := envelope.FromConfig(s.config)
		if err != nil {
			return nil, fmt.Errorf("authstore: %w", err)
		}
		if local != nil {
			s.crypt = local
		}
	}
	ro := repositories.Options{Config: s.config, Hasher: s.hasher, Encryption: s.crypt}
	s.Keys = repositories.NewSigningKeys(s.db, ro)
	ro.SigningKeys = s.Keys
	if s.schema != schemaSkip && s.db.WithContext(ctx).Migrator().HasTable(&models.SigningKey{}) {
		// A wrong master key fails here, at startup, not at the first
		// token (SECURITY 44).
		if err := s.Keys.CheckEncryption(ctx); err != nil {
			return nil, fmt.Errorf("authstore: %w", err)
		}
	}
	s.Users = repositories.NewUsers(s.db, ro)
	s.Sessions = repositories.NewSessions(s.db, ro)
	s.PasswordResets = repositories.NewPasswordResets(s.db, ro)
	s.EmailVerifications = repositories.NewEmailVerifications(s.db, ro)
	s.Activity = repositories.NewActivityLog(s.db, ro)
	s.Cleanup = repositories.NewCleanup(s.db, ro)
	s.Clients = repositories.NewClients(s.db, ro)
	s.Grants = repositories.NewGrants(s.db, ro)
	s.AccessTokens = repositories.NewAccessTokens(s.db, ro)
	s.RefreshTokens = repositories.NewRefreshTokens(s.db, ro)
	s.AuthCodes = repositories.NewAuthCodes(s.db, ro)
	s.AuthRequests = repositories.NewAuthRequests(s.db, ro)
	s.PersonalTokens = repositories.NewPersonalTokens(s.db, ro)
	s.Tokens = repositories.NewTokens(s.db, ro)
	s.TwoFactor = repositories.NewTwoFactor(s.db, ro)
	return s, nil
}

// ownGORM returns a GORM instance over db's connection pool with
// authstore's settings and table names. It is an instance of its own, not
// a session of db, because GORM caches a model's parsed schema (its table
// name among it) per instance: a session would share db's cache, and a
// host that uses authstore's models on its own handle would fix their
// table names for both.
func ownGORM(db *gorm.DB, dialect config.Dialect, tables config.Tables, clock func() time.Time, l logger.Interface) (*gorm.DB, error) {
	pool, err := db.DB()
	if err != nil {
		return nil, fmt.Errorf("authstore: the handle has no connection pool: %w", err)
	}
	var dial gorm.Dialector
	switch dialect {
	case config.DialectPostgres:
		dial = postgres.New(postgres.Config{Conn: pool})
	case config.DialectMySQL:
		dial = newMySQLDialector(pool)
	default:
		var busy int64 // milliseconds; checkSQLite refuses a handle without one
		if err := pool.QueryRow("PRAGMA busy_timeout").Scan(&busy); err != nil {
			return nil, fmt.Errorf("authstore: read sqlite pragma busy_timeout: %s", cleanErr(err))
		}
		dial = &sqlite.Dialector{Conn: deadlinePool{DB: pool, busy: time.Duration(busy) * time.Millisecond}}
	}
	own, err := gorm.Open(dial, &gorm.Config{
		NamingStrategy: models.Namer(tables),
		NowFunc:        func() time.Time { return clock().UTC().Truncate(time.Microsecond) },
		Logger:         l,
		TranslateError: true,
	})
	if err != nil {
		return nil, fmt.Errorf("authstore: %s: %s", dialect, cleanErr(err))
	}
	return own, nil
}

// Now returns the Store's current time: UTC, truncated to microseconds.
func (s *Store) Now() time.Time { return s.db.NowFunc() }

// DeriveKey returns a 32-byte key for purpose, derived from the Store's key
// material: from the master encryption key (AUTHSTORE_ENCRYPTION_KEY) when
// the Store has one, else from JWT_SECRET (HMAC-SHA-256 over a label and
// purpose). Every process configured alike derives the same key, and a
// key for one purpose tells nothing of another's. Use it for a symmetric
// key a component needs and the configuration does not hold, such as an
// OpenID provider's (package oidcstore). It returns an error wrapping
// repositories.ErrNoSigningKey when the Store has neither.
func (s *Store) DeriveKey(purpose string) ([]byte, error) {
	if d, ok := s.crypt.(interface{ DeriveKey(purpose string) []byte }); ok {
		return d.DeriveKey(purpose), nil
	}
	secret := s.config.JWTSecret.Reveal()
	if secret == "" {
		return nil, fmt.Errorf("authstore: derive key: set AUTHSTORE_ENCRYPTION_KEY or JWT_SECRET: %w", repositories.ErrNoSigningKey)
	}
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte("authstore derived key v1\x00" + purpose))
	return m.Sum(nil), nil
}

// Config returns a copy of the configuration the Store was built with.
// Changing the copy changes nothing: build a new Store instead.
func (s *Store) Config() config.Config { return s.config }

// Close closes the database if Open opened it; a Store made by New leaves
// the host's handle open.
func (s *Store) Close() error {
	if !s.owned {
		return nil
	}
	sqlDB, err := s.db.DB()
	if err != nil {
		return err
	}
	return sqlDB.Close()
}

// dialector returns the GORM dialector for cfg and whether it is the
// in-memory database.
func dialector(cfg config.Config, readOnly bool) (gorm.Dialector, bool, error) {
	if cfg.Memory() {
		return sqlite.Open(MemoryDSN()), true, nil
	}
	u, err := cfg.Database()
	if err != nil {
		return nil, false, err
	}
	if u.Dialect == config.DialectPostgres {
		// Pooled connections the server closed are found before a
		// statement is sent on them (shouldPing).
		return postgres.New(postgres.Config{DSN: u.DSN, OptionOpenDB: []stdlib.OptionOpenDB{stdlib.OptionShouldPing(shouldPing)}}), false, nil
	}
	if u.Dialect == config.DialectMySQL {
		c, err := MySQLConnector(u.DSN)
		if err != nil {
			return nil, false, err
		}
		return newMySQLDialector(sql.OpenDB(c)), false, nil
	}
	if readOnly {
		dsn, err := sqliteReadOnlyDSN(u.DSN)
		if err != nil {
			return nil, false, err
		}
		return sqlite.Open(dsn), false, nil
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

// sqliteReadOnlyDSN returns the DSN of a SQLite file opened read-only: it
// must exist (mode=ro creates nothing), transactions are deferred (an
// immediate one takes a write lock), and the file is opened immutable when
// its folder cannot be written and it has no write-ahead log beside it:
// SQLite needs the -shm file of a WAL database, and could not create it
// there; with no log and no writable folder, no process can be changing it.
func sqliteReadOnlyDSN(path string) (string, error) {
	if _, err := os.Stat(path); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return "", fmt.Errorf("authstore: sqlite database %s does not exist; create it with `authstore migrate up`", path)
		}
		return "", fmt.Errorf("authstore: sqlite database %s: %w", path, err)
	}
	v := url.Values{}
	v.Set("mode", "ro")
	v.Set("_busy_timeout", fmt.Sprint(sqliteBusyTimeout.Milliseconds()))
	v.Set("_foreign_keys", "1")
	v.Set("_txlock", "deferred")
	_, walErr := os.Stat(path + "-wal")
	if errors.Is(walErr, fs.ErrNotExist) && unix.Access(filepath.Dir(path), unix.W_OK) != nil {
		v.Set("immutable", "1")
	}
	return "file:" + (&url.URL{Path: path}).EscapedPath() + "?" + v.Encode(), nil
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
//
// A read-only handle (WithReadOnly) writes nothing, so its journal and
// synchronous settings do not matter.
func checkSQLite(db *gorm.DB, readOnly bool) error {
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
	case journal == "memory" || readOnly:
		return nil // the in-memory database (no journal file, no fsync), or nothing is written
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
