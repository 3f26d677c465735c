package migrations

import (
	"fmt"
	"io/fs"
	"regexp"
	"strings"
	"testing"

	"github.com/forgeauth/authstore/config"
	"github.com/stretchr/testify/require"
)

// TestRender checks that Render names tables, views, indexes and foreign
// keys as GORM's naming strategy does for a prefix and a schema, and leaves
// columns, aliases, comments and string literals alone.
func TestRender(t *testing.T) {
	const in = `-- users: the accounts
CREATE TABLE users (id text, name text);
CREATE UNIQUE INDEX idx_users_email_normalized ON users (email_normalized);
CREATE INDEX idx_user_activity_log_user_id ON user_activity_log (user_id);
CONSTRAINT fk_oauth_refresh_tokens_access_token FOREIGN KEY (access_token_id) REFERENCES oauth_access_tokens (id)
SELECT 'session' AS record_type, r.id FROM oauth_refresh_tokens r WHERE r.family_id = oauth_refresh_tokens.family_id AND 'users' <> 'it''s users';`
	for _, tc := range []struct {
		name   string
		tables config.Tables
		want   string
	}{
		{"original", config.Tables{}, in},
		{"prefix", config.Tables{Prefix: "auth_"}, `-- users: the accounts
CREATE TABLE auth_users (id text, name text);
CREATE UNIQUE INDEX idx_auth_users_email_normalized ON auth_users (email_normalized);
CREATE INDEX idx_auth_user_activity_log_user_id ON auth_user_activity_log (user_id);
CONSTRAINT fk_auth_oauth_refresh_tokens_access_token FOREIGN KEY (access_token_id) REFERENCES auth_oauth_access_tokens (id)
SELECT 'session' AS record_type, r.id FROM auth_oauth_refresh_tokens r WHERE r.family_id = auth_oauth_refresh_tokens.family_id AND 'users' <> 'it''s users';`},
		{"schema", config.Tables{Schema: "idp", Prefix: "a_"}, `-- users: the accounts
CREATE TABLE idp.a_users (id text, name text);
CREATE UNIQUE INDEX idx_idp_a_users_email_normalized ON idp.a_users (email_normalized);
CREATE INDEX idx_idp_a_user_activity_log_user_id ON idp.a_user_activity_log (user_id);
CONSTRAINT fk_idp_a_oauth_refresh_tokens_access_token FOREIGN KEY (access_token_id) REFERENCES idp.a_oauth_access_tokens (id)
SELECT 'session' AS record_type, r.id FROM idp.a_oauth_refresh_tokens r WHERE r.family_id = idp.a_oauth_refresh_tokens.family_id AND 'users' <> 'it''s users';`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := Render(in, tc.tables)
			require.Equal(t, tc.want, got)
			for _, name := range []string{"auth_users", "idx_auth_users_created_at", "fk_auth_sessions_user", "auth_expired_auth_records"} {
				if tc.tables.Prefix == "auth_" {
					require.NotEqual(t, name, unrender(name, tc.tables), "unrender(%s)", name)
					require.Equal(t, name, Render(unrender(name, tc.tables), tc.tables), "Render(unrender(%s))", name)
				}
			}
		})
	}
}

