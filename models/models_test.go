package models_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/forgeauth/authstore"
	"github.com/forgeauth/authstore/config"
	"github.com/forgeauth/authstore/hooks"
	"github.com/forgeauth/authstore/models"
	"github.com/google/uuid"
	"github.com/stretchr/testify/require"
	"gorm.io/gorm"
	"gorm.io/gorm/schema"
)

const (
	secretPlain = "plaintext-secret-value-0123456789"
	secretHash  = "$argon2id$v=19$m=19456,t=2,p=1$c2VjcmV0c2FsdHNhbHQ$c2VjcmV0aGFzaHNlY3JldGhhc2hzZWNyZXRoYXNo"
	secretTOTP  = "JBSWY3DPEHPK3PXP-two-factor"
)

// secretModels returns one value of every model that carries a secret, with
// the secret set in both its plaintext and stored forms.
func secretModels() map[string]any {
	h, totp := secretHash, secretTOTP
	return map[string]any{
		"User": models.User{ID: models.NewUUID(), Name: "Ada", Email: "ada@example.com", PasswordHash: secretHash, Password: secretPlain,
			TwoFactorSecret: &totp, TwoFactorRecoveryCodes: &totp},
		"Session":             models.Session{ID: models.NewUUID(), TokenHash: secretHash, Token: secretPlain},
		"PasswordReset":       models.PasswordReset{ID: models.NewUUID(), TokenHash: secretHash, Token: secretPlain},
		"EmailVerification":   models.EmailVerification{ID: models.NewUUID(), TokenHash: secretHash, Token: secretPlain},
		"Client":              models.Client{ID: models.NewUUID(), Name: "app", SecretHash: &h, Secret: secretPlain},
		"RefreshToken":        models.RefreshToken{ID: models.NewUUID(), TokenHash: secretHash, Token: secretPlain},
		"AuthorizationCode":   models.AuthorizationCode{ID: models.NewUUID(), CodeHash: secretHash, Code: secretPlain, CodeChallenge: &h},
		"PersonalAccessToken": models.PersonalAccessToken{ID: models.NewUUID(), TokenHash: secretHash, Token: secretPlain, Prefix: "asp_"},
	}
}

func TestSecretsNeverPrinted(t *testing.T) {
	for name, m := range secretModels() {
		for _, verb := range []string{"%v", "%+v", "%s"} {
			out := fmt.Sprintf(verb, m)
			for _, secret := range []string{secretPlain, secretHash, secretTOTP} {
				require.NotContains(t, out, secret, "fmt.Sprintf(%q, %s) = %q; want no secret", verb, name, out)
			}
			require.Contains(t, out, "[redacted]", "fmt.Sprintf(%q, %s) = %q; want the secret shown as redacted", verb, name, out)
		}
	}
}

func TestSecretsNeverInJSON(t *testing.T) {
	for name, m := range secretModels() {
		b, err := json.Marshal(m)
		require.NoError(t, err)
		for _, secret := range []string{secretPlain, secretHash, secretTOTP} {
			require.NotContains(t, string(b), secret, "json.Marshal(%s) = %s; want no secret", name, b)
		}
		var fields map[string]any
		require.NoError(t, json.Unmarshal(b, &fields))
		for key := range fields {
			for _, bad := range []string{"password", "secret", "token_hash", "code_hash", "token", "code"} {
				require.NotEqual(t, bad, key, "json.Marshal(%s) has a %q field", name, key)
			}
		}
	}
}

func TestTableNames(t *testing.T) {
	want := map[string]string{
		"*models.User": "users", "*models.Session": "sessions", "*models.PasswordReset": "password_resets",
		"*models.EmailVerification": "email_verifications", "*models.Activity": "user_activity_log",
		"*models.Client": "oauth_clients", "*models.AccessToken": "oauth_access_tokens",
		"*models.RefreshToken": "oauth_refresh_tokens", "*models.AuthorizationCode": "oauth_authorization_codes",
		"*models.PersonalAccessToken": "oauth_personal_access_tokens",
		"*models.SigningKey":          "signing_keys",
		"*models.AuthRequest":         "oauth_auth_requests",
		"*models.RecoveryCode":        "recovery_codes", "*models.TwoFactorUsedStep": "two_factor_used_steps",
		"*models.TwoFactorChallenge": "two_factor_challenges",
	}
	all := models.All()
	require.Len(t, all, len(want))
	_, usersFirst := all[0].(*models.User)
	require.True(t, usersFirst, "All()[0] = %T; want *models.User (foreign keys resolve)", all[0])
	for _, m := range all {
		tn, ok := m.(schema.TablerWithNamer)
		require.True(t, ok, "%T has no TableName", m)
		key := fmt.Sprintf("%T", m)
		require.Equal(t, want[key], tn.TableName(schema.NamingStrategy{}), "%s.TableName(default namer)", key)
		require.Equal(t, want[key], models.BaseTable(tn), "BaseTable(%s)", key)
		prefixed := models.Namer(config.Tables{Prefix: "auth_", Schema: "idp"})
		require.Equal(t, "idp.auth_"+want[key], tn.TableName(prefixed), "%s.TableName(Namer(auth_, idp))", key)
		delete(want, key)
	}
	require.Empty(t, want, "All() misses models")
}

