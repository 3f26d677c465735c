// Package config loads authstore's settings from the environment.
//
// Every setting has an environment key and, except JWT_SECRET, a default
// (see .env.example at the repository root). A key that is unset takes its
// default; a key that is set must hold a valid value, so an empty value is
// refused rather than silently replaced by the default (JWT_SECRET is the
// exception: empty means "no secret"). Lifetimes are whole seconds in the
// environment and [time.Duration] in [Config], at most [MaxLifetime] (ten
// years), so that every expiry computed from one is a time both databases
// store; the lockout duration is at most [MaxLockoutDuration]. Booleans are
// true or false in any letter case.
//
// Invalid values are refused with one line per key, in the form
//
//	OAUTH_ACCESS_TOKEN_LIFETIME: want a positive number of seconds, got "abc"
//
// and every such error matches [ErrInvalid]. Secrets never appear in errors
// or in a printed [Config]: the JWT secret is a [Secret], and passwords in
// DATABASE_URL are masked.
package config

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/url"
	"os"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/caarlos0/env/v11"
	"github.com/forgeauth/authstore/protocol"
)

// ErrInvalid is matched (with [errors.Is]) by every error that reports an
// invalid setting.
var ErrInvalid = errors.New("invalid configuration")

// minSecretLen is the least number of bytes a non-empty JWT_SECRET holds.
const minSecretLen = 32

// MaxLifetime bounds every lifetime and interval of a Config (token,
// code, session, reset and verification lifetimes, the session touch
// interval, the refresh reuse interval, the reset throttle): ten years of
// 365 days, 315360000 seconds. An expiry is the time of issue plus a
// lifetime, and this keeps every one far inside what both databases store
// (SQLite's text times and Go's reading of them end at year 9999).
const MaxLifetime = 10 * 365 * 24 * time.Hour

// MaxLockoutDuration bounds AUTH_LOCKOUT_DURATION: the longest one lock
// lasts (repositories.MaxLockout), 24 hours. A longer first lock would be
// cut to it.
const MaxLockoutDuration = 24 * time.Hour

// Storage says where a group of records is kept.
type Storage string

// The storages a Config accepts.
const (
	// StorageMemory keeps records in process memory; they are lost on exit.
	StorageMemory Storage = "memory"
	// StorageDatabase keeps records in the database at DATABASE_URL.
	StorageDatabase Storage = "database"
)

func (s Storage) valid() bool { return s == StorageMemory || s == StorageDatabase }

