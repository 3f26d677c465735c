package migrations

import (
	"context"
	"crypto/rand"
	"database/sql"
	"database/sql/driver"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"strings"

	"github.com/forgeauth/authstore/config"
	"gorm.io/driver/mysql"
	"gorm.io/driver/postgres"
	"gorm.io/driver/sqlite"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"
)

// ErrSchemaMismatch is returned by Baseline for a database whose authstore
// tables differ from the ones the migrations build; the error names the
// first difference.
var ErrSchemaMismatch = errors.New("migrations: the database's schema is not the migrations'")

// Baseline records the newest embedded version as applied, running no
// migration, on a database whose authstore tables were built another way:
// by AutoMigrate in development, or by hand. It first compares the
// database's authstore tables, indexes, foreign keys and views with those
// the migrations build (the comparison the parity tests make) and refuses
// with ErrSchemaMismatch, naming the first difference, when they differ.
// It returns an error, changing nothing, when the database already records
// a version: migrate it with Up instead. After Baseline, Up is a no-op
// until a newer binary brings a migration.
//
// The rows get what the migrations' Go steps give them: users whose
// email_normalized is not in models.NormalizeEmail's form (written by a
// binary before 000004) are normalised, in one transaction, before the
// version is recorded; when two of them would become one, Baseline returns
// ErrEmailCollision, naming both, and changes nothing.
func (mg *Migrator) Baseline(ctx context.Context) error {
	st, err := mg.Status(ctx)
	if err != nil {
		return err
	}
	if st.Dirty {
		return fmt.Errorf("%w at version %d: a migration failed part-way; repair the database to match a version and record it with `authstore migrate force VERSION`, or record none with `authstore migrate force 0` and baseline again", ErrDirty, st.Version)
	}
	if st.Recorded {
		return fmt.Errorf("migrations: baseline: %s already records version %d; baseline is for a database with no recorded version (run migrate up instead)", st.VersionTable, st.Version)
	}
	if err := mg.Compare(ctx); err != nil {
		return err
	}
	if err := mg.normaliseEmails(ctx); err != nil {
		return err
	}
	return mg.Force(ctx, st.Latest())
}

// Compare returns nil when the database's authstore tables, indexes,
// foreign keys and views are those the embedded migrations build, and an
// error wrapping ErrSchemaMismatch that names the first difference
// otherwise. It reads the database and builds the reference in a scratch
// database (SQLite: in memory; PostgreSQL: a schema in a transaction that
// is rolled back; MySQL: a database of its own, dropped after, which needs
// the CREATE and DROP privileges on it), so it changes nothing in the
// database compared.
func (mg *Migrator) Compare(ctx context.Context) error {
	got, err := inspectTables(ctx, mg.db, mg.dialect, mg.settings.tables)
	if err != nil {
		return err
	}
	want, err := referenceSchema(ctx, mg.referenceDB(), mg.dialect)
	if err != nil {
		return err
	}
	if err := got.Diff(want); err != nil {
		// Diff's own "migrations: " would stutter after the sentinel's.
		msg := strings.TrimPrefix(err.Error(), "migrations: ")
		if len(got.Tables) == 0 && len(got.Views) == 0 {
			// Nothing of authstore's under these names: most often tables
			// built with another prefix or schema than the configured one.
			msg += fmt.Sprintf(", and so is every other authstore table named as configured (%s); give AUTHSTORE_TABLE_PREFIX and AUTHSTORE_SCHEMA the values the tables were built with", describeTables(mg.settings.tables))
		}
		return fmt.Errorf("%w: %s", ErrSchemaMismatch, msg)
	}
	return nil
}

// describeTables says how tables names authstore's tables, for an error.
func describeTables(tables config.Tables) string {
	prefix := "no table prefix"
	if tables.Prefix != "" {
		prefix = fmt.Sprintf("table prefix %q", tables.Prefix)
	}
	if tables.Schema == "" {
		return prefix
	}
	return fmt.Sprintf("%s, schema %q", prefix, tables.Schema)
}

// referenceDB is the pool a PostgreSQL reference is built on: the
// Migrator's own, so that its search_path is db's.
func (mg *Migrator) referenceDB() *sql.DB {
	if mg.own != nil {
		return mg.own
	}
	return mg.db
}

// inspectTables inspects authstore's tables and views in db, named as
// tables says, and returns them under their original names.
func inspectTables(ctx context.Context, db *sql.DB, d config.Dialect, tables config.Tables) (Schema, error) {
	g, err := gormOver(db, d)
	if err != nil {
		return Schema{}, err
	}
	ours := map[string]bool{}
	for _, base := range objects {
		ours[tables.Prefix+base] = true
	}
	s, err := Inspect(ctx, g, InspectOptions{Schema: tables.Schema, Include: func(name string) bool { return ours[name] }})
	if err != nil {
		return Schema{}, err
	}
	if tables.Schema != "" {
		for name, def := range s.Views {
			s.Views[name] = strings.ReplaceAll(def, tables.Schema+".", "")
		}
	}
	return s.Rename(func(name string) string { return unrender(name, tables) }), nil
}

