package repositories

import (
	"context"
	"fmt"
	"time"

	"github.com/forgeauth/authstore/config"
	"github.com/forgeauth/authstore/hooks"
	"github.com/forgeauth/authstore/models"
	"gorm.io/gorm"
)

// Sessions stores login sessions (table sessions). A session ends when it
// has been idle longer than AUTH_SESSION_LIFETIME or passes its absolute
// limit, AUTH_SESSION_ABSOLUTE_LIFETIME; a remembered session lasts
// AUTH_REMEMBER_LIFETIME, both idle and absolute. Lookups write the last
// activity at most once per AUTH_SESSION_TOUCH_INTERVAL.
type Sessions struct {
	base
	lookup rowLookup
}

// NewSessions returns the sessions repository over db.
func NewSessions(db *gorm.DB, opts Options) *Sessions {
	return &Sessions{base: newBase(db, opts), lookup: newRowLookup(db, &models.Session{})}
}

// WithTx returns a copy of the repository that works inside tx.
func (r *Sessions) WithTx(tx *gorm.DB) *Sessions {
	return &Sessions{base: r.withTx(tx), lookup: r.lookup}
}

// SessionInput is the input of Sessions.Create. Empty IP and UserAgent are
// taken from the request metadata in the context (models.WithRequestMeta,
// which cleans and cuts them). Given ones must be valid UTF-8 without control
// characters, of at most models.MaxIPLength and models.MaxUserAgentLength
// bytes.
type SessionInput struct {
	Remember  bool
	IPAddress string
	UserAgent string
}

// Create starts a session for a user, at password assurance
// (models.AssurancePassword; TwoFactor.CompleteLogin opens one at
// AssuranceTwoFactor, TwoFactor.StepUp raises one), and returns it with
// its token. The
// token (256 bits) is returned once; only its SHA-256 digest is stored. A
// session.created activity row is written with the insert.
//
// Returns ErrInvalidInput for a malformed user id or an IP address or user
// agent that is not valid text within its cap (see SessionInput), and
// ErrMissingReferent if the user does not exist.
func (r *Sessions) Create(ctx context.Context, userID models.UUID, in SessionInput) (*models.Session, string, error) {
	const op = "create session"
	s, token, life, err := newSession(ctx, r.cfg(), userID, in)
	if err != nil {
		return nil, "", fmt.Errorf("%s: %w", op, err)
	}
	err = r.transaction(ctx, func(tx *gorm.DB, now time.Time) error { return insertSession(tx, now, s, life) })
	if err != nil {
		return nil, "", Translate(op, err)
	}
	return s, token, nil
}

// newSession validates a session's input and returns its row (without
// times; password assurance), its token and its absolute lifetime.
func newSession(ctx context.Context, cfg config.Config, userID models.UUID, in SessionInput) (*models.Session, string, time.Duration, error) {
	err := firstErr(validID("user id", userID), checkLine("ip address", in.IPAddress, models.MaxIPLength),
		checkLine("user agent", in.UserAgent, models.MaxUserAgentLength), checkLifetime("session", cfg.SessionLifetime),
		checkLifetime("absolute session", cfg.SessionAbsoluteLifetime), checkLifetime("remember-me session", cfg.RememberLifetime))
	if err != nil {
		return nil, "", 0, err
	}
	token, err := hooks.NewToken()
	if err != nil {
		return nil, "", 0, err
	}
	meta := models.RequestMetaFrom(ctx)
	if in.IPAddress == "" {
		in.IPAddress = meta.IP
	}
	if in.UserAgent == "" {
		in.UserAgent = meta.UserAgent
	}
	life := cfg.SessionAbsoluteLifetime
	if in.Remember {
		life = cfg.RememberLifetime
	}
	s := &models.Session{
		ID: models.NewUUID(), UserID: userID, TokenHash: hooks.Digest(token),
		IPAddress: in.IPAddress, UserAgent: in.UserAgent, Remember: in.Remember,
		AssuranceLevel: models.AssurancePassword,
	}
	return s, token, life, nil
}

// insertSession writes a session made by newSession, starting now, and
// its session.created activity row.
func insertSession(tx *gorm.DB, now time.Time, s *models.Session, life time.Duration) error {
	s.LastActivityAt, s.ExpiresAt, s.CreatedAt = now, now.Add(life), now
	if err := tx.Create(s).Error; err != nil {
		return err
	}
	return record(tx, now, &s.UserID, models.EventSessionCreated, map[string]any{"session_id": s.ID})
}

// idle returns how long a session may sit unused.
func (r *Sessions) idle(s *models.Session) time.Duration {
	if s.Remember {
		return r.cfg().RememberLifetime
	}
	return r.cfg().SessionLifetime
}