// Config holds authstore's settings. Load and LoadFrom fill it from the
// environment; the env tags give each field's key and default.
type Config struct {
	// DatabaseURL locates the database; see ParseDatabaseURL.
	DatabaseURL string `env:"DATABASE_URL" envDefault:"sqlite://./authstore.db"`
	// OAuthStorage keeps OAuth clients, tokens and codes.
	OAuthStorage Storage `env:"OAUTH_STORAGE" envDefault:"database"`
	// AuthSessionStorage keeps login sessions; it must match OAuthStorage
	// when either is StorageMemory.
	AuthSessionStorage Storage `env:"AUTH_SESSION_STORAGE" envDefault:"database"`

	// AccessTokenLifetime is how long an OAuth access token is valid.
	AccessTokenLifetime time.Duration `env:"OAUTH_ACCESS_TOKEN_LIFETIME" envDefault:"3600"`
	// RefreshTokenLifetime is how long an OAuth refresh token is valid.
	RefreshTokenLifetime time.Duration `env:"OAUTH_REFRESH_TOKEN_LIFETIME" envDefault:"2592000"`
	// AuthCodeLifetime is how long an OAuth authorization code is valid.
	AuthCodeLifetime time.Duration `env:"OAUTH_AUTH_CODE_LIFETIME" envDefault:"600"`
	// EnablePKCE turns on PKCE for the authorization code flow.
	EnablePKCE bool `env:"OAUTH_ENABLE_PKCE" envDefault:"true"`
	// RefreshReuseInterval is how long after a rotation a retry with the
	// rotated refresh token gets the same child instead of counting as
	// reuse; 0 (the default) turns the window off.
	RefreshReuseInterval time.Duration `env:"OAUTH_REFRESH_REUSE_INTERVAL" envDefault:"0"`

	// SessionLifetime is how long a session may stay idle.
	SessionLifetime time.Duration `env:"AUTH_SESSION_LIFETIME" envDefault:"7200"`
	// SessionAbsoluteLifetime bounds a session that is not remembered,
	// however active it stays.
	SessionAbsoluteLifetime time.Duration `env:"AUTH_SESSION_ABSOLUTE_LIFETIME" envDefault:"86400"`
	// SessionTouchInterval is how stale a session's last activity may get
	// before a lookup writes it again, so lookups do not write on every
	// call. It is shorter than SessionLifetime and RememberLifetime: a
	// session idle that long has ended before a lookup would refresh it.
	SessionTouchInterval time.Duration `env:"AUTH_SESSION_TOUCH_INTERVAL" envDefault:"60"`
	// RememberLifetime is how long a "remember me" login lasts, idle and
	// absolute.
	RememberLifetime time.Duration `env:"AUTH_REMEMBER_LIFETIME" envDefault:"2592000"`
	// PasswordResetLifetime is how long a password reset token is valid.
	PasswordResetLifetime time.Duration `env:"AUTH_PASSWORD_RESET_LIFETIME" envDefault:"3600"`
	// PasswordResetThrottle is how long after a reset request for an
	// account a new request for it sends nothing new; 0 turns it off.
	PasswordResetThrottle time.Duration `env:"AUTH_PASSWORD_RESET_THROTTLE" envDefault:"60"`
	// EmailVerificationLifetime is how long an email verification token is valid.
	EmailVerificationLifetime time.Duration `env:"AUTH_EMAIL_VERIFICATION_LIFETIME" envDefault:"86400"`
	// LockoutThreshold is how many consecutive failed logins lock an
	// account; 0 turns lockout off.
	LockoutThreshold int `env:"AUTH_LOCKOUT_THRESHOLD" envDefault:"5"`
	// LockoutDuration is how long the first lock lasts; each further lock
	// before a successful login lasts twice as long as the one before, up
	// to 24 hours. It is at most MaxLockoutDuration.
	LockoutDuration time.Duration `env:"AUTH_LOCKOUT_DURATION" envDefault:"300"`
	// RequireEmailVerification refuses logins until the email is verified.
	RequireEmailVerification bool `env:"AUTH_REQUIRE_EMAIL_VERIFICATION" envDefault:"false"`
	// EnableTwoFactor turns on two-factor authentication (TOTP and
	// recovery codes, repositories.TwoFactor): with it false, enrolment,
	// confirmation and regeneration of recovery codes are refused. A
	// factor confirmed earlier is still required at login.
	EnableTwoFactor bool `env:"AUTH_ENABLE_TWO_FACTOR" envDefault:"false"`

	// JWTSecret signs JWTs. It may be empty, in which case issuing tokens
	// fails; otherwise it holds at least 32 bytes.
	JWTSecret Secret `env:"JWT_SECRET"`
	// JWTIssuer is the "iss" claim of issued JWTs.
	JWTIssuer string `env:"JWT_ISSUER" envDefault:"authstore"`
	// AccessTokenAudience is the "aud" claim of access tokens signed with a
	// signing key (RFC 9068 3): the resource server they are for. Empty, the
	// default, means JWTIssuer. Legacy HS256 tokens keep the client id.
	AccessTokenAudience string `env:"OAUTH_ACCESS_TOKEN_AUDIENCE"`
	// SigningAlgorithm is the algorithm of the signing keys authstore makes:
	// RS256 (the default, RFC 9068 2.1), ES256 or EdDSA (Ed25519). Empty in
	// a hand-built Config means RS256 (see Algorithm).
	SigningAlgorithm string `env:"OAUTH_SIGNING_ALGORITHM" envDefault:"RS256"`
	// SigningKeyPublishDelay is how long a new signing key is published in
	// the JWKS before it signs, so that resource servers caching the JWKS
	// know it first; 0 signs at once. The Cache-Control max-age the Store
	// recommends for the JWKS is half of it.
	SigningKeyPublishDelay time.Duration `env:"OAUTH_SIGNING_KEY_PUBLISH_DELAY" envDefault:"3600"`
	// EncryptionKey is the master key that encrypts reversible secrets at
	// rest (private signing keys, TOTP secrets): standard base64 of 32
	// bytes, e.g. from `openssl rand -base64 32`. Empty means none: then no
	// signing key can be made or used to sign.
	EncryptionKey Secret `env:"AUTHSTORE_ENCRYPTION_KEY"`
	// EncryptionKeysPrevious are earlier master keys, comma-separated, each
	// as EncryptionKey: they still decrypt what they encrypted until
	// `authstore keys reencrypt` has moved it to EncryptionKey.
	EncryptionKeysPrevious Secret `env:"AUTHSTORE_ENCRYPTION_KEYS_PREVIOUS"`
	// RecoveryKey keys the HMAC-SHA-256 digests of two-factor recovery
	// codes: standard base64 of 32 bytes, separate from EncryptionKey, so
	// that the digests are worthless to whoever holds the database and the
	// master key alone. Empty means none: then no recovery codes can be
	// made or checked, and two-factor enrolment is refused.
	RecoveryKey Secret `env:"AUTHSTORE_RECOVERY_KEY"`
	// RecoveryKeysPrevious are earlier recovery keys, comma-separated, each
	// as RecoveryKey: codes digested under them still verify until they
	// are regenerated.
	RecoveryKeysPrevious Secret `env:"AUTHSTORE_RECOVERY_KEYS_PREVIOUS"`

	// MaxOpenConns caps the open database connections.
	MaxOpenConns int `env:"DB_MAX_OPEN_CONNS" envDefault:"10"`
	// MaxIdleConns caps the idle database connections.
	MaxIdleConns int `env:"DB_MAX_IDLE_CONNS" envDefault:"5"`
	// ConnMaxLifetime is how long a database connection may be reused;
	// zero means no limit.
	ConnMaxLifetime time.Duration `env:"DB_CONN_MAX_LIFETIME" envDefault:"1800"`

	// TablePrefix is put in front of the name of every table, view, index
	// and constraint authstore creates, so that its tables sit beside a
	// host application's own (with "auth_": auth_users, auth_sessions, ...).
	// Empty, the default, keeps the original names. Lower-case letters,
	// digits and underscores, at most 16 bytes.
	TablePrefix string `env:"AUTHSTORE_TABLE_PREFIX"`
	// Schema is the PostgreSQL schema that holds authstore's tables (for
	// example "auth"); the migrations create it. Empty, the default, means
	// the connection's current schema (its search_path). SQLite has no
	// schemas, and MySQL's schema is the DATABASE_URL's database: New
	// refuses a Schema on either.
	Schema string `env:"AUTHSTORE_SCHEMA"`
	// MigrationsTable is the table that records which migrations are
	// applied; it takes TablePrefix and lives in Schema like the others. Its
	// default differs from golang-migrate's schema_migrations, which a host
	// application that uses golang-migrate itself already owns.
	MigrationsTable string `env:"AUTHSTORE_MIGRATIONS_TABLE" envDefault:"authstore_schema_migrations"`
}