// TestRenderedFSNamesEveryObject checks every embedded file of every
// dialect: rendered for a prefix, no statement creates, alters, drops or
// references an object without the prefix.
func TestRenderedFSNamesEveryObject(t *testing.T) {
	object := regexp.MustCompile(`(?i)\b(?:TABLE|VIEW|INDEX|ON|REFERENCES|FROM|CONSTRAINT|EXISTS)\s+([a-z_][a-z0-9_.]*)`)
	for _, d := range []config.Dialect{config.DialectPostgres, config.DialectSQLite, config.DialectMySQL} {
		tables := config.Tables{Prefix: "auth_"}
		if d == config.DialectPostgres {
			tables.Schema = "idp"
		}
		fsys, err := RenderedFS(d, tables)
		require.NoError(t, err)
		names, err := fs.Glob(fsys, "*.sql")
		require.NoError(t, err)
		require.NotEmpty(t, names)
		for _, name := range names {
			data, err := fs.ReadFile(fsys, name)
			require.NoError(t, err)
			for _, line := range strings.Split(string(data), "\n") {
				if strings.HasPrefix(strings.TrimSpace(line), "--") {
					continue
				}
				for _, m := range object.FindAllStringSubmatch(line, -1) {
					id := m[1]
					switch {
					case keywords[strings.ToUpper(id)], id == "r", id == "f", id == tables.Schema:
					case temporary[id]:
						// A session's temporary table: it leaves nothing in any schema.
						if strings.Contains(line, "CREATE") && !strings.Contains(line, "CREATE TEMP TABLE IF NOT EXISTS") && !strings.Contains(line, "CREATE TEMPORARY TABLE IF NOT EXISTS") {
							t.Errorf("%s/%s: %q creates %s, which is only allowed as a TEMP table", d, name, line, id)
						}
					case tables.Schema != "" && strings.HasPrefix(id, tables.Schema+".auth_"):
					case strings.HasPrefix(id, "auth_"), strings.HasPrefix(id, "idx_auth_"), strings.HasPrefix(id, "fk_auth_"),
						strings.HasPrefix(id, "idx_idp_auth_"), strings.HasPrefix(id, "fk_idp_auth_"):
					default:
						t.Errorf("%s/%s: %q names %s without the prefix", d, name, line, id)
					}
				}
			}
		}
		if tables.Schema != "" {
			first, err := fs.ReadFile(fsys, "000001_create_auth_tables.up.sql")
			require.NoError(t, err)
			require.True(t, strings.HasPrefix(string(first), "CREATE SCHEMA IF NOT EXISTS idp;"), "the first migration creates the schema")
		}
	}
	_, err := RenderedFS(config.DialectSQLite, config.Tables{Schema: "idp"})
	require.Error(t, err, "a schema on SQLite")
}

// temporary are the names of the temporary tables (and their constraint)
// migration 000004 creates and drops in its own session, and the catalog of
// SQLite's temporary tables: they need no prefix, being in no schema.
var temporary = map[string]bool{
	"authstore_000004_check": true, "apply_000004_with_authstore_migrate": true, "temp.sqlite_master": true,
	"temp.authstore_emails_normalised": true, "pg_temp.authstore_emails_normalised": true,
}

// keywords are the SQL words that follow the words TestRenderedFSNamesEveryObject
// looks after (ON DELETE, IF EXISTS, ...).
var keywords = map[string]bool{"DELETE": true, "UPDATE": true, "IF": true, "NOT": true, "EXISTS": true}

// TestScript checks that the script of the up migrations records each
// version after it, and that of the down migrations the version below.
func TestScript(t *testing.T) {
	up, err := Script(config.DialectPostgres, ScriptOptions{Tables: config.Tables{Prefix: "auth_"}})
	require.NoError(t, err)
	require.Contains(t, up, "CREATE TABLE auth_users (")
	require.Contains(t, up, "INSERT INTO auth_authstore_schema_migrations (version, dirty) VALUES (1, false);")
	require.Contains(t, up, "INSERT INTO auth_authstore_schema_migrations (version, dirty) VALUES (3, false);")
	require.Contains(t, up, fmt.Sprintf("INSERT INTO auth_authstore_schema_migrations (version, dirty) VALUES (%d, false);", Latest()), "the up script records the latest version")
	require.Less(t, strings.Index(up, "000001_create_auth_tables.up.sql"), strings.Index(up, "000002_create_oauth_tables.up.sql"))

	after, err := Script(config.DialectSQLite, ScriptOptions{After: 2, VersionTable: "versions"})
	require.NoError(t, err)
	require.NotContains(t, after, "CREATE TABLE users")
	require.Contains(t, after, "ALTER TABLE users ADD COLUMN locked_until")
	require.Contains(t, after, "INSERT INTO versions (version, dirty) VALUES (3, false);")

	down, err := Script(config.DialectSQLite, ScriptOptions{Down: true})
	require.NoError(t, err)
	require.Less(t, strings.Index(down, "000003_add_user_lockout.down.sql"), strings.Index(down, "000001_create_auth_tables.down.sql"))
	require.Contains(t, down, "VALUES (2, false);")
	require.True(t, strings.HasSuffix(down, "DROP TABLE IF EXISTS authstore_schema_migrations;\n"), "rolling back 000001 drops the version table")
}
