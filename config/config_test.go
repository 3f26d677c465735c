package config_test

import (
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/forgeauth/authstore/config"
)

const secret = "0123456789abcdef0123456789abcdef-top" // 36 bytes

// Master encryption keys: base64 of 32 bytes each.
const (
	encKey1 = "ZW5jcnlwdGlvbi1rZXktb25lLTMyLWJ5dGVzLWxvbmc="
	encKey2 = "ZW5jcnlwdGlvbi1rZXktdHdvLTMyLWJ5dGVzLWxvbmc="
	encKey3 = "ZW5jcnlwdGlvbi1rZXktdGhyZWUtMzItYnl0ZXMtbG8="
)

// everyKey sets every key to a valid value other than its default.
var everyKey = map[string]string{
	"DATABASE_URL":                       "postgres://app:hunter2@db:5432/auth?sslmode=disable",
	"OAUTH_STORAGE":                      "memory",
	"AUTH_SESSION_STORAGE":               "memory",
	"OAUTH_ACCESS_TOKEN_LIFETIME":        "900",
	"OAUTH_REFRESH_TOKEN_LIFETIME":       "86400",
	"OAUTH_AUTH_CODE_LIFETIME":           "60",
	"OAUTH_ENABLE_PKCE":                  "false",
	"OAUTH_REFRESH_REUSE_INTERVAL":       "5",
	"AUTH_SESSION_LIFETIME":              "1800",
	"AUTH_SESSION_ABSOLUTE_LIFETIME":     "43200",
	"AUTH_SESSION_TOUCH_INTERVAL":        "30",
	"AUTH_REMEMBER_LIFETIME":             "604800",
	"AUTH_PASSWORD_RESET_LIFETIME":       "1200",
	"AUTH_PASSWORD_RESET_THROTTLE":       "30",
	"AUTH_EMAIL_VERIFICATION_LIFETIME":   "172800",
	"AUTH_LOCKOUT_THRESHOLD":             "3",
	"AUTH_LOCKOUT_DURATION":              "120",
	"AUTH_REQUIRE_EMAIL_VERIFICATION":    "TRUE",
	"AUTH_ENABLE_TWO_FACTOR":             "True",
	"JWT_SECRET":                         secret,
	"JWT_ISSUER":                         "https://auth.example.com",
	"OAUTH_ACCESS_TOKEN_AUDIENCE":        "https://api.example.com",
	"OAUTH_SIGNING_ALGORITHM":            "ES256",
	"OAUTH_SIGNING_KEY_PUBLISH_DELAY":    "600",
	"AUTHSTORE_ENCRYPTION_KEY":           encKey1,
	"AUTHSTORE_ENCRYPTION_KEYS_PREVIOUS": encKey2 + "," + encKey3,
	"AUTHSTORE_RECOVERY_KEY":             encKey3,
	"AUTHSTORE_RECOVERY_KEYS_PREVIOUS":   encKey2,
	"DB_MAX_OPEN_CONNS":                  "25",
	"DB_MAX_IDLE_CONNS":                  "0",
	"DB_CONN_MAX_LIFETIME":               "0",
	"AUTHSTORE_TABLE_PREFIX":             "auth_",
	"AUTHSTORE_SCHEMA":                   "idp",
	"AUTHSTORE_MIGRATIONS_TABLE":         "auth_versions",
}

var everyKeyConfig = config.Config{
	DatabaseURL:               "postgres://app:hunter2@db:5432/auth?sslmode=disable",
	OAuthStorage:              config.StorageMemory,
	AuthSessionStorage:        config.StorageMemory,
	AccessTokenLifetime:       15 * time.Minute,
	RefreshTokenLifetime:      24 * time.Hour,
	AuthCodeLifetime:          time.Minute,
	EnablePKCE:                false,
	RefreshReuseInterval:      5 * time.Second,
	SessionLifetime:           30 * time.Minute,
	SessionAbsoluteLifetime:   12 * time.Hour,
	SessionTouchInterval:      30 * time.Second,
	RememberLifetime:          7 * 24 * time.Hour,
	PasswordResetLifetime:     20 * time.Minute,
	PasswordResetThrottle:     30 * time.Second,
	EmailVerificationLifetime: 48 * time.Hour,
	LockoutThreshold:          3,
	LockoutDuration:           2 * time.Minute,
	RequireEmailVerification:  true,
	EnableTwoFactor:           true,
	JWTSecret:                 secret,
	JWTIssuer:                 "https://auth.example.com",
	AccessTokenAudience:       "https://api.example.com",
	SigningAlgorithm:          "ES256",
	SigningKeyPublishDelay:    10 * time.Minute,
	EncryptionKey:             encKey1,
	EncryptionKeysPrevious:    encKey2 + "," + encKey3,
	RecoveryKey:               encKey3,
	RecoveryKeysPrevious:      encKey2,
	MaxOpenConns:              25,
	MaxIdleConns:              0,
	ConnMaxLifetime:           0,
	TablePrefix:               "auth_",
	Schema:                    "idp",
	MigrationsTable:           "auth_versions",
}

