package repositories

import (
	"context"
	"fmt"
	"time"

	"github.com/forgeauth/authstore/hooks"
	"github.com/forgeauth/authstore/models"
	"gorm.io/gorm"
)

// ActivityLog reads and appends the audit trail (table user_activity_log).
// It has no update and no delete except the retention Purge.
type ActivityLog struct{ base }

// NewActivityLog returns the activity-log repository over db.
func NewActivityLog(db *gorm.DB, opts Options) *ActivityLog { return &ActivityLog{newBase(db, opts)} }

// WithTx returns a copy of the repository that works inside tx.
func (r *ActivityLog) WithTx(tx *gorm.DB) *ActivityLog { return &ActivityLog{r.withTx(tx)} }

// Record appends one event for a user (nil for none), with the IP and user
// agent from the request metadata in ctx. metadata must hold no secret.
//
// Returns ErrInvalidInput for an event outside the vocabulary of package
// hooks.
func (r *ActivityLog) Record(ctx context.Context, userID *models.UUID, event hooks.Event, metadata map[string]any) error {
	if !event.Valid() {
		return fmt.Errorf("record activity: unknown event %q: %w", event, ErrInvalidInput)
	}
	err := r.transaction(ctx, func(tx *gorm.DB) error { return models.RecordActivity(tx, userID, event, metadata) })
	return Translate("record activity", err)
}

// ListForUser returns up to limit (1..MaxListLimit) of a user's events,
// newest first.
func (r *ActivityLog) ListForUser(ctx context.Context, userID models.UUID, limit int) ([]models.Activity, error) {
	if !userID.Valid() && limit >= 1 && limit <= MaxListLimit {
		return nil, nil // no such user, so no event
	}
	return r.list(ctx, "list activity", limit, "user_id = ?", userID)
}

// ListSince returns up to limit (1..MaxListLimit) events at or after since,
// newest first.
func (r *ActivityLog) ListSince(ctx context.Context, since time.Time, limit int) ([]models.Activity, error) {
	return r.list(ctx, "list activity", limit, "created_at >= ?", since.UTC())
}

func (r *ActivityLog) list(ctx context.Context, op string, limit int, where string, arg any) ([]models.Activity, error) {
	if limit < 1 || limit > MaxListLimit {
		return nil, fmt.Errorf("%s: limit must be 1..%d: %w", op, MaxListLimit, ErrInvalidInput)
	}
	var out []models.Activity
	err := r.conn(ctx).Where(where, arg).Order("created_at DESC, id DESC").Limit(limit).Find(&out).Error
	return out, Translate(op, err)
}

// Purge deletes events older than before (retention) and returns how many
// went. It is the only way rows leave the log.
func (r *ActivityLog) Purge(ctx context.Context, before time.Time) (int64, error) {
	var n int64
	err := r.transaction(ctx, func(tx *gorm.DB) error {
		res := models.AllowActivityPurge(tx).Where("created_at < ?", before.UTC()).Delete(&models.Activity{})
		n = res.RowsAffected
		return res.Error
	})
	return n, Translate("purge activity", err)
}
