package integration

// The schema: SQL migrations and AutoMigrate build the same tables,
// indexes, foreign keys and views on every dialect; migrations round-trip;
// foreign keys refuse orphans and cascade; New refuses a SQLite handle
// without foreign keys.

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"net/url"
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
	gomysql "github.com/go-sql-driver/mysql"
	"github.com/stretchr/testify/require"
	"gorm.io/driver/mysql"
	"gorm.io/driver/sqlite"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"
)

var wantTables = []string{
	"email_verifications", "oauth_access_tokens", "oauth_auth_requests", "oauth_authorization_codes", "oauth_clients",
	"oauth_personal_access_tokens", "oauth_refresh_tokens", "password_resets", "recovery_codes", "sessions",
	"signing_keys", "two_factor_challenges", "two_factor_used_steps",
	"user_activity_log", "users",
}

var wantViews = []string{"expired_auth_records", "oauth_expired_tokens"}

// inspect returns the schema of db's authstore tables and views.
func inspect(t *testing.T, db *gorm.DB) migrations.Schema {
	t.Helper()
	s, err := migrations.Inspect(context.Background(), db, migrations.InspectOptions{})
	require.NoError(t, err)
	return s
}

func objectNames(s migrations.Schema) (tables, views []string) {
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
	m, err := migrations.NewGORM(context.Background(), s.DB())
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
		require.Len(t, st.Pending(), int(migrations.Latest()))

		require.NoError(t, m.Up(ctx))
		first := inspect(t, s.DB())
		tables, views := objectNames(first)
		require.Equal(t, wantTables, tables)
		require.Equal(t, wantViews, views)
		st, err = m.Status(ctx)
		require.NoError(t, err)
		require.Equal(t, st.Latest(), st.Version)
		require.False(t, st.Dirty)
		require.Empty(t, st.Pending())

		require.NoError(t, m.Up(ctx), "up on an up-to-date database is a no-op")

		require.Contains(t, fmt.Sprint(first.Tables["users"]), "locked_until", "000003 up added no column")
		require.Equal(t, []string{"id"}, first.Tables["users"].PrimaryKey)
		require.NoError(t, m.Down(ctx, int(st.Latest())-2), "down to version 2")
		users := inspect(t, s.DB()).Tables["users"]
		require.NotContains(t, fmt.Sprint(users), "locked_until", "000003 down left its column")
		require.NoError(t, m.Down(ctx, 1))
		tables, _ = objectNames(inspect(t, s.DB()))
		require.Equal(t, []string{"email_verifications", "password_resets", "sessions", "user_activity_log", "users"}, tables)
		require.Error(t, m.Down(ctx, 2), "down past version 0 is refused")

		require.NoError(t, m.DownAll(ctx))
		empty := inspect(t, s.DB())
		require.Empty(t, empty.Tables)
		require.Empty(t, empty.Views)

		require.NoError(t, m.Up(ctx))
		again := inspect(t, s.DB())
		require.NoError(t, again.Diff(first), "up -> down -> up changed the schema")
		require.Equal(t, first, again, "up -> down -> up changed the schema")
	})
}

func TestSchemaParity(t *testing.T) {
	ctx := context.Background()
	forEachBackend(t, func(t *testing.T, b Backend) {
		sqlBuilt := openEmpty(t, b)
		require.NoError(t, sqlBuilt.Migrate(ctx))

		t.Run("AutoMigrateAfterSQLIssuesNoDDL", func(t *testing.T) {
			rec := &ddlRecorder{Interface: logger.Discard}
			db := sqlBuilt.DB().Session(&gorm.Session{Logger: rec})
			require.NoError(t, authstore.AutoMigrate(db))
			require.NotEmpty(t, rec.sql, "the recorder saw no statement")
			require.Empty(t, rec.DDL(), "AutoMigrate changed a database built by the SQL migrations")
		})

		t.Run("SameSchema", func(t *testing.T) {
			autoBuilt := openEmpty(t, b)
			require.NoError(t, authstore.AutoMigrate(autoBuilt.DB()))
			want := inspect(t, sqlBuilt.DB())
			got := inspect(t, autoBuilt.DB())
			require.NoError(t, got.Diff(want), "SQL migrations (want) and AutoMigrate (got) differ")
			for name, tb := range want.Tables {
				require.Equal(t, tb, got.Tables[name], "table %s: SQL migrations (want) and AutoMigrate (got) differ", name)
			}
			require.Equal(t, want, got)
		})

		t.Run("AutoMigrateTwiceIssuesNoDDL", func(t *testing.T) {
			autoBuilt := openEmpty(t, b)
			require.NoError(t, authstore.AutoMigrate(autoBuilt.DB()))
			rec := &ddlRecorder{Interface: logger.Discard}
			require.NoError(t, authstore.AutoMigrate(autoBuilt.DB().Session(&gorm.Session{Logger: rec})))
			require.Empty(t, rec.DDL())
		})
	})
}