// Find returns the live session of a token. It refreshes last activity at
// most once per AUTH_SESSION_TOUCH_INTERVAL, so most lookups do not write;
// the lookup and that refresh are single statements, not one transaction.
//
// The refresh is an optional write (see OptionalWrite): it never waits for
// a lock another transaction holds (SQLite's write lock, a locked session
// row on PostgreSQL) and never fails the lookup. A session whose refresh
// was kept out is returned all the same, with the LastActivityAt it has in
// the database, and the next lookup writes it. The returned LastActivityAt
// is the lookup's time only when the refresh was written.
//
// Returns ErrNotFound for an unknown token, ErrExpired when the session is
// past its absolute limit or has been idle too long.
func (r *Sessions) Find(ctx context.Context, token string) (*models.Session, error) {
	var s models.Session
	if err := r.lookup.take(ctx, r.db, "token_hash", hooks.Digest(token), &s); err != nil {
		return nil, Translate("find session", err)
	}
	now := r.now()
	if r.expired(&s, now) {
		return nil, fmt.Errorf("find session: %w", ErrExpired)
	}
	if now.Sub(s.LastActivityAt) >= r.cfg().SessionTouchInterval {
		if optionalWrite(ctx, r.db, func(db *gorm.DB) *gorm.DB { return touchQuery(db, s.ID, now, true) }) == 1 {
			s.LastActivityAt = now
		}
	}
	return &s, nil
}

