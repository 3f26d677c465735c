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
// in one line naming the file and the statement, never the whole file: a
// host whose users table exists already.
func TestStepErrorIsOneLine(t *testing.T) {
	db, err := sql.Open("sqlite3", filepath.Join(t.TempDir(), "host.db")+"?_foreign_keys=1")
	require.NoError(t, err)
	defer db.Close()
	_, err = db.Exec("CREATE TABLE users (id integer PRIMARY KEY, login text)")
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
	require.Contains(t, msg, "000001_create_auth_tables.up.sql")
	require.Contains(t, msg, "CREATE TABLE users (")
	require.Contains(t, msg, "already exists")
	require.NotContains(t, msg, "CREATE TABLE sessions", "the error quotes the rest of the file")
}