// TestInspectNamesTheDifference checks that migrations.Inspect and Diff
// name what a live database changed from the migrations' schema, that
// Include leaves out a host's tables, and on PostgreSQL that an explicit
// schema is the current one's.
func TestInspectNamesTheDifference(t *testing.T) {
	ctx := context.Background()
	forEachBackend(t, func(t *testing.T, b Backend) {
		want := inspect(t, openMigrated(t, b).DB())
		for _, tc := range []struct {
			name, ddl, want string
			postgresOnly    bool
			mysqlOnly       bool
			mysqlDDL        string // the statement on MySQL, when it differs
		}{
			{name: "DroppedColumn", ddl: "ALTER TABLE users DROP COLUMN lockouts", want: "migrations: table users: column lockouts is missing"},
			{name: "DroppedIndex", ddl: "DROP INDEX idx_sessions_expires_at", want: "migrations: table sessions: index idx_sessions_expires_at is missing",
				mysqlDDL: "DROP INDEX idx_sessions_expires_at ON sessions"},
			{name: "Collation", mysqlOnly: true, ddl: "ALTER TABLE sessions MODIFY token_hash varchar(255) COLLATE utf8mb4_general_ci NOT NULL",
				want: "migrations: table sessions: column token_hash is varchar(255) utf8mb4_general_ci, want varchar(255) utf8mb4_bin"},
			{name: "TimePrecision", mysqlOnly: true, ddl: "ALTER TABLE sessions MODIFY expires_at datetime(3) NOT NULL",
				want: "migrations: table sessions: column expires_at is datetime(3), want time"},
			{name: "HostTable", ddl: "CREATE TABLE host_orders (id integer PRIMARY KEY)", want: "migrations: table host_orders is not in the migrations"},
			{name: "ForeignKeyAction", postgresOnly: true,
				ddl:  "ALTER TABLE sessions DROP CONSTRAINT fk_sessions_user, ADD CONSTRAINT fk_sessions_user FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE SET NULL",
				want: "migrations: table sessions: foreign key (user_id) is on delete set null, want on delete cascade"},
			{name: "ColumnType", postgresOnly: true, ddl: "ALTER TABLE users ALTER COLUMN lockouts TYPE text",
				want: "migrations: table users: column lockouts is text, want integer"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				if tc.postgresOnly && b.Dialect != config.DialectPostgres {
					t.Skip("SQLite cannot alter a constraint or a column's type; MySQL has the cases marked mysqlOnly")
				}
				if tc.mysqlOnly && b.Dialect != config.DialectMySQL {
					t.Skip("MySQL only")
				}
				db := openMigrated(t, b).DB()
				ddl := tc.ddl
				if b.Dialect == config.DialectMySQL && tc.mysqlDDL != "" {
					ddl = tc.mysqlDDL
				}
				require.NoError(t, db.Exec(ddl).Error)
				require.EqualError(t, inspect(t, db).Diff(want), tc.want)
			})
		}

		t.Run("Include", func(t *testing.T) {
			db := openMigrated(t, b).DB()
			require.NoError(t, db.Exec("CREATE TABLE host_orders (id integer PRIMARY KEY)").Error)
			got, err := migrations.Inspect(ctx, db, migrations.InspectOptions{Include: func(name string) bool { return name != "host_orders" }})
			require.NoError(t, err)
			require.NoError(t, got.Diff(want))
		})

		t.Run("ExplicitSchema", func(t *testing.T) {
			if b.Dialect != config.DialectPostgres {
				t.Skip("PostgreSQL only")
			}
			db := openMigrated(t, b).DB()
			var current string
			require.NoError(t, db.Raw("SELECT CURRENT_SCHEMA()").Scan(&current).Error)
			got, err := migrations.Inspect(ctx, db, migrations.InspectOptions{Schema: current})
			require.NoError(t, err)
			require.NoError(t, got.Diff(want))
			_, err = migrations.Inspect(ctx, db, migrations.InspectOptions{Schema: "authstore_no_such_schema"})
			require.ErrorContains(t, err, "authstore_no_such_schema does not exist")
		})
	})
}

