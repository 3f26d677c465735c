// Package retention marks the GORM session of the activity log's retention
// purge, the one session in which the log's append-only guard
// (models.Activity.BeforeDelete) lets rows be deleted. It is internal so
// that only authstore's own purge (repositories.Cleanup and
// ActivityLog.Purge) can set the mark.
package retention

import "gorm.io/gorm"

const key = "authstore:retention"

// Allow returns a session of tx in which activity rows may be deleted.
func Allow(tx *gorm.DB) *gorm.DB { return tx.Set(key, true) }

// Allowed reports whether tx is a session made by Allow.
func Allowed(tx *gorm.DB) bool {
	v, ok := tx.Get(key)
	return ok && v == true
}