// Tables returns where c puts authstore's tables.
func (c Config) Tables() Tables { return Tables{Prefix: c.TablePrefix, Schema: c.Schema} }

// Tables says where authstore's tables live in a database: their original
// names with an optional prefix and, on PostgreSQL, an optional schema. The
// zero value is the original names in the current schema.
type Tables struct {
	// Prefix is put in front of every name (AUTHSTORE_TABLE_PREFIX).
	Prefix string
	// Schema is the PostgreSQL schema (AUTHSTORE_SCHEMA), "" for the
	// connection's current one.
	Schema string
}

// Name returns the name of the table or view whose original name is base,
// qualified with the schema if there is one: "users" is "auth_users", or
// "auth.auth_users" with Schema "auth".
func (t Tables) Name(base string) string {
	if t.Schema != "" {
		return t.Schema + "." + t.Prefix + base
	}
	return t.Prefix + base
}

// identifier is what a table prefix, schema or migrations table may be:
// lower-case, so that it needs no quoting on any dialect.
var identifier = regexp.MustCompile(`^[a-z_][a-z0-9_]*$`)

// Longest prefix and schema accepted: PostgreSQL cuts identifiers at 63
// bytes, and an index name holds the schema, the prefix and a table name
// and column (idx_oauth_personal_access_tokens_token_hash is 43 bytes).
const (
	maxPrefixLen = 16
	maxSchemaLen = 16
	// maxNamingLen bounds the prefix and the schema with its dot together.
	maxNamingLen = 20
)

// Load reads the Config from the process environment.
func Load() (Config, error) {
	return LoadFrom(env.ToMap(os.Environ()))
}

// LoadFrom reads the Config from environ alone, a map from key to value;
// a nil map yields the defaults. Every invalid value is reported, one line
// per key.
func LoadFrom(environ map[string]string) (Config, error) {
	if environ == nil {
		environ = map[string]string{} // nil would make env read os.Environ
	}
	var c Config
	err := env.ParseWithOptions(&c, env.Options{
		Environment: environ,
		FuncMap: map[reflect.Type]env.ParserFunc{
			reflect.TypeFor[time.Duration](): parseSeconds,
			reflect.TypeFor[bool]():          parseBool,
		},
	})
	failed := map[string]bool{} // keys to report whatever c holds
	for _, e := range unjoin(err) {
		var pe env.ParseError
		if !errors.As(e, &pe) {
			return Config{}, fmt.Errorf("config: %w", e) // a bug in Config's tags
		}
		f, _ := reflect.TypeFor[Config]().FieldByName(pe.Name)
		failed[f.Tag.Get("env")] = true
	}
	for f := range reflect.TypeFor[Config]().Fields() {
		key := f.Tag.Get("env")
		if v, ok := environ[key]; ok && v == "" && f.Type != reflect.TypeFor[Secret]() && !emptyMeansNone[key] {
			failed[key] = true // env would have used the default
		}
	}
	if err := c.check(environ, failed, true); err != nil {
		return Config{}, err
	}
	return c, nil
}

// emptyMeansNone lists the keys besides JWT_SECRET whose empty value is
// meaningful: no prefix, no schema.
var emptyMeansNone = map[string]bool{"AUTHSTORE_TABLE_PREFIX": true, "AUTHSTORE_SCHEMA": true, "OAUTH_ACCESS_TOKEN_AUDIENCE": true}

// unjoin returns the errors joined in err.
func unjoin(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	if err != nil {
		return []error{err}
	}
	return nil
}

// parseSeconds parses a whole number of seconds into a time.Duration. The
// sign is checked later, per key.
func parseSeconds(s string) (any, error) {
	const limit = math.MaxInt64 / int64(time.Second)
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n > limit || n < -limit {
		return nil, errors.New("not a number of seconds")
	}
	return time.Duration(n) * time.Second, nil
}

// parseBool parses true or false, in any letter case.
func parseBool(s string) (any, error) {
	switch strings.ToLower(s) {
	case "true":
		return true, nil
	case "false":
		return false, nil
	}
	return nil, errors.New("not a boolean")
}

