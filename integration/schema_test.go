package integration

// The schema: SQL migrations and AutoMigrate build the same tables,
// indexes, foreign keys and views on every dialect; migrations round-trip;
// foreign keys refuse orphans and cascade; New refuses a SQLite handle
// without foreign keys.

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/forgeauth/authstore"
	"github.com/forgeauth/authstore/config"
	"github.com/forgeauth/authstore/migrations"
	"github.com/forgeauth/authstore/models"
	"github.com/forgeauth/authstore/repositories"
	"github.com/stretchr/testify/require"
	"gorm.io/driver/sqlite"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"
)

// Schema is what a database introspects to, for comparison.
type Schema struct {
	Tables map[string]Table
	Views  map[string]string // name -> normalised definition
}

// Table is a table's columns, indexes and foreign keys.
type Table struct {
	Columns     []string // "name type [not null]"
	Indexes     []string // "[unique ]name(cols)"
	ForeignKeys []string // "cols -> table(cols) on delete ACTION"
}

var wantTables = []string{
	"email_verifications", "oauth_access_tokens", "oauth_authorization_codes", "oauth_clients",
	"oauth_personal_access_tokens", "oauth_refresh_tokens", "password_resets", "sessions",
	"user_activity_log", "users",
}

var wantViews = []string{"expired_auth_records", "oauth_expired_tokens"}

func introspect(t *testing.T, db *gorm.DB) Schema {
	t.Helper()
	if db.Dialector.Name() == "postgres" {
		return introspectPostgres(t, db)
	}
	return introspectSQLite(t, db)
}

func introspectSQLite(t *testing.T, db *gorm.DB) Schema {
	t.Helper()
	s := Schema{Tables: map[string]Table{}, Views: map[string]string{}}
	var objs []struct{ Type, Name, SQL string }
	require.NoError(t, db.Raw(`SELECT type, name, COALESCE(sql, '') AS sql FROM sqlite_master
		WHERE type IN ('table', 'view') AND name NOT LIKE 'sqlite_%' AND name <> 'schema_migrations'`).Scan(&objs).Error)
	for _, o := range objs {
		if o.Type == "view" {
			s.Views[o.Name] = normaliseSQL(o.SQL)
			continue
		}
		var tb Table
		var cols []struct {
			Name    string
			Type    string
			NotNull bool
			PK      int
		}
		require.NoError(t, db.Raw(`SELECT name, type, "notnull" AS not_null, pk FROM pragma_table_info(?)`, o.Name).Scan(&cols).Error)
		for _, c := range cols {
			tb.Columns = append(tb.Columns, column(c.Name, typeFamily(c.Type), c.NotNull || c.PK > 0))
		}
		var idx []struct {
			Name   string
			Unique bool
			Origin string
		}
		require.NoError(t, db.Raw(`SELECT name, "unique", origin FROM pragma_index_list(?)`, o.Name).Scan(&idx).Error)
		for _, ix := range idx {
			if ix.Origin == "pk" {
				continue
			}
			var icols []string
			require.NoError(t, db.Raw(`SELECT name FROM pragma_index_info(?) ORDER BY seqno`, ix.Name).Scan(&icols).Error)
			tb.Indexes = append(tb.Indexes, index(ix.Name, ix.Unique, icols))
		}
		var fks []struct {
			Table    string
			From     string
			To       string
			OnDelete string
		}
		require.NoError(t, db.Raw(`SELECT "table", "from", "to", on_delete FROM pragma_foreign_key_list(?)`, o.Name).Scan(&fks).Error)
		for _, fk := range fks {
			tb.ForeignKeys = append(tb.ForeignKeys, fmt.Sprintf("%s -> %s(%s) on delete %s", fk.From, fk.Table, fk.To, strings.ToLower(fk.OnDelete)))
		}
		sortTable(&tb)
		s.Tables[o.Name] = tb
	}
	return s
}

