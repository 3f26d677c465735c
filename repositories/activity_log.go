package repositories

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/forgeauth/authstore/models"
	"gorm.io/gorm"
)

// ActivityLog reads and appends the audit trail (table user_activity_log).
// It has no update and no delete: rows leave the log only through the
// retention purge (Cleanup.Purge with PurgeOptions.ActivityRetention).
type ActivityLog struct{ base }

// NewActivityLog returns the activity-log repository over db.
func NewActivityLog(db *gorm.DB, opts Options) *ActivityLog { return &ActivityLog{newBase(db, opts)} }

// WithTx returns a copy of the repository that works inside tx.
func (r *ActivityLog) WithTx(tx *gorm.DB) *ActivityLog { return &ActivityLog{r.withTx(tx)} }

// Record appends one event for a user (nil for none), with the IP and user
// agent from the request metadata in ctx. metadata must hold no secret.
//
// It returns ErrInvalidInput, before any write, for an event outside the
// vocabulary of package models (models.Events), a malformed user id or
// metadata that does not encode as JSON (a channel, a function, NaN, a
// cycle, a failing MarshalJSON) or is longer than MaxMetadataLength once
// encoded, and ErrMissingReferent for an unknown user.
func (r *ActivityLog) Record(ctx context.Context, userID *models.UUID, event models.Event, metadata map[string]any) error {
	const op = "record activity"
	if !event.Valid() {
		return fmt.Errorf("%s: unknown event %q: %w", op, clip(string(event), 64), ErrInvalidInput)
	}
	if err := validOptionalID("user id", userID); err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	if _, err := encodeMetadata(metadata); err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	err := r.transaction(ctx, func(tx *gorm.DB, now time.Time) error { return record(tx, now, userID, event, metadata) })
	return Translate(op, err)
}

// ListForUser returns up to limit (1..MaxListLimit) of a user's events,
// newest first. It returns ErrInvalidInput for a malformed user id or a
// limit out of range.
func (r *ActivityLog) ListForUser(ctx context.Context, userID models.UUID, limit int) ([]models.Activity, error) {
	const op = "list activity"
	if err := validID("user id", userID); err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	return r.list(ctx, op, limit, "user_id = ?", userID)
}

// ListSince returns up to limit (1..MaxListLimit) events at or after since,
// newest first. It returns ErrInvalidInput for a limit out of range.
func (r *ActivityLog) ListSince(ctx context.Context, since time.Time, limit int) ([]models.Activity, error) {
	return r.list(ctx, "list activity", limit, "created_at >= ?", clampTime(since))
}

func (r *ActivityLog) list(ctx context.Context, op string, limit int, where string, arg any) ([]models.Activity, error) {
	if err := checkList(limit, 0); err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	var out []models.Activity
	err := r.conn(ctx).Where(where, arg).Order("created_at DESC, id DESC").Limit(limit).Find(&out).Error
	return out, Translate(op, err)
}

// record writes one activity row with tx at now, so it commits or rolls
// back with the change it records. Every repository records its events
// through it, inline. The IP address and user agent come from the request
// metadata in tx's context (models.WithRequestMeta). metadata must hold no
// secret; nil is stored as {}.
func record(tx *gorm.DB, now time.Time, userID *models.UUID, event models.Event, metadata map[string]any) error {
	meta, err := encodeMetadata(metadata)
	if err != nil {
		return err
	}
	if userID != nil && *userID == "" {
		userID = nil
	}
	rm := models.RequestMetaFrom(tx.Statement.Context)
	a := &models.Activity{UserID: userID, Event: string(event), IPAddress: rm.IP, UserAgent: rm.UserAgent, Metadata: meta, CreatedAt: now}
	return tx.Session(&gorm.Session{NewDB: true}).Create(a).Error
}

// encodeMetadata encodes activity metadata as a JSON object ("{}" for none).
// Metadata JSON cannot encode, or longer than MaxMetadataLength once
// encoded, is ErrInvalidInput; the message never quotes the encoder's error,
// which may hold any part of the value.
func encodeMetadata(metadata map[string]any) (string, error) {
	if len(metadata) == 0 {
		return "{}", nil
	}
	b, err := json.Marshal(metadata)
	if err != nil {
		return "", fmt.Errorf("activity metadata does not encode as JSON: %w", ErrInvalidInput)
	}
	if len(b) > MaxMetadataLength {
		return "", fmt.Errorf("activity metadata is longer than %d bytes once encoded as JSON: %w", MaxMetadataLength, ErrInvalidInput)
	}
	return string(b), nil
}

// Purge deletes events older than before (retention), in batches, and
// returns how many went. It is Cleanup.Purge's retention step on its own,
// the one way rows leave the log.
func (r *ActivityLog) Purge(ctx context.Context, before time.Time) (int64, error) {
	t := activityTarget(clampTime(before))
	return purgeRows(ctx, r.base, t, DefaultPurgeBatchSize, nil)
}