// Default returns the Config that an empty environment yields.
func Default() Config {
	c, err := LoadFrom(nil)
	if err != nil {
		panic("config: invalid default: " + err.Error())
	}
	return c
}

// Validate reports every invalid field of c, one line per key, as LoadFrom
// would. Use it on a Config built by hand.
func (c Config) Validate() error {
	return c.check(nil, nil, true)
}

// ValidatePolicies reports every invalid lifetime, policy and signing
// setting of c, as Validate does, leaving out the connection keys
// (DATABASE_URL, OAUTH_STORAGE, AUTH_SESSION_STORAGE, DB_*), which a Store
// over a handle it did not open (authstore.New) does not use.
func (c Config) ValidatePolicies() error {
	d := Default()
	c.DatabaseURL, c.OAuthStorage, c.AuthSessionStorage = d.DatabaseURL, d.OAuthStorage, d.AuthSessionStorage
	c.MaxOpenConns, c.MaxIdleConns, c.ConnMaxLifetime = d.MaxOpenConns, d.MaxIdleConns, d.ConnMaxLifetime
	return c.check(nil, nil, false)
}

// Wanted values, as they appear in errors.
const (
	wantPositiveSeconds = "a positive number of seconds"
	wantPositiveInt     = "a positive integer"
	wantNonNegativeInt  = "a non-negative integer"
	wantBool            = "true or false"
	wantStorage         = `"memory" or "database"`
	wantMaxLifetime     = "10 years"
)

