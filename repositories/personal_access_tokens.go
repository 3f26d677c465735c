package repositories

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/forgeauth/authstore/hooks"
	"github.com/forgeauth/authstore/models"
	"gorm.io/gorm"
)

// PersonalTokenPrefix starts every personal access token, so that secret
// scanners and people recognise one.
const PersonalTokenPrefix = "asp_"

// PersonalTokenDisplayLength is how many leading characters of a personal
// token are kept in its Prefix column for display: the "asp_" marker and
// four random characters (24 of its 256 bits).
const PersonalTokenDisplayLength = 8

// LastUsedInterval is how stale a personal token's last_used_at must be
// before Find writes it again.
const LastUsedInterval = time.Minute

// maxExpiry is the latest expiry Create accepts: the last microsecond of
// year 9999, the last time both databases store and read back alike.
// SQLite keeps times as text that Go reads only up to year 9999 (a later
// one reads back as the zero time, and compares as text before "2026");
// PostgreSQL refuses a time past year 294276 with a raw error.
var maxExpiry = time.Date(9999, 12, 31, 23, 59, 59, 999999000, time.UTC)

// PersonalTokens is the repository of personal access tokens (table
// oauth_personal_access_tokens): long-lived tokens a user makes for scripts,
// stored as SHA-256 digests.
type PersonalTokens struct {
	base
}

// NewPersonalTokens returns the personal-token repository over db.
func NewPersonalTokens(db *gorm.DB, opts Options) *PersonalTokens {
	return &PersonalTokens{base: newBase(db, opts)}
}

// WithTx returns a copy of r whose methods run inside tx (as savepoints).
func (r *PersonalTokens) WithTx(tx *gorm.DB) *PersonalTokens {
	return &PersonalTokens{base: r.withTx(tx)}
}

// Create makes a personal access token for a user and returns its row and
// its plaintext (PersonalTokenPrefix followed by 256 random bits; shown
// once, only its digest is stored). expiresAt nil means the token does not
// expire. The creation is recorded (event personal_token.created).
//
// It returns ErrInvalidInput for a malformed user id, an empty or too long
// name, an invalid scope or an expiry that is not in the future or is after
// the end of year 9999 (UTC), and ErrMissingReferent if the user does not
// exist.
func (r *PersonalTokens) Create(ctx context.Context, userID models.UUID, name string, scopes []string, expiresAt *time.Time) (*models.PersonalAccessToken, string, error) {
	const op = "create personal token"
	if err := validID("user id", userID); err != nil {
		return nil, "", fmt.Errorf("%s: %w", op, err)
	}
	name, err := checkName("token name", name)
	if err != nil {
		return nil, "", fmt.Errorf("%s: %w", op, err)
	}
	sc, err := normalizeScopes(scopes)
	if err != nil {
		return nil, "", fmt.Errorf("%s: %w", op, err)
	}
	if expiresAt != nil && expiresAt.After(maxExpiry) {
		return nil, "", fmt.Errorf("%s: expiry is after year 9999: %w", op, ErrInvalidInput)
	}
	token, err := hooks.NewPrefixedToken(PersonalTokenPrefix)
	if err != nil {
		return nil, "", fmt.Errorf("%s: generate token: %w", op, err)
	}
	row := &models.PersonalAccessToken{
		ID:        models.NewUUID(),
		UserID:    userID,
		Name:      name,
		TokenHash: hooks.Digest(token),
		Prefix:    token[:PersonalTokenDisplayLength],
		Scopes:    sc,
	}
	err = r.transaction(ctx, func(tx *gorm.DB, now time.Time) error {
		if expiresAt != nil {
			t := expiresAt.UTC().Truncate(time.Microsecond)
			if !t.After(now) {
				return fmt.Errorf("expiry is not in the future: %w", ErrInvalidInput)
			}
			row.ExpiresAt = &t
		}
		row.CreatedAt, row.UpdatedAt = now, now
		if err := tx.Create(row).Error; err != nil {
			return err
		}
		return record(tx, now, &userID, models.EventPersonalTokenCreated, map[string]any{"token_id": row.ID, "name": row.Name})
	})
	if err != nil {
		return nil, "", Translate(op, err)
	}
	return row, token, nil
}