func TestUUID(t *testing.T) {
	t.Run("OK", func(t *testing.T) {
		id := models.NewUUID()
		require.True(t, id.Valid(), "NewUUID() = %q; want a canonical UUID", id)
		require.Equal(t, uuid.Version(4), uuid.MustParse(string(id)).Version())
		require.NotEqual(t, id, models.NewUUID())
		up := strings.ToUpper(string(id))
		got, err := models.ParseUUID(up)
		require.NoError(t, err)
		require.Equal(t, id, got, "ParseUUID(%q) = %q; want the lower-case form", up, got)
		require.False(t, models.UUID(up).Valid(), "an upper-case UUID is not canonical")
		v, err := id.Value()
		require.NoError(t, err)
		require.Equal(t, string(id), v)
		require.Equal(t, string(id), id.String())
	})

	t.Run("Scan", func(t *testing.T) {
		id := uuid.New()
		for _, src := range []any{id.String(), []byte(id.String()), [16]byte(id)} {
			var u models.UUID
			require.NoError(t, u.Scan(src), "Scan(%T)", src)
			require.Equal(t, models.UUID(id.String()), u, "Scan(%T)", src)
		}
		u := models.UUID("x")
		require.NoError(t, u.Scan(nil))
		require.Empty(t, u)
		require.Error(t, u.Scan(42), "Scan(int) = nil; want an error")
	})

	t.Run("Invalid", func(t *testing.T) {
		for _, s := range []string{"", "nope", "123", "00000000-0000-0000-0000-00000000000g"} {
			_, err := models.ParseUUID(s)
			require.Error(t, err, "ParseUUID(%q) = nil; want an error", s)
			if s != "" {
				require.NotContains(t, err.Error(), s, "ParseUUID(%q) = %v; want an error that does not echo its input", s, err)
			}
			require.False(t, models.UUID(s).Valid(), "UUID(%q).Valid() = true", s)
		}
		v, err := models.UUID("").Value()
		require.NoError(t, err)
		require.Nil(t, v, "an empty UUID must be stored as NULL so NOT NULL refuses it")
	})
}

func TestStrings(t *testing.T) {
	t.Run("OK", func(t *testing.T) {
		in := models.Strings{"read", "write:all", `quo"te`}
		v, err := in.Value()
		require.NoError(t, err)
		var out models.Strings
		require.NoError(t, out.Scan(v))
		require.Equal(t, in, out)
		require.NoError(t, out.Scan([]byte(`["a"]`)))
		require.Equal(t, models.Strings{"a"}, out)
		require.True(t, in.Contains("write:all"))
		require.False(t, in.Contains("write"), "Contains must match whole entries")
	})

	t.Run("Nil", func(t *testing.T) {
		v, err := models.Strings(nil).Value()
		require.NoError(t, err)
		require.Equal(t, "[]", v)
		out := models.Strings{"x"}
		require.NoError(t, out.Scan(nil))
		require.Nil(t, out)
	})

	t.Run("Error", func(t *testing.T) {
		var out models.Strings
		require.Error(t, out.Scan("read write"), "Scan(not JSON) = nil; want an error")
		require.Error(t, out.Scan(`{"a":1}`), "Scan(object) = nil; want an error")
		require.Error(t, out.Scan(3.5), "Scan(float) = nil; want an error")
	})
}

func TestNormalizeEmail(t *testing.T) {
	for in, want := range map[string]string{
		"Ada@Example.COM": "ada@example.com", "  ada@example.com\t": "ada@example.com", "": "",
	} {
		require.Equal(t, want, models.NormalizeEmail(in), "NormalizeEmail(%q)", in)
	}
}