// check reports every invalid field of c. environ, if not nil, is what c was
// loaded from: errors quote its raw text, and the keys in failed are
// reported whatever c holds.
//
// connection is false for ValidatePolicies, which checks no key that
// depends on the database (DATABASE_URL is not the Store's there).
func (c Config) check(environ map[string]string, failed map[string]bool, connection bool) error {
	var errs []error
	bad := func(key, want, got string) {
		errs = append(errs, invalidError(key+": want "+want+", got "+got))
	}
	// field reports key unless it is valid and was parsed.
	field := func(key string, valid bool, want, value string) {
		if raw, ok := environ[key]; ok {
			value = raw
		}
		if !valid || failed[key] {
			bad(key, want, strconv.Quote(value))
		}
	}
	storage := func(key string, s Storage) {
		field(key, s.valid(), wantStorage, string(s))
	}
	// tooLong reports key, and returns true, if d is above max (and key
	// parsed): the one report for a value that is too long.
	tooLong := func(key string, d, max time.Duration, maxText string) bool {
		if d <= max || failed[key] {
			return false
		}
		value := seconds(d)
		if raw, ok := environ[key]; ok {
			value = raw
		}
		bad(key, "at most "+seconds(max)+" seconds ("+maxText+")", strconv.Quote(value))
		return true
	}
	lifetime := func(key string, d time.Duration) {
		if !tooLong(key, d, MaxLifetime, wantMaxLifetime) {
			field(key, d > 0, wantPositiveSeconds, seconds(d))
		}
	}
	interval := func(key string, d time.Duration) {
		if !tooLong(key, d, MaxLifetime, wantMaxLifetime) {
			field(key, d >= 0, "a non-negative number of seconds (0 for none)", seconds(d))
		}
	}
	boolean := func(key string, b bool) {
		field(key, true, wantBool, strconv.FormatBool(b))
	}

	dbURL := c.DatabaseURL
	if failed["DATABASE_URL"] {
		dbURL = environ["DATABASE_URL"]
	}
	if _, err := ParseDatabaseURL(dbURL); err != nil {
		errs = append(errs, err)
	}
	storage("OAUTH_STORAGE", c.OAuthStorage)
	storage("AUTH_SESSION_STORAGE", c.AuthSessionStorage)
	if c.OAuthStorage.valid() && c.AuthSessionStorage.valid() && !failed["OAUTH_STORAGE"] &&
		!failed["AUTH_SESSION_STORAGE"] && c.OAuthStorage != c.AuthSessionStorage {
		bad("OAUTH_STORAGE and AUTH_SESSION_STORAGE",
			`both "memory" or neither (OAuth records reference users, so they share one database)`,
			fmt.Sprintf("%q and %q", c.OAuthStorage, c.AuthSessionStorage))
	}
	lifetime("OAUTH_ACCESS_TOKEN_LIFETIME", c.AccessTokenLifetime)
	lifetime("OAUTH_REFRESH_TOKEN_LIFETIME", c.RefreshTokenLifetime)
	lifetime("OAUTH_AUTH_CODE_LIFETIME", c.AuthCodeLifetime)
	boolean("OAUTH_ENABLE_PKCE", c.EnablePKCE)
	interval("OAUTH_REFRESH_REUSE_INTERVAL", c.RefreshReuseInterval)
	lifetime("AUTH_SESSION_LIFETIME", c.SessionLifetime)
	lifetime("AUTH_SESSION_ABSOLUTE_LIFETIME", c.SessionAbsoluteLifetime)
	lifetime("AUTH_SESSION_TOUCH_INTERVAL", c.SessionTouchInterval)
	lifetime("AUTH_REMEMBER_LIFETIME", c.RememberLifetime)
	if idle := min(c.SessionLifetime, c.RememberLifetime); idle > 0 && c.SessionTouchInterval > 0 && c.SessionTouchInterval <= MaxLifetime &&
		c.SessionTouchInterval >= idle && !failed["AUTH_SESSION_TOUCH_INTERVAL"] && !failed["AUTH_SESSION_LIFETIME"] && !failed["AUTH_REMEMBER_LIFETIME"] {
		value := seconds(c.SessionTouchInterval)
		if raw, ok := environ["AUTH_SESSION_TOUCH_INTERVAL"]; ok {
			value = raw
		}
		bad("AUTH_SESSION_TOUCH_INTERVAL", fmt.Sprintf("fewer seconds than AUTH_SESSION_LIFETIME and AUTH_REMEMBER_LIFETIME (%s; a session idle that long has ended before a lookup would refresh it)", seconds(idle)),
			strconv.Quote(value))
	}
	lifetime("AUTH_PASSWORD_RESET_LIFETIME", c.PasswordResetLifetime)
	interval("AUTH_PASSWORD_RESET_THROTTLE", c.PasswordResetThrottle)
	lifetime("AUTH_EMAIL_VERIFICATION_LIFETIME", c.EmailVerificationLifetime)
	field("AUTH_LOCKOUT_THRESHOLD", c.LockoutThreshold >= 0, "a non-negative integer (0 turns lockout off)", strconv.Itoa(c.LockoutThreshold))
	if !tooLong("AUTH_LOCKOUT_DURATION", c.LockoutDuration, MaxLockoutDuration, "24 hours, the longest lock") {
		field("AUTH_LOCKOUT_DURATION", c.LockoutDuration > 0, wantPositiveSeconds, seconds(c.LockoutDuration))
	}
	boolean("AUTH_REQUIRE_EMAIL_VERIFICATION", c.RequireEmailVerification)
	boolean("AUTH_ENABLE_TWO_FACTOR", c.EnableTwoFactor)
	if n := len(c.JWTSecret); n > 0 && n < minSecretLen {
		bad("JWT_SECRET", fmt.Sprintf("at least %d bytes", minSecretLen), strconv.Itoa(n))
	}
	switch iss := c.JWTIssuer; {
	case len(iss) > protocol.MaxIssuerLength:
		bad("JWT_ISSUER", fmt.Sprintf("an issuer of at most %d bytes (protocol.MaxIssuerLength: the size of an access token allows no more)", protocol.MaxIssuerLength), fmt.Sprintf("%d bytes", len(iss)))
	case !utf8.ValidString(iss) || strings.IndexFunc(iss, unicode.IsControl) >= 0:
		bad("JWT_ISSUER", "an issuer of UTF-8 text without control characters", strconv.Quote(iss))
	default:
		field("JWT_ISSUER", iss != "", "a non-empty issuer", iss)
	}
	switch aud := c.AccessTokenAudience; {
	case len(aud) > protocol.MaxIssuerLength:
		bad("OAUTH_ACCESS_TOKEN_AUDIENCE", fmt.Sprintf("an audience of at most %d bytes (protocol.MaxIssuerLength: the size of an access token allows no more)", protocol.MaxIssuerLength), fmt.Sprintf("%d bytes", len(aud)))
	case !utf8.ValidString(aud) || strings.IndexFunc(aud, unicode.IsControl) >= 0:
		bad("OAUTH_ACCESS_TOKEN_AUDIENCE", "an audience of UTF-8 text without control characters (or empty for JWT_ISSUER)", strconv.Quote(aud))
	}
	if a := c.SigningAlgorithm; a != "" && !validAlgorithm(a) {
		bad("OAUTH_SIGNING_ALGORITHM", `"RS256", "ES256" or "EdDSA"`, strconv.Quote(clipValue(a)))
	} else {
		field("OAUTH_SIGNING_ALGORITHM", true, `"RS256", "ES256" or "EdDSA"`, a)
	}
	interval("OAUTH_SIGNING_KEY_PUBLISH_DELAY", c.SigningKeyPublishDelay)
	if _, _, err := c.EncryptionKeys(); err != nil {
		errs = append(errs, err)
	}
	if _, _, err := c.RecoveryKeys(); err != nil {
		errs = append(errs, err)
	}
	field("DB_MAX_OPEN_CONNS", c.MaxOpenConns > 0, wantPositiveInt, strconv.Itoa(c.MaxOpenConns))
	field("DB_MAX_IDLE_CONNS", c.MaxIdleConns >= 0, wantNonNegativeInt, strconv.Itoa(c.MaxIdleConns))
	field("DB_CONN_MAX_LIFETIME", c.ConnMaxLifetime >= 0,
		"a non-negative number of seconds (0 for no limit)", seconds(c.ConnMaxLifetime))
	field("AUTHSTORE_TABLE_PREFIX", c.TablePrefix == "" || identifier.MatchString(c.TablePrefix) && len(c.TablePrefix) <= maxPrefixLen,
		fmt.Sprintf("a lower-case letter or underscore, then lower-case letters, digits and underscores, at most %d bytes (or empty)", maxPrefixLen), c.TablePrefix)
	field("AUTHSTORE_SCHEMA", c.Schema == "" || identifier.MatchString(c.Schema) && len(c.Schema) <= maxSchemaLen,
		fmt.Sprintf("a PostgreSQL schema name: a lower-case letter or underscore, then lower-case letters, digits and underscores, at most %d bytes (or empty)", maxSchemaLen), c.Schema)
	if u, err := ParseDatabaseURL(dbURL); connection && err == nil && u.Dialect == DialectSQLite && !c.Memory() && c.Schema != "" {
		want := "empty with a SQLite DATABASE_URL (schemas are PostgreSQL's; use AUTHSTORE_TABLE_PREFIX)"
		if _, given := environ["DATABASE_URL"]; !given && environ != nil {
			// A host that hands New a PostgreSQL handle of its own often
			// sets no DATABASE_URL; the default is SQLite's.
			want = "empty with a SQLite DATABASE_URL (DATABASE_URL is not set, so it is the default " + c.DatabaseURL +
				"; with a PostgreSQL database set DATABASE_URL to its postgres:// URL as well)"
		}
		bad("AUTHSTORE_SCHEMA", want, strconv.Quote(c.Schema))
	} else if connection && err == nil && u.Dialect == DialectMySQL && !c.Memory() && c.Schema != "" {
		bad("AUTHSTORE_SCHEMA", "empty with a MySQL DATABASE_URL (a MySQL schema is the URL's database; use AUTHSTORE_TABLE_PREFIX)", strconv.Quote(c.Schema))
	}
	if n := len(c.TablePrefix) + len(c.Schema) + min(len(c.Schema), 1); n > maxNamingLen {
		bad("AUTHSTORE_TABLE_PREFIX and AUTHSTORE_SCHEMA", fmt.Sprintf("at most %d bytes together, counting the schema's dot (index names hold both, and PostgreSQL cuts names at 63 bytes)", maxNamingLen),
			fmt.Sprintf("%q and %q", c.TablePrefix, c.Schema))
	}
	field("AUTHSTORE_MIGRATIONS_TABLE", identifier.MatchString(c.MigrationsTable) && len(c.MigrationsTable) <= 40,
		"a table name: a lower-case letter or underscore, then lower-case letters, digits and underscores, at most 40 bytes", c.MigrationsTable)
	return errors.Join(errs...)
}

