package authstore

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"time"

	"github.com/forgeauth/authstore/config"
	"github.com/forgeauth/authstore/repositories"
	"gorm.io/gorm"
)

// optionalWriteWait is how long a write marked repositories.OptionalWrite
// waits for a lock before it is given up: long enough for another writer's
// commit to finish (a few milliseconds), far below the ten seconds a write
// the call needs may wait on SQLite.
const optionalWriteWait = 100 * time.Millisecond

// optionalWriteWaitMySQL is optionalWriteWait for a MySQL metadata lock,
// whose waits are whole seconds, at least one.
const optionalWriteWaitMySQL = time.Second

// The callbacks' names and the statement setting that hands the bounded
// connection from the first to the second.
const (
	optionalWriteBegin = "authstore:optional_write_begin"
	optionalWriteEnd   = "authstore:optional_write_end"
	optionalWriteConn  = "authstore:optional_write_conn"
)

// boundOptionalWrites registers, on a Store's own GORM instance, callbacks
// around every update marked repositories.OptionalWrite (the throttled
// refreshes of Sessions.Find and PersonalTokens.Find) that bound its wait
// for a lock to optionalWriteWait, after which it fails and the read that
// asked for it goes on without it:
//
//   - SQLite has one write lock for the whole database. The update runs on
//     a connection of its own whose busy timeout is optionalWriteWait, and
//     the connection gets its own busy timeout back afterwards. A context
//     deadline cannot do this: the driver's interrupt does not end SQLite's
//     busy wait.
//   - PostgreSQL: the update already skips a locked row (FOR UPDATE SKIP
//     LOCKED); it runs in a transaction of its own with SET LOCAL
//     lock_timeout, which bounds the wait for a table lock (a CREATE INDEX
//     lets reads through and holds writes) without touching the session's
//     settings, so a transaction-pooling proxy is safe.
//   - MySQL: the update's subquery skips a locked row (FOR UPDATE SKIP
//     LOCKED), but the UPDATE itself still takes the row's lock; it runs
//     on a connection of its own whose innodb_lock_wait_timeout is 0
//     (MariaDB: fail at once; MySQL raises it to 1 s, its shortest) and
//     whose lock_wait_timeout (a table's metadata lock) is 1 s, and the
//     connection gets its own back afterwards.
//
// Inside a transaction (a caller's, through WithTx) the callbacks do
// nothing: the transaction's connection is the one to use, on SQLite an
// immediate transaction already holds the write lock, and the repository
// runs the update in a savepoint whose failure leaves the transaction
// usable.
func boundOptionalWrites(db *gorm.DB, dialect config.Dialect) error {
	pin := pinSQLite
	switch dialect {
	case config.DialectPostgres:
		pin = pinPostgres
	case config.DialectMySQL:
		pin = pinMySQL
	}
	cb := db.Callback().Update()
	if err := cb.Before("gorm:begin_transaction").Register(optionalWriteBegin, func(db *gorm.DB) { pinOptionalWrite(db, pin) }); err != nil {
		return fmt.Errorf("authstore: register %s: %w", optionalWriteBegin, err)
	}
	if err := cb.After("gorm:commit_or_rollback_transaction").Register(optionalWriteEnd, unpinOptionalWrite); err != nil {
		return fmt.Errorf("authstore: register %s: %w", optionalWriteEnd, err)
	}
	return nil
}

// boundConn is where an optional write runs, and what undoes it once the
// statement has run (release may add an error to the statement).
type boundConn struct {
	pool    gorm.ConnPool
	release func(db *gorm.DB)
}

// pinOptionalWrite moves an optional write made outside a transaction
// onto what pin returns.
func pinOptionalWrite(db *gorm.DB, pin func(ctx context.Context, pool *sql.DB) (boundConn, error)) {
	if db.Error != nil {
		return
	}
	if v, ok := db.Get(repositories.OptionalWrite); !ok || v != true {
		return
	}
	var pool *sql.DB
	switch p := db.Statement.ConnPool.(type) {
	case *sql.DB:
		pool = p
	case deadlinePool:
		pool = p.DB
	default:
		return // a transaction, or a pool wrapper: leave the statement where it is
	}
	c, err := pin(db.Statement.Context, pool)
	if err != nil {
		db.AddError(err)
		return
	}
	db.Statement.ConnPool = c.pool
	db.InstanceSet(optionalWriteConn, c)
}

// unpinOptionalWrite undoes what pinOptionalWrite did.
func unpinOptionalWrite(db *gorm.DB) {
	v, ok := db.InstanceGet(optionalWriteConn)
	if !ok {
		return
	}
	v.(boundConn).release(db)
}

// pinSQLite takes a connection from the pool with a busy timeout of
// optionalWriteWait, or less when ctx ends sooner (pinBusyTimeout); its release gives the connection its
// own busy timeout back.
func pinSQLite(ctx context.Context, pool *sql.DB) (boundConn, error) {
	wait := optionalWriteWait
	if deadline, ok := ctx.Deadline(); ok {
		wait = min(wait, time.Until(deadline))
	}
	conn, restore, err := pinBusyTimeout(ctx, pool, wait)
	if err != nil {
		return boundConn{}, err
	}
	return boundConn{pool: conn, release: func(db *gorm.DB) { restore(db.Statement.Context) }}, nil
}

// pinPostgres opens a transaction whose lock_timeout is optionalWriteWait;
// its release commits it, or rolls it back when the statement failed.
func pinPostgres(ctx context.Context, pool *sql.DB) (boundConn, error) {
	tx, err := pool.BeginTx(ctx, nil)
	if err != nil {
		return boundConn{}, err
	}
	if _, err := tx.ExecContext(ctx, fmt.Sprintf("SET LOCAL lock_timeout = %d", optionalWriteWait.Milliseconds())); err != nil {
		tx.Rollback()
		return boundConn{}, err
	}
	return boundConn{pool: tx, release: func(db *gorm.DB) {
		if db.Error != nil {
			_ = tx.Rollback()
			return
		}
		if err := tx.Commit(); err != nil {
			db.AddError(err) // nothing was written
		}
	}}, nil
}

// pinMySQL takes a connection from the pool whose row lock wait is 0 (no
// wait on MariaDB, one second on MySQL) and whose metadata lock wait is
// one second; its release gives the connection its own back and returns
// it to the pool, or closes it if that fails.
func pinMySQL(ctx context.Context, pool *sql.DB) (boundConn, error) {
	conn, err := pool.Conn(ctx)
	if err != nil {
		return boundConn{}, err
	}
	var row, meta int64 // seconds
	if err := conn.QueryRowContext(ctx, "SELECT @@SESSION.innodb_lock_wait_timeout, @@SESSION.lock_wait_timeout").Scan(&row, &meta); err != nil {
		conn.Close()
		return boundConn{}, err
	}
	set := "SET SESSION innodb_lock_wait_timeout = %d, lock_wait_timeout = %d"
	if _, err := conn.ExecContext(ctx, fmt.Sprintf(set, 0, int64(optionalWriteWaitMySQL/time.Second))); err != nil {
		discard(conn)
		return boundConn{}, err
	}
	return boundConn{pool: conn, release: func(db *gorm.DB) {
		ctx := context.WithoutCancel(db.Statement.Context)
		if _, err := conn.ExecContext(ctx, fmt.Sprintf(set, row, meta)); err != nil {
			discard(conn)
			return
		}
		conn.Close()
	}}, nil
}

// discard closes conn and keeps it out of the pool.
func discard(conn *sql.Conn) {
	_ = conn.Raw(func(any) error { return driver.ErrBadConn })
	conn.Close()
}
