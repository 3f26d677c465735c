package authstore

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/go-sql-driver/mysql"
	gormmysql "gorm.io/driver/mysql"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"
	"gorm.io/gorm/migrator"
	"gorm.io/gorm/schema"
)

// The MySQL settings authstore relies on (see MySQLDSN and MySQLConnector).
const (
	// mysqlCollation compares text byte for byte, as PostgreSQL and SQLite
	// do: a token digest or a normalised email never equals another that
	// differs in case or accents.
	mysqlCollation = "utf8mb4_bin"
	// mysqlSQLMode makes the server refuse, not cut or zero, a value that
	// does not fit its column (STRICT_ALL_TABLES and STRICT_TRANS_TABLES
	// among the modes TRADITIONAL sets, on MySQL and MariaDB alike).
	mysqlSQLMode = "TRADITIONAL"
	// mysqlIsolation is what every connection's transactions run at; see
	// MySQLConnector.
	mysqlIsolation = "READ-COMMITTED"
	// mysqlTableOptions are the options of every table AutoMigrate
	// creates, as the migrations write them.
	mysqlTableOptions = "ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin"
	// mysqlIndexedText is the column type of a text column that is
	// indexed: MySQL indexes no TEXT column without a key length, and 255
	// characters hold every indexed value authstore writes (an email is
	// at most 254 bytes, a digest 64).
	mysqlIndexedText = "varchar(255)"
)

// mysqlDatetimePrecision is the fractional-second digits of a time column:
// microseconds, as PostgreSQL keeps them and the Store's clock reads them.
var mysqlDatetimePrecision = 6

// MySQLDSN returns the go-sql-driver/mysql DSN authstore uses for dsn (a
// DSN in that driver's form, user:password@tcp(host:port)/database): the
// parameters it gives, plus parseTime with times in UTC (loc=UTC and the
// session time_zone '+00:00'), the utf8mb4 character set with the binary
// collation utf8mb4_bin, strict SQL mode (sql_mode TRADITIONAL: a value
// that does not fit is refused, never cut), and clientFoundRows (an
// UPDATE reports the rows it matched, as PostgreSQL and SQLite do, so a
// conditional update that writes the values already there is not taken
// for a lost race). It returns an error, naming no password, for a dsn
// the driver cannot parse.
//
// The isolation level cannot be set in a DSN that both MySQL and MariaDB
// accept: MySQLConnector sets it too.
func MySQLDSN(dsn string) (string, error) {
	cfg, err := mysqlConfig(dsn)
	if err != nil {
		return "", err
	}
	return cfg.FormatDSN(), nil
}

// MySQLConnector returns a connector for sql.OpenDB whose connections have
// MySQLDSN's settings and run their transactions at READ COMMITTED.
// Open uses it; a host that opens its own handle for New uses it too (or
// sets the same settings itself: New checks them).
//
// READ COMMITTED, not InnoDB's default REPEATABLE READ: under REPEATABLE
// READ a locking read or an UPDATE or DELETE by a non-unique column
// (revoking a token family, a user's sessions, a purge by expiry) locks the
// gaps between index records too, so concurrent inserts into those gaps
// wait or deadlock (error 1213); READ COMMITTED locks the rows only, and
// each statement sees the latest committed rows, which is PostgreSQL's
// default and what the repositories' conditional updates are written for
// (a second consumer of a single-use row waits for the first's lock, then
// finds the row used and changes nothing).
func MySQLConnector(dsn string) (driver.Connector, error) {
	cfg, err := mysqlConfig(dsn)
	if err != nil {
		return nil, err
	}
	c, err := mysql.NewConnector(cfg)
	if err != nil {
		return nil, fmt.Errorf("authstore: mysql dsn: %s", cleanErr(err))
	}
	return readCommitted{c}, nil
}

// mysqlConfig parses dsn and applies authstore's settings to it.
func mysqlConfig(dsn string) (*mysql.Config, error) {
	cfg, err := mysql.ParseDSN(dsn)
	if err != nil {
		return nil, fmt.Errorf("authstore: mysql dsn: %s", cleanErr(err))
	}
	cfg.ParseTime = true
	cfg.Loc = time.UTC
	cfg.Collation = mysqlCollation
	cfg.ClientFoundRows = true
	if cfg.Params == nil {
		cfg.Params = map[string]string{}
	}
	delete(cfg.Params, "charset") // the collation names the character set
	cfg.Params["time_zone"] = "'+00:00'"
	cfg.Params["sql_mode"] = "'" + mysqlSQLMode + "'"
	return cfg, nil
}

// readCommitted is a connector whose connections run their transactions
// at READ COMMITTED: SET SESSION TRANSACTION, which MySQL and MariaDB both
// accept (their variables for it have different names).
type readCommitted struct{ driver.Connector }

