package config_test

import (
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/forgeauth/authstore/config"
)

// TestHardeningConfiguration is issue 11 class 9 (configuration): every
// lifetime and interval is bounded by MaxLifetime, the lockout duration by
// MaxLockoutDuration, and the touch interval by the idle lifetimes, with
// one line naming the key, from the environment (LoadFrom) and on a
// hand-built Config (Validate, and ValidatePolicies, which New applies).
func TestHardeningConfiguration(t *testing.T) {
	maxSeconds := int64(config.MaxLifetime / time.Second)
	require.Equal(t, int64(315360000), maxSeconds, "MaxLifetime is ten years of 365 days")
	require.True(t, time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC).After(time.Now().Add(config.MaxLifetime)),
		"now + MaxLifetime must stay far inside year 9999")

	type bound struct {
		key   string
		field func(*config.Config) *time.Duration
		max   time.Duration
		want  string
	}
	const tenYears = "want at most 315360000 seconds (10 years)"
	bounds := []bound{
		{"OAUTH_ACCESS_TOKEN_LIFETIME", func(c *config.Config) *time.Duration { return &c.AccessTokenLifetime }, config.MaxLifetime, tenYears},
		{"OAUTH_REFRESH_TOKEN_LIFETIME", func(c *config.Config) *time.Duration { return &c.RefreshTokenLifetime }, config.MaxLifetime, tenYears},
		{"OAUTH_AUTH_CODE_LIFETIME", func(c *config.Config) *time.Duration { return &c.AuthCodeLifetime }, config.MaxLifetime, tenYears},
		{"OAUTH_REFRESH_REUSE_INTERVAL", func(c *config.Config) *time.Duration { return &c.RefreshReuseInterval }, config.MaxLifetime, tenYears},
		{"AUTH_SESSION_LIFETIME", func(c *config.Config) *time.Duration { return &c.SessionLifetime }, config.MaxLifetime, tenYears},
		{"AUTH_SESSION_ABSOLUTE_LIFETIME", func(c *config.Config) *time.Duration { return &c.SessionAbsoluteLifetime }, config.MaxLifetime, tenYears},
		{"AUTH_REMEMBER_LIFETIME", func(c *config.Config) *time.Duration { return &c.RememberLifetime }, config.MaxLifetime, tenYears},
		{"AUTH_PASSWORD_RESET_LIFETIME", func(c *config.Config) *time.Duration { return &c.PasswordResetLifetime }, config.MaxLifetime, tenYears},
		{"AUTH_PASSWORD_RESET_THROTTLE", func(c *config.Config) *time.Duration { return &c.PasswordResetThrottle }, config.MaxLifetime, tenYears},
		{"AUTH_EMAIL_VERIFICATION_LIFETIME", func(c *config.Config) *time.Duration { return &c.EmailVerificationLifetime }, config.MaxLifetime, tenYears},
		{"AUTH_LOCKOUT_DURATION", func(c *config.Config) *time.Duration { return &c.LockoutDuration }, config.MaxLockoutDuration,
			"want at most 86400 seconds (24 hours, the longest lock)"},
	}
	for _, b := range bounds {
		t.Run(b.key, func(t *testing.T) {
			maxText := strconv.FormatInt(int64(b.max/time.Second), 10)
			over := strconv.FormatInt(int64(b.max/time.Second)+1, 10)

			cfg, err := config.LoadFrom(with(b.key, maxText))
			require.NoError(t, err, "LoadFrom(%s=%s) = %v; want the maximum accepted", b.key, maxText, err)
			require.Equal(t, b.max, *b.field(&cfg))

			for _, v := range []string{over, "9223372036"} { // one above; the largest number of seconds a Duration holds
				_, err = config.LoadFrom(with(b.key, v))
				require.ErrorIs(t, err, config.ErrInvalid, "LoadFrom(%s=%s)", b.key, v)
				require.EqualError(t, err, fmt.Sprintf("%s: %s, got %q", b.key, b.want, v))
			}

			cfg = config.Default()
			*b.field(&cfg) = b.max + time.Second
			want := fmt.Sprintf("%s: %s, got %q", b.key, b.want, over)
			require.EqualError(t, cfg.Validate(), want, "Validate")
			require.EqualError(t, cfg.ValidatePolicies(), want, "ValidatePolicies (New)")
			require.ErrorIs(t, cfg.ValidatePolicies(), config.ErrInvalid)

			*b.field(&cfg) = b.max
			require.NoError(t, cfg.Validate())
			require.NoError(t, cfg.ValidatePolicies())
		})
	}

	t.Run("AUTH_SESSION_TOUCH_INTERVAL", func(t *testing.T) {
		// A touch interval at or past an idle lifetime: the session ends
		// before a lookup refreshes it.
		const want = `AUTH_SESSION_TOUCH_INTERVAL: want fewer seconds than AUTH_SESSION_LIFETIME and AUTH_REMEMBER_LIFETIME ` +
			`(%s; a session idle that long has ended before a lookup would refresh it), got "%s"`
		for _, tc := range []struct {
			env       map[string]string
			idle, got string
		}{
			{with("AUTH_SESSION_TOUCH_INTERVAL", "7200"), "7200", "7200"},
			{with("AUTH_SESSION_TOUCH_INTERVAL", "120", "AUTH_SESSION_LIFETIME", "60"), "60", "120"},
			{with("AUTH_SESSION_TOUCH_INTERVAL", "600", "AUTH_REMEMBER_LIFETIME", "300"), "300", "600"},
		} {
			_, err := config.LoadFrom(tc.env)
			require.ErrorIs(t, err, config.ErrInvalid)
			require.EqualError(t, err, fmt.Sprintf(want, tc.idle, tc.got))
		}
		_, err := config.LoadFrom(with("AUTH_SESSION_TOUCH_INTERVAL", "7199"))
		require.NoError(t, err)

		cfg := config.Default()
		cfg.SessionTouchInterval = cfg.SessionLifetime
		require.EqualError(t, cfg.ValidatePolicies(), fmt.Sprintf(want, "7200", "7200"))
		// A touch interval above MaxLifetime is reported once, as too long.
		cfg.SessionTouchInterval = config.MaxLifetime + time.Second
		require.EqualError(t, cfg.ValidatePolicies(), `AUTH_SESSION_TOUCH_INTERVAL: want at most 315360000 seconds (10 years), got "315360001"`)
	})

	t.Run("ValidatePoliciesChecksEveryPolicyKey", func(t *testing.T) {
		// New validates with ValidatePolicies: every key but the connection
		// ones (DATABASE_URL, the storages, DB_*), which New does not use,
		// is checked as Validate checks it.
		connection := map[string]bool{"DATABASE_URL": true, "OAUTH_STORAGE": true, "AUTH_SESSION_STORAGE": true,
			"DB_MAX_OPEN_CONNS": true, "DB_MAX_IDLE_CONNS": true, "DB_CONN_MAX_LIFETIME": true}
		bad := map[string]func(*config.Config){
			"OAUTH_ACCESS_TOKEN_LIFETIME":        func(c *config.Config) { c.AccessTokenLifetime = 0 },
			"OAUTH_REFRESH_TOKEN_LIFETIME":       func(c *config.Config) { c.RefreshTokenLifetime = -time.Second },
			"OAUTH_AUTH_CODE_LIFETIME":           func(c *config.Config) { c.AuthCodeLifetime = 0 },
			"OAUTH_REFRESH_REUSE_INTERVAL":       func(c *config.Config) { c.RefreshReuseInterval = -time.Second },
			"AUTH_SESSION_LIFETIME":              func(c *config.Config) { c.SessionLifetime = 0 },
			"AUTH_SESSION_ABSOLUTE_LIFETIME":     func(c *config.Config) { c.SessionAbsoluteLifetime = -time.Hour },
			"AUTH_SESSION_TOUCH_INTERVAL":        func(c *config.Config) { c.SessionTouchInterval = 0 },
			"AUTH_REMEMBER_LIFETIME":             func(c *config.Config) { c.RememberLifetime = 0 },
			"AUTH_PASSWORD_RESET_LIFETIME":       func(c *config.Config) { c.PasswordResetLifetime = 0 },
			"AUTH_PASSWORD_RESET_THROTTLE":       func(c *config.Config) { c.PasswordResetThrottle = -time.Second },
			"AUTH_EMAIL_VERIFICATION_LIFETIME":   func(c *config.Config) { c.EmailVerificationLifetime = 0 },
			"AUTH_LOCKOUT_THRESHOLD":             func(c *config.Config) { c.LockoutThreshold = -1 },
			"AUTH_LOCKOUT_DURATION":              func(c *config.Config) { c.LockoutDuration = 0 },
			"JWT_SECRET":                         func(c *config.Config) { c.JWTSecret = "short" },
			"JWT_ISSUER":                         func(c *config.Config) { c.JWTIssuer = "" },
			"OAUTH_ACCESS_TOKEN_AUDIENCE":        func(c *config.Config) { c.AccessTokenAudience = "api\nX-Forged: 1" },
			"OAUTH_SIGNING_ALGORITHM":            func(c *config.Config) { c.SigningAlgorithm = "HS256" },
			"OAUTH_SIGNING_KEY_PUBLISH_DELAY":    func(c *config.Config) { c.SigningKeyPublishDelay = -time.Second },
			"AUTHSTORE_ENCRYPTION_KEY":           func(c *config.Config) { c.EncryptionKey = "c2hvcnQ=" },
			"AUTHSTORE_ENCRYPTION_KEYS_PREVIOUS": func(c *config.Config) { c.EncryptionKeysPrevious = "c2hvcnQ=" },
			"AUTHSTORE_RECOVERY_KEY":             func(c *config.Config) { c.RecoveryKey = "c2hvcnQ=" },
			"AUTHSTORE_RECOVERY_KEYS_PREVIOUS":   func(c *config.Config) { c.RecoveryKeysPrevious = "c2hvcnQ=" },
			"AUTHSTORE_TABLE_PREFIX":             func(c *config.Config) { c.TablePrefix = "Auth-" },
			"AUTHSTORE_SCHEMA":                   func(c *config.Config) { c.Schema = "a;b" },
			"AUTHSTORE_MIGRATIONS_TABLE":         func(c *config.Config) { c.MigrationsTable = "" },
		}
		booleans := map[string]bool{"OAUTH_ENABLE_PKCE": true, "AUTH_REQUIRE_EMAIL_VERIFICATION": true, "AUTH_ENABLE_TWO_FACTOR": true}
		for _, key := range keys(t) {
			if connection[key] || booleans[key] { // a bool has no invalid value once in a Config
				continue
			}
			change, ok := bad[key]
			require.True(t, ok, "%s: no invalid value in this test; add one", key)
			cfg := config.Default()
			change(&cfg)
			require.ErrorIs(t, cfg.Validate(), config.ErrInvalid, key)
			err := cfg.ValidatePolicies()
			require.ErrorIs(t, err, config.ErrInvalid, "ValidatePolicies does not check %s", key)
			require.Contains(t, err.Error(), key+": want ")
		}
	})
}