// keys returns the environment key of every Config field.
func keys(t *testing.T) []string {
	t.Helper()
	var keys []string
	for f := range reflect.TypeFor[config.Config]().Fields() {
		key := f.Tag.Get("env")
		require.NotEmpty(t, key, "field %s has no env key", f.Name)
		keys = append(keys, key)
	}
	return keys
}

// with returns an environment holding the key, value pairs kv.
func with(kv ...string) map[string]string {
	m := map[string]string{}
	for i := 0; i < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return m
}

func TestLoadFromEveryKey(t *testing.T) {
	cfg, err := config.LoadFrom(everyKey)
	require.NoError(t, err)
	require.Equal(t, everyKeyConfig, cfg)

	// Each key must change its own field: none may be left at the default.
	def := reflect.ValueOf(config.Default())
	got := reflect.ValueOf(cfg)
	for i, key := range keys(t) {
		require.Contains(t, everyKey, key)
		require.NotEqual(t, def.Field(i).Interface(), got.Field(i).Interface(), key)
	}
	require.Len(t, everyKey, len(keys(t)))
}

func TestLoad(t *testing.T) {
	for key, value := range everyKey {
		t.Setenv(key, value)
	}
	t.Setenv("OAUTH_AUTH_CODE_LIFETIME", "30")
	cfg, err := config.Load()
	require.NoError(t, err)
	want := everyKeyConfig
	want.AuthCodeLifetime = 30 * time.Second
	require.Equal(t, want, cfg)

	t.Setenv("OAUTH_ENABLE_PKCE", "maybe")
	_, err = config.Load()
	require.EqualError(t, err, `OAUTH_ENABLE_PKCE: want true or false, got "maybe"`)
}

func TestDefaults(t *testing.T) {
	want := config.Config{
		DatabaseURL:               "sqlite://./authstore.db",
		OAuthStorage:              config.StorageDatabase,
		AuthSessionStorage:        config.StorageDatabase,
		AccessTokenLifetime:       time.Hour,
		RefreshTokenLifetime:      30 * 24 * time.Hour,
		AuthCodeLifetime:          10 * time.Minute,
		EnablePKCE:                true,
		SessionLifetime:           2 * time.Hour,
		SessionAbsoluteLifetime:   24 * time.Hour,
		SessionTouchInterval:      time.Minute,
		RememberLifetime:          30 * 24 * time.Hour,
		PasswordResetLifetime:     time.Hour,
		PasswordResetThrottle:     time.Minute,
		EmailVerificationLifetime: 24 * time.Hour,
		LockoutThreshold:          5,
		LockoutDuration:           5 * time.Minute,
		RequireEmailVerification:  false,
		EnableTwoFactor:           false,
		JWTSecret:                 "",
		JWTIssuer:                 "authstore",
		SigningAlgorithm:          "RS256",
		SigningKeyPublishDelay:    time.Hour,
		MaxOpenConns:              10,
		MaxIdleConns:              5,
		ConnMaxLifetime:           30 * time.Minute,
		MigrationsTable:           "authstore_schema_migrations",
	}
	require.Equal(t, want, config.Default())
	require.NoError(t, config.Default().Validate())
	for name, env := range map[string]map[string]string{
		"nil":          nil,
		"empty":        {},
		"unknown keys": {"PATH": "/bin", "OAUTH_STORAGE_X": "redis"},
		"empty secret": {"JWT_SECRET": ""},
	} {
		t.Run(name, func(t *testing.T) {
			cfg, err := config.LoadFrom(env)
			require.NoError(t, err)
			require.Equal(t, want, cfg)
		})
	}
	db, err := config.Default().Database()
	require.NoError(t, err)
	require.Equal(t, config.DatabaseURL{Dialect: config.DialectSQLite, DSN: "./authstore.db"}, db)
	require.False(t, config.Default().Memory())
}