// Connect opens a connection and sets its isolation level.
func (c readCommitted) Connect(ctx context.Context) (driver.Conn, error) {
	conn, err := c.Connector.Connect(ctx)
	if err != nil {
		return nil, err
	}
	ex, ok := conn.(driver.ExecerContext)
	if !ok {
		conn.Close()
		return nil, fmt.Errorf("authstore: mysql connection %T cannot execute statements", conn)
	}
	if _, err := ex.ExecContext(ctx, "SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED", nil); err != nil {
		conn.Close()
		return nil, err
	}
	return conn, nil
}

// mysqlOpenHint says how to fix a MySQL connection error when authstore
// knows: an unknown database (1049) is created by hand, with the
// character set and collation the migrations give every table.
func mysqlOpenHint(err error) string {
	var me *mysql.MySQLError
	if errors.As(err, &me) && me.Number == 1049 {
		return "create it first: CREATE DATABASE name CHARACTER SET utf8mb4 COLLATE utf8mb4_bin"
	}
	return ""
}

// mysqlDialector is GORM's MySQL dialector with authstore's column types:
// an indexed text column is varchar(255) (GORM would make it longtext,
// which MySQL cannot index without a key length) and a time column keeps
// microseconds (GORM's default is milliseconds). Its name stays "mysql".
type mysqlDialector struct{ *gormmysql.Dialector }

// newMySQLDialector returns the dialector over pool.
func newMySQLDialector(pool gorm.ConnPool) mysqlDialector {
	d := gormmysql.New(gormmysql.Config{Conn: pool, DefaultDatetimePrecision: &mysqlDatetimePrecision}).(*gormmysql.Dialector)
	return mysqlDialector{d}
}

// Initialize sets up GORM's MySQL dialector, then makes its FOR clause
// write PostgreSQL's FOR NO KEY UPDATE (the account lock of the
// repositories' lock order) as FOR UPDATE, the row lock MySQL has: InnoDB
// has no lock that lets rows referring to the user be inserted meanwhile,
// so such an insert waits for the account's lock instead, in the same
// order.
func (d mysqlDialector) Initialize(db *gorm.DB) error {
	if err := d.Dialector.Initialize(db); err != nil {
		return err
	}
	prev := db.ClauseBuilders[gormmysql.ClauseFor]
	db.ClauseBuilders[gormmysql.ClauseFor] = func(c clause.Clause, b clause.Builder) {
		if l, ok := c.Expression.(clause.Locking); ok && strings.EqualFold(l.Strength, "NO KEY UPDATE") {
			l.Strength = clause.LockingStrengthUpdate
			c.Expression = l
		}
		if prev != nil {
			prev(c, b)
			return
		}
		c.Build(b)
	}
	return nil
}

// DataTypeOf returns the column type of field.
func (d mysqlDialector) DataTypeOf(field *schema.Field) string {
	if field.DataType == schema.String && field.Size == 0 && indexed(field) {
		return mysqlIndexedText
	}
	return d.Dialector.DataTypeOf(field)
}

// Migrator returns GORM's MySQL migrator with this dialector's column
// types.
func (d mysqlDialector) Migrator(db *gorm.DB) gorm.Migrator {
	return gormmysql.Migrator{
		Migrator:  migrator.Migrator{Config: migrator.Config{DB: db, Dialector: d}},
		Dialector: *d.Dialector,
	}
}

// indexed reports whether field is in a key: GORM's tags for an index, a
// unique index or constraint, or the primary key.
func indexed(field *schema.Field) bool {
	for _, k := range []string{"INDEX", "UNIQUEINDEX", "UNIQUE"} {
		if field.TagSettings[k] != "" {
			return true
		}
	}
	return field.PrimaryKey
}

