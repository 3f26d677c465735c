// Package models holds authstore's GORM models: one file per table with
// its struct, its TableName and its hook methods.
//
// Secrets are written through fields tagged gorm:"-" (User.Password,
// Client.Secret, Session.Token, ...). Repositories hash or digest secrets
// themselves, before their transaction, and record every activity row
// inline; they leave those fields empty. The hook methods are the safety
// net for host code that writes rows itself (db.Create(&models.User{...})),
// and behave the same for every table:
//
//   - BeforeSave hashes (passwords, client secrets: Argon2id) or digests
//     (tokens: SHA-256) a plaintext that is set, and clears it, so a loaded
//     row is never hashed twice;
//   - BeforeCreate assigns a missing id and refuses a token row that has
//     neither a plaintext nor a digest (ErrMissingSecret);
//   - activity rows refuse every update and every delete but the
//     retention purge's (ErrAppendOnly).
//
// Hooks write no activity row: that is the repositories' job. The hasher a
// hook uses is the one set on the GORM session by WithHasher (a Store's DB
// carries the Store's), or hooks.DefaultHasher(). Secret fields, plaintext
// or hashed, never serialise to JSON and are redacted under every fmt
// verb (String, GoString and Format; see printing.go).
package models

import (
	"errors"
	"maps"

	"github.com/forgeauth/authstore/hooks"
	"gorm.io/gorm"
)

// ErrMissingSecret is returned when a token row is created with neither a
// plaintext token nor its digest.
var ErrMissingSecret = errors.New("models: token row has neither a token nor a token digest")

const redacted = "[redacted]"

// hasherPlugin carries a session's hasher in the session's GORM
// configuration (its Plugins map), which every session and transaction
// made from it copies: unlike a statement setting, it costs nothing per
// statement. It is never initialised; it only holds the hasher.
type hasherPlugin struct{ h *hooks.Hasher }

const hasherPluginName = "authstore:hasher"

// Name returns the plugin's name.
func (hasherPlugin) Name() string { return hasherPluginName }

// Initialize does nothing: the plugin registers no callback.
func (hasherPlugin) Initialize(*gorm.DB) error { return nil }

// WithHasher returns a new session of db (db's statement conditions are not
// kept; a transaction stays a transaction) whose model hooks hash passwords
// and client secrets with h. A Store's DB is such a session, carrying the
// Store's hasher. db's own configuration is not modified.
func WithHasher(db *gorm.DB, h *hooks.Hasher) *gorm.DB {
	s := db.Session(&gorm.Session{NewDB: true})
	plugins := make(map[string]gorm.Plugin, len(s.Config.Plugins)+1)
	maps.Copy(plugins, s.Config.Plugins)
	plugins[hasherPluginName] = hasherPlugin{h}
	s.Config.Plugins = plugins
	return s
}

// hasherOf returns the hasher set on tx by WithHasher, or the default.
func hasherOf(tx *gorm.DB) *hooks.Hasher {
	if p, ok := tx.Config.Plugins[hasherPluginName].(hasherPlugin); ok && p.h != nil {
		return p.h
	}
	return hooks.DefaultHasher()
}

// All returns one value of each model, ordered so that foreign keys resolve
// (users first).
func All() []any {
	return []any{
		&User{}, &Session{}, &PasswordReset{}, &EmailVerification{}, &Activity{},
		&Client{}, &AccessToken{}, &RefreshToken{}, &AuthorizationCode{}, &PersonalAccessToken{},
		&SigningKey{}, &AuthRequest{}, &RecoveryCode{}, &TwoFactorUsedStep{}, &TwoFactorChallenge{},
	}
}

// ensureID assigns a new UUID to an empty id.
func ensureID(id *UUID) {
	if *id == "" {
		*id = NewUUID()
	}
}

// digestInto moves a plaintext token, if set, into its digest field. It
// runs in BeforeSave, which GORM also calls with an empty model value for
// Model(&T{}).Update(...), so it must accept a value with neither.
func digestInto(plain *string, digest *string) {
	if *plain != "" {
		*digest = hooks.Digest(*plain)
		*plain = ""
	}
}

// createToken is the BeforeCreate of every token row: it assigns the id
// and refuses a row without its digest.
func createToken(id *UUID, digest string) error {
	ensureID(id)
	if digest == "" {
		return ErrMissingSecret
	}
	return nil
}