func introspectPostgres(t *testing.T, db *gorm.DB) Schema {
	t.Helper()
	s := Schema{Tables: map[string]Table{}, Views: map[string]string{}}
	var tables []string
	require.NoError(t, db.Raw(`SELECT table_name FROM information_schema.tables
		WHERE table_schema = CURRENT_SCHEMA() AND table_type = 'BASE TABLE' AND table_name <> 'schema_migrations'`).Scan(&tables).Error)
	for _, name := range tables {
		var tb Table
		var cols []struct {
			ColumnName string
			DataType   string
			IsNullable string
		}
		require.NoError(t, db.Raw(`SELECT column_name, data_type, is_nullable FROM information_schema.columns
			WHERE table_schema = CURRENT_SCHEMA() AND table_name = ?`, name).Scan(&cols).Error)
		for _, c := range cols {
			tb.Columns = append(tb.Columns, column(c.ColumnName, typeFamily(c.DataType), c.IsNullable == "NO"))
		}
		var idx []struct {
			Name    string
			Unique  bool
			Primary bool
			Columns string
		}
		require.NoError(t, db.Raw(`SELECT i.relname AS name, x.indisunique AS "unique", x.indisprimary AS "primary",
				(SELECT string_agg(a.attname, ',' ORDER BY k.n) FROM unnest(x.indkey) WITH ORDINALITY AS k(attnum, n)
				 JOIN pg_attribute a ON a.attrelid = x.indrelid AND a.attnum = k.attnum) AS columns
			FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class c ON c.oid = x.indrelid
			WHERE c.relname = ? AND c.relnamespace = CURRENT_SCHEMA()::regnamespace`, name).Scan(&idx).Error)
		for _, ix := range idx {
			if ix.Primary {
				continue
			}
			tb.Indexes = append(tb.Indexes, index(ix.Name, ix.Unique, strings.Split(ix.Columns, ",")))
		}
		var fks []string
		require.NoError(t, db.Raw(`SELECT pg_get_constraintdef(oid) FROM pg_constraint
			WHERE contype = 'f' AND conrelid = (quote_ident(CURRENT_SCHEMA()) || '.' || quote_ident(?))::regclass`, name).Scan(&fks).Error)
		for _, fk := range fks {
			tb.ForeignKeys = append(tb.ForeignKeys, normaliseSQL(fk))
		}
		sortTable(&tb)
		s.Tables[name] = tb
	}
	var views []struct{ TableName, ViewDefinition string }
	require.NoError(t, db.Raw(`SELECT table_name, view_definition FROM information_schema.views
		WHERE table_schema = CURRENT_SCHEMA()`).Scan(&views).Error)
	for _, v := range views {
		s.Views[v.TableName] = normaliseSQL(v.ViewDefinition)
	}
	return s
}

func column(name, family string, notNull bool) string {
	if notNull {
		return name + " " + family + " not null"
	}
	return name + " " + family
}

func index(name string, unique bool, cols []string) string {
	s := name + "(" + strings.Join(cols, ",") + ")"
	if unique {
		return "unique " + s
	}
	return s
}

func sortTable(tb *Table) {
	sort.Strings(tb.Columns)
	sort.Strings(tb.Indexes)
	sort.Strings(tb.ForeignKeys)
}

// typeFamily maps a declared column type to its family, so that spellings
// of one type compare equal.
func typeFamily(typ string) string {
	t := strings.ToLower(typ)
	switch {
	case strings.Contains(t, "timestamp"), t == "datetime":
		return "time"
	case strings.Contains(t, "int"), t == "bigserial":
		return "integer"
	case t == "boolean", t == "numeric":
		return "bool"
	case t == "uuid":
		return "uuid"
	case t == "text", strings.Contains(t, "char"):
		return "text"
	}
	return t
}

var space = regexp.MustCompile(`\s+`)

func normaliseSQL(s string) string {
	return strings.TrimSpace(space.ReplaceAllString(s, " "))
}

func objectNames(s Schema) (tables, views []string) {
	for n := range s.Tables {
		tables = append(tables, n)
	}
	for n := range s.Views {
		views = append(views, n)
	}
	sort.Strings(tables)
	sort.Strings(views)
	return tables, views
}

// ddlRecorder is a GORM logger that records every statement run.
type ddlRecorder struct {
	logger.Interface
	mu  sync.Mutex
	sql []string
}

func (r *ddlRecorder) Trace(ctx context.Context, begin time.Time, fc func() (string, int64), err error) {
	s, _ := fc()
	r.mu.Lock()
	r.sql = append(r.sql, s)
	r.mu.Unlock()
}

var ddl = regexp.MustCompile(`(?i)^\s*(CREATE|ALTER|DROP|COMMENT|RENAME|INSERT INTO sqlite_master|PRAGMA writable_schema)\b`)

func (r *ddlRecorder) DDL() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for _, s := range r.sql {
		if ddl.MatchString(s) {
			out = append(out, s)
		}
	}
	return out
}

func migrator(t *testing.T, s *authstore.Store) *migrations.Migrator {
	t.Helper()
	m, err := migrations.NewGORM(context.Background(), s.DB)
	require.NoError(t, err)
	t.Cleanup(func() { m.Close() })
	return m
}