// checkMySQL verifies, on one connection of db, every setting authstore
// relies on, and names the first that does not hold: times read as
// time.Time in UTC (parseTime, loc=UTC), the session time zone UTC, strict
// SQL mode, the utf8mb4 character set on the connection, READ COMMITTED,
// and updates that report the rows they matched (clientFoundRows).
func checkMySQL(ctx context.Context, db *gorm.DB) error {
	pool, err := db.DB()
	if err != nil {
		return fmt.Errorf("authstore: the handle has no connection pool: %w", err)
	}
	conn, err := pool.Conn(ctx)
	if err != nil {
		return fmt.Errorf("authstore: connect to mysql: %s", cleanErr(err))
	}
	defer conn.Close()
	const fix = "open the database with authstore.MySQLConnector(dsn)"
	var sqlMode, timeZone, charset string
	if err := conn.QueryRowContext(ctx, "SELECT @@SESSION.sql_mode, @@SESSION.time_zone, @@SESSION.character_set_connection").
		Scan(&sqlMode, &timeZone, &charset); err != nil {
		return fmt.Errorf("authstore: read mysql settings: %s", cleanErr(err))
	}
	isolation, err := mysqlIsolationOf(ctx, conn)
	if err != nil {
		return err
	}
	var t any
	if err := conn.QueryRowContext(ctx, "SELECT CAST('2001-02-03 04:05:06.789012' AS DATETIME(6))").Scan(&t); err != nil {
		return fmt.Errorf("authstore: read a mysql datetime: %s", cleanErr(err))
	}
	modes := strings.Split(strings.ToUpper(sqlMode), ",")
	strict := false
	for _, m := range modes {
		strict = strict || m == "STRICT_ALL_TABLES" || m == "STRICT_TRANS_TABLES"
	}
	tm, isTime := t.(time.Time)
	switch {
	case !isTime:
		return fmt.Errorf("%w: mysql parseTime is off (a DATETIME reads as %T, want time.Time; parseTime=true); %s", ErrUnsafeDatabase, t, fix)
	case tm.Location() != time.UTC:
		return fmt.Errorf("%w: mysql loc is %s (want UTC, loc=UTC); %s", ErrUnsafeDatabase, tm.Location(), fix)
	case timeZone != "+00:00" && !strings.EqualFold(timeZone, "UTC"):
		return fmt.Errorf("%w: mysql time_zone is %q (want '+00:00', time_zone=%%27%%2B00%%3A00%%27); %s", ErrUnsafeDatabase, timeZone, fix)
	case !strict:
		return fmt.Errorf("%w: mysql sql_mode %q is not strict (want STRICT_ALL_TABLES or STRICT_TRANS_TABLES, sql_mode=TRADITIONAL); %s", ErrUnsafeDatabase, sqlMode, fix)
	case charset != "utf8mb4":
		return fmt.Errorf("%w: mysql character_set_connection is %q (want utf8mb4, collation=utf8mb4_bin); %s", ErrUnsafeDatabase, charset, fix)
	case isolation != mysqlIsolation:
		return fmt.Errorf("%w: mysql transaction isolation is %q (want %s); %s", ErrUnsafeDatabase, isolation, mysqlIsolation, fix)
	}
	found, err := mysqlFoundRows(ctx, conn)
	if err != nil {
		return err
	}
	if !found {
		return fmt.Errorf("%w: mysql clientFoundRows is off (an UPDATE reports the rows it changed, want those it matched; clientFoundRows=true); %s", ErrUnsafeDatabase, fix)
	}
	return nil
}

// mysqlIsolationOf reads the session's isolation level: MySQL 8 names its
// variable transaction_isolation, MariaDB before 11.1 tx_isolation.
func mysqlIsolationOf(ctx context.Context, conn *sql.Conn) (string, error) {
	var level string
	err := conn.QueryRowContext(ctx, "SELECT @@SESSION.transaction_isolation").Scan(&level)
	var me *mysql.MySQLError
	if errors.As(err, &me) && me.Number == 1193 { // unknown system variable
		err = conn.QueryRowContext(ctx, "SELECT @@SESSION.tx_isolation").Scan(&level)
	}
	if err != nil {
		return "", fmt.Errorf("authstore: read mysql transaction isolation: %s", cleanErr(err))
	}
	return level, nil
}

// mysqlFoundRows reports whether an UPDATE that writes the values a row
// already holds reports the row, on a temporary table of the connection's
// own (dropped after; creating one commits nothing).
func mysqlFoundRows(ctx context.Context, conn *sql.Conn) (bool, error) {
	const probe = "authstore_found_rows_probe"
	stmts := []string{
		"CREATE TEMPORARY TABLE " + probe + " (id INT NOT NULL PRIMARY KEY, v INT NOT NULL)",
		"INSERT INTO " + probe + " (id, v) VALUES (1, 1)",
	}
	defer conn.ExecContext(context.WithoutCancel(ctx), "DROP TEMPORARY TABLE IF EXISTS "+probe)
	for _, q := range stmts {
		if _, err := conn.ExecContext(ctx, q); err != nil {
			return false, fmt.Errorf("authstore: check mysql clientFoundRows: %s", cleanErr(err))
		}
	}
	res, err := conn.ExecContext(ctx, "UPDATE "+probe+" SET v = 1 WHERE id = 1")
	if err != nil {
		return false, fmt.Errorf("authstore: check mysql clientFoundRows: %s", cleanErr(err))
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("authstore: check mysql clientFoundRows: %s", cleanErr(err))
	}
	return n == 1, nil
}
