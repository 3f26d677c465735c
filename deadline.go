package authstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"
)

// deadlinePool is the connection pool of a Store over SQLite. It makes a
// transaction honour its context's deadline while it waits for the write
// lock: SQLite waits for a lock another connection holds in its busy
// handler, for up to the busy timeout (ten seconds), and the driver's
// interrupt, which is how a context ends a statement, does not end that
// wait. A transaction whose context ends sooner than the busy timeout
// therefore runs on a connection whose busy timeout is the time left
// (restored when the transaction ends), so it gives up the wait at its
// deadline, and the error then also matches context.DeadlineExceeded.
// Everything else goes to the pool as it is.
//
// Two waits stay out of a deadline's reach: opening a new connection to the
// in-memory database while another holds its write lock (its VFS lets no
// reader in, and the driver's open reads the database), served from idle
// connections otherwise; and a read outside a transaction on the in-memory
// database, for the same reason. A SQLite file in WAL mode lets readers in.
type deadlinePool struct {
	*sql.DB
	// busy is the busy timeout the pool's connections have.
	busy time.Duration
}

// GetDBConn returns the pool, for gorm.DB.DB.
func (p deadlinePool) GetDBConn() (*sql.DB, error) { return p.DB, nil }

// BeginTx begins a transaction; see deadlinePool.
func (p deadlinePool) BeginTx(ctx context.Context, opts *sql.TxOptions) (gorm.ConnPool, error) {
	deadline, ok := ctx.Deadline()
	if !ok || time.Until(deadline) >= p.busy {
		return p.DB.BeginTx(ctx, opts)
	}
	wait := max(time.Until(deadline), time.Millisecond)
	conn, restore, err := pinBusyTimeout(ctx, p.DB, wait)
	if err != nil {
		return nil, deadlineErr(ctx, err)
	}
	tx, err := conn.BeginTx(ctx, opts)
	if err != nil {
		restore(ctx)
		// The wait ended at the deadline, perhaps a moment before ctx
		// notices: the deadline is what ended it.
		return nil, fmt.Errorf("%w (%w)", err, context.DeadlineExceeded)
	}
	return &deadlineTx{Tx: tx, ctx: ctx, restore: restore}, nil
}

// deadlineTx is a transaction begun by deadlinePool on a connection with a
// shortened busy timeout; it restores the timeout when it ends.
type deadlineTx struct {
	*sql.Tx
	ctx     context.Context
	restore func(ctx context.Context)
}

// Commit commits the transaction and restores the connection.
func (t *deadlineTx) Commit() error {
	defer t.restore(t.ctx)
	return t.Tx.Commit()
}

// Rollback rolls the transaction back and restores the connection.
func (t *deadlineTx) Rollback() error {
	defer t.restore(t.ctx)
	return t.Tx.Rollback()
}

// deadlineErr adds ctx's deadline to err when it has passed.
func deadlineErr(ctx context.Context, err error) error {
	if cause := ctx.Err(); cause != nil && !errors.Is(err, cause) {
		return fmt.Errorf("%w (%w)", err, cause)
	}
	return err
}

// pinBusyTimeout takes a connection from pool with a busy timeout of wait.
// restore gives the connection its own busy timeout back and returns it to
// the pool, or closes it if that fails, so that no pooled connection keeps
// the short one; it runs without ctx's cancellation, which must not keep it
// from restoring.
func pinBusyTimeout(ctx context.Context, pool *sql.DB, wait time.Duration) (*sql.Conn, func(ctx context.Context), error) {
	conn, err := pool.Conn(ctx)
	if err != nil {
		return nil, nil, err
	}
	var busy int64 // milliseconds
	if err := conn.QueryRowContext(ctx, "PRAGMA busy_timeout").Scan(&busy); err != nil {
		conn.Close()
		return nil, nil, err
	}
	if _, err := conn.ExecContext(ctx, fmt.Sprintf("PRAGMA busy_timeout = %d", max(wait.Milliseconds(), 1))); err != nil {
		discard(conn)
		return nil, nil, err
	}
	restore := func(ctx context.Context) {
		if _, err := conn.ExecContext(context.WithoutCancel(ctx), fmt.Sprintf("PRAGMA busy_timeout = %d", busy)); err != nil {
			discard(conn)
			return
		}
		conn.Close()
	}
	return conn, restore, nil
}