func TestEveryDialectHasTheSameVersions(t *testing.T) {
	pg, err := migrations.Versions(config.DialectPostgres)
	require.NoError(t, err)
	lite, err := migrations.Versions(config.DialectSQLite)
	require.NoError(t, err)
	require.Equal(t, pg, lite)
	my, err := migrations.Versions(config.DialectMySQL)
	require.NoError(t, err)
	require.Equal(t, pg, my)
	require.Equal(t, []migrations.Version{{Version: 1, Name: "create_auth_tables"}, {Version: 2, Name: "create_oauth_tables"}, {Version: 3, Name: "add_user_lockout"}}, pg[:3])
	for i, v := range pg {
		require.Equal(t, uint(i+1), v.Version, "versions are numbered 1, 2, 3, ... without a gap")
	}
	require.Equal(t, pg[len(pg)-1].Version, migrations.Latest())
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
		db := s.DB().WithContext(ctx)
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
		db := s.DB().WithContext(ctx)
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
	_, err = authstore.New(db, authstore.WithMigrate())
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

// TestNewChecksMySQLSettings checks that New refuses a host's MySQL handle
// that lacks any setting authstore relies on, naming it, and accepts one
// opened with authstore.MySQLConnector.
func TestNewChecksMySQLSettings(t *testing.T) {
	base := mysqlConfig(t)
	u, err := base.Database()
	require.NoError(t, err)
	good, err := authstore.MySQLDSN(u.DSN)
	require.NoError(t, err)
	for _, tc := range []struct {
		name, want  string
		change      func(c *gomysql.Config)
		noIsolation bool
	}{
		{"parseTime", "parseTime", func(c *gomysql.Config) { c.ParseTime = false }, false},
		{"loc", "loc", func(c *gomysql.Config) { c.Loc = time.FixedZone("UTC+9", 9*3600) }, false},
		{"time_zone", "time_zone", func(c *gomysql.Config) { c.Params["time_zone"] = "'+01:00'" }, false},
		{"sql_mode", "sql_mode", func(c *gomysql.Config) { c.Params["sql_mode"] = "''" }, false},
		{"charset", "character_set_connection", func(c *gomysql.Config) { c.Collation = "latin1_swedish_ci" }, false},
		{"clientFoundRows", "clientFoundRows", func(c *gomysql.Config) { c.ClientFoundRows = false }, false},
		{"isolation", "isolation", func(*gomysql.Config) {}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := gomysql.ParseDSN(good)
			require.NoError(t, err)
			tc.change(cfg)
			conn, err := gomysql.NewConnector(cfg)
			require.NoError(t, err)
			if !tc.noIsolation {
				conn = isolated{conn}
			}
			pool := sql.OpenDB(conn)
			t.Cleanup(func() { pool.Close() })
			db, err := gorm.Open(mysql.New(mysql.Config{Conn: pool}), &gorm.Config{Logger: logger.Discard})
			require.NoError(t, err)
			_, err = authstore.New(db, authstore.WithoutSchemaCheck())
			require.ErrorIs(t, err, authstore.ErrUnsafeDatabase, "New(%s) = %v; want ErrUnsafeDatabase", tc.name, err)
			require.Contains(t, err.Error(), tc.want, "New(%s) does not name the setting", tc.name)
			require.Contains(t, err.Error(), "authstore.MySQLConnector", "the error does not say how to fix it")
		})
	}
	c, err := authstore.MySQLConnector(u.DSN)
	require.NoError(t, err)
	pool := sql.OpenDB(c)
	t.Cleanup(func() { pool.Close() })
	db, err := gorm.Open(mysql.New(mysql.Config{Conn: pool}), &gorm.Config{Logger: logger.Discard})
	require.NoError(t, err)
	_, err = authstore.New(db, authstore.WithMigrate())
	require.NoError(t, err, "New over a handle opened with authstore.MySQLConnector")
}

// TestOpenMySQLUnknownDatabase: Open on a MySQL database that does not
// exist says how to create it, with the collation authstore relies on.
func TestOpenMySQLUnknownDatabase(t *testing.T) {
	cfg := mysqlConfig(t)
	u, err := url.Parse(cfg.DatabaseURL)
	require.NoError(t, err)
	u.Path = "/authstore_no_such_database"
	cfg.DatabaseURL = u.String()
	_, err = authstore.Open(context.Background(), cfg)
	require.ErrorContains(t, err, "1049")
	require.ErrorContains(t, err, "CREATE DATABASE name CHARACTER SET utf8mb4 COLLATE utf8mb4_bin")
}

// isolated is a connector whose connections run at READ COMMITTED, as
// authstore.MySQLConnector's do, so that a test can take one other
// setting away.
type isolated struct{ driver.Connector }

func (c isolated) Connect(ctx context.Context) (driver.Conn, error) {
	conn, err := c.Connector.Connect(ctx)
	if err != nil {
		return nil, err
	}
	if _, err := conn.(driver.ExecerContext).ExecContext(ctx, "SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED", nil); err != nil {
		conn.Close()
		return nil, err
	}
	return conn, nil
}

// A Migrator whose run was cancelled refuses further work instead of
// silently doing nothing.
func TestMigratorAfterCancel(t *testing.T) {
	s := openEmpty(t, backends()[0])
	m, err := migrations.NewGORM(context.Background(), s.DB())
	require.NoError(t, err)
	defer m.Close()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	require.Error(t, m.Up(ctx))
	require.NoError(t, s.Migrate(context.Background()), "a new Migrator works")
}