func TestLoadFromRefusesBadValues(t *testing.T) {
	type bad struct{ key, value, want string }
	var tests []bad
	for _, key := range []string{
		"OAUTH_ACCESS_TOKEN_LIFETIME", "OAUTH_REFRESH_TOKEN_LIFETIME", "OAUTH_AUTH_CODE_LIFETIME",
		"AUTH_SESSION_LIFETIME", "AUTH_REMEMBER_LIFETIME", "AUTH_PASSWORD_RESET_LIFETIME",
		"AUTH_EMAIL_VERIFICATION_LIFETIME",
	} {
		for _, v := range []string{"abc", "0", "-5", "1.5", "", " 60", "1h", "99999999999"} {
			tests = append(tests, bad{key, v, fmt.Sprintf(`%s: want a positive number of seconds, got %q`, key, v)})
		}
	}
	for _, key := range []string{"OAUTH_ENABLE_PKCE", "AUTH_REQUIRE_EMAIL_VERIFICATION", "AUTH_ENABLE_TWO_FACTOR"} {
		for _, v := range []string{"maybe", "1", "yes", ""} {
			tests = append(tests, bad{key, v, fmt.Sprintf(`%s: want true or false, got %q`, key, v)})
		}
	}
	for _, key := range []string{"OAUTH_STORAGE", "AUTH_SESSION_STORAGE"} {
		for _, v := range []string{"redis", "Memory", ""} {
			tests = append(tests, bad{key, v, fmt.Sprintf(`%s: want "memory" or "database", got %q`, key, v)})
		}
	}
	for _, v := range []string{"0", "-1", "abc", "2.5", "", "99999999999999999999"} {
		tests = append(tests, bad{"DB_MAX_OPEN_CONNS", v, fmt.Sprintf(`DB_MAX_OPEN_CONNS: want a positive integer, got %q`, v)})
	}
	for _, v := range []string{"-1", "abc", ""} {
		tests = append(tests, bad{"DB_MAX_IDLE_CONNS", v, fmt.Sprintf(`DB_MAX_IDLE_CONNS: want a non-negative integer, got %q`, v)})
		tests = append(tests, bad{"DB_CONN_MAX_LIFETIME", v,
			fmt.Sprintf(`DB_CONN_MAX_LIFETIME: want a non-negative number of seconds (0 for no limit), got %q`, v)})
	}
	tests = append(tests,
		bad{"JWT_SECRET", "0123456789", `JWT_SECRET: want at least 32 bytes, got 10`},
		bad{"JWT_SECRET", secret[:31], `JWT_SECRET: want at least 32 bytes, got 31`},
		bad{"JWT_ISSUER", "", `JWT_ISSUER: want a non-empty issuer, got ""`},
		bad{"DATABASE_URL", "", `DATABASE_URL: want postgres://, postgresql://, mysql://, mariadb:// or sqlite:// URL, got ""`},
		bad{"DATABASE_URL", "sqlserver://root@db/auth", `DATABASE_URL: want postgres://, postgresql://, mysql://, mariadb:// or sqlite:// URL, got "sqlserver://root@db/auth"`},
	)
	for _, tt := range tests {
		t.Run(tt.key+"="+tt.value, func(t *testing.T) {
			cfg, err := config.LoadFrom(with(tt.key, tt.value))
			require.EqualError(t, err, tt.want)
			require.ErrorIs(t, err, config.ErrInvalid)
			require.Equal(t, config.Config{}, cfg)
			require.NotContains(t, err.Error(), "parse error", "caarlos0 wording")
		})
	}
}

