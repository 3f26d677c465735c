package repositories

import (
	"context"
	"fmt"
	"time"

	"github.com/forgeauth/authstore/hooks"
	"github.com/forgeauth/authstore/models"
	"gorm.io/gorm"
)

// Session timing defaults.
const (
	// DefaultSessionAbsoluteLifetime bounds a session that is not
	// remembered, however active it stays.
	DefaultSessionAbsoluteLifetime = 24 * time.Hour
	// DefaultTouchInterval is how stale last_activity_at may get before a
	// lookup refreshes it: lookups do not write on every call.
	DefaultTouchInterval = time.Minute
)

// Sessions stores login sessions (table sessions). A session ends when it
// has been idle longer than AUTH_SESSION_LIFETIME or passes its absolute
// limit; a remembered session lasts AUTH_REMEMBER_LIFETIME, both idle and
// absolute.
type Sessions struct {
	base
	// AbsoluteLifetime bounds a session that is not remembered.
	AbsoluteLifetime time.Duration
	// TouchInterval throttles last-activity updates.
	TouchInterval time.Duration
}

// NewSessions returns the sessions repository over db.
func NewSessions(db *gorm.DB, opts Options) *Sessions {
	return &Sessions{base: newBase(db, opts), AbsoluteLifetime: DefaultSessionAbsoluteLifetime, TouchInterval: DefaultTouchInterval}
}

// WithTx returns a copy of the repository that works inside tx.
func (r *Sessions) WithTx(tx *gorm.DB) *Sessions {
	c := *r
	c.base = r.withTx(tx)
	return &c
}

// NewSession is the input of Sessions.Create. Empty IP and UserAgent are
// taken from the request metadata in the context.
type NewSession struct {
	Remember  bool
	IPAddress string
	UserAgent string
}

// Create starts a session for a user and returns it with its token. The
// token (256 bits) is returned once; only its SHA-256 digest is stored. A
// session.created activity row is written with the insert.
//
// Returns ErrNotFound if the user does not exist.
func (r *Sessions) Create(ctx context.Context, userID models.UUID, in NewSession) (*models.Session, string, error) {
	if !userID.Valid() {
		return nil, "", fmt.Errorf("create session: user: %w", ErrNotFound)
	}
	token, err := hooks.NewToken()
	if err != nil {
		return nil, "", fmt.Errorf("create session: %w", err)
	}
	meta := hooks.RequestMetaFrom(ctx)
	if in.IPAddress == "" {
		in.IPAddress = meta.IP
	}
	if in.UserAgent == "" {
		in.UserAgent = meta.UserAgent
	}
	now := r.now()
	life := r.AbsoluteLifetime
	if in.Remember {
		life = r.cfg().RememberLifetime
	}
	s := &models.Session{
		UserID: userID, Token: token, IPAddress: in.IPAddress, UserAgent: in.UserAgent,
		Remember: in.Remember, LastActivityAt: now, ExpiresAt: now.Add(life), CreatedAt: now,
	}
	err = r.transaction(ctx, func(tx *gorm.DB) error { return tx.Create(s).Error })
	if err != nil {
		if err = Translate("create session", err); isConflict(err) {
			return nil, "", fmt.Errorf("create session: user: %w", ErrNotFound)
		}
		return nil, "", err
	}
	return s, token, nil
}

// idle returns how long a session may sit unused.
func (r *Sessions) idle(s *models.Session) time.Duration {
	if s.Remember {
		return r.cfg().RememberLifetime
	}
	return r.cfg().SessionLifetime
}