// Algorithms a signing key may have (OAUTH_SIGNING_ALGORITHM).
const (
	// AlgorithmRS256 is RSASSA-PKCS1-v1_5 with SHA-256 over a 2048-bit key.
	AlgorithmRS256 = "RS256"
	// AlgorithmES256 is ECDSA over P-256 with SHA-256.
	AlgorithmES256 = "ES256"
	// AlgorithmEdDSA is Ed25519 (RFC 8037).
	AlgorithmEdDSA = "EdDSA"
)

func validAlgorithm(a string) bool {
	return a == AlgorithmRS256 || a == AlgorithmES256 || a == AlgorithmEdDSA
}

// clipValue bounds a value an error quotes.
func clipValue(s string) string {
	if len(s) > 32 {
		return s[:32] + "..."
	}
	return s
}

// EncryptionKeySize is the size in bytes of a master encryption key.
const EncryptionKeySize = 32

// EncryptionKeys decodes AUTHSTORE_ENCRYPTION_KEY and
// AUTHSTORE_ENCRYPTION_KEYS_PREVIOUS: nil, nil when no key is set. An error
// names the key (and, for a previous key, its position), never its value,
// and matches ErrInvalid.
func (c Config) EncryptionKeys() (current []byte, previous [][]byte, err error) {
	return decodeKeys("AUTHSTORE_ENCRYPTION_KEY", c.EncryptionKey, "AUTHSTORE_ENCRYPTION_KEYS_PREVIOUS", c.EncryptionKeysPrevious)
}

// RecoveryKeys decodes AUTHSTORE_RECOVERY_KEY and
// AUTHSTORE_RECOVERY_KEYS_PREVIOUS as EncryptionKeys does the master keys:
// nil, nil when no key is set; an error names the key, never its value,
// and matches ErrInvalid.
func (c Config) RecoveryKeys() (current []byte, previous [][]byte, err error) {
	return decodeKeys("AUTHSTORE_RECOVERY_KEY", c.RecoveryKey, "AUTHSTORE_RECOVERY_KEYS_PREVIOUS", c.RecoveryKeysPrevious)
}