func TestMigrationsRoundTrip(t *testing.T) {
	ctx := context.Background()
	forEachBackend(t, func(t *testing.T, b Backend) {
		s := openEmpty(t, b)
		m := migrator(t, s)
		st, err := m.Status(ctx)
		require.NoError(t, err)
		require.Equal(t, uint(0), st.Version)
		require.Len(t, st.Pending(), 3)

		require.NoError(t, m.Up(ctx))
		first := introspect(t, s.DB)
		tables, views := objectNames(first)
		require.Equal(t, wantTables, tables)
		require.Equal(t, wantViews, views)
		st, err = m.Status(ctx)
		require.NoError(t, err)
		require.Equal(t, st.Latest(), st.Version)
		require.False(t, st.Dirty)
		require.Empty(t, st.Pending())

		require.NoError(t, m.Up(ctx), "up on an up-to-date database is a no-op")

		require.NoError(t, m.Down(ctx, 1))
		users := introspect(t, s.DB).Tables["users"]
		require.NotContains(t, fmt.Sprint(users), "locked_until", "000003 down left its column")
		require.NoError(t, m.Down(ctx, 1))
		tables, _ = objectNames(introspect(t, s.DB))
		require.Equal(t, []string{"email_verifications", "password_resets", "sessions", "user_activity_log", "users"}, tables)
		require.Error(t, m.Down(ctx, 2), "down past version 0 is refused")

		require.NoError(t, m.DownAll(ctx))
		empty := introspect(t, s.DB)
		require.Empty(t, empty.Tables)
		require.Empty(t, empty.Views)

		require.NoError(t, m.Up(ctx))
		require.Equal(t, first, introspect(t, s.DB), "up -> down -> up changed the schema")
	})
}

func TestSchemaParity(t *testing.T) {
	ctx := context.Background()
	forEachBackend(t, func(t *testing.T, b Backend) {
		sqlBuilt := openEmpty(t, b)
		require.NoError(t, sqlBuilt.Migrate(ctx))

		t.Run("AutoMigrateAfterSQLIssuesNoDDL", func(t *testing.T) {
			rec := &ddlRecorder{Interface: logger.Discard}
			db := sqlBuilt.DB.Session(&gorm.Session{Logger: rec})
			require.NoError(t, authstore.AutoMigrate(db))
			require.NotEmpty(t, rec.sql, "the recorder saw no statement")
			require.Empty(t, rec.DDL(), "AutoMigrate changed a database built by the SQL migrations")
		})

		t.Run("SameSchema", func(t *testing.T) {
			autoBuilt := openEmpty(t, b)
			require.NoError(t, authstore.AutoMigrate(autoBuilt.DB))
			want := introspect(t, sqlBuilt.DB)
			got := introspect(t, autoBuilt.DB)
			for name, tb := range want.Tables {
				require.Equal(t, tb, got.Tables[name], "table %s: SQL migrations (want) and AutoMigrate (got) differ", name)
			}
			require.Equal(t, want, got)
		})

		t.Run("AutoMigrateTwiceIssuesNoDDL", func(t *testing.T) {
			autoBuilt := openEmpty(t, b)
			require.NoError(t, authstore.AutoMigrate(autoBuilt.DB))
			rec := &ddlRecorder{Interface: logger.Discard}
			require.NoError(t, authstore.AutoMigrate(autoBuilt.DB.Session(&gorm.Session{Logger: rec})))
			require.Empty(t, rec.DDL())
		})
	})
}

func TestEveryDialectHasTheSameVersions(t *testing.T) {
	pg, err := migrations.Versions(config.DialectPostgres)
	require.NoError(t, err)
	lite, err := migrations.Versions(config.DialectSQLite)
	require.NoError(t, err)
	require.Equal(t, pg, lite)
	require.Equal(t, []migrations.Version{{Version: 1, Name: "create_auth_tables"}, {Version: 2, Name: "create_oauth_tables"}, {Version: 3, Name: "add_user_lockout"}}, pg)
}

// newUserRow returns a user row with every required column set.
func newUserRow(email string) *models.User {
	return &models.User{
		ID: models.NewUUID(), Name: "Ada", Email: email, EmailNormalized: strings.ToLower(email),
		PasswordHash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0c2FsdA$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g",
	}
}

