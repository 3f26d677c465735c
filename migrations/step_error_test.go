package migrations

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"

	"github.com/forgeauth/authstore/config"
	_ "github.com/mattn/go-sqlite3"
	"github.com/stretchr/testify/require"
)

// TestStepErrorIsOneLine checks that a failed migration statement is told
// in one line naming the file, the failing statement and its line, never
// the whole file: a host whose own index bears the name of one of
// authstore's.
func TestStepErrorIsOneLine(t *testing.T) {
	db, err := sql.Open("sqlite3", filepath.Join(t.TempDir(), "host.db")+"?_foreign_keys=1")
	require.NoError(t, err)
	defer db.Close()
	_, err = db.Exec("CREATE TABLE orders (id integer PRIMARY KEY, created_at datetime); CREATE INDEX idx_users_created_at ON orders (created_at)")
	require.NoError(t, err)
	ctx := context.Background()
	m, err := New(ctx, db, config.DialectSQLite)
	require.NoError(t, err)
	defer m.Close()
	err = m.Up(ctx)
	var se *StepError
	require.ErrorAs(t, err, &se)
	msg := err.Error()
	require.NotContains(t, msg, "\n", "the error spans lines")
	require.Less(t, len(msg), 300, "the error quotes too much: %s", msg)
	require.Contains(t, msg, "000001_create_auth_tables.up.sql line 21 (CREATE INDEX idx_users_created_at ON users (created_at);)")
	require.Contains(t, msg, "already exists")
	require.NotContains(t, msg, "CREATE TABLE", "the error quotes another statement")
	var users int
	require.NoError(t, db.QueryRow("SELECT count(*) FROM sqlite_master WHERE name = 'users'").Scan(&users))
	require.Zero(t, users, "the failed migration kept its first statements")
}

// TestGuard checks that the Migrator neither builds over nor drops a
// table that bears one of authstore's names but is a host's, refuses to
// migrate authstore's tables that record no version, and refuses to roll
// back while a host table references one of authstore's: each changing
// nothing.
func TestGuard(t *testing.T) {
	ctx := context.Background()
	open := func(t *testing.T) *sql.DB {
		db, err := sql.Open("sqlite3", filepath.Join(t.TempDir(), "host.db")+"?_foreign_keys=1")
		require.NoError(t, err)
		t.Cleanup(func() { db.Close() })
		return db
	}
	t.Run("ErrForeignTable", func(t *testing.T) {
		db := open(t)
		_, err := db.Exec("CREATE TABLE users (id integer PRIMARY KEY, login text)")
		require.NoError(t, err)
		m, err := New(ctx, db, config.DialectSQLite)
		require.NoError(t, err)
		defer m.Close()
		err = m.Up(ctx)
		require.ErrorIs(t, err, ErrForeignTable)
		require.Contains(t, err.Error(), "table users has no email_normalized column")
		require.Contains(t, err.Error(), "AUTHSTORE_TABLE_PREFIX")
		st, err := m.Status(ctx)
		require.NoError(t, err)
		require.False(t, st.Dirty || st.Recorded, "a refused up recorded something: %+v", st)
		require.ErrorIs(t, m.Force(ctx, Latest()), ErrForeignTable, "force would let down drop the host's users")
		require.ErrorIs(t, m.DownAll(ctx), ErrForeignTable)
	})
	t.Run("ErrUnversioned", func(t *testing.T) {
		db := open(t)
		m, err := New(ctx, db, config.DialectSQLite)
		require.NoError(t, err)
		defer m.Close()
		require.NoError(t, m.Up(ctx))
		_, err = db.Exec("DELETE FROM authstore_schema_migrations")
		require.NoError(t, err)
		err = m.Up(ctx)
		require.ErrorIs(t, err, ErrUnversioned)
		require.Contains(t, err.Error(), "authstore migrate baseline")
	})
	t.Run("ErrDependents", func(t *testing.T) {
		db := open(t)
		m, err := New(ctx, db, config.DialectSQLite)
		require.NoError(t, err)
		defer m.Close()
		require.NoError(t, m.Up(ctx))
		_, err = db.Exec("CREATE TABLE notes (id integer PRIMARY KEY, user_id text REFERENCES users (id) ON DELETE CASCADE)")
		require.NoError(t, err)
		err = m.DownAll(ctx)
		require.ErrorIs(t, err, ErrDependents)
		require.Contains(t, err.Error(), "table notes references users")
		st, err := m.Status(ctx)
		require.NoError(t, err)
		require.Equal(t, Latest(), st.Version)
		require.False(t, st.Dirty)
		_, err = db.Exec("DROP TABLE notes")
		require.NoError(t, err)
		require.NoError(t, m.DownAll(ctx))
	})
}

// TestSplitStatements checks the split of a migration file: semicolons in
// comments and string literals do not end a statement, and each statement
// knows its line.
func TestSplitStatements(t *testing.T) {
	got := splitStatements("-- a comment; not a statement\nCREATE TABLE a (x text);\n\n  -- b\nCREATE VIEW v AS SELECT 'it''s; here' AS s\n  FROM a;\n-- trailing\n")
	require.Equal(t, []statement{
		{sql: "CREATE TABLE a (x text);", line: 2},
		{sql: "CREATE VIEW v AS SELECT 'it''s; here' AS s\n  FROM a;", line: 5},
	}, got)
}