// decodeKeys decodes a current key and its comma-separated previous keys,
// each standard base64 of EncryptionKeySize bytes.
func decodeKeys(currentName string, currentValue Secret, previousName string, previousValue Secret) (current []byte, previous [][]byte, err error) {
	const want = "standard base64 of exactly 32 bytes (`openssl rand -base64 32`)"
	decode := func(key, what, v string) ([]byte, error) {
		b, err := base64.StdEncoding.DecodeString(strings.TrimSpace(v))
		if err != nil {
			return nil, invalidError(fmt.Sprintf("%s: want %s, got %s that is not base64", key, want, what))
		}
		if len(b) != EncryptionKeySize {
			return nil, invalidError(fmt.Sprintf("%s: want %s, got %s of %d bytes", key, want, what, len(b)))
		}
		return b, nil
	}
	if currentValue != "" {
		if current, err = decode(currentName, "a value", currentValue.Reveal()); err != nil {
			return nil, nil, err
		}
	}
	if previousValue == "" {
		return current, nil, nil
	}
	if current == nil {
		return nil, nil, invalidError(fmt.Sprintf("%s: want it only with %s, the current key, got previous keys alone", previousName, currentName))
	}
	for i, v := range strings.Split(previousValue.Reveal(), ",") {
		b, err := decode(previousName, fmt.Sprintf("key %d", i+1), v)
		if err != nil {
			return nil, nil, err
		}
		previous = append(previous, b)
	}
	return current, previous, nil
}

// Algorithm returns the algorithm of new signing keys: SigningAlgorithm,
// or RS256 when it is empty.
func (c Config) Algorithm() string {
	if c.SigningAlgorithm == "" {
		return AlgorithmRS256
	}
	return c.SigningAlgorithm
}

// Audience returns the "aud" of access tokens signed with a signing key:
// OAUTH_ACCESS_TOKEN_AUDIENCE, or JWT_ISSUER when it is empty.
func (c Config) Audience() string {
	if c.AccessTokenAudience != "" {
		return c.AccessTokenAudience
	}
	return c.JWTIssuer
}

// seconds formats d as a number of seconds.
func seconds(d time.Duration) string {
	if d%time.Second == 0 {
		return strconv.FormatInt(int64(d/time.Second), 10)
	}
	return strconv.FormatFloat(d.Seconds(), 'f', -1, 64)
}

// invalidError reports invalid settings; it matches ErrInvalid.
type invalidError string

func (e invalidError) Error() string { return string(e) }
func (e invalidError) Unwrap() error { return ErrInvalid }

// Memory reports whether both OAuth records and sessions are kept in memory.
func (c Config) Memory() bool {
	return c.OAuthStorage == StorageMemory && c.AuthSessionStorage == StorageMemory
}

// Database parses c.DatabaseURL; see ParseDatabaseURL.
func (c Config) Database() (DatabaseURL, error) {
	return ParseDatabaseURL(c.DatabaseURL)
}

// Dialect names a database engine.
type Dialect string

// The dialects a DatabaseURL can have.
const (
	// DialectPostgres is PostgreSQL, opened with pgx.
	DialectPostgres Dialect = "postgres"
	// DialectSQLite is SQLite.
	DialectSQLite Dialect = "sqlite"
	// DialectMySQL is MySQL 8 or MariaDB 10.11 and later, opened with
	// go-sql-driver/mysql.
	DialectMySQL Dialect = "mysql"
)

// MySQLDefaultPort is the port a mysql:// or mariadb:// URL without one
// connects to.
const MySQLDefaultPort = "3306"

// mysqlFixedParams are the driver parameters authstore sets itself on a
// MySQL connection (authstore.MySQLDSN); a DATABASE_URL may not carry
// them.
var mysqlFixedParams = []string{
	"charset", "collation", "parseTime", "loc", "time_zone", "sql_mode",
	"clientFoundRows", "multiStatements", "transaction_isolation", "tx_isolation", "interpolateParams",
}

// DatabaseURL is a parsed DATABASE_URL. Its DSN may hold a password: do not
// print it.
type DatabaseURL struct {
	// Dialect is the database engine.
	Dialect Dialect
	// DSN is what the driver opens: the URL itself for PostgreSQL, the file
	// path for SQLite, and for MySQL go-sql-driver/mysql's
	// user:password@tcp(host:port)/database?params, with only the
	// parameters the URL gave (authstore.MySQLDSN adds its own).
	DSN string
}

// ParseDatabaseURL parses a DATABASE_URL value: postgres://... or
// postgresql://... (kept whole as the DSN), sqlite://PATH, where PATH is
// relative (sqlite://a.db, sqlite://./dir/a.db) or absolute
// (sqlite:///var/lib/a.db) and may not carry a ?query, or
// mysql://user:password@host:port/database (mariadb:// is the same; the
// port defaults to 3306), whose ?query may carry driver parameters such as
// tls=true but none of those authstore sets (charset, parseTime, loc,
// time_zone, sql_mode, ...). Errors mask any password in raw.
func ParseDatabaseURL(raw string) (DatabaseURL, error) {
	want := "postgres://, postgresql://, mysql://, mariadb:// or sqlite:// URL"
	if scheme, path, ok := strings.Cut(raw, "://"); ok {
		switch strings.ToLower(scheme) {
		case "postgres", "postgresql":
			if _, err := url.Parse(raw); err == nil {
				return DatabaseURL{Dialect: DialectPostgres, DSN: raw}, nil
			}
		case "mysql", "mariadb":
			dsn, problem := mysqlDSN(raw)
			if problem == "" {
				return DatabaseURL{Dialect: DialectMySQL, DSN: dsn}, nil
			}
			want = problem
		case "sqlite":
			if strings.Contains(path, "?") {
				want = "sqlite:// URL without a ?query (authstore sets the SQLite options itself)"
			} else if path != "" {
				return DatabaseURL{Dialect: DialectSQLite, DSN: path}, nil
			}
		}
	}
	return DatabaseURL{}, invalidError(fmt.Sprintf("DATABASE_URL: want %s, got %q", want, redactURL(raw)))
}