// openDB returns a Store over a fresh SQLite file built with AutoMigrate.
func openDB(t *testing.T, opts ...authstore.Option) *authstore.Store {
	t.Helper()
	cfg := config.Default()
	cfg.DatabaseURL = "sqlite://" + filepath.Join(t.TempDir(), "models.db")
	s, err := authstore.Open(context.Background(), cfg, append([]authstore.Option{authstore.WithAutoMigrate()}, opts...)...)
	require.NoError(t, err)
	t.Cleanup(func() { s.Close() })
	return s
}

func ctxWithMeta() context.Context {
	return models.WithRequestMeta(context.Background(), models.RequestMeta{IP: "192.0.2.1", UserAgent: "models-test"})
}

func activity(t *testing.T, db *gorm.DB, userID models.UUID, event models.Event) []models.Activity {
	t.Helper()
	var out []models.Activity
	require.NoError(t, db.Where("user_id = ? AND event = ?", userID, string(event)).Order("id").Find(&out).Error)
	return out
}

// TestUserHooks saves users as host code would, through store.DB(): the hook
// hashes with the Store's hasher (WithHasher), not the default one.
func TestUserHooks(t *testing.T) {
	ctx := ctxWithMeta()
	weak, err := hooks.NewHasher(hooks.Params{Memory: 12 * 1024, Iterations: 3, Parallelism: 1, SaltLength: 16, KeyLength: 32})
	require.NoError(t, err)
	s := openDB(t, authstore.WithHasher(weak))
	db := s.DB().WithContext(ctx)
	u := &models.User{Name: "Ada", Email: " Ada@Example.com ", Password: "hook passphrase"}
	require.NoError(t, db.Create(u).Error)

	t.Run("CreateHashesWithTheStoreHasher", func(t *testing.T) {
		require.Empty(t, u.Password)
		require.True(t, u.ID.Valid())
		require.Equal(t, "ada@example.com", u.EmailNormalized)
		p, err := hooks.ParseArgon2id(u.PasswordHash)
		require.NoError(t, err, "PasswordHash = %q; want Argon2id", u.PasswordHash)
		require.Equal(t, weak.Params(), p, "the hook ignored the Store's Hasher")
		ok, err := weak.Verify(u.PasswordHash, "hook passphrase")
		require.NoError(t, err)
		require.True(t, ok)
		// Hooks write no activity row: repositories record their events.
		reg := activity(t, s.DB(), u.ID, models.EventRegistered)
		require.Len(t, reg, 0, "a hook wrote an activity row")
		require.NotEqual(t, hooks.DefaultHasher().Params(), p, "the test's hasher must differ from the default")
		require.NotEqual(t, hooks.DefaultHasher().Params().Memory, p.Memory)
		require.Empty(t, activity(t, s.DB(), u.ID, models.EventPasswordChanged), "a registration logged a password change")
	})

	t.Run("TransactionHashesWithTheStoreHasher", func(t *testing.T) {
		in := &models.User{Name: "Tx", Email: "tx@example.com", Password: "hook passphrase"}
		require.NoError(t, s.DB().WithContext(ctx).Transaction(func(tx *gorm.DB) error { return tx.Create(in).Error }))
		p, err := hooks.ParseArgon2id(in.PasswordHash)
		require.NoError(t, err)
		require.Equal(t, weak.Params(), p, "a transaction of store.DB() lost the Store's Hasher")
		c := &models.Client{Name: "tx client", Secret: secretPlain, Confidential: true}
		require.NoError(t, s.DB().Session(&gorm.Session{}).Where("1 = 1").Create(c).Error)
		p, err = hooks.ParseArgon2id(*c.SecretHash)
		require.NoError(t, err)
		require.Equal(t, weak.Params(), p, "the client hook ignored the Store's Hasher")
	})

	t.Run("SaveWithoutPasswordKeepsHash", func(t *testing.T) {
		var loaded models.User
		require.NoError(t, db.Take(&loaded, "id = ?", u.ID).Error)
		loaded.Email = "ADA2@example.com"
		require.NoError(t, db.Save(&loaded).Error)
		var again models.User
		require.NoError(t, db.Take(&again, "id = ?", u.ID).Error)
		require.Equal(t, u.PasswordHash, again.PasswordHash, "Save rehashed a loaded user")
		require.Equal(t, "ada2@example.com", again.EmailNormalized, "BeforeSave did not normalise the new email")
		require.Empty(t, activity(t, s.DB(), u.ID, models.EventPasswordChanged))
	})

	t.Run("ErrPasswordTooShort", func(t *testing.T) {
		var n int64
		require.NoError(t, s.DB().Model(&models.User{}).Count(&n).Error)
		err := db.Create(&models.User{Name: "Bob", Email: "bob@example.com", Password: "short"}).Error
		require.ErrorIs(t, err, hooks.ErrPasswordTooShort, "Create(short password) = %v; want ErrPasswordTooShort", err)
		var after int64
		require.NoError(t, s.DB().Model(&models.User{}).Count(&after).Error)
		require.Equal(t, n, after)
	})
}