// Find returns the personal token with the given plaintext, after checking
// it is neither revoked nor expired, and records its use: last_used_at is
// written only when it is older than LastUsedInterval (a conditional update),
// so most calls write nothing. The lookup and that update are single
// statements, each atomic, so the common path takes no write lock.
//
// The update is an optional write (see OptionalWrite): it never waits for
// a lock another transaction holds and never fails the lookup; a token
// whose update was kept out is returned with the LastUsedAt it has in the
// database, and a later lookup writes it.
//
// It returns ErrNotFound for an unknown token, ErrRevoked for a revoked one
// and ErrExpired for an expired one.
func (r *PersonalTokens) Find(ctx context.Context, token string) (*models.PersonalAccessToken, error) {
	const op = "find personal token"
	if !strings.HasPrefix(token, PersonalTokenPrefix) || len(token) > maxTokenLength {
		return nil, fmt.Errorf("%s: %w", op, ErrNotFound)
	}
	now := r.now()
	db := r.conn(ctx)
	var row models.PersonalAccessToken
	if err := db.Where("token_hash = ?", hooks.Digest(token)).Take(&row).Error; err != nil {
		return nil, Translate(op, err)
	}
	switch {
	case row.Revoked:
		return nil, fmt.Errorf("%s: %w", op, ErrRevoked)
	case row.ExpiresAt != nil && !now.Before(*row.ExpiresAt):
		return nil, fmt.Errorf("%s: %w", op, ErrExpired)
	}
	if row.LastUsedAt == nil || now.Sub(*row.LastUsedAt) >= LastUsedInterval {
		const cond = "id = ? AND (last_used_at IS NULL OR last_used_at <= ?)"
		stale := now.Add(-LastUsedInterval)
		n := optionalWrite(ctx, r.db, func(db *gorm.DB) *gorm.DB {
			return db.Model(&models.PersonalAccessToken{}).Where(cond, row.ID, stale).
				Where("id IN (?)", unlockedRow(db, &models.PersonalAccessToken{}, cond, row.ID, stale)).
				UpdateColumn("last_used_at", now)
		})
		if n == 1 {
			row.LastUsedAt = &now
		}
	}
	return &row, nil
}

// ListForUser returns a user's personal tokens, revoked and expired ones
// included, oldest first. It returns ErrInvalidInput for a malformed user
// id.
func (r *PersonalTokens) ListForUser(ctx context.Context, userID models.UUID) ([]models.PersonalAccessToken, error) {
	const op = "list personal tokens"
	if err := validID("user id", userID); err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	var out []models.PersonalAccessToken
	if err := r.conn(ctx).Where("user_id = ?", userID).Order("created_at, id").Find(&out).Error; err != nil {
		return nil, Translate(op, err)
	}
	return out, nil
}

// Revoke revokes a user's personal token by id and records it (event
// personal_token.revoked). Revoking a revoked token is a no-op. It returns
// ErrInvalidInput for a malformed id and ErrNotFound if the user has no
// such token.
func (r *PersonalTokens) Revoke(ctx context.Context, userID, tokenID models.UUID) error {
	const op = "revoke personal token"
	if err := firstErr(validID("user id", userID), validID("token id", tokenID)); err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	err := r.transaction(ctx, func(tx *gorm.DB, now time.Time) error {
		var n int64
		if err := tx.Model(&models.PersonalAccessToken{}).Where("id = ? AND user_id = ?", tokenID, userID).Count(&n).Error; err != nil {
			return err
		}
		if n == 0 {
			return fmt.Errorf("personal token %s: %w", tokenID, ErrNotFound)
		}
		res := tx.Model(&models.PersonalAccessToken{}).Where("id = ? AND user_id = ?", tokenID, userID).
			Where("revoked = ?", false).Updates(map[string]any{"revoked": true, "updated_at": now})
		if res.Error != nil || res.RowsAffected == 0 {
			return res.Error
		}
		return record(tx, now, &userID, models.EventPersonalTokenRevoked, map[string]any{"token_id": tokenID})
	})
	return Translate(op, err)
}