// mysqlDSN turns a mysql:// or mariadb:// URL into go-sql-driver/mysql's
// DSN, or says what is wrong with it.
func mysqlDSN(raw string) (dsn, problem string) {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return "", "mysql://user:password@host:port/database URL with a host"
	}
	db := strings.TrimPrefix(u.Path, "/")
	if db == "" || strings.Contains(db, "/") {
		return "", "mysql://user:password@host:port/database URL naming one database"
	}
	if u.User == nil || u.User.Username() == "" {
		return "", "mysql://user:password@host:port/database URL naming a user"
	}
	user := u.User.Username()
	if strings.ContainsAny(user, ":@/") {
		return "", "mysql:// URL whose user has no ':', '@' or '/'"
	}
	cred := user
	if pw, ok := u.User.Password(); ok {
		cred += ":" + pw
	}
	host := u.Host
	if u.Port() == "" {
		host = strings.TrimSuffix(host, ":") + ":" + MySQLDefaultPort
	}
	q := u.Query()
	for _, k := range mysqlFixedParams {
		if q.Has(k) {
			return "", fmt.Sprintf("mysql:// URL without ?%s= (authstore sets it itself)", k)
		}
	}
	dsn = cred + "@tcp(" + host + ")/" + db
	if len(q) > 0 {
		dsn += "?" + q.Encode()
	}
	return dsn, ""
}

// redactURL masks the passwords in raw, in the user info or a query
// parameter. Text that is not a hierarchical URL is masked whole if it might
// hold a credential.
func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme == "" || u.Opaque != "" {
		if strings.Contains(raw, "@") || strings.Contains(strings.ToLower(raw), "password") {
			return redacted
		}
		return raw
	}
	_, masked := u.User.Password()
	pairs := strings.Split(u.RawQuery, "&")
	for i, pair := range pairs {
		k, _, _ := strings.Cut(pair, "=")
		name, err := url.QueryUnescape(k)
		if err != nil {
			name = k
		}
		if strings.Contains(strings.ToLower(name), "password") {
			pairs[i], masked = k+"=xxxxx", true
		}
	}
	if !masked {
		return raw
	}
	u.RawQuery = strings.Join(pairs, "&")
	return u.Redacted()
}

// printable is Config without its methods, with DatabaseURL redacted.
type printable Config

func (c Config) printable() printable {
	c.DatabaseURL = redactURL(c.DatabaseURL)
	return printable(c)
}

// String returns every field of c, as %+v prints a struct, with the
// DATABASE_URL password and the JWT secret masked.
func (c Config) String() string { return fmt.Sprintf("%+v", c.printable()) }

// GoString returns c as a Go composite literal, with the DATABASE_URL
// password and the JWT secret masked.
func (c Config) GoString() string {
	return "config.Config" + strings.TrimPrefix(fmt.Sprintf("%#v", c.printable()), "config.printable")
}

// Format implements fmt.Formatter so that no verb reveals a secret: %#v
// prints c.GoString(), %q quotes c.String(), and every other verb prints
// c.String().
func (c Config) Format(f fmt.State, verb rune) { format(f, verb, c.String(), c.GoString()) }

// MarshalJSON encodes c as a JSON object keyed by field name, with the
// DATABASE_URL password and the JWT secret masked.
func (c Config) MarshalJSON() ([]byte, error) { return json.Marshal(c.printable()) }

// format prints s for verb: goSyntax for %#v, s quoted for %q, s itself for
// any other verb. Flags, width and precision apply.
func format(f fmt.State, verb rune, s, goSyntax string) {
	switch {
	case verb == 'v' && f.Flag('#'):
		io.WriteString(f, goSyntax)
	case verb == 'q':
		fmt.Fprintf(f, fmt.FormatString(f, 'q'), s)
	default:
		fmt.Fprintf(f, fmt.FormatString(f, 's'), s)
	}
}

// Secret is a string that does not print: String, GoString, Format (every
// verb), MarshalText and MarshalJSON give "[redacted]", or the empty string
// if the secret is empty, so that an unset secret shows as such.
type Secret string

const redacted = "[redacted]"

// Reveal returns the secret itself.
func (s Secret) Reveal() string { return string(s) }

// String returns "[redacted]", or "" for an empty secret.
func (s Secret) String() string {
	if s == "" {
		return ""
	}
	return redacted
}

// GoString returns s.String() quoted.
func (s Secret) GoString() string { return strconv.Quote(s.String()) }

// Format implements fmt.Formatter: every verb prints s.String(), quoted
// for %q and %#v.
func (s Secret) Format(f fmt.State, verb rune) { format(f, verb, s.String(), s.GoString()) }

// MarshalText returns s.String().
func (s Secret) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// MarshalJSON returns s.String() as a JSON string.
func (s Secret) MarshalJSON() ([]byte, error) { return json.Marshal(s.String()) }
