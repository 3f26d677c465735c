package repositories

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/forgeauth/authstore/config"
	"github.com/forgeauth/authstore/internal/retention"
	"github.com/forgeauth/authstore/models"
	"gorm.io/gorm"
	"gorm.io/gorm/schema"
)

// DefaultPurgeBatchSize is how many rows one purge statement deletes at
// most, so that no statement holds locks for long.
const DefaultPurgeBatchSize = 1000

// Cleanup removes expired rows and reports the backlog (Purge, Stats).
type Cleanup struct{ base }

// NewCleanup returns the cleanup service over db.
func NewCleanup(db *gorm.DB, opts Options) *Cleanup { return &Cleanup{newBase(db, opts)} }

// purgeTarget describes which rows of one table a purge deletes: those its
// condition selects. The conditions match the monitoring views
// oauth_expired_tokens and expired_auth_records.
type purgeTarget struct {
	model any
	// where selects the rows to delete, with its arguments.
	where string
	args  []any
	// age is the column (or an expression of the row's columns) whose
	// oldest selected value gives the backlog's lag: when the oldest row
	// became deletable.
	age string
}

// table returns the original name of the target's table (the key of
// PurgeResult.Tables and TableStats.Table, whatever prefix the database
// gives it).
func (t purgeTarget) table() string { return models.BaseTable(t.model.(schema.TablerWithNamer)) }

// expiredTargets lists every table whose rows expire at now, in purge
// order; tables names them in the database.
func expiredTargets(now time.Time, tables config.Tables) []purgeTarget {
	refresh := tables.Name(models.BaseTable(&models.RefreshToken{}))
	expired := func(model any) purgeTarget {
		return purgeTarget{model: model, where: "expires_at < ?", args: []any{now}, age: "expires_at"}
	}
	return []purgeTarget{
		expired(&models.AccessToken{}),
		// A used refresh token is kept while any token of its family is
		// alive: reuse detection needs it.
		{model: &models.RefreshToken{}, where: "expires_at < ? AND NOT EXISTS (SELECT 1 FROM " + refresh + " f " +
			"WHERE f.family_id = " + refresh + ".family_id AND f.expires_at >= ?)", args: []any{now, now}, age: "expires_at"},
		expired(&models.AuthorizationCode{}),
		// A redeemed authorization request is kept until it expires: a
		// replay of its code revokes what it issued.
		expired(&models.AuthRequest{}),
		expired(&models.PersonalAccessToken{}),
		expired(&models.Session{}),
		expired(&models.PasswordReset{}),
		expired(&models.EmailVerification{}),
		// A retired signing key past its expiry is removed: every token it
		// signed has expired.
		{model: &models.SigningKey{}, where: "state = ? AND remove_at < ?", args: []any{models.KeyStateRetired, now}, age: "remove_at"},
		// A challenge goes once it expired or was used.
		spentChallengesTarget(now),
		// A used TOTP step is kept while a verification window holds it.
		spentStepsTarget(now),
	}
}

// activityTarget selects the activity rows written before cutoff.
func activityTarget(cutoff time.Time) purgeTarget {
	return purgeTarget{model: &models.Activity{}, where: "created_at < ?", args: []any{cutoff}, age: "created_at"}
}

// PurgeOptions tune a purge.
type PurgeOptions struct {
	// BatchSize caps the rows one statement deletes; 0 means
	// DefaultPurgeBatchSize.
	BatchSize int
	// DryRun counts what would be deleted and deletes nothing.
	DryRun bool
	// ActivityRetention deletes activity rows older than this; 0 keeps them
	// forever.
	ActivityRetention time.Duration
	// Progress, if set, is called after every batch with the table, the
	// rows the batch deleted, and the table's running total.
	Progress func(table string, batch, total int64)
}

// PurgeResult counts the rows deleted (or, in a dry run, that would be)
// per table.
type PurgeResult struct {
	Tables map[string]int64 `json:"tables"`
	Total  int64            `json:"total"`
	DryRun bool             `json:"dry_run"`
}

// Purge deletes expired rows from every table that expires, and activity
// rows past the retention, in batches of opts.BatchSize, each batch its own
// short transaction. It never deletes a row still needed: a used refresh
// token stays while its family is alive, a revoked access token's row
// stays until its exp, and a retired signing key until every token it
// signed has expired (its remove_at). Purge is idempotent; a second run right after
// deletes nothing. When ctx is cancelled it stops between batches and
// returns the counts so far with ctx's error: every batch already deleted
// is committed and complete.
//
// Rows are deleted through GORM (Delete with a subquery), so the models'
// delete hooks run: the activity log's append-only guard admits this purge
// alone.
//
// Returns ErrInvalidInput for a negative batch size or retention.
func (c *Cleanup) Purge(ctx context.Context, opts PurgeOptions) (PurgeResult, error) {
	if opts.BatchSize == 0 {
		opts.BatchSize = DefaultPurgeBatchSize
	}
	res := PurgeResult{Tables: map[string]int64{}, DryRun: opts.DryRun}
	if opts.BatchSize < 0 || opts.ActivityRetention < 0 {
		return res, fmt.Errorf("purge: batch size and retention must not be negative: %w", ErrInvalidInput)
	}
	now := c.now()
	targets := expiredTargets(now, c.cfg().Tables())
	if opts.ActivityRetention > 0 {
		targets = append(targets, activityTarget(now.Add(-opts.ActivityRetention)))
	}
	for _, t := range targets {
		var n int64
		var err error
		if opts.DryRun {
			n, err = c.count(ctx, t, opts.Progress)
		} else {
			n, err = purgeRows(ctx, c.base, t, opts.BatchSize, opts.Progress)
		}
		res.Tables[t.table()] = n
		res.Total += n
		if err != nil {
			return res, err
		}
	}
	return res, nil
}