func TestLoadFromEmptyValues(t *testing.T) {
	// An empty value is refused by name for every key but JWT_SECRET.
	for _, key := range keys(t) {
		t.Run(key, func(t *testing.T) {
			_, err := config.LoadFrom(with(key, ""))
			switch key {
			case "JWT_SECRET", "AUTHSTORE_TABLE_PREFIX", "AUTHSTORE_SCHEMA", "OAUTH_ACCESS_TOKEN_AUDIENCE",
				"AUTHSTORE_ENCRYPTION_KEY", "AUTHSTORE_ENCRYPTION_KEYS_PREVIOUS", "AUTHSTORE_RECOVERY_KEY", "AUTHSTORE_RECOVERY_KEYS_PREVIOUS": // empty: none
				require.NoError(t, err)
				return
			}
			require.ErrorIs(t, err, config.ErrInvalid)
			require.True(t, strings.HasPrefix(err.Error(), key+": want "), err.Error())
			require.True(t, strings.HasSuffix(err.Error(), `, got ""`), err.Error())
		})
	}
}

func TestLoadFromReportsEveryBadKey(t *testing.T) {
	_, err := config.LoadFrom(map[string]string{
		"DATABASE_URL":                "sqlserver://root:hunter2@db/auth",
		"OAUTH_STORAGE":               "redis",
		"OAUTH_ACCESS_TOKEN_LIFETIME": "abc",
		"OAUTH_AUTH_CODE_LIFETIME":    "0",
		"OAUTH_ENABLE_PKCE":           "maybe",
		"JWT_SECRET":                  "short-secret",
		"DB_MAX_OPEN_CONNS":           "-5",
		"DB_CONN_MAX_LIFETIME":        "1.5",
	})
	require.ErrorIs(t, err, config.ErrInvalid)
	require.Equal(t, strings.Join([]string{
		`DATABASE_URL: want postgres://, postgresql://, mysql://, mariadb:// or sqlite:// URL, got "sqlserver://root:xxxxx@db/auth"`,
		`OAUTH_STORAGE: want "memory" or "database", got "redis"`,
		`OAUTH_ACCESS_TOKEN_LIFETIME: want a positive number of seconds, got "abc"`,
		`OAUTH_AUTH_CODE_LIFETIME: want a positive number of seconds, got "0"`,
		`OAUTH_ENABLE_PKCE: want true or false, got "maybe"`,
		`JWT_SECRET: want at least 32 bytes, got 12`,
		`DB_MAX_OPEN_CONNS: want a positive integer, got "-5"`,
		`DB_CONN_MAX_LIFETIME: want a non-negative number of seconds (0 for no limit), got "1.5"`,
	}, "\n"), err.Error())
	require.NotContains(t, err.Error(), "hunter2")
	require.NotContains(t, err.Error(), "short-secret")
}

