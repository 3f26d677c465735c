package authstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"github.com/forgeauth/authstore/config"
)

// ErrBackupUnsupported is returned by Store.Backup for a PostgreSQL or
// MySQL database: back it up with pg_dump or mysqldump
// --single-transaction, which take a consistent snapshot of a live
// database.
var ErrBackupUnsupported = errors.New("authstore: backup copies SQLite databases only; back up PostgreSQL with pg_dump (e.g. pg_dump --format=custom --file=auth.dump DATABASE_URL) and MySQL with mysqldump --single-transaction")

// ErrBackupCorrupt is returned by Store.Backup when PRAGMA integrity_check
// on the copy does not answer ok; the copy is removed.
var ErrBackupCorrupt = errors.New("authstore: backup failed its integrity check")

// BackupOptions change what Store.Backup does.
type BackupOptions struct {
	// Overwrite replaces an existing file at the path, once the new copy
	// passed its check. Without it an existing path is refused.
	Overwrite bool
}

// Backup writes a consistent copy of a SQLite database to path while the
// database stays in use: VACUUM INTO copies one read snapshot (writers in
// WAL mode go on meanwhile), into a temporary file beside path; the copy
// is synced, opened read-only and checked with PRAGMA integrity_check, and
// only then moved to path. It works on a Store opened WithReadOnly.
//
// It returns ErrBackupUnsupported for PostgreSQL and MySQL (use pg_dump or
// mysqldump), an error
// wrapping fs.ErrExist when path exists and opts.Overwrite is not set, and
// ErrBackupCorrupt when the check fails. On any failure path is left as it
// was and no temporary file remains.
func (s *Store) Backup(ctx context.Context, path string, opts BackupOptions) (err error) {
	if config.Dialect(s.db.Dialector.Name()) != config.DialectSQLite {
		return ErrBackupUnsupported
	}
	if s.config.Memory() {
		// VACUUM INTO writes through the database's VFS: memdb's output
		// would stay in memory.
		return errors.New("authstore: backup: the in-memory database has no file to copy; use a SQLite file or PostgreSQL")
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return fmt.Errorf("authstore: backup: %w", err)
	}
	if !opts.Overwrite {
		if _, err := os.Lstat(abs); err == nil {
			return fmt.Errorf("authstore: backup: %s: %w", abs, fs.ErrExist)
		}
	}
	// VACUUM INTO writes into a file that does not exist or is empty: an
	// empty temporary file reserves the name.
	tmp, err := os.CreateTemp(filepath.Dir(abs), "."+filepath.Base(abs)+".backup-*")
	if err != nil {
		return fmt.Errorf("authstore: backup: %w", err)
	}
	name := tmp.Name()
	tmp.Close()
	defer func() {
		if err != nil {
			os.Remove(name)
		}
	}()
	if err := s.db.WithContext(ctx).Exec("VACUUM INTO ?", name).Error; err != nil {
		return fmt.Errorf("authstore: backup: vacuum into %s: %w", name, err)
	}
	if err := syncFile(name); err != nil {
		return fmt.Errorf("authstore: backup: %w", err)
	}
	if err := checkHeader(name); err != nil {
		return err
	}
	if err := integrityCheck(ctx, name); err != nil {
		return err
	}
	if opts.Overwrite {
		err = os.Rename(name, abs)
	} else if err = os.Link(name, abs); err == nil {
		// Link refuses an existing path atomically; the name goes.
		err = os.Remove(name)
	}
	if errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("authstore: backup: %s: %w", abs, fs.ErrExist)
	}
	if err != nil {
		return fmt.Errorf("authstore: backup: %w", err)
	}
	return syncFile(filepath.Dir(abs))
}

// checkHeader checks that name begins as a SQLite database file does (an
// empty file would pass integrity_check as an empty database).
func checkHeader(name string) error {
	f, err := os.Open(name)
	if err != nil {
		return fmt.Errorf("authstore: backup: %w", err)
	}
	defer f.Close()
	var head [16]byte
	if _, err := io.ReadFull(f, head[:]); err != nil || string(head[:]) != "SQLite format 3\x00" {
		return fmt.Errorf("%w: the copy is not a SQLite database file", ErrBackupCorrupt)
	}
	return nil
}

// syncFile flushes a file or folder to stable storage.
func syncFile(name string) error {
	f, err := os.Open(name)
	if err != nil {
		return err
	}
	defer f.Close()
	return f.Sync()
}

// integrityCheck opens the SQLite file read-only and immutable (so it
// creates no -wal or -shm file beside it) and runs PRAGMA integrity_check,
// which must answer one row, ok.
func integrityCheck(ctx context.Context, name string) error {
	db, err := sql.Open("sqlite3", "file:"+(&url.URL{Path: name}).EscapedPath()+"?mode=ro&immutable=1")
	if err != nil {
		return fmt.Errorf("authstore: backup: open the copy: %w", err)
	}
	defer db.Close()
	rows, err := db.QueryContext(ctx, "PRAGMA integrity_check")
	if err != nil {
		return fmt.Errorf("authstore: backup: integrity check: %w", err)
	}
	defer rows.Close()
	var answers []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return fmt.Errorf("authstore: backup: integrity check: %w", err)
		}
		answers = append(answers, s)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("authstore: backup: integrity check: %w", err)
	}
	if len(answers) != 1 || answers[0] != "ok" {
		return fmt.Errorf("%w: %s", ErrBackupCorrupt, strings.Join(answers, "; "))
	}
	return nil
}
