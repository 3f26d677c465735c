package models

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/forgeauth/authstore/hooks"
	"gorm.io/gorm"
)

// The hook methods below are a safety net for host code that writes rows
// itself (db.Create(&models.User{...})): they fill ids, hash or digest a
// plaintext set in a write-only field and clear it, and write the activity
// row of the change with the hook's transaction, so it commits or rolls back
// with the change. Repositories hash before opening a transaction, so an
// Argon2id hash never runs while a write lock is held; they leave the
// plaintext fields empty and the hooks then have nothing to hash.

// ErrAppendOnly is returned when code tries to update or delete an activity
// row outside a retention purge.
var ErrAppendOnly = errors.New("models: the activity log is append-only")

// ErrMissingSecret is returned when a token row is created with neither a
// plaintext token nor its digest.
var ErrMissingSecret = errors.New("models: token row has neither a token nor a token digest")

// retentionKey marks a GORM session allowed to delete activity rows.
const retentionKey = "authstore:retention"

// AllowActivityPurge returns a session of tx in which activity rows may be
// deleted: the retention purge uses it.
func AllowActivityPurge(tx *gorm.DB) *gorm.DB { return tx.Set(retentionKey, true) }

// NormalizeEmail returns the form of an address used for case-insensitive
// uniqueness and lookup: trimmed and lower-cased.
func NormalizeEmail(email string) string { return strings.ToLower(strings.TrimSpace(email)) }

// RecordActivity writes one activity row with tx, so it commits or rolls
// back with tx. The IP address and user agent come from the request
// metadata in tx's context (hooks.WithRequestMeta). metadata must hold no
// secret; nil is stored as {}.
func RecordActivity(tx *gorm.DB, userID *UUID, event hooks.Event, metadata map[string]any) error {
	meta := "{}"
	if len(metadata) > 0 {
		b, err := json.Marshal(metadata)
		if err != nil {
			return fmt.Errorf("models: encode activity metadata: %w", err)
		}
		meta = string(b)
	}
	rm := hooks.RequestMetaFrom(tx.Statement.Context)
	if userID != nil && *userID == "" {
		userID = nil
	}
	// The clock of tx, in UTC at PostgreSQL's resolution: on a host's own
	// *gorm.DB the default clock is local time, and SQLite compares times
	// as text.
	at := tx.NowFunc().UTC().Truncate(time.Microsecond)
	a := &Activity{UserID: userID, Event: string(event), IPAddress: rm.IP, UserAgent: rm.UserAgent, Metadata: meta, CreatedAt: at}
	return tx.Session(&gorm.Session{NewDB: true}).Create(a).Error
}

func ensureID(id *UUID) {
	if *id == "" {
		*id = NewUUID()
	}
}

// digestInto moves a plaintext token, if set, into its digest field. It
// runs in BeforeSave, which GORM also calls with an empty model value for
// Model(&T{}).Update(...), so it must accept a value with neither.
func digestInto(plain *string, digest *string) error {
	if *plain != "" {
		*digest = hooks.Digest(*plain)
		*plain = ""
	}
	return nil
}

// requireDigest refuses to insert a token row without its digest.
func requireDigest(digest string) error {
	if digest == "" {
		return ErrMissingSecret
	}
	return nil
}

// BeforeSave normalises the email and hashes a plaintext Password set on the
// value, then clears it. A loaded user has no plaintext, so saving it again
// never re-hashes.
func (u *User) BeforeSave(tx *gorm.DB) error {
	if u.Email != "" {
		u.EmailNormalized = NormalizeEmail(u.Email)
	}
	if u.Password == "" {
		return nil
	}
	if err := hooks.CheckPasswordLength(u.Password); err != nil {
		return err
	}
	h, err := hooks.HasherFrom(tx.Statement.Context).Hash(u.Password)
	if err != nil {
		return err
	}
	u.PasswordHash, u.Password = h, ""
	u.passwordSet = true
	return nil
}

// BeforeCreate assigns the id.
func (u *User) BeforeCreate(tx *gorm.DB) error {
	ensureID(&u.ID)
	u.passwordSet = false
	return nil
}

// AfterCreate records the registration.
func (u *User) AfterCreate(tx *gorm.DB) error {
	return RecordActivity(tx, &u.ID, hooks.EventRegistered, nil)
}

// AfterUpdate records a password change made by setting Password.
func (u *User) AfterUpdate(tx *gorm.DB) error {
	if !u.passwordSet {
		return nil
	}
	u.passwordSet = false
	return RecordActivity(tx, &u.ID, hooks.EventPasswordChanged, nil)
}

// BeforeSave digests a plaintext token set on the value and clears it. It
// runs on every save path, including Save's insert with hooks off.
func (s *Session) BeforeSave(tx *gorm.DB) error { return digestInto(&s.Token, &s.TokenHash) }

// BeforeCreate assigns the id and refuses a row without its digest.
func (s *Session) BeforeCreate(tx *gorm.DB) error {
	ensureID(&s.ID)
	return requireDigest(s.TokenHash)
}