// Touch records activity on a live session now. Unlike the refresh of Find,
// this write is the call's purpose: it waits for the locks it needs, as any
// write does. Returns ErrInvalidInput for a malformed id, ErrNotFound for
// an unknown session and ErrExpired for one past its idle or absolute
// limit (touching never revives a session).
func (r *Sessions) Touch(ctx context.Context, id models.UUID) error {
	if err := validID("session id", id); err != nil {
		return fmt.Errorf("touch session: %w", err)
	}
	var s models.Session
	if err := r.lookup.take(ctx, r.db, "id", id, &s); err != nil {
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
	if res := touchQuery(r.conn(ctx), s.ID, now, false); res.Error != nil {
		return Translate("touch session", res.Error)
	}
	s.LastActivityAt = now
	return nil
}

// touchQuery runs the conditional update of a session's last activity to
// now. With skipLocked (Find's optional refresh) it writes only a row no
// other transaction holds locked (see unlockedRow).
func touchQuery(db *gorm.DB, id models.UUID, now time.Time, skipLocked bool) *gorm.DB {
	const cond = "id = ? AND last_activity_at < ? AND expires_at > ?"
	q := db.Model(&models.Session{}).Where(cond, id, now, now)
	if skipLocked {
		q = q.Where("id IN (?)", unlockedRow(db, &models.Session{}, cond, id, now, now))
	}
	return q.Update("last_activity_at", now)
}

// Renew gives the live session id a new token and returns the session
// with it. The token (256 bits) is returned once; its digest replaces the
// old one's, so the old token finds no session from then on. A server
// renews a session whose privilege changed, after TwoFactor.StepUp: a copy
// of the old token, read or planted before, then does not carry the raised
// level (OWASP Session Management: renew the session id after a privilege
// change). The session keeps its id, times and assurance; Renew writes no
// activity row (the step-up wrote its own).
//
// Returns ErrInvalidInput for a malformed id, ErrNotFound for an unknown
// session, ErrExpired for one past its idle or absolute limit, and
// ErrConcurrentChange when another call renewed or ended it meanwhile.
func (r *Sessions) Renew(ctx context.Context, id models.UUID) (*models.Session, string, error) {
	const op = "renew session"
	if err := validID("session id", id); err != nil {
		return nil, "", fmt.Errorf("%s: %w", op, err)
	}
	token, err := hooks.NewToken()
	if err != nil {
		return nil, "", fmt.Errorf("%s: %w", op, err)
	}
	var s models.Session
	err = r.transaction(ctx, func(tx *gorm.DB, now time.Time) error {
		if err := tx.Where("id = ?", id).Take(&s).Error; err != nil {
			return err
		}
		if r.expired(&s, now) {
			return fmt.Errorf("session: %w", ErrExpired)
		}
		res := tx.Model(&models.Session{}).Where("id = ? AND token_hash = ? AND expires_at > ?", id, s.TokenHash, now).
			UpdateColumn("token_hash", hooks.Digest(token))
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected != 1 {
			return fmt.Errorf("session renewed or ended meanwhile: %w", ErrConcurrentChange)
		}
		s.TokenHash = hooks.Digest(token)
		return nil
	})
	if err != nil {
		return nil, "", Translate(op, err)
	}
	return &s, token, nil
}

// Delete ends the session of a token (logout), writing one logout activity
// row. Returns ErrNotFound for an unknown token.
func (r *Sessions) Delete(ctx context.Context, token string) error {
	digest := hooks.Digest(token)
	err := r.transaction(ctx, func(tx *gorm.DB, now time.Time) error {
		return endSession(tx, now, "token_hash", digest, models.EventLogout)
	})
	return Translate("delete session", err)
}

// Revoke ends one session by its id, as an operator or an account page
// does (no token needed), writing one session.deleted activity row.
// Returns ErrInvalidInput for a malformed id and ErrNotFound for an unknown
// session.
func (r *Sessions) Revoke(ctx context.Context, id models.UUID) error {
	const op = "revoke session"
	if err := validID("session id", id); err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	err := r.transaction(ctx, func(tx *gorm.DB, now time.Time) error {
		return endSession(tx, now, "id", id, models.EventSessionDeleted)
	})
	return Translate(op, err)
}

// endSession deletes the one session whose column equals value and records
// event for its user. No such session is gorm.ErrRecordNotFound, or
// ErrNotFound when it ended concurrently.
func endSession(tx *gorm.DB, now time.Time, column string, value any, event models.Event) error {
	var s models.Session
	if err := tx.Where(column+" = ?", value).Take(&s).Error; err != nil {
		return err
	}
	res := tx.Where("id = ?", s.ID).Delete(&models.Session{})
	if res.Error != nil {
		return res.Error
	}
	if res.RowsAffected != 1 {
		return ErrNotFound // ended concurrently
	}
	return record(tx, now, &s.UserID, event, map[string]any{"session_id": s.ID})
}

// DeleteOthers ends every session of a user except keepID (which may be
// empty to end them all) and returns how many ended, writing one
// session.deleted activity row when any did. Returns ErrInvalidInput for a
// malformed id.
func (r *Sessions) DeleteOthers(ctx context.Context, userID, keepID models.UUID) (int64, error) {
	const op = "delete other sessions"
	if err := firstErr(validID("user id", userID), validIDOrEmpty("session to keep", keepID)); err != nil {
		return 0, fmt.Errorf("%s: %w", op, err)
	}
	n, err := inTx(ctx, r.base, func(tx *gorm.DB, now time.Time) (int64, error) {
		return endSessionsOf(tx, now, userID, keepID)
	})
	return n, Translate(op, err)
}

// RevokeForUser ends every session of a user (an operator logging them out
// everywhere) and returns how many ended, writing one session.deleted
// activity row when any did. Returns ErrInvalidInput for a malformed id and
// ErrNotFound if there is no such user.
func (r *Sessions) RevokeForUser(ctx context.Context, userID models.UUID) (int64, error) {
	const op = "revoke user sessions"
	if err := validID("user id", userID); err != nil {
		return 0, fmt.Errorf("%s: %w", op, err)
	}
	n, err := inTx(ctx, r.base, func(tx *gorm.DB, now time.Time) (int64, error) {
		var users int64
		if err := tx.Model(&models.User{}).Where("id = ?", userID).Count(&users).Error; err != nil {
			return 0, err
		}
		if users == 0 {
			return 0, fmt.Errorf("user %s: %w", userID, ErrNotFound)
		}
		return endSessionsOf(tx, now, userID, "")
	})
	return n, Translate(op, err)
}

// endSessionsOf deletes every session of a user except keepID (none when
// empty) and records one session.deleted row when any went.
func endSessionsOf(tx *gorm.DB, now time.Time, userID, keepID models.UUID) (int64, error) {
	q := tx.Where("user_id = ?", userID)
	if keepID != "" {
		q = q.Where("id <> ?", keepID)
	}
	res := q.Delete(&models.Session{})
	if res.Error != nil || res.RowsAffected == 0 {
		return 0, res.Error
	}
	return res.RowsAffected, record(tx, now, &userID, models.EventSessionDeleted, map[string]any{"count": res.RowsAffected, "kept": keepID})
}

// ListForUser returns a user's sessions, newest first, expired ones
// included (a purge removes those). Returns ErrInvalidInput for a malformed
// id.
func (r *Sessions) ListForUser(ctx context.Context, userID models.UUID) ([]models.Session, error) {
	if err := validID("user id", userID); err != nil {
		return nil, fmt.Errorf("list sessions: %w", err)
	}
	var out []models.Session
	err := r.conn(ctx).Where("user_id = ?", userID).Order("created_at DESC, id").Find(&out).Error
	return out, Translate("list sessions", err)
}
