package repositories

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/forgeauth/authstore/models"
	"gorm.io/gorm"
)

// DefaultPurgeBatchSize is how many rows one purge statement deletes at
// most, so that no statement holds locks for long.
const DefaultPurgeBatchSize = 1000

// Cleanup removes expired rows and reports the backlog (Purge, Stats).
type Cleanup struct{ base }

// NewCleanup returns the cleanup service over db.
func NewCleanup(db *gorm.DB, opts Options) *Cleanup { return &Cleanup{newBase(db, opts)} }

// expiring describes which rows of a table are expired at a given time and
// safe to delete. The predicates match the monitoring views
// oauth_expired_tokens and expired_auth_records.
type expiring struct {
	table string
	// where selects expired rows; its one argument is the current time
	// (repeated as needed).
	where string
	args  int
	// age is the column whose oldest expired value gives the backlog's lag.
	age string
}

// expiringTables lists every table whose rows expire, in purge order.
var expiringTables = []expiring{
	{table: "oauth_access_tokens", where: "expires_at < ?", args: 1, age: "expires_at"},
	// A used refresh token is kept while any token of its family is alive:
	// reuse detection needs it.
	{table: "oauth_refresh_tokens", where: "expires_at < ? AND NOT EXISTS (SELECT 1 FROM oauth_refresh_tokens f " +
		"WHERE f.family_id = oauth_refresh_tokens.family_id AND f.expires_at >= ?)", args: 2, age: "expires_at"},
	{table: "oauth_authorization_codes", where: "expires_at < ?", args: 1, age: "expires_at"},
	{table: "oauth_personal_access_tokens", where: "expires_at < ?", args: 1, age: "expires_at"},
	{table: "sessions", where: "expires_at < ?", args: 1, age: "expires_at"},
	{table: "password_resets", where: "expires_at < ?", args: 1, age: "expires_at"},
	{table: "email_verifications", where: "expires_at < ?", args: 1, age: "expires_at"},
}

const activityTable = "user_activity_log"

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
// token stays while its family is alive, and a revoked access token's row
// stays until its exp. Purge is idempotent; a second run right after
// deletes nothing. When ctx is cancelled it stops between batches and
// returns the counts so far with ctx's error: every batch already deleted
// is committed and complete.
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
	for _, t := range c.targets(opts.ActivityRetention) {
		n, err := c.purgeTable(ctx, t, now, opts)
		res.Tables[t.table] = n
		res.Total += n
		if err != nil {
			return res, err
		}
	}
	return res, nil
}

// targets returns the tables a purge visits.
func (c *Cleanup) targets(retention time.Duration) []expiring {
	out := append([]expiring(nil), expiringTables...)
	if retention > 0 {
		out = append(out, expiring{table: activityTable, where: "created_at < ?", args: -int(retention / time.Microsecond), age: "created_at"})
	}
	return out
}

// bind returns the arguments of t's predicate at now.
func (t expiring) bind(now time.Time) []any {
	if t.args < 0 { // activity retention: the cut-off is now minus retention
		return []any{now.Add(-time.Duration(-t.args) * time.Microsecond)}
	}
	out := make([]any, t.args)
	for i := range out {
		out[i] = now
	}
	return out
}

func (c *Cleanup) purgeTable(ctx context.Context, t expiring, now time.Time, opts PurgeOptions) (int64, error) {
	args := t.bind(now)
	if opts.DryRun {
		var n int64
		err := c.conn(ctx).Table(t.table).Where(t.where, args...).Count(&n).Error
		if err == nil && opts.Progress != nil {
			opts.Progress(t.table, n, n)
		}
		return n, Translate("purge "+t.table, err)
	}
	// DELETE ... WHERE id IN (SELECT id ... LIMIT n) bounds each statement on
	// both dialects without fetching ids into Go.
	stmt := fmt.Sprintf("DELETE FROM %s WHERE id IN (SELECT id FROM %s WHERE %s LIMIT %d)", t.table, t.table, t.where, opts.BatchSize)
	var total int64
	for {
		if err := ctx.Err(); err != nil {
			return total, fmt.Errorf("purge %s: %w", t.table, err)
		}
		var n int64
		err := c.transaction(ctx, func(tx *gorm.DB) error {
			if t.table == activityTable {
				tx = models.AllowActivityPurge(tx)
			}
			res := tx.Exec(stmt, args...)
			n = res.RowsAffected
			return res.Error
		})
		if err != nil {
			if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
				return total, fmt.Errorf("purge %s: %w", t.table, err)
			}
			return total, Translate("purge "+t.table, err)
		}
		total += n
		if opts.Progress != nil && n > 0 {
			opts.Progress(t.table, n, total)
		}
		if n < int64(opts.BatchSize) {
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
}

// Stats returns, for every table that expires, its row count, its expired
// backlog and the age of its oldest expired row, plus the activity log's
// row count.
func (c *Cleanup) Stats(ctx context.Context) ([]TableStats, error) {
	now := c.now()
	var out []TableStats
	for _, t := range expiringTables {
		st := TableStats{Table: t.table}
		db := c.conn(ctx)
		if err := db.Table(t.table).Count(&st.Rows).Error; err != nil {
			return nil, Translate("stats "+t.table, err)
		}
		var agg struct {
			N      int64
			Oldest *time.Time
		}
		row := db.Table(t.table).Select("count(*) AS n, min("+t.age+") AS oldest").Where(t.where, t.bind(now)...).Row()
		var oldest any
		if err := row.Scan(&agg.N, &oldest); err != nil {
			return nil, Translate("stats "+t.table, err)
		}
		st.Expired = agg.N
		if ts, ok := asTime(oldest); ok {
			st.OldestExpiredAge = now.Sub(ts)
		}
		out = append(out, st)
	}
	st := TableStats{Table: activityTable}
	if err := c.conn(ctx).Table(activityTable).Count(&st.Rows).Error; err != nil {
		return nil, Translate("stats "+activityTable, err)
	}
	return append(out, st), nil
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