// Find returns the live session of a token. It refreshes last activity at
// most once per TouchInterval, so most lookups do not write.
//
// Returns ErrNotFound for an unknown token, ErrExpired when the session is
// past its absolute limit or has been idle too long.
func (r *Sessions) Find(ctx context.Context, token string) (*models.Session, error) {
	var s models.Session
	err := takeOne(ctx, r.db, "SELECT "+sessionColumns+" FROM sessions WHERE token_hash = ", hooks.Digest(token), sessionFields(&s))
	if err != nil {
		return nil, Translate("find session", err)
	}
	now := r.now()
	if r.expired(&s, now) {
		return nil, fmt.Errorf("find session: %w", ErrExpired)
	}
	if now.Sub(s.LastActivityAt) >= r.TouchInterval {
		if err := r.touch(ctx, &s, now); err != nil {
			return nil, err
		}
	}
	return &s, nil
}

// Touch records activity on a live session now. Returns ErrNotFound for
// an unknown session and ErrExpired for one past its idle or absolute
// limit (touching never revives a session).
func (r *Sessions) Touch(ctx context.Context, id models.UUID) error {
	if !id.Valid() {
		return fmt.Errorf("touch session: %w", ErrNotFound)
	}
	var s models.Session
	if err := takeOne(ctx, r.db, "SELECT "+sessionColumns+" FROM sessions WHERE id = ", id, sessionFields(&s)); err != nil {
		return Translate("touch session", err)
	}
	now := r.now()
	if r.expired(&s, now) {
		return fmt.Errorf("touch session: %w", ErrExpired)
	}
	return r.touch(ctx, &s, now)
}

// expired reports whether s is past its absolute limit or idle too long.
func (r *Sessions) expired(s *models.Session, now time.Time) bool {
	return !now.Before(s.ExpiresAt) || now.Sub(s.LastActivityAt) > r.idle(s)
}

// touch moves last activity to now; the conditions keep a concurrent
// later touch, and the absolute limit, in force.
func (r *Sessions) touch(ctx context.Context, s *models.Session, now time.Time) error {
	res := r.conn(ctx).Model(&models.Session{}).Where("id = ? AND last_activity_at < ? AND expires_at > ?", s.ID, now, now).
		Update("last_activity_at", now)
	if res.Error != nil {
		return Translate("touch session", res.Error)
	}
	s.LastActivityAt = now
	return nil
}

// Delete ends the session of a token (logout), writing logout and
// session.deleted activity rows. Returns ErrNotFound for an unknown token.
func (r *Sessions) Delete(ctx context.Context, token string) error {
	err := r.transaction(ctx, func(tx *gorm.DB) error {
		var s models.Session
		if err := tx.Where("token_hash = ?", hooks.Digest(token)).Take(&s).Error; err != nil {
			return err
		}
		res := tx.Delete(&s)
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected != 1 {
			return ErrNotFound // ended concurrently
		}
		return models.RecordActivity(tx, &s.UserID, hooks.EventLogout, map[string]any{"session_id": s.ID})
	})
	return Translate("delete session", err)
}

// DeleteOthers ends every session of a user except keepID (which may be
// empty to end them all) and returns how many ended.
func (r *Sessions) DeleteOthers(ctx context.Context, userID, keepID models.UUID) (int64, error) {
	if !userID.Valid() {
		return 0, nil // no such user, so no session
	}
	var n int64
	err := r.transaction(ctx, func(tx *gorm.DB) error {
		q := tx.Where("user_id = ?", userID)
		if keepID != "" {
			q = q.Where("id <> ?", keepID)
		}
		res := q.Delete(&models.Session{})
		if res.Error != nil {
			return res.Error
		}
		n = res.RowsAffected
		if n == 0 {
			return nil
		}
		return models.RecordActivity(tx, &userID, hooks.EventSessionDeleted, map[string]any{"count": n, "kept": keepID})
	})
	return n, Translate("delete other sessions", err)
}

// ListForUser returns a user's sessions, newest first, expired ones
// included (a purge removes those).
func (r *Sessions) ListForUser(ctx context.Context, userID models.UUID) ([]models.Session, error) {
	if !userID.Valid() {
		return nil, nil // no such user, so no session
	}
	var out []models.Session
	err := r.conn(ctx).Where("user_id = ?", userID).Order("created_at DESC, id").Find(&out).Error
	return out, Translate("list sessions", err)
}
