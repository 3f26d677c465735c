package repositories

import (
	"context"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// OptionalWrite is the GORM statement setting (read with db.Get) that
// marks a write a read may do without: the throttled last-activity write of
// Sessions.Find and the last-used write of PersonalTokens.Find. Such a
// write must not make the read fail or wait, so it never waits for a lock
// held by another transaction: on PostgreSQL it takes its row with FOR
// UPDATE SKIP LOCKED and writes nothing when the row is locked; on SQLite,
// which has one write lock for the database and no row locks, a Store runs
// it on a connection whose busy timeout is a fraction of a second instead
// of the usual ten (see authstore.New). A write the lock kept out is left
// to a later lookup, which finds the same stale time and writes it then.
// The setting is never put on a write a call must make; a plugin on a
// Store's DB may read it.
const OptionalWrite = "authstore:optional_write"

// optionalWrite runs write, one conditional UPDATE that a read may do
// without, marked OptionalWrite and without GORM's default transaction (one
// statement is atomic by itself). Inside a caller's transaction it runs in
// a savepoint, so that its failure leaves that transaction usable
// (PostgreSQL aborts a transaction at its first failed statement). It
// returns how many rows it wrote; any failure (a lock it did not get, the
// caller's deadline, a lost connection) is 0, never an error: the read
// that asked for it stands, and the failed statement is logged by the
// Store's logger like any other.
func optionalWrite(ctx context.Context, db *gorm.DB, write func(db *gorm.DB) *gorm.DB) int64 {
	db = db.WithContext(ctx).Session(&gorm.Session{SkipDefaultTransaction: true}).Set(OptionalWrite, true)
	if _, inTx := db.Statement.ConnPool.(gorm.TxCommitter); !inTx {
		res := write(db)
		if res.Error != nil {
			return 0
		}
		return res.RowsAffected
	}
	var n int64
	err := db.Transaction(func(tx *gorm.DB) error {
		res := write(tx)
		n = res.RowsAffected
		return res.Error
	})
	if err != nil {
		return 0
	}
	return n
}

// unlockedRow is the subquery that selects the id of the row of model
// matching query only if no other transaction holds the row's lock (FOR
// UPDATE SKIP LOCKED; SQLite's dialect leaves the locking clause out, having
// no row locks). An optional write updates "id IN (unlockedRow)", so on
// PostgreSQL it skips a locked row instead of waiting for it.
func unlockedRow(db *gorm.DB, model any, query string, args ...any) *gorm.DB {
	return db.Session(&gorm.Session{NewDB: true}).Model(model).Select("id").Where(query, args...).
		Clauses(clause.Locking{Strength: clause.LockingStrengthUpdate, Options: clause.LockingOptionsSkipLocked})
}
