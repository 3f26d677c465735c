package migrations_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/forgeauth/authstore/migrations"
	"github.com/stretchr/testify/require"
	"gorm.io/driver/sqlite"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"
)

// migratedSQLite returns a GORM handle on a new SQLite file in dir with the
// migrations applied.
func migratedSQLite(t *testing.T, name string) *gorm.DB {
	t.Helper()
	db, err := gorm.Open(sqlite.Open("file:"+filepath.Join(t.TempDir(), name)+"?_foreign_keys=1"), &gorm.Config{Logger: logger.Discard})
	require.NoError(t, err)
	sqlDB, err := db.DB()
	require.NoError(t, err)
	t.Cleanup(func() { sqlDB.Close() })
	ctx := context.Background()
	m, err := migrations.NewGORM(ctx, db)
	require.NoError(t, err)
	defer m.Close()
	require.NoError(t, m.Up(ctx))
	return db
}

func inspect(t *testing.T, db *gorm.DB, opts migrations.InspectOptions) migrations.Schema {
	t.Helper()
	s, err := migrations.Inspect(context.Background(), db, opts)
	require.NoError(t, err)
	return s
}

// TestInspectDiffNamesTheDifference inspects two databases the migrations
// built, finds them equal, then changes one and checks that Diff names the
// change.
func TestInspectDiffNamesTheDifference(t *testing.T) {
	want := inspect(t, migratedSQLite(t, "want.db"), migrations.InspectOptions{})
	require.Contains(t, want.Tables, "users")
	require.Equal(t, []string{"id"}, want.Tables["users"].PrimaryKey)
	require.Contains(t, want.Views, "oauth_expired_tokens")
	for name := range want.Tables {
		require.NotContains(t, name, "schema_migrations", "the version table is inspected")
	}

	for _, tc := range []struct {
		name, ddl, want string
	}{
		{"NoChange", "", ""},
		{"DroppedColumn", "ALTER TABLE users DROP COLUMN lockouts", "migrations: table users: column lockouts is missing"},
		{"AddedColumn", "ALTER TABLE users ADD COLUMN nickname text", "migrations: table users: column nickname is not in the migrations"},
		{"DroppedIndex", "DROP INDEX idx_sessions_expires_at", "migrations: table sessions: index idx_sessions_expires_at is missing"},
		{"AddedTable", "CREATE TABLE host_orders (id integer PRIMARY KEY)", "migrations: table host_orders is not in the migrations"},
		{"DroppedView", "DROP VIEW oauth_expired_tokens", "migrations: view oauth_expired_tokens is missing"},
		{"ChangedView", "DROP VIEW expired_auth_records; CREATE VIEW expired_auth_records AS SELECT id FROM sessions",
			"migrations: view expired_auth_records differs"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			db := migratedSQLite(t, "got.db")
			for _, stmt := range strings.Split(tc.ddl, ";") {
				if strings.TrimSpace(stmt) != "" {
					require.NoError(t, db.Exec(stmt).Error)
				}
			}
			err := inspect(t, db, migrations.InspectOptions{}).Diff(want)
			if tc.want == "" {
				require.NoError(t, err)
				return
			}
			require.EqualError(t, err, tc.want)
		})
	}
}

// TestInspectInclude checks that Include leaves out a host's tables, that
// golang-migrate's version tables are left out whatever their name, and
// that Inspect refuses a schema on SQLite.
func TestInspectInclude(t *testing.T) {
	db := migratedSQLite(t, "host.db")
	require.NoError(t, db.Exec("CREATE TABLE host_orders (id integer PRIMARY KEY)").Error)
	require.NoError(t, db.Exec("CREATE TABLE other_versions (version uint64, dirty bool)").Error)
	all := inspect(t, db, migrations.InspectOptions{})
	require.Contains(t, all.Tables, "host_orders")
	require.NotContains(t, all.Tables, "other_versions", "a golang-migrate version table is inspected")

	own := inspect(t, db, migrations.InspectOptions{Include: func(name string) bool { return name != "host_orders" }})
	require.NotContains(t, own.Tables, "host_orders")
	delete(all.Tables, "host_orders")
	require.NoError(t, own.Diff(all))

	_, err := migrations.Inspect(context.Background(), db, migrations.InspectOptions{Schema: "public"})
	require.ErrorContains(t, err, "migrations: inspect: ")
}