func TestMemoryStorage(t *testing.T) {
	cfg, err := config.LoadFrom(with("OAUTH_STORAGE", "memory", "AUTH_SESSION_STORAGE", "memory"))
	require.NoError(t, err)
	require.True(t, cfg.Memory())

	const mix = `OAUTH_STORAGE and AUTH_SESSION_STORAGE: want both "memory" or neither ` +
		`(OAuth records reference users, so they share one database), got %q and %q`
	for _, tt := range []struct{ oauth, session string }{{"memory", "database"}, {"database", "memory"}} {
		t.Run(tt.oauth+"+"+tt.session, func(t *testing.T) {
			_, err := config.LoadFrom(with("OAUTH_STORAGE", tt.oauth, "AUTH_SESSION_STORAGE", tt.session))
			require.EqualError(t, err, fmt.Sprintf(mix, tt.oauth, tt.session))
			require.ErrorIs(t, err, config.ErrInvalid)

			cfg := config.Default()
			cfg.OAuthStorage, cfg.AuthSessionStorage = config.Storage(tt.oauth), config.Storage(tt.session)
			require.EqualError(t, cfg.Validate(), fmt.Sprintf(mix, tt.oauth, tt.session))
			require.False(t, cfg.Memory())
		})
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name   string
		change func(*config.Config)
		want   string
	}{
		{"valid", func(*config.Config) {}, ""},
		{"sub-second lifetime", func(c *config.Config) { c.AuthCodeLifetime = 1500 * time.Millisecond }, ""},
		{"zero lifetime", func(c *config.Config) { c.AccessTokenLifetime = 0 },
			`OAUTH_ACCESS_TOKEN_LIFETIME: want a positive number of seconds, got "0"`},
		{"negative lifetime", func(c *config.Config) { c.SessionLifetime = -1500 * time.Millisecond },
			`AUTH_SESSION_LIFETIME: want a positive number of seconds, got "-1.5"`},
		{"bad storage", func(c *config.Config) { c.AuthSessionStorage = "redis" },
			`AUTH_SESSION_STORAGE: want "memory" or "database", got "redis"`},
		{"short secret", func(c *config.Config) { c.JWTSecret = "abc" }, `JWT_SECRET: want at least 32 bytes, got 3`},
		{"bad pool", func(c *config.Config) { c.MaxOpenConns, c.MaxIdleConns, c.ConnMaxLifetime = 0, -1, -time.Second },
			`DB_MAX_OPEN_CONNS: want a positive integer, got "0"` + "\n" +
				`DB_MAX_IDLE_CONNS: want a non-negative integer, got "-1"` + "\n" +
				`DB_CONN_MAX_LIFETIME: want a non-negative number of seconds (0 for no limit), got "-1"`},
		{"bad url", func(c *config.Config) { c.DatabaseURL = "postgres://u:hunter2@[::1" },
			`DATABASE_URL: want postgres://, postgresql://, mysql://, mariadb:// or sqlite:// URL, got "[redacted]"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := config.Default()
			tt.change(&cfg)
			err := cfg.Validate()
			if tt.want == "" {
				require.NoError(t, err)
				return
			}
			require.EqualError(t, err, tt.want)
			require.ErrorIs(t, err, config.ErrInvalid)
		})
	}

	t.Run("zero Config", func(t *testing.T) {
		err := config.Config{}.Validate()
		require.ErrorIs(t, err, config.ErrInvalid)
		var named []string
		for line := range strings.Lines(err.Error()) {
			key, _, ok := strings.Cut(line, ": want ")
			require.True(t, ok, line)
			named = append(named, key)
		}
		require.Equal(t, []string{
			"DATABASE_URL", "OAUTH_STORAGE", "AUTH_SESSION_STORAGE",
			"OAUTH_ACCESS_TOKEN_LIFETIME", "OAUTH_REFRESH_TOKEN_LIFETIME", "OAUTH_AUTH_CODE_LIFETIME",
			"AUTH_SESSION_LIFETIME", "AUTH_SESSION_ABSOLUTE_LIFETIME", "AUTH_SESSION_TOUCH_INTERVAL",
			"AUTH_REMEMBER_LIFETIME", "AUTH_PASSWORD_RESET_LIFETIME",
			"AUTH_EMAIL_VERIFICATION_LIFETIME", "AUTH_LOCKOUT_DURATION", "JWT_ISSUER", "DB_MAX_OPEN_CONNS",
			"AUTHSTORE_MIGRATIONS_TABLE",
		}, named)
	})
}

func TestParseDatabaseURL(t *testing.T) {
	good := []struct {
		raw     string
		dialect config.Dialect
		dsn     string
	}{
		{"postgres://u:p@localhost:5432/auth?sslmode=disable", config.DialectPostgres, "postgres://u:p@localhost:5432/auth?sslmode=disable"},
		{"postgresql://localhost/auth", config.DialectPostgres, "postgresql://localhost/auth"},
		{"postgres:///auth?host=/var/run/postgresql", config.DialectPostgres, "postgres:///auth?host=/var/run/postgresql"},
		{"sqlite://relative.db", config.DialectSQLite, "relative.db"},
		{"sqlite://./rel/x.db", config.DialectSQLite, "./rel/x.db"},
		{"sqlite://../up.db", config.DialectSQLite, "../up.db"},
		{"sqlite:///absolute/path.db", config.DialectSQLite, "/absolute/path.db"},
		{"sqlite:///tmp/a b.db", config.DialectSQLite, "/tmp/a b.db"},
		{"mysql://root@127.0.0.1:3306/authstore", config.DialectMySQL, "root@tcp(127.0.0.1:3306)/authstore"},
		{"mysql://app:p%40ss@db/auth", config.DialectMySQL, "app:p@ss@tcp(db:3306)/auth"},
		{"mariadb://app:pw@db:3307/auth?tls=true", config.DialectMySQL, "app:pw@tcp(db:3307)/auth?tls=true"},
		{"MySQL://app@[::1]:3306/auth", config.DialectMySQL, "app@tcp([::1]:3306)/auth"},
	}
	for _, tt := range good {
		t.Run(tt.raw, func(t *testing.T) {
			db, err := config.ParseDatabaseURL(tt.raw)
			require.NoError(t, err)
			require.Equal(t, config.DatabaseURL{Dialect: tt.dialect, DSN: tt.dsn}, db)

			cfg, err := config.LoadFrom(with("DATABASE_URL", tt.raw))
			require.NoError(t, err)
			db, err = cfg.Database()
			require.NoError(t, err)
			require.Equal(t, tt.dsn, db.DSN)
		})
	}

	const want = `DATABASE_URL: want postgres://, postgresql://, mysql://, mariadb:// or sqlite:// URL, got `
	const noQuery = `DATABASE_URL: want sqlite:// URL without a ?query (authstore sets the SQLite options itself), got `
	bad := []struct{ raw, want string }{
		{"", want + `""`},
		{"sqlserver://root@db/auth", want + `"sqlserver://root@db/auth"`},
		{"sqlserver://root:hunter2@db/auth", want + `"sqlserver://root:xxxxx@db/auth"`},
		{"localhost/auth.db", want + `"localhost/auth.db"`},
		{"postgres", want + `"postgres"`},
		{"sqlite:auth.db", want + `"sqlite:auth.db"`},
		{"sqlite://", want + `"sqlite://"`},
		{"postgres://u:hunter2@[::1", want + `"[redacted]"`},
		{"postgres:u:hunter2@db", want + `"[redacted]"`},
		{"host=db user=u password=hunter2", want + `"[redacted]"`},
		{"sqlite://a.db?_foreign_keys=on", noQuery + `"sqlite://a.db?_foreign_keys=on"`},
		{"sqlite://a.db?_auth_user=u&_auth_pass%77ord=hunter2&x=1", noQuery + `"sqlite://a.db?_auth_user=u&_auth_pass%77ord=xxxxx&x=1"`},
		{"sqlite://u:hunter2@a.db?mode=ro", noQuery + `"sqlite://u:xxxxx@a.db?mode=ro"`},
		{"mysql://root:hunter2@db", `DATABASE_URL: want mysql://user:password@host:port/database URL naming one database, got "mysql://root:xxxxx@db"`},
		{"mysql://db/auth", `DATABASE_URL: want mysql://user:password@host:port/database URL naming a user, got "mysql://db/auth"`},
		{"mariadb:///auth", `DATABASE_URL: want mysql://user:password@host:port/database URL with a host, got "mariadb:///auth"`},
		{"mysql://u:hunter2@db/auth?parseTime=false", `DATABASE_URL: want mysql:// URL without ?parseTime= (authstore sets it itself), got "mysql://u:xxxxx@db/auth?parseTime=false"`},
		{"mysql://u:hunter2@db/auth?sql_mode=ANSI", `DATABASE_URL: want mysql:// URL without ?sql_mode= (authstore sets it itself), got "mysql://u:xxxxx@db/auth?sql_mode=ANSI"`},
	}
	for _, tt := range bad {
		t.Run(tt.raw, func(t *testing.T) {
			_, err := config.ParseDatabaseURL(tt.raw)
			require.EqualError(t, err, tt.want)
			require.ErrorIs(t, err, config.ErrInvalid)
			require.NotContains(t, err.Error(), "hunter2")

			_, err = config.LoadFrom(with("DATABASE_URL", tt.raw))
			require.EqualError(t, err, tt.want)
		})
	}
}

func TestSecret(t *testing.T) {
	s := config.Secret(secret)
	require.Equal(t, secret, s.Reveal())
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "%d", "%10s", "%-12v", "%.40s"} {
		t.Run(verb, func(t *testing.T) {
			out := fmt.Sprintf(verb, s)
			require.Contains(t, out, "[redacted]")
			require.NotContains(t, out, "0123")
			require.Empty(t, strings.Trim(fmt.Sprintf(verb, config.Secret("")), ` "`))
		})
	}
	require.Equal(t, `"[redacted]"`, fmt.Sprintf("%q", s))
	require.Equal(t, `"[redacted]"`, s.GoString())
	require.Equal(t, "[redacted]", s.String())
	text, err := s.MarshalText()
	require.NoError(t, err)
	require.Equal(t, "[redacted]", string(text))
	js, err := json.Marshal(map[string]config.Secret{"a": s, "b": ""})
	require.NoError(t, err)
	require.JSONEq(t, `{"a":"[redacted]","b":""}`, string(js))
	require.Equal(t, `""`, fmt.Sprintf("%#v", config.Secret("")))
	require.Empty(t, config.Secret("").String())
}

func TestConfigPrintingHidesSecrets(t *testing.T) {
	cfg := everyKeyConfig
	cfg.DatabaseURL = "postgres://app:hunter2@db:5432/auth?sslmode=disable&sslpassword=hunter3"
	require.NoError(t, cfg.Validate())

	js, err := json.Marshal(cfg)
	require.NoError(t, err)
	jsPtr, err := json.Marshal(&cfg)
	require.NoError(t, err)
	out := fmt.Sprintf("%v|%+v|%#v|%s|%q|%d|%x|%v|%s", cfg, cfg, cfg, cfg, cfg, cfg, cfg, &cfg, []config.Config{cfg}) +
		cfg.String() + cfg.GoString() + string(js) + string(jsPtr)
	for _, leak := range []string{"hunter2", "hunter3", secret, secret[:8], encKey1, encKey2, encKey3, encKey1[:12], encKey3[:12]} {
		require.NotContains(t, out, leak)
	}

	require.Equal(t, "{DatabaseURL:postgres://app:xxxxx@db:5432/auth?sslmode=disable&sslpassword=xxxxx "+
		"OAuthStorage:memory AuthSessionStorage:memory AccessTokenLifetime:15m0s RefreshTokenLifetime:24h0m0s "+
		"AuthCodeLifetime:1m0s EnablePKCE:false RefreshReuseInterval:5s SessionLifetime:30m0s SessionAbsoluteLifetime:12h0m0s "+
		"SessionTouchInterval:30s RememberLifetime:168h0m0s "+
		"PasswordResetLifetime:20m0s PasswordResetThrottle:30s EmailVerificationLifetime:48h0m0s LockoutThreshold:3 LockoutDuration:2m0s RequireEmailVerification:true "+
		"EnableTwoFactor:true JWTSecret:[redacted] JWTIssuer:https://auth.example.com AccessTokenAudience:https://api.example.com "+
		"SigningAlgorithm:ES256 SigningKeyPublishDelay:10m0s EncryptionKey:[redacted] EncryptionKeysPrevious:[redacted] RecoveryKey:[redacted] RecoveryKeysPrevious:[redacted] MaxOpenConns:25 "+
		"MaxIdleConns:0 ConnMaxLifetime:0s TablePrefix:auth_ Schema:idp MigrationsTable:auth_versions}", cfg.String())
	require.Equal(t, cfg.String(), fmt.Sprintf("%v", cfg))
	require.Equal(t, cfg.String(), fmt.Sprintf("%+v", cfg))
	require.True(t, strings.HasPrefix(fmt.Sprintf("%#v", cfg), `config.Config{DatabaseURL:"postgres://app:xxxxx@db`))
	require.Contains(t, fmt.Sprintf("%#v", cfg), `JWTSecret:"[redacted]"`)

	var decoded map[string]any
	require.NoError(t, json.Unmarshal(js, &decoded))
	require.Equal(t, "[redacted]", decoded["JWTSecret"])
	for f := range reflect.TypeFor[config.Config]().Fields() {
		require.Contains(t, cfg.String(), f.Name+":")
		require.Contains(t, decoded, f.Name)
	}
}

// TestEnvExample keeps ../.env.example in step with Config: it sets every
// key, to its default, each under a comment.
func TestEnvExample(t *testing.T) {
	text, err := os.ReadFile("../.env.example")
	require.NoError(t, err)
	environ := map[string]string{}
	commented := false
	for line := range strings.Lines(string(text)) {
		line = strings.TrimSpace(line)
		switch {
		case strings.HasPrefix(line, "#"):
			commented = true
		case line != "":
			key, value, ok := strings.Cut(line, "=")
			require.True(t, ok, line)
			require.True(t, commented, "%s has no comment", key)
			environ[key], commented = value, false
		}
	}
	require.ElementsMatch(t, keys(t), slices.Collect(maps.Keys(environ)))
	cfg, err := config.LoadFrom(environ)
	require.NoError(t, err)
	require.Equal(t, config.Default(), cfg)
}

func TestValidatePoliciesIgnoresConnectionKeys(t *testing.T) {
	cfg := config.Default()
	cfg.DatabaseURL = "host=db user=app dbname=auth" // a key=value DSN: not Open's, fine for New
	cfg.MaxOpenConns = 0
	require.Error(t, cfg.Validate())
	require.NoError(t, cfg.ValidatePolicies())
	cfg.SessionTouchInterval = 0
	err := cfg.ValidatePolicies()
	require.ErrorIs(t, err, config.ErrInvalid)
	require.EqualError(t, err, `AUTH_SESSION_TOUCH_INTERVAL: want a positive number of seconds, got "0"`)
}

// TestTableNaming checks the keys that place authstore's tables: each is
// refused by name when it is not a plain lower-case identifier, and
// together they cannot make an index name longer than PostgreSQL keeps.
func TestTableNaming(t *testing.T) {
	for _, tc := range []struct{ key, value, want string }{
		{"AUTHSTORE_TABLE_PREFIX", "Auth_", "AUTHSTORE_TABLE_PREFIX: want a lower-case letter or underscore, then"},
		{"AUTHSTORE_TABLE_PREFIX", "auth-", "AUTHSTORE_TABLE_PREFIX: want a lower-case letter"},
		{"AUTHSTORE_TABLE_PREFIX", "1auth_", "AUTHSTORE_TABLE_PREFIX: want a lower-case letter or underscore, then"},
		{"AUTHSTORE_TABLE_PREFIX", "a_very_long_prefix_", "at most 16 bytes"},
		{"AUTHSTORE_SCHEMA", "auth;drop", "AUTHSTORE_SCHEMA: want a PostgreSQL schema name"},
		{"AUTHSTORE_MIGRATIONS_TABLE", "", "AUTHSTORE_MIGRATIONS_TABLE: want a table name"},
		{"AUTHSTORE_SCHEMA", "auth", "AUTHSTORE_SCHEMA: want empty with a SQLite DATABASE_URL"},
		{"AUTHSTORE_MIGRATIONS_TABLE", "1versions", "AUTHSTORE_MIGRATIONS_TABLE: want a table name"},
	} {
		_, err := config.LoadFrom(with(tc.key, tc.value))
		require.ErrorIs(t, err, config.ErrInvalid, "%s=%q", tc.key, tc.value)
		require.Contains(t, err.Error(), tc.want, "%s=%q", tc.key, tc.value)
	}
	// A host that loads the keys for New over its own PostgreSQL handle
	// and sets no DATABASE_URL is told that the URL is SQLite's default.
	_, err := config.LoadFrom(with("AUTHSTORE_SCHEMA", "auth"))
	require.ErrorContains(t, err, "DATABASE_URL is not set, so it is the default sqlite://./authstore.db; with a PostgreSQL database set DATABASE_URL to its postgres:// URL as well")
	_, err = config.LoadFrom(with("AUTHSTORE_SCHEMA", "auth", "DATABASE_URL", "sqlite://./app.db"))
	require.ErrorContains(t, err, "AUTHSTORE_SCHEMA: want empty with a SQLite DATABASE_URL (schemas are PostgreSQL's; use AUTHSTORE_TABLE_PREFIX)")
	_, err = config.LoadFrom(with("AUTHSTORE_TABLE_PREFIX", "authstore_", "AUTHSTORE_SCHEMA", "identity_12"))
	require.ErrorContains(t, err, "AUTHSTORE_TABLE_PREFIX and AUTHSTORE_SCHEMA: want at most 20 bytes together")

	cfg, err := config.LoadFrom(with("AUTHSTORE_TABLE_PREFIX", "auth_", "AUTHSTORE_SCHEMA", "idp", "DATABASE_URL", "postgres://db/auth"))
	require.NoError(t, err)
	sqliteWithSchema := config.Default()
	sqliteWithSchema.Schema = "idp"
	require.NoError(t, sqliteWithSchema.ValidatePolicies(), "New over a PostgreSQL handle checks the schema itself")
	require.Equal(t, config.Tables{Prefix: "auth_", Schema: "idp"}, cfg.Tables())
	require.Equal(t, "idp.auth_users", cfg.Tables().Name("users"))
	require.Equal(t, "auth_users", config.Tables{Prefix: "auth_"}.Name("users"))
	require.Equal(t, "users", config.Default().Tables().Name("users"))
}
