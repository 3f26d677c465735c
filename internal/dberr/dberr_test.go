package dberr

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/go-sql-driver/mysql"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/mattn/go-sqlite3"
)

func TestClassifyPostgresCodes(t *testing.T) {
	for code, want := range map[string]Kind{
		"40P01": Conflict, "40001": Conflict,
		"55P03": Timeout, "57014": Timeout,
		"57P01": ConnectionLost, "57P02": ConnectionLost, "57P03": ConnectionLost, "08006": ConnectionLost,
		"23505": Other, "22P02": Other, "42P01": Other,
	} {
		err := fmt.Errorf("op: %w", &pgconn.PgError{Code: code, Message: "m"})
		if got := Classify(err); got != want {
			t.Errorf("Classify(SQLSTATE %s) = %v; want %v", code, got, want)
		}
		if got := Code(err); got != code {
			t.Errorf("Code(SQLSTATE %s) = %q; want %q", code, got, code)
		}
	}
}

func TestClassifyMySQLCodes(t *testing.T) {
	for n, want := range map[uint16]Kind{
		1213: Conflict,
		1205: Timeout, 3572: Timeout, 3024: Timeout, 1969: Timeout, 1317: Timeout,
		1053: ConnectionLost, 1927: ConnectionLost, 2006: ConnectionLost, 2013: ConnectionLost,
		1062: Other, 1452: Other, 1064: Other,
	} {
		err := fmt.Errorf("op: %w", &mysql.MySQLError{Number: n, Message: "m"})
		if got := Classify(err); got != want {
			t.Errorf("Classify(MySQL %d) = %v; want %v", n, got, want)
		}
		if got, wantCode := Code(err), fmt.Sprintf("MySQL %d", n); got != wantCode {
			t.Errorf("Code(MySQL %d) = %q; want %q", n, got, wantCode)
		}
	}
	if got := Classify(fmt.Errorf("op: %w", mysql.ErrInvalidConn)); got != ConnectionLost {
		t.Errorf("Classify(mysql.ErrInvalidConn) = %v; want %v", got, ConnectionLost)
	}
}

func TestClassifyOther(t *testing.T) {
	for _, c := range []struct {
		err  error
		want Kind
	}{
		{nil, Other},
		{errors.New("database is locked"), Other}, // text is never matched
		{context.DeadlineExceeded, Other},
		{fmt.Errorf("x: %w", driver.ErrBadConn), ConnectionLost},
		{sqlite3.Error{Code: sqlite3.ErrConstraint}, Other},
		{sqlite3.Error{Code: sqlite3.ErrBusy, ExtendedCode: sqlite3.ErrBusySnapshot}, Conflict},
		{sqlite3.Error{Code: sqlite3.ErrInterrupt}, Timeout},
	} {
		if got := Classify(c.err); got != c.want {
			t.Errorf("Classify(%v) = %v; want %v", c.err, got, c.want)
		}
	}
	if !SafeToRetry(driver.ErrBadConn) || SafeToRetry(&pgconn.PgError{Code: "57P01"}) || SafeToRetry(nil) {
		t.Error("SafeToRetry: want true for driver.ErrBadConn only")
	}
}

// TestClassifySQLiteBusy classifies the error SQLite itself returns when a
// write lock stays held past the busy timeout.
func TestClassifySQLiteBusy(t *testing.T) {
	ctx := context.Background()
	dsn := "file:" + filepath.Join(t.TempDir(), "busy.db") + "?_journal_mode=WAL&_busy_timeout=20&_txlock=immediate"
	db, err := sql.Open("sqlite3", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.ExecContext(ctx, "CREATE TABLE t (x INTEGER)"); err != nil {
		t.Fatal(err)
	}
	holder, err := db.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer holder.Rollback()
	_, err = db.BeginTx(ctx, nil)
	if got := Classify(err); got != Timeout {
		t.Fatalf("Classify(%v) = %v; want %v", err, got, Timeout)
	}
	if got := Code(err); got != "SQLite 5" {
		t.Fatalf("Code(%v) = %q; want SQLite's result code", err, got)
	}
}