// TestDiff checks each kind of difference Diff names, and that it names
// the first one in name order.
func TestDiff(t *testing.T) {
	base := func() migrations.Schema {
		return migrations.Schema{
			Tables: map[string]migrations.Table{
				"sessions": {
					Columns:    []migrations.Column{{Name: "id", Type: "uuid", NotNull: true}, {Name: "user_id", Type: "uuid", NotNull: true}},
					PrimaryKey: []string{"id"},
					Indexes:    []migrations.Index{{Name: "idx_sessions_user_id", Columns: []string{"user_id"}}},
					ForeignKeys: []migrations.ForeignKey{{Name: "fk_sessions_user", Columns: []string{"user_id"}, RefTable: "users",
						RefColumns: []string{"id"}, OnDelete: "cascade", OnUpdate: "no action"}},
				},
				"users": {Columns: []migrations.Column{{Name: "id", Type: "uuid", NotNull: true}, {Name: "name", Type: "text", NotNull: true}},
					PrimaryKey: []string{"id"}},
			},
			Views: map[string]string{"v": "CREATE VIEW v AS SELECT 1"},
		}
	}
	for _, tc := range []struct {
		name   string
		change func(s *migrations.Schema)
		want   string
	}{
		{"ColumnType", func(s *migrations.Schema) { s.Tables["users"].Columns[1].Type = "integer" },
			"migrations: table users: column name is integer, want text"},
		{"PrimaryKey", func(s *migrations.Schema) { s.Tables["users"] = withPrimaryKey(s.Tables["users"], "id", "name") },
			"migrations: table users: primary key is (id, name), want (id)"},
		{"ColumnNullable", func(s *migrations.Schema) { s.Tables["users"].Columns[1].NotNull = false },
			"migrations: table users: column name is nullable, want not null"},
		{"IndexUnique", func(s *migrations.Schema) { s.Tables["sessions"].Indexes[0].Unique = true },
			"migrations: table sessions: index idx_sessions_user_id is unique, want not unique"},
		{"IndexColumns", func(s *migrations.Schema) { s.Tables["sessions"].Indexes[0].Columns = []string{"id", "user_id"} },
			"migrations: table sessions: index idx_sessions_user_id is on (id, user_id), want (user_id)"},
		{"ForeignKeyMissing", func(s *migrations.Schema) {
			tb := s.Tables["sessions"]
			tb.ForeignKeys = nil
			s.Tables["sessions"] = tb
		}, "migrations: table sessions: foreign key (user_id) references users(id) is missing"},
		{"ForeignKeyOnDelete", func(s *migrations.Schema) { s.Tables["sessions"].ForeignKeys[0].OnDelete = "set null" },
			"migrations: table sessions: foreign key (user_id) is on delete set null, want on delete cascade"},
		{"ForeignKeyRef", func(s *migrations.Schema) { s.Tables["sessions"].ForeignKeys[0].RefTable = "clients" },
			"migrations: table sessions: foreign key (user_id) references clients(id), want users(id)"},
		{"ForeignKeyName", func(s *migrations.Schema) { s.Tables["sessions"].ForeignKeys[0].Name = "fk_x" },
			`migrations: table sessions: foreign key (user_id) is named "fk_x", want "fk_sessions_user"`},
		{"TableMissing", func(s *migrations.Schema) { delete(s.Tables, "users") }, "migrations: table users is missing"},
		{"ViewExtra", func(s *migrations.Schema) { s.Views["w"] = "CREATE VIEW w AS SELECT 2" }, "migrations: view w is not in the migrations"},
		{"FirstInNameOrder", func(s *migrations.Schema) {
			s.Tables["users"].Columns[1].Type = "integer"
			s.Tables["sessions"].Indexes[0].Unique = true
			s.Views["v"] = "CREATE VIEW v AS SELECT 2"
		}, "migrations: table sessions: index idx_sessions_user_id is unique, want not unique"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := base()
			tc.change(&got)
			require.EqualError(t, got.Diff(base()), tc.want)
		})
	}
	require.NoError(t, base().Diff(base()))
}

func withPrimaryKey(tb migrations.Table, cols ...string) migrations.Table {
	tb.PrimaryKey = cols
	return tb
}

// TestRename maps a prefixed database's names to the base ones: tables,
// indexes, foreign keys and the tables the views read.
func TestRename(t *testing.T) {
	db := migratedSQLite(t, "base.db")
	want := inspect(t, db, migrations.InspectOptions{})

	addPrefix := func(name string) string {
		if strings.HasPrefix(name, "idx_") || strings.HasPrefix(name, "fk_") {
			kind, rest, _ := strings.Cut(name, "_")
			return kind + "_auth_" + rest
		}
		return "auth_" + name
	}
	prefixed := want.Rename(addPrefix)
	require.Contains(t, prefixed.Tables, "auth_users")
	require.NotContains(t, prefixed.Tables, "users")
	require.Contains(t, prefixed.Views, "auth_expired_auth_records")
	require.Contains(t, prefixed.Views["auth_expired_auth_records"], "FROM auth_sessions WHERE")
	require.Contains(t, prefixed.Views["auth_expired_auth_records"], "SELECT 'session' AS record_type", "a string literal was renamed")
	users := prefixed.Tables["auth_users"]
	require.Equal(t, "idx_auth_users_created_at", users.Indexes[0].Name)
	require.Equal(t, "auth_users", prefixed.Tables["auth_sessions"].ForeignKeys[0].RefTable)
	require.Error(t, prefixed.Diff(want))

	stripPrefix := func(name string) string {
		if kind, rest, ok := strings.Cut(name, "_auth_"); ok && (kind == "idx" || kind == "fk") {
			return kind + "_" + rest
		}
		return strings.TrimPrefix(name, "auth_")
	}
	back := prefixed.Rename(stripPrefix)
	require.NoError(t, back.Diff(want))
	require.Equal(t, want, back)
	require.Equal(t, "users", want.Tables["sessions"].ForeignKeys[0].RefTable, "Rename changed its receiver")
}