func TestForeignKeys(t *testing.T) {
	ctx := context.Background()
	forEachBackend(t, func(t *testing.T, b Backend) {
		s := openMigrated(t, b)
		db := s.DB.WithContext(ctx)
		u := newUserRow("fk@example.com")
		require.NoError(t, db.Create(u).Error)
		now := s.Now()
		sess := &models.Session{ID: models.NewUUID(), UserID: u.ID, TokenHash: "digest-1", LastActivityAt: now, ExpiresAt: now.Add(time.Hour)}
		require.NoError(t, db.Create(sess).Error)
		act := &models.Activity{UserID: &u.ID, Event: "user.registered", Metadata: "{}"}
		require.NoError(t, db.Create(act).Error)

		t.Run("RefusesOrphans", func(t *testing.T) {
			orphan := &models.Session{ID: models.NewUUID(), UserID: models.NewUUID(), TokenHash: "digest-2", LastActivityAt: now, ExpiresAt: now}
			err := repositories.Translate("create session", db.Create(orphan).Error)
			require.ErrorIs(t, err, repositories.ErrMissingReferent)
		})

		t.Run("DeleteCascades", func(t *testing.T) {
			require.NoError(t, db.Delete(&models.User{}, "id = ?", u.ID).Error)
			var n int64
			require.NoError(t, db.Model(&models.Session{}).Where("user_id = ?", u.ID).Count(&n).Error)
			require.Zero(t, n, "sessions of a deleted user remain")
			var kept models.Activity
			require.NoError(t, db.First(&kept, act.ID).Error)
			require.Nil(t, kept.UserID, "activity rows outlive the user with user_id NULL")
		})
	})
}

func TestDuplicateIsTranslated(t *testing.T) {
	ctx := context.Background()
	forEachBackend(t, func(t *testing.T, b Backend) {
		s := openMigrated(t, b)
		db := s.DB.WithContext(ctx)
		require.NoError(t, db.Create(newUserRow("dup@example.com")).Error)
		err := repositories.Translate("create user", db.Create(newUserRow("DUP@example.com")).Error)
		require.ErrorIs(t, err, repositories.ErrDuplicate)
		require.False(t, errors.Is(err, repositories.ErrNotFound))
	})
}

// New refuses a host's SQLite handle without foreign keys: deletes would
// not cascade to sessions and tokens.
func TestNewRefusesSQLiteWithoutForeignKeys(t *testing.T) {
	path := filepath.Join(t.TempDir(), "host.db")
	db, err := gorm.Open(sqlite.Open(path), &gorm.Config{Logger: logger.Discard})
	require.NoError(t, err)
	_, err = authstore.New(db)
	require.True(t, errors.Is(err, authstore.ErrUnsafeDatabase), "New(foreign keys off) = %v; want ErrUnsafeDatabase", err)

	db, err = gorm.Open(sqlite.Open(authstore.SQLiteDSN(path)), &gorm.Config{Logger: logger.Discard})
	require.NoError(t, err)
	_, err = authstore.New(db)
	require.NoError(t, err)
}

// TestNewChecksSQLiteSettings checks that New refuses a host's SQLite
// handle that lacks any setting a connection can report, naming it, and
// accepts one opened with authstore.SQLiteDSN.
func TestNewChecksSQLiteSettings(t *testing.T) {
	for _, tc := range []struct{ params, want string }{
		{"_busy_timeout=10000&_journal_mode=WAL&_synchronous=FULL", "foreign_keys"},
		{"_foreign_keys=1&_busy_timeout=0&_journal_mode=WAL&_synchronous=FULL", "busy_timeout"}, // mattn defaults to 5 s: 0 turns it off
		{"_foreign_keys=1&_busy_timeout=10000&_synchronous=FULL", "journal_mode"},
		{"_foreign_keys=1&_busy_timeout=10000&_journal_mode=WAL&_synchronous=NORMAL", "synchronous"},
	} {
		path := filepath.Join(t.TempDir(), "host.db")
		db, err := gorm.Open(sqlite.Open("file:"+path+"?"+tc.params), &gorm.Config{Logger: logger.Discard})
		require.NoError(t, err)
		_, err = authstore.New(db)
		require.ErrorIs(t, err, authstore.ErrUnsafeDatabase, "New(%s) = %v; want ErrUnsafeDatabase", tc.params, err)
		require.Contains(t, err.Error(), tc.want, "New(%s) does not name the setting", tc.params)
		require.Contains(t, err.Error(), "authstore.SQLiteDSN", "the error does not say how to fix it")
	}
}

// A Migrator whose run was cancelled refuses further work instead of
// silently doing nothing.
func TestMigratorAfterCancel(t *testing.T) {
	s := openEmpty(t, backends()[0])
	m, err := migrations.NewGORM(context.Background(), s.DB)
	require.NoError(t, err)
	defer m.Close()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	require.Error(t, m.Up(ctx))
	require.NoError(t, s.Migrate(context.Background()), "a new Migrator works")
}