// AfterCreate records the session's creation.
func (s *Session) AfterCreate(tx *gorm.DB) error {
	return RecordActivity(tx, &s.UserID, hooks.EventSessionCreated, map[string]any{"session_id": s.ID})
}

// AfterDelete records the deletion of a loaded session.
func (s *Session) AfterDelete(tx *gorm.DB) error {
	if s.ID == "" || s.UserID == "" {
		return nil
	}
	return RecordActivity(tx, &s.UserID, hooks.EventSessionDeleted, map[string]any{"session_id": s.ID})
}

// BeforeSave digests a plaintext token set on the value and clears it. It
// runs on every save path, including Save's insert with hooks off.
func (r *PasswordReset) BeforeSave(tx *gorm.DB) error { return digestInto(&r.Token, &r.TokenHash) }

// BeforeCreate assigns the id and refuses a row without its digest.
func (r *PasswordReset) BeforeCreate(tx *gorm.DB) error {
	ensureID(&r.ID)
	return requireDigest(r.TokenHash)
}

// AfterCreate records the reset request.
func (r *PasswordReset) AfterCreate(tx *gorm.DB) error {
	return RecordActivity(tx, &r.UserID, hooks.EventPasswordResetRequested, nil)
}

// BeforeSave digests a plaintext token set on the value and clears it. It
// runs on every save path, including Save's insert with hooks off.
func (v *EmailVerification) BeforeSave(tx *gorm.DB) error { return digestInto(&v.Token, &v.TokenHash) }

// BeforeCreate assigns the id and refuses a row without its digest.
func (v *EmailVerification) BeforeCreate(tx *gorm.DB) error {
	ensureID(&v.ID)
	return requireDigest(v.TokenHash)
}

// AfterCreate records that a verification was issued.
func (v *EmailVerification) AfterCreate(tx *gorm.DB) error {
	return RecordActivity(tx, &v.UserID, hooks.EventEmailVerificationSent, nil)
}

// BeforeUpdate refuses any update: the log is append-only.
func (a *Activity) BeforeUpdate(tx *gorm.DB) error { return ErrAppendOnly }

// BeforeDelete refuses deletes except in a retention purge
// (AllowActivityPurge).
func (a *Activity) BeforeDelete(tx *gorm.DB) error {
	if ok, _ := tx.Get(retentionKey); ok == true {
		return nil
	}
	return ErrAppendOnly
}

// BeforeSave hashes a plaintext Secret set on the value and clears it.
func (c *Client) BeforeSave(tx *gorm.DB) error {
	if c.Secret == "" {
		return nil
	}
	h, err := hooks.HasherFrom(tx.Statement.Context).Hash(c.Secret)
	if err != nil {
		return err
	}
	c.SecretHash, c.Secret = &h, ""
	return nil
}

// BeforeCreate assigns the id.
func (c *Client) BeforeCreate(tx *gorm.DB) error {
	ensureID(&c.ID)
	return nil
}

// AfterCreate records the client's creation.
func (c *Client) AfterCreate(tx *gorm.DB) error {
	return RecordActivity(tx, c.UserID, hooks.EventClientCreated, map[string]any{"client_id": c.ID, "name": c.Name})
}

// BeforeCreate assigns the id (the JWT's jti) if it is not set.
func (t *AccessToken) BeforeCreate(tx *gorm.DB) error {
	ensureID(&t.ID)
	return nil
}

// BeforeSave digests a plaintext token set on the value and clears it.
func (t *RefreshToken) BeforeSave(tx *gorm.DB) error { return digestInto(&t.Token, &t.TokenHash) }

// BeforeCreate assigns the id, and the family of a first token, and
// refuses a row without its digest.
func (t *RefreshToken) BeforeCreate(tx *gorm.DB) error {
	ensureID(&t.ID)
	if t.FamilyID == "" {
		t.FamilyID = t.ID
	}
	return requireDigest(t.TokenHash)
}

// BeforeSave digests a plaintext code set on the value and clears it. It
// runs on every save path, including Save's insert with hooks off.
func (c *AuthorizationCode) BeforeSave(tx *gorm.DB) error { return digestInto(&c.Code, &c.CodeHash) }

// BeforeCreate assigns the id and refuses a row without its digest.
func (c *AuthorizationCode) BeforeCreate(tx *gorm.DB) error {
	ensureID(&c.ID)
	return requireDigest(c.CodeHash)
}

// BeforeSave digests a plaintext token set on the value and clears it. It
// runs on every save path, including Save's insert with hooks off.
func (t *PersonalAccessToken) BeforeSave(tx *gorm.DB) error {
	return digestInto(&t.Token, &t.TokenHash)
}

// BeforeCreate assigns the id and refuses a row without its digest.
func (t *PersonalAccessToken) BeforeCreate(tx *gorm.DB) error {
	ensureID(&t.ID)
	return requireDigest(t.TokenHash)
}

// AfterCreate records the token's creation.
func (t *PersonalAccessToken) AfterCreate(tx *gorm.DB) error {
	return RecordActivity(tx, &t.UserID, hooks.EventPersonalTokenCreated, map[string]any{"token_id": t.ID, "name": t.Name})
}
