package migrations

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/forgeauth/authstore/config"
	"gorm.io/gorm"
)

// ReadStatus returns the applied version of db's authstore migrations and
// the embedded ones, as Migrator.Status does, but reads only: it creates
// neither the version table nor the schema, so it works on a read-only
// database. A database whose version is still in schema_migrations (see
// New) reports that version.
func ReadStatus(ctx context.Context, db *gorm.DB, opts ...Option) (Status, error) {
	sqlDB, err := db.DB()
	if err != nil {
		return Status{}, fmt.Errorf("migrations: %w", err)
	}
	d := config.Dialect(db.Dialector.Name())
	set := newSettings(gormTables(db, opts))
	st := Status{Dialect: d, VersionTable: set.qualifiedVersionTable()}
	if st.Available, err = Versions(d); err != nil {
		return Status{}, err
	}
	v, dirty, ok, err := readVersion(ctx, sqlDB, d, set.tables.Schema, set.versionTableName())
	if err != nil {
		return Status{}, err
	}
	if !ok {
		legacy, err := legacyVersion(ctx, sqlDB, d, set)
		if err != nil {
			return Status{}, err
		}
		v, ok = legacy, legacy > 0
	}
	st.Version, st.Dirty, st.Recorded = v, dirty, ok
	return st, nil
}

// qualifiedVersionTable is the version table's name with its schema.
func (s settings) qualifiedVersionTable() string {
	if s.tables.Schema != "" {
		return s.tables.Schema + "." + s.versionTableName()
	}
	return s.versionTableName()
}

// readVersion reads the version golang-migrate recorded in table; ok is
// false when the table does not exist or records none.
func readVersion(ctx context.Context, db *sql.DB, d config.Dialect, schema, table string) (v uint, dirty, ok bool, err error) {
	exists, err := tableExists(ctx, db, d, schema, table)
	if err != nil || !exists {
		return 0, false, false, err
	}
	name := table
	if schema != "" {
		name = schema + "." + table
	}
	var version int64
	err = db.QueryRowContext(ctx, "SELECT version, dirty FROM "+name+" LIMIT 1").Scan(&version, &dirty)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, false, false, nil
	}
	if err != nil {
		return 0, false, false, fmt.Errorf("migrations: read version from %s: %s", name, oneLine(err))
	}
	if version < 0 { // golang-migrate's "no version", dirty after a failed first migration
		return 0, dirty, dirty, nil
	}
	return uint(version), dirty, true, nil
}

// tableExists reports whether table exists in schema ("" for the current
// one on PostgreSQL; SQLite has none, and MySQL's is the connection's
// database).
func tableExists(ctx context.Context, db *sql.DB, d config.Dialect, schema, table string) (bool, error) {
	q, args := "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = ?", []any{table}
	switch d {
	case config.DialectPostgres:
		q = "SELECT count(*) FROM information_schema.tables WHERE table_schema = COALESCE(NULLIF($1, ''), CURRENT_SCHEMA()) AND table_name = $2"
		args = []any{schema, table}
	case config.DialectMySQL:
		q = "SELECT count(*) FROM information_schema.tables WHERE table_schema = DATABASE() AND table_name = ? AND table_type = 'BASE TABLE'"
	}
	var n int
	if err := db.QueryRowContext(ctx, q, args...).Scan(&n); err != nil {
		return false, fmt.Errorf("migrations: look for table %s: %s", table, oneLine(err))
	}
	return n > 0, nil
}

// legacyVersion returns the version authstore recorded in golang-migrate's
// schema_migrations table before it had a table of its own, when all of
// these hold, and 0 otherwise: the tables have their original names in
// the current schema, the version table is DefaultVersionTable and does not
// exist, schema_migrations records a clean version that this binary
// carries, and authstore's users and oauth_clients tables exist (a host's
// own golang-migrate versions are timestamps, and its tables are not
// authstore's).
func legacyVersion(ctx context.Context, db *sql.DB, d config.Dialect, s settings) (uint, error) {
	if s.tables != (config.Tables{}) || s.versionTable != DefaultVersionTable {
		return 0, nil
	}
	if exists, err := tableExists(ctx, db, d, "", s.versionTableName()); err != nil || exists {
		return 0, err
	}
	v, dirty, ok, err := readVersion(ctx, db, d, "", legacyVersionTable)
	if err != nil || !ok || dirty {
		return 0, err
	}
	vs, err := Versions(d)
	if err != nil {
		return 0, err
	}
	known := false
	for _, x := range vs {
		known = known || x.Version == v
	}
	if !known {
		return 0, nil
	}
	for _, t := range []string{"users", "oauth_clients"} {
		if exists, err := tableExists(ctx, db, d, "", t); err != nil || !exists {
			return 0, err
		}
	}
	return v, nil
}

// Elsewhere lists the tables of db's database (on PostgreSQL, of the
// connection's current schema) that look like authstore's version table
// under another prefix than the options give
// ("auth_authstore_schema_migrations"): what a command that forgot
// AUTHSTORE_TABLE_PREFIX should be told about. It only reads.
func Elsewhere(ctx context.Context, db *gorm.DB, opts ...Option) ([]string, error) {
	set := newSettings(gormTables(db, opts))
	mine := set.qualifiedVersionTable()
	q := "SELECT name FROM sqlite_master WHERE type = 'table' AND name LIKE ? ORDER BY name"
	switch config.Dialect(db.Dialector.Name()) {
	case config.DialectPostgres:
		q = `SELECT table_name FROM information_schema.tables
			WHERE table_schema = CURRENT_SCHEMA() AND table_name LIKE ? ORDER BY 1`
	case config.DialectMySQL:
		q = `SELECT table_name FROM information_schema.tables
			WHERE table_schema = DATABASE() AND table_name LIKE ? ORDER BY 1`
	}
	var names []string
	if err := db.WithContext(ctx).Raw(q, "%"+set.versionTable).Scan(&names).Error; err != nil {
		return nil, fmt.Errorf("migrations: look for version tables: %s", oneLine(err))
	}
	var out []string
	for _, n := range names {
		if n != mine && n != set.tables.Prefix+set.versionTable {
			out = append(out, n)
		}
	}
	return out, nil
}
