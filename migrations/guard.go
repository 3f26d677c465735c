package migrations

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/forgeauth/authstore/config"
	"gorm.io/gorm"
)

// ErrForeignTable is returned when a table has one of authstore's names but
// is not authstore's (a host application's own users table, say): the
// Migrator neither builds over it nor drops it. Give authstore's tables a
// prefix (AUTHSTORE_TABLE_PREFIX) or a schema (AUTHSTORE_SCHEMA).
var ErrForeignTable = errors.New("migrations: a table with an authstore name is not authstore's")

// ErrUnversioned is returned by Up for a database that holds authstore's
// tables but records no version (built by AutoMigrate, or by hand): run
// Baseline (`authstore migrate baseline`) to hand it over to the
// migrations.
var ErrUnversioned = errors.New("migrations: authstore's tables exist but no version is recorded; run `authstore migrate baseline` (from Go: Store.Migrator, then Baseline, on a Store opened without WithMigrate)")

// ErrDependents is returned by Down and DownAll when a table that is not
// authstore's references one that down would drop: drop or change that
// reference first.
var ErrDependents = errors.New("migrations: another table references a table down would drop")

// signatures names, for each of authstore's tables, a column that its
// first migration creates and that a table of another application by the
// same name is unlikely to have.
var signatures = map[string]string{
	"users":                        "email_normalized",
	"sessions":                     "token_hash",
	"password_resets":              "token_hash",
	"email_verifications":          "token_hash",
	"user_activity_log":            "event",
	"oauth_clients":                "grant_types",
	"oauth_access_tokens":          "family_id",
	"oauth_refresh_tokens":         "family_id",
	"oauth_authorization_codes":    "code_hash",
	"oauth_personal_access_tokens": "token_hash",
	"signing_keys":                 "private_key",
	"oauth_auth_requests":          "code_hash",
	"recovery_codes":               "code_hash",
	"two_factor_used_steps":        "step",
	"two_factor_challenges":        "token_hash",
}

// guard reports which of authstore's tables exist in db, named as tables
// says (their original names, sorted), and returns an error wrapping
// ErrForeignTable for the first that exists without its signature column.
func guard(ctx context.Context, db *sql.DB, d config.Dialect, tables config.Tables) ([]string, error) {
	bases := make([]string, 0, len(signatures))
	for base := range signatures {
		bases = append(bases, base)
	}
	sort.Strings(bases)
	var existing []string
	for _, base := range bases {
		name := tables.Prefix + base
		ok, err := tableExists(ctx, db, d, tables.Schema, name)
		if err != nil {
			return nil, err
		}
		if !ok {
			continue
		}
		ours, err := columnExists(ctx, db, d, tables.Schema, name, signatures[base])
		if err != nil {
			return nil, err
		}
		if !ours {
			hint := "give authstore's tables a prefix (AUTHSTORE_TABLE_PREFIX=auth_)"
			if tables.Prefix != "" || tables.Schema != "" {
				hint = "choose another AUTHSTORE_TABLE_PREFIX or AUTHSTORE_SCHEMA"
			}
			return nil, fmt.Errorf("%w: table %s has no %s column; %s", ErrForeignTable, tables.Name(base), signatures[base], hint)
		}
		existing = append(existing, base)
	}
	return existing, nil
}

// columnExists reports whether table (in schema, on PostgreSQL) has column.
func columnExists(ctx context.Context, db *sql.DB, d config.Dialect, schema, table, column string) (bool, error) {
	q, args := "SELECT count(*) FROM pragma_table_info(?) WHERE name = ?", []any{table, column}
	switch d {
	case config.DialectPostgres:
		q = `SELECT count(*) FROM information_schema.columns
			WHERE table_schema = COALESCE(NULLIF($1, ''), CURRENT_SCHEMA()) AND table_name = $2 AND column_name = $3`
		args = []any{schema, table, column}
	case config.DialectMySQL:
		q = `SELECT count(*) FROM information_schema.columns
			WHERE table_schema = DATABASE() AND table_name = ? AND column_name = ?`
	}
	var n int
	if err := db.QueryRowContext(ctx, q, args...).Scan(&n); err != nil {
		return false, fmt.Errorf("migrations: read the columns of %s: %s", table, oneLine(err))
	}
	return n > 0, nil
}

// dependents returns an error wrapping ErrDependents naming the first
// table outside authstore's that has a foreign key to one of authstore's
// tables, and nil when there is none.
func dependents(ctx context.Context, db *sql.DB, d config.Dialect, tables config.Tables) error {
	ours := map[string]bool{}
	for base := range signatures {
		ours[tables.Prefix+base] = true
	}
	if d == config.DialectPostgres {
		rows, err := db.QueryContext(ctx, `SELECT cl.relname, rf.relname, c.conname
			FROM pg_constraint c
			JOIN pg_class cl ON cl.oid = c.conrelid
			JOIN pg_class rf ON rf.oid = c.confrelid
			JOIN pg_namespace n ON n.oid = rf.relnamespace
			WHERE c.contype = 'f' AND n.nspname = COALESCE(NULLIF($1, ''), CURRENT_SCHEMA())
			ORDER BY 1, 3`, tables.Schema)
		if err != nil {
			return fmt.Errorf("migrations: read foreign keys: %s", oneLine(err))
		}
		defer rows.Close()
		for rows.Next() {
			var from, to, name string
			if err := rows.Scan(&from, &to, &name); err != nil {
				return fmt.Errorf("migrations: read foreign keys: %s", oneLine(err))
			}
			if ours[to] && !ours[from] {
				return fmt.Errorf("%w: table %s references %s (constraint %s); drop or change it first", ErrDependents, from, tables.Name(strings.TrimPrefix(to, tables.Prefix)), name)
			}
		}
		return rows.Err()
	}
	q := `SELECT m.name, f."table" FROM sqlite_master m, pragma_foreign_key_list(m.name) f
		WHERE m.type = 'table' ORDER BY m.name`
	if d == config.DialectMySQL {
		q = `SELECT table_name, referenced_table_name FROM information_schema.referential_constraints
			WHERE constraint_schema = DATABASE() AND unique_constraint_schema = DATABASE() ORDER BY 1`
	}
	rows, err := db.QueryContext(ctx, q)
	if err != nil {
		return fmt.Errorf("migrations: read foreign keys: %s", oneLine(err))
	}
	defer rows.Close()
	for rows.Next() {
		var from, to string
		if err := rows.Scan(&from, &to); err != nil {
			return fmt.Errorf("migrations: read foreign keys: %s", oneLine(err))
		}
		if ours[to] && !ours[from] {
			return fmt.Errorf("%w: table %s references %s; drop or change it first", ErrDependents, from, to)
		}
	}
	return rows.Err()
}

// CheckTables returns an error wrapping ErrForeignTable when a table of
// db's database bears one of authstore's names, as tables gives them, but
// is not authstore's: what AutoMigrate must not alter. It only reads.
func CheckTables(ctx context.Context, db *gorm.DB, tables config.Tables) error {
	sqlDB, err := db.DB()
	if err != nil {
		return fmt.Errorf("migrations: %w", err)
	}
	_, err = guard(ctx, sqlDB, config.Dialect(db.Dialector.Name()), tables)
	return err
}
