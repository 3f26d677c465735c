// Package dberr classifies driver errors by what a caller can do about
// them, by error type and code, never by message text: a deadlock or
// serialization failure (the transaction was rolled back and may be run
// again), a lock or statement timeout (a lock stayed held past the
// database's wait), and a lost connection (the server closed it). It is the
// one place that knows driver error codes: repositories.Translate and the
// transaction helper ask it, so no dialect branch is needed in package
// repositories. A dialect is added here by adding its codes.
package dberr

import (
	"database/sql/driver"
	"errors"
	"fmt"

	"github.com/go-sql-driver/mysql"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/mattn/go-sqlite3"
)

// Kind is what a driver error means to the code that ran the statement.
type Kind int

const (
	// Other is any error not classified below (including nil).
	Other Kind = iota
	// Conflict is a deadlock or serialization failure: the database chose
	// the transaction as the victim and rolled it back, so nothing of it
	// was committed and running the whole transaction again is safe
	// (PostgreSQL 40P01, 40001; SQLite SQLITE_BUSY_SNAPSHOT; MySQL 1213).
	Conflict
	// Timeout is a lock or statement that waited past the database's limit:
	// PostgreSQL lock_timeout (55P03) and statement_timeout or a cancel
	// request (57014); SQLite's busy timeout (SQLITE_BUSY, SQLITE_LOCKED)
	// and an interrupted statement (SQLITE_INTERRUPT, what a context
	// deadline causes).
	Timeout
	// ConnectionLost is a connection the server or the network closed: an
	// administrator's pg_terminate_backend, a shutdown or crash (57P01,
	// 57P02, 57P03, class 08), or a connection database/sql found bad
	// (driver.ErrBadConn). Whether the statement ran is not known from the
	// kind alone; see SafeToRetry.
	ConnectionLost
)

// String names the kind for messages and tests.
func (k Kind) String() string {
	switch k {
	case Conflict:
		return "conflict"
	case Timeout:
		return "timeout"
	case ConnectionLost:
		return "connection lost"
	}
	return "other"
}

// Classify returns the kind of err, looking through wrapping.
func Classify(err error) Kind {
	if err == nil {
		return Other
	}
	var pg *pgconn.PgError
	if errors.As(err, &pg) {
		return postgres(pg.Code)
	}
	var lite sqlite3.Error
	if errors.As(err, &lite) {
		return sqlite(lite)
	}
	var litep *sqlite3.Error
	if errors.As(err, &litep) && litep != nil {
		return sqlite(*litep)
	}
	var my *mysql.MySQLError
	if errors.As(err, &my) {
		return mysqlKind(my.Number)
	}
	if errors.Is(err, mysql.ErrInvalidConn) {
		return ConnectionLost
	}
	if SafeToRetry(err) || errors.Is(err, driver.ErrBadConn) {
		return ConnectionLost
	}
	return Other
}

// SafeToRetry reports whether err says the statement never reached the
// server (the connection failed before anything was sent: pgconn's
// SafeToRetry, database/sql's driver.ErrBadConn before a statement is
// sent), so running it again on another connection cannot do it twice.
func SafeToRetry(err error) bool {
	return err != nil && (pgconn.SafeToRetry(err) || errors.Is(err, driver.ErrBadConn))
}

// Code returns the database's own code for err: the SQLSTATE on
// PostgreSQL, SQLite's extended result code ("SQLite 5"), the MySQL error
// number ("MySQL 1213"), or "" for an
// error that carries none. It holds no bound value, so a message may show
// it.
func Code(err error) string {
	var pg *pgconn.PgError
	if errors.As(err, &pg) {
		return pg.Code
	}
	var lite sqlite3.Error
	if errors.As(err, &lite) {
		return fmt.Sprintf("SQLite %d", int(lite.ExtendedCode))
	}
	var my *mysql.MySQLError
	if errors.As(err, &my) {
		return fmt.Sprintf("MySQL %d", my.Number)
	}
	return ""
}

// mysqlKind classifies a MySQL or MariaDB server error number.
func mysqlKind(n uint16) Kind {
	switch n {
	case 1213: // ER_LOCK_DEADLOCK: InnoDB rolled the whole transaction back
		return Conflict
	case 1205, // ER_LOCK_WAIT_TIMEOUT (and MariaDB's NOWAIT): the statement alone is rolled back
		3572, // ER_LOCK_NOWAIT (MySQL)
		3024, // ER_QUERY_TIMEOUT (MySQL max_execution_time)
		1969, // ER_STATEMENT_TIMEOUT (MariaDB max_statement_time)
		1317: // ER_QUERY_INTERRUPTED (KILL QUERY)
		return Timeout
	case 1053, // ER_SERVER_SHUTDOWN
		1927,       // ER_CONNECTION_KILLED (MariaDB)
		4031,       // ER_CLIENT_INTERACTION_TIMEOUT (MySQL)
		2006, 2013: // CR_SERVER_GONE_ERROR, CR_SERVER_LOST
		return ConnectionLost
	}
	return Other
}

// postgres classifies a SQLSTATE.
func postgres(code string) Kind {
	switch code {
	case "40P01", "40001": // deadlock_detected, serialization_failure
		return Conflict
	case "55P03", "57014": // lock_not_available, query_canceled
		return Timeout
	case "57P01", "57P02", "57P03": // admin_shutdown, crash_shutdown, cannot_connect_now
		return ConnectionLost
	}
	if len(code) == 5 && code[:2] == "08" { // connection_exception
		return ConnectionLost
	}
	return Other
}

// sqlite classifies a SQLite result code.
func sqlite(e sqlite3.Error) Kind {
	if e.ExtendedCode == sqlite3.ErrBusySnapshot {
		// A read transaction's snapshot is too old to write: it must start
		// over, as a PostgreSQL serialization failure.
		return Conflict
	}
	switch e.Code {
	case sqlite3.ErrBusy, sqlite3.ErrLocked, sqlite3.ErrInterrupt:
		return Timeout
	}
	return Other
}