func TestTokenHooks(t *testing.T) {
	s := openDB(t)
	ctx := ctxWithMeta()
	db := s.DB().WithContext(ctx)
	u := &models.User{Name: "Ada", Email: "tokens@example.com", PasswordHash: secretHash}
	require.NoError(t, db.Create(u).Error)
	c := &models.Client{Name: "app", RedirectURIs: models.Strings{"https://a.example/cb"}}
	require.NoError(t, db.Create(c).Error)
	now := s.Now()

	// Each row is created from a plaintext; the hook stores its digest,
	// clears it and assigns the id.
	type row struct {
		value  any
		token  func() string
		digest func() string
		id     func() models.UUID
	}
	newRows := func(tok string) map[string]row {
		sess := &models.Session{UserID: u.ID, Token: tok, LastActivityAt: now, ExpiresAt: now.Add(time.Hour)}
		pr := &models.PasswordReset{UserID: u.ID, Email: u.Email, Token: tok, ExpiresAt: now.Add(time.Hour)}
		ev := &models.EmailVerification{UserID: u.ID, Email: u.Email, Token: tok, ExpiresAt: now.Add(time.Hour)}
		rt := &models.RefreshToken{ClientID: c.ID, UserID: &u.ID, Token: tok, ExpiresAt: now.Add(time.Hour)}
		ac := &models.AuthorizationCode{ClientID: c.ID, UserID: u.ID, Code: tok, RedirectURI: "https://a.example/cb", ExpiresAt: now.Add(time.Hour)}
		pat := &models.PersonalAccessToken{UserID: u.ID, Name: "cli", Token: tok, Prefix: "asp_"}
		return map[string]row{
			"Session":             {sess, func() string { return sess.Token }, func() string { return sess.TokenHash }, func() models.UUID { return sess.ID }},
			"PasswordReset":       {pr, func() string { return pr.Token }, func() string { return pr.TokenHash }, func() models.UUID { return pr.ID }},
			"EmailVerification":   {ev, func() string { return ev.Token }, func() string { return ev.TokenHash }, func() models.UUID { return ev.ID }},
			"RefreshToken":        {rt, func() string { return rt.Token }, func() string { return rt.TokenHash }, func() models.UUID { return rt.ID }},
			"AuthorizationCode":   {ac, func() string { return ac.Code }, func() string { return ac.CodeHash }, func() models.UUID { return ac.ID }},
			"PersonalAccessToken": {pat, func() string { return pat.Token }, func() string { return pat.TokenHash }, func() models.UUID { return pat.ID }},
		}
	}

	t.Run("DigestsAndClears", func(t *testing.T) {
		for name, r := range newRows("plain-token-1") {
			require.NoError(t, db.Create(r.value).Error, "Create(%s)", name)
			require.Empty(t, r.token(), "%s: the plaintext stayed on the value", name)
			require.Equal(t, hooks.Digest("plain-token-1"), r.digest(), "%s: stored digest", name)
			require.True(t, r.id().Valid(), "%s: id %q", name, r.id())
		}
	})

	t.Run("KeepsAPresetDigest", func(t *testing.T) {
		sess := &models.Session{UserID: u.ID, TokenHash: hooks.Digest("preset"), LastActivityAt: now, ExpiresAt: now}
		require.NoError(t, db.Create(sess).Error)
		require.Equal(t, hooks.Digest("preset"), sess.TokenHash)
	})

	t.Run("ErrMissingSecret", func(t *testing.T) {
		for name, r := range newRows("") {
			err := db.Create(r.value).Error
			require.ErrorIs(t, err, models.ErrMissingSecret, "Create(%s without a token) = %v; want ErrMissingSecret", name, err)
		}
	})

	t.Run("RefreshFamilyDefaultsToItself", func(t *testing.T) {
		rt := &models.RefreshToken{ClientID: c.ID, Token: "family-root", ExpiresAt: now}
		require.NoError(t, db.Create(rt).Error)
		require.Equal(t, rt.ID, rt.FamilyID)
	})

	// Hooks write no activity row, on any table: the repositories record
	// every event inline (one owner), so host code writing rows itself
	// records nothing behind its back.
	t.Run("NoActivityRows", func(t *testing.T) {
		require.Empty(t, activity(t, s.DB(), u.ID, models.EventSessionCreated))
		require.Empty(t, activity(t, s.DB(), u.ID, models.EventPasswordResetRequested))
		require.Empty(t, activity(t, s.DB(), u.ID, models.EventEmailVerificationSent))
		require.Empty(t, activity(t, s.DB(), u.ID, models.EventPersonalTokenCreated))
		var sess models.Session
		require.NoError(t, db.Where("user_id = ?", u.ID).Take(&sess).Error)
		require.NoError(t, db.Delete(&sess).Error)
		deleted := activity(t, s.DB(), u.ID, models.EventSessionDeleted)
		require.Len(t, deleted, 0, "deleting a loaded session wrote an activity row")
		var all int64
		require.NoError(t, s.DB().Model(&models.Activity{}).Count(&all).Error)
		require.Zero(t, all, "hooks wrote %d activity rows", all)
	})
}