// count counts the rows t selects (a dry run).
func (c *Cleanup) count(ctx context.Context, t purgeTarget, progress func(string, int64, int64)) (int64, error) {
	var n int64
	err := c.conn(ctx).Model(t.model).Where(t.where, t.args...).Count(&n).Error
	if err == nil && progress != nil {
		progress(t.table(), n, n)
	}
	return n, Translate("purge "+t.table(), err)
}

// purgeRows deletes the rows t selects, batch rows per transaction,
// until a batch deletes fewer, and returns how many went.
//
// DELETE ... WHERE id IN (SELECT id FROM (SELECT id ... LIMIT n) AS batch)
// bounds each statement on every dialect without fetching ids into Go: the
// derived table is there for MySQL and MariaDB, which take no LIMIT in an
// IN subquery, nor a subquery on the table a DELETE deletes from unless
// the subquery is materialised first.
func purgeRows(ctx context.Context, b base, t purgeTarget, batch int, progress func(string, int64, int64)) (int64, error) {
	op := "purge " + t.table()
	var total int64
	for {
		if err := ctx.Err(); err != nil {
			return total, fmt.Errorf("%s: %w", op, err)
		}
		n, err := inTx(ctx, b, func(tx *gorm.DB, _ time.Time) (int64, error) {
			if _, ok := t.model.(*models.Activity); ok {
				tx = retention.Allow(tx)
			}
			ids := tx.Session(&gorm.Session{NewDB: true}).Model(t.model).Select("id").Where(t.where, t.args...).Limit(batch)
			batchIDs := tx.Session(&gorm.Session{NewDB: true}).Table("(?) AS batch", ids).Select("id")
			res := tx.Where("id IN (?)", batchIDs).Delete(t.model)
			return res.RowsAffected, res.Error
		})
		if err != nil {
			if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
				return total, fmt.Errorf("%s: %w", op, err)
			}
			return total, Translate(op, err)
		}
		total += n
		if progress != nil && n > 0 {
			progress(t.table(), n, total)
		}
		if n < int64(batch) {
			return total, nil
		}
	}
}

// TableStats describes one table for monitoring.
type TableStats struct {
	Table string `json:"table"`
	// Rows is the table's row count.
	Rows int64 `json:"rows"`
	// Expired is the backlog a purge would delete now.
	Expired int64 `json:"expired"`
	// OldestExpiredAge is how long ago the oldest purgeable row expired:
	// the lag an operator alerts on. Zero when there is no backlog.
	OldestExpiredAge time.Duration `json:"oldest_expired_age_ns"`
	// States counts the rows by lifecycle state, for the signing keys:
	// next, current, retired and removed (retired past its expiry, the
	// backlog a purge deletes). Nil for the other tables.
	States map[string]int64 `json:"states,omitempty"`
}

// Stats returns, for every table that expires, its row count, its expired
// backlog and the age of its oldest expired row (for the signing keys, the
// removed ones, and their count by state in States), plus the activity
// log's row count.
func (c *Cleanup) Stats(ctx context.Context) ([]TableStats, error) {
	now := c.now()
	var out []TableStats
	for _, t := range expiredTargets(now, c.cfg().Tables()) {
		st := TableStats{Table: t.table()}
		op := "stats " + st.Table
		db := c.conn(ctx)
		var err error
		if err = db.Model(t.model).Count(&st.Rows).Error; err != nil {
			return nil, Translate(op, err)
		}
		row := db.Model(t.model).Select("count(*) AS n, min("+t.age+") AS oldest").Where(t.where, t.args...).Row()
		var oldest any
		if err := row.Scan(&st.Expired, &oldest); err != nil {
			return nil, Translate(op, err)
		}
		if ts, ok := asTime(oldest); ok {
			st.OldestExpiredAge = now.Sub(ts)
		}
		if _, ok := t.model.(*models.SigningKey); ok {
			if st.States, err = c.keyStates(ctx, now); err != nil {
				return nil, Translate(op, err)
			}
		}
		out = append(out, st)
	}
	st := TableStats{Table: models.BaseTable(&models.Activity{})}
	if err := c.conn(ctx).Model(&models.Activity{}).Count(&st.Rows).Error; err != nil {
		return nil, Translate("stats "+st.Table, err)
	}
	return append(out, st), nil
}

// keyStates counts the signing keys by state at now.
func (c *Cleanup) keyStates(ctx context.Context, now time.Time) (map[string]int64, error) {
	var rows []models.SigningKey
	if err := c.conn(ctx).Select("id", "state", "remove_at").Find(&rows).Error; err != nil {
		return nil, err
	}
	states := map[string]int64{models.KeyStateNext: 0, models.KeyStateCurrent: 0, models.KeyStateRetired: 0, models.KeyStateRemoved: 0}
	for i := range rows {
		states[rows[i].StateAt(now)]++
	}
	return states, nil
}

// asTime reads an aggregate time, which SQLite returns as text.
func asTime(v any) (time.Time, bool) {
	switch t := v.(type) {
	case time.Time:
		return t, true
	case string:
		return parseSQLiteTime(t)
	case []byte:
		return parseSQLiteTime(string(t))
	}
	return time.Time{}, false
}

func parseSQLiteTime(s string) (time.Time, bool) {
	for _, layout := range []string{"2006-01-02 15:04:05.999999999-07:00", "2006-01-02T15:04:05.999999999-07:00", "2006-01-02 15:04:05.999999999", time.RFC3339Nano} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), true
		}
	}
	return time.Time{}, false
}