// FuzzLoadFrom is the configuration entry point's fuzz target (issue 11
// class 9): whatever two keys hold, LoadFrom either refuses them with
// ErrInvalid in lines that each name a key, or returns a Config that
// Validate and ValidatePolicies accept, whose every duration is within its
// bound.
func FuzzLoadFrom(f *testing.F) {
	var all []string // every key, as keys returns them
	for field := range reflect.TypeFor[config.Config]().Fields() {
		all = append(all, field.Tag.Get("env"))
	}
	index := func(key string) uint16 {
		for i, k := range all {
			if k == key {
				return uint16(i)
			}
		}
		panic(key)
	}
	for _, seed := range []struct{ key1, value1, key2, value2 string }{
		{"OAUTH_ACCESS_TOKEN_LIFETIME", "3600", "AUTH_SESSION_LIFETIME", "60"},
		{"OAUTH_ACCESS_TOKEN_LIFETIME", "315360001", "JWT_ISSUER", "x"},
		{"AUTH_SESSION_TOUCH_INTERVAL", "7200", "AUTH_REMEMBER_LIFETIME", "7201"},
		{"AUTH_SESSION_TOUCH_INTERVAL", "120", "AUTH_SESSION_LIFETIME", "60"},
		{"AUTH_LOCKOUT_DURATION", "86401", "AUTH_LOCKOUT_THRESHOLD", "0"},
		{"OAUTH_REFRESH_REUSE_INTERVAL", "-1", "AUTH_PASSWORD_RESET_THROTTLE", "315360000"},
		{"AUTH_REMEMBER_LIFETIME", "9223372036", "AUTH_SESSION_ABSOLUTE_LIFETIME", "1"},
		{"JWT_SECRET", "short", "DATABASE_URL", "postgres://u:hunter2@[::1"},
		{"AUTHSTORE_TABLE_PREFIX", "auth_", "AUTHSTORE_SCHEMA", "auth"},
		{"AUTH_SESSION_LIFETIME", "\x00", "OAUTH_STORAGE", "memory"},
	} {
		f.Add(index(seed.key1), seed.value1, index(seed.key2), seed.value2)
	}
	f.Fuzz(func(t *testing.T, k1 uint16, v1 string, k2 uint16, v2 string) {
		environ := map[string]string{all[int(k1)%len(all)]: v1, all[int(k2)%len(all)]: v2}
		cfg, err := config.LoadFrom(environ)
		if err != nil {
			require.ErrorIs(t, err, config.ErrInvalid)
			for _, line := range strings.Split(err.Error(), "\n") {
				require.Contains(t, line, ": want ", "an error line that names no key: %q", line)
			}
			return
		}
		require.NoError(t, cfg.Validate())
		require.NoError(t, cfg.ValidatePolicies())
		for _, d := range []time.Duration{cfg.AccessTokenLifetime, cfg.RefreshTokenLifetime, cfg.AuthCodeLifetime,
			cfg.SessionLifetime, cfg.SessionAbsoluteLifetime, cfg.SessionTouchInterval, cfg.RememberLifetime,
			cfg.PasswordResetLifetime, cfg.EmailVerificationLifetime, cfg.LockoutDuration} {
			require.Positive(t, d)
			require.LessOrEqual(t, d, config.MaxLifetime)
		}
		for _, d := range []time.Duration{cfg.RefreshReuseInterval, cfg.PasswordResetThrottle} {
			require.GreaterOrEqual(t, d, time.Duration(0))
			require.LessOrEqual(t, d, config.MaxLifetime)
		}
		require.LessOrEqual(t, cfg.LockoutDuration, config.MaxLockoutDuration)
		require.Less(t, cfg.SessionTouchInterval, min(cfg.SessionLifetime, cfg.RememberLifetime))
	})
}