func TestClientHook(t *testing.T) {
	s := openDB(t)
	db := s.DB().WithContext(ctxWithMeta())
	c := &models.Client{Name: "confidential", Secret: secretPlain, Confidential: true}
	require.NoError(t, db.Create(c).Error)
	require.Empty(t, c.Secret)
	require.NotNil(t, c.SecretHash)
	ok, err := hooks.DefaultHasher().Verify(*c.SecretHash, secretPlain)
	require.NoError(t, err)
	require.True(t, ok, "the hook's client secret hash does not verify")
	var n int64
	require.NoError(t, s.DB().Model(&models.Activity{}).Where("event = ?", string(models.EventClientCreated)).Count(&n).Error)
	require.EqualValues(t, 0, n, "the client hook wrote an activity row")

	public := &models.Client{Name: "public"}
	require.NoError(t, db.Create(public).Error)
	require.Nil(t, public.SecretHash, "a public client got a secret")
}

func TestActivityAppendOnly(t *testing.T) {
	s := openDB(t)
	db := s.DB().WithContext(ctxWithMeta())
	u := &models.User{Name: "Ada", Email: "log@example.com", PasswordHash: secretHash}
	require.NoError(t, db.Create(u).Error)
	require.NoError(t, s.Activity.Record(ctxWithMeta(), &u.ID, models.EventLoginSucceeded, nil))

	t.Run("Record", func(t *testing.T) {
		require.NoError(t, s.Activity.Record(ctxWithMeta(), nil, models.EventLogout, map[string]any{"k": "v"}))
		var a models.Activity
		require.NoError(t, s.DB().Where("event = ?", string(models.EventLogout)).Take(&a).Error)
		require.Nil(t, a.UserID, "an empty user id must be stored as NULL")
		require.JSONEq(t, `{"k":"v"}`, a.Metadata)
		require.Equal(t, "192.0.2.1", a.IPAddress)
		require.Equal(t, time.UTC, a.CreatedAt.Location(), "created_at read back in %v; want UTC", a.CreatedAt.Location())
		err := s.Activity.Record(ctxWithMeta(), nil, models.EventLogout, map[string]any{"bad": func() {}})
		require.Error(t, err, "unencodable metadata was stored")
	})

	t.Run("ErrAppendOnly", func(t *testing.T) {
		var a models.Activity
		require.NoError(t, db.Where("user_id = ?", u.ID).Take(&a).Error)
		a.Event = "tampered"
		for name, err := range map[string]error{
			"Save":    db.Save(&a).Error,
			"Updates": db.Model(&a).Updates(map[string]any{"event": "tampered"}).Error,
			"Delete":  db.Delete(&a).Error,
			"Where":   db.Where("1 = 1").Delete(&models.Activity{}).Error,
		} {
			require.True(t, errors.Is(err, models.ErrAppendOnly), "%s(activity) = %v; want ErrAppendOnly", name, err)
		}
		var n int64
		require.NoError(t, s.DB().Model(&models.Activity{}).Where("event = ?", "tampered").Count(&n).Error)
		require.Zero(t, n)
	})

	t.Run("RetentionPurge", func(t *testing.T) {
		purged, err := s.Activity.Purge(ctxWithMeta(), s.Now().Add(time.Hour))
		require.NoError(t, err)
		require.NotZero(t, purged)
		var n int64
		require.NoError(t, s.DB().Model(&models.Activity{}).Count(&n).Error)
		require.Zero(t, n)
	})
}