// referenceSchema returns what the embedded migrations of d build, under
// the original names.
func referenceSchema(ctx context.Context, db *sql.DB, d config.Dialect) (Schema, error) {
	var b [6]byte
	_, _ = rand.Read(b[:])
	scratch := "authstore_reference_" + hex.EncodeToString(b[:])
	if d == config.DialectMySQL {
		return referenceMySQL(ctx, db, scratch)
	}
	if d == config.DialectSQLite {
		ref, err := sql.Open("sqlite3", "file:/"+scratch+"?vfs=memdb&_foreign_keys=1")
		if err != nil {
			return Schema{}, fmt.Errorf("migrations: reference database: %w", err)
		}
		defer ref.Close()
		ref.SetMaxOpenConns(1) // the memdb database lives as long as its connection
		if err := applyFiles(ctx, ref, d); err != nil {
			return Schema{}, err
		}
		return inspectTables(ctx, ref, d, config.Tables{})
	}
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return Schema{}, fmt.Errorf("migrations: reference schema: %s", oneLine(err))
	}
	defer tx.Rollback() // PostgreSQL's DDL is transactional: nothing stays
	if _, err := tx.ExecContext(ctx, "CREATE SCHEMA "+scratch+"; SET LOCAL search_path TO "+scratch); err != nil {
		return Schema{}, fmt.Errorf("migrations: reference schema: %s", oneLine(err))
	}
	if err := applyFiles(ctx, tx, d); err != nil {
		return Schema{}, err
	}
	g, err := gorm.Open(postgres.New(postgres.Config{Conn: tx}), quietGORM())
	if err != nil {
		return Schema{}, fmt.Errorf("migrations: reference schema: %w", err)
	}
	return Inspect(ctx, g, InspectOptions{Schema: scratch, Include: isObject})
}

// referenceMySQL builds the reference in a scratch database on one
// connection of db (MySQL's DDL is not transactional), inspects it and
// drops it. The connection leaves the pool afterwards: it used another
// database.
func referenceMySQL(ctx context.Context, db *sql.DB, scratch string) (s Schema, err error) {
	conn, err := db.Conn(ctx)
	if err != nil {
		return Schema{}, fmt.Errorf("migrations: reference database: %s", oneLine(err))
	}
	defer func() {
		_, _ = conn.ExecContext(context.WithoutCancel(ctx), "DROP DATABASE IF EXISTS "+scratch)
		_ = conn.Raw(func(any) error { return driver.ErrBadConn }) // never back to the pool
		conn.Close()
	}()
	for _, q := range []string{"CREATE DATABASE " + scratch + " CHARACTER SET utf8mb4 COLLATE utf8mb4_bin", "USE " + scratch} {
		if _, err := conn.ExecContext(ctx, q); err != nil {
			return Schema{}, fmt.Errorf("migrations: reference database: %s", oneLine(err))
		}
	}
	if err := applyFiles(ctx, conn, config.DialectMySQL); err != nil {
		return Schema{}, err
	}
	g, err := gorm.Open(mysql.New(mysql.Config{Conn: conn, SkipInitializeWithVersion: true}), quietGORM())
	if err != nil {
		return Schema{}, fmt.Errorf("migrations: reference database: %w", err)
	}
	return Inspect(ctx, g, InspectOptions{Include: isObject})
}

// isObject reports whether name is one of authstore's tables or views
// under its original name.
func isObject(name string) bool {
	for _, o := range objects {
		if o == name {
			return true
		}
	}
	return false
}

// applyFiles runs every embedded up migration of d, in order, on db.
func applyFiles(ctx context.Context, db interface {
	ExecContext(context.Context, string, ...any) (sql.Result, error)
}, d config.Dialect) error {
	src, err := FS(d)
	if err != nil {
		return err
	}
	vs, err := Versions(d)
	if err != nil {
		return err
	}
	for _, v := range vs {
		data, err := fs.ReadFile(src, v.upFile())
		if err != nil {
			return err
		}
		stmts := []statement{{sql: string(data)}}
		if d == config.DialectMySQL {
			stmts = splitStatements(string(data)) // the driver runs one statement at a time
		}
		for _, st := range stmts {
			if _, err := db.ExecContext(ctx, st.sql); err != nil {
				return fmt.Errorf("migrations: reference schema: %s: %s", v.upFile(), oneLine(err))
			}
		}
	}
	return nil
}

// gormOver returns a GORM handle over db, for Inspect.
func gormOver(db *sql.DB, d config.Dialect) (*gorm.DB, error) {
	var dial gorm.Dialector
	switch d {
	case config.DialectPostgres:
		dial = postgres.New(postgres.Config{Conn: db})
	case config.DialectSQLite:
		dial = &sqlite.Dialector{Conn: db}
	case config.DialectMySQL:
		dial = mysql.New(mysql.Config{Conn: db, SkipInitializeWithVersion: true})
	default:
		return nil, fmt.Errorf("%w: %q", ErrDialect, d)
	}
	g, err := gorm.Open(dial, quietGORM())
	if err != nil {
		return nil, fmt.Errorf("migrations: %w", err)
	}
	return g, nil
}

func quietGORM() *gorm.Config { return &gorm.Config{Logger: logger.Discard} }
