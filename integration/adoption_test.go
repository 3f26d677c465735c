package integration

// Adoption beside a host application's own schema: a table prefix (and on
// PostgreSQL a schema) that every path honours, a version table of
// authstore's own, the schema check of Open and New, the hand-over of an
// AutoMigrate database to the migrations (baseline) and of a database
// that recorded its version in golang-migrate's schema_migrations.

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"maps"
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/forgeauth/authstore"
	"github.com/forgeauth/authstore/config"
	"github.com/forgeauth/authstore/migrations"
	"github.com/forgeauth/authstore/models"
	"github.com/forgeauth/authstore/repositories"
	"github.com/golang-migrate/migrate/v4"
	mysqlmigrate "github.com/golang-migrate/migrate/v4/database/mysql"
	pgxmigrate "github.com/golang-migrate/migrate/v4/database/pgx/v5"
	"github.com/golang-migrate/migrate/v4/database/sqlite3"
	"github.com/golang-migrate/migrate/v4/source/iofs"
	"github.com/stretchr/testify/require"
	"gorm.io/driver/mysql"
	"gorm.io/driver/postgres"
	"gorm.io/driver/sqlite"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"
)

// naming is one way of placing authstore's tables.
type naming struct {
	name   string
	tables config.Tables
}

// namings lists the placements a test runs under on b: a prefix, and on
// PostgreSQL a schema of its own (fresh, dropped when the test ends) with a
// prefix too.
func namings(t *testing.T, b Backend) []naming {
	out := []naming{{"prefix", config.Tables{Prefix: "auth_"}}}
	if b.Dialect == config.DialectPostgres {
		var r [4]byte
		_, _ = rand.Read(r[:])
		schema := "as_" + hex.EncodeToString(r[:])
		t.Cleanup(func() { adminDB(t, os.Getenv(envPostgresURL)).Exec("DROP SCHEMA IF EXISTS " + schema + " CASCADE") })
		out = append(out, naming{"schema", config.Tables{Prefix: "id_", Schema: schema}})
	}
	return out
}

// withTables returns cfg placing the tables as n says.
func withTables(cfg config.Config, n naming) config.Config {
	cfg.TablePrefix, cfg.Schema = n.tables.Prefix, n.tables.Schema
	return cfg
}

// objectsIn lists the tables and views of db's database (SQLite) or of
// schema ("" for the current one; PostgreSQL), sorted.
func objectsIn(t *testing.T, db *gorm.DB, schema string) []string {
	t.Helper()
	var names []string
	q := "SELECT name FROM sqlite_master WHERE type IN ('table', 'view') AND name NOT LIKE 'sqlite_%' ORDER BY name"
	var args []any
	switch db.Dialector.Name() {
	case "postgres":
		q = `SELECT table_name FROM information_schema.tables
			WHERE table_schema = COALESCE(NULLIF(?, ''), CURRENT_SCHEMA()) ORDER BY table_name`
		args = []any{schema}
	case "mysql":
		q = `SELECT table_name FROM information_schema.tables WHERE table_schema = DATABASE() ORDER BY table_name`
	}
	require.NoError(t, db.Raw(q, args...).Scan(&names).Error)
	return names
}

// TestSchemaParityUnderNaming: under a prefix (and a schema), the rendered
// SQL migrations and AutoMigrate build the same tables, indexes, foreign
// keys and views, every one of them carrying the prefix; AutoMigrate after
// the migrations issues no DDL; and both compare equal to the migrations'
// schema under the original names.
func TestSchemaParityUnderNaming(t *testing.T) {
	ctx := context.Background()
	forEachFileBackend(t, func(t *testing.T, b Backend) {
		for _, n := range namings(t, b) {
			t.Run(n.name, func(t *testing.T) {
				sqlBuilt := openWith(t, withTables(b.Config(t), n), authstore.WithMigrate())
				autoBuilt := openWith(t, withTables(b.Config(t), n), authstore.WithAutoMigrate())

				objects := objectsIn(t, sqlBuilt.DB(), n.tables.Schema)
				require.Len(t, objects, 18, "15 tables, 2 views and the version table: %v", objects)
				for _, o := range objects {
					require.True(t, strings.HasPrefix(o, n.tables.Prefix), "%s lacks the prefix %s", o, n.tables.Prefix)
				}
				require.Contains(t, objects, n.tables.Prefix+"authstore_schema_migrations")

				opts := migrations.InspectOptions{Schema: n.tables.Schema}
				want, err := migrations.Inspect(ctx, sqlBuilt.DB(), opts)
				require.NoError(t, err)
				got, err := migrations.Inspect(ctx, autoBuilt.DB(), opts)
				require.NoError(t, err)
				require.NoError(t, got.Diff(want), "rendered SQL migrations (want) and AutoMigrate (got) differ")
				require.Equal(t, want, got)
				require.Contains(t, fmt.Sprint(want.Tables[n.tables.Prefix+"sessions"]), "idx_"+strings.ReplaceAll(n.tables.Name("sessions"), ".", "_")+"_token_hash")

				rec := &ddlRecorder{Interface: logger.Discard}
				require.NoError(t, authstore.AutoMigrate(sqlBuilt.DB().Session(&gorm.Session{Logger: rec})))
				require.NotEmpty(t, rec.sql)
				require.Empty(t, rec.DDL(), "AutoMigrate changed a database built by the rendered migrations")

				for name, s := range map[string]*authstore.Store{"sql": sqlBuilt, "automigrate": autoBuilt} {
					m, err := s.Migrator(ctx)
					require.NoError(t, err)
					require.NoError(t, m.Compare(ctx), "%s-built database against the migrations' schema", name)
					m.Close()
				}
			})
		}
	})
}

// host is a host application's database: its own users, sessions and
// password_resets tables (GORM models), and golang-migrate's
// schema_migrations at a timestamp version.
type host struct {
	db    *gorm.DB
	dsn   string
	dial  config.Dialect
	files fstest.MapFS
}

type hostUser struct {
	ID    uint   `gorm:"primaryKey"`
	Email string `gorm:"not null;uniqueIndex"`
	Name  string
}

func (hostUser) TableName() string { return "users" }

type hostSession struct {
	ID      string `gorm:"primaryKey"`
	UserID  uint   `gorm:"index"`
	Payload string
}

func (hostSession) TableName() string { return "sessions" }

type hostPasswordReset struct {
	Email string `gorm:"primaryKey"`
	Token string `gorm:"not null"`
}

func (hostPasswordReset) TableName() string { return "password_resets" }

// hostProfile is a host row that references authstore's users table by a
// foreign key that cascades.
type hostProfile struct {
	ID         uint `gorm:"primaryKey"`
	AuthUserID models.UUID
	Bio        string
}

func (hostProfile) TableName() string { return "profiles" }

const hostVersion = 20240101120000

// newHost builds the host's database at cfg's DATABASE_URL: its GORM
// tables with rows, and its golang-migrate migration creating orders.
func newHost(t *testing.T, cfg config.Config) *host {
	t.Helper()
	u, err := cfg.Database()
	require.NoError(t, err)
	h := &host{dsn: u.DSN, dial: u.Dialect, files: fstest.MapFS{
		fmt.Sprintf("%d_create_orders.up.sql", hostVersion):   {Data: []byte("CREATE TABLE orders (id integer PRIMARY KEY, total integer NOT NULL);")},
		fmt.Sprintf("%d_create_orders.down.sql", hostVersion): {Data: []byte("DROP TABLE orders;")},
	}}
	switch u.Dialect {
	case config.DialectPostgres:
		h.db, err = gorm.Open(postgres.Open(u.DSN), &gorm.Config{Logger: logger.Discard})
	case config.DialectMySQL:
		c, cerr := authstore.MySQLConnector(u.DSN)
		require.NoError(t, cerr)
		h.db, err = gorm.Open(mysql.New(mysql.Config{Conn: sql.OpenDB(c)}), &gorm.Config{Logger: logger.Discard})
	default:
		h.db, err = gorm.Open(sqlite.Open(authstore.SQLiteDSN(u.DSN)), &gorm.Config{Logger: logger.Discard})
	}
	require.NoError(t, err)
	t.Cleanup(func() {
		if db, err := h.db.DB(); err == nil {
			db.Close()
		}
	})
	require.NoError(t, h.db.AutoMigrate(&hostUser{}, &hostSession{}, &hostPasswordReset{}))
	require.NoError(t, h.db.Create(&[]hostUser{{Email: "owner@host.example", Name: "Owner"}, {Email: "ada@example.com", Name: "Host Ada"}}).Error)
	require.NoError(t, h.db.Create(&hostSession{ID: "s1", UserID: 1, Payload: "cart=3"}).Error)
	require.NoError(t, h.db.Create(&hostPasswordReset{Email: "owner@host.example", Token: "host-token"}).Error)
	h.migrate(t, func(m *migrate.Migrate) error { return m.Up() })
	return h
}

// migrate runs step with golang-migrate over the host's files, on a pool of
// its own (golang-migrate closes the pool it is given).
func (h *host) migrate(t *testing.T, step func(*migrate.Migrate) error) {
	t.Helper()
	src, err := iofs.New(h.files, ".")
	require.NoError(t, err)
	var m *migrate.Migrate
	switch h.dial {
	case config.DialectPostgres:
		db, err := sql.Open("pgx", h.dsn)
		require.NoError(t, err)
		drv, err := pgxmigrate.WithInstance(db, &pgxmigrate.Config{})
		require.NoError(t, err)
		m, err = migrate.NewWithInstance("iofs", src, "pgx", drv)
		require.NoError(t, err)
	case config.DialectMySQL:
		db, err := sql.Open("mysql", h.dsn)
		require.NoError(t, err)
		drv, err := mysqlmigrate.WithInstance(db, &mysqlmigrate.Config{})
		require.NoError(t, err)
		m, err = migrate.NewWithInstance("iofs", src, "mysql", drv)
		require.NoError(t, err)
	default:
		db, err := sql.Open("sqlite3", authstore.SQLiteDSN(h.dsn))
		require.NoError(t, err)
		drv, err := sqlite3.WithInstance(db, &sqlite3.Config{})
		require.NoError(t, err)
		m, err = migrate.NewWithInstance("iofs", src, "sqlite3", drv)
		require.NoError(t, err)
	}
	defer m.Close()
	if err := step(m); err != nil && !errors.Is(err, migrate.ErrNoChange) {
		require.NoError(t, err)
	}
}

// version returns the host's golang-migrate version.
func (h *host) version(t *testing.T) uint {
	t.Helper()
	var v uint
	h.migrate(t, func(m *migrate.Migrate) error {
		var err error
		v, _, err = m.Version()
		return err
	})
	return v
}

// snapshot renders the host's own tables and rows.
func (h *host) snapshot(t *testing.T) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	for _, table := range []string{"users", "sessions", "password_resets", "orders", "schema_migrations"} {
		var rows []map[string]any
		require.NoError(t, h.db.Table(table).Order("1").Find(&rows).Error, "read host table %s", table)
		for _, r := range rows {
			var cells []string
			for _, k := range slices.Sorted(maps.Keys(r)) {
				v := reflect.ValueOf(r[k])
				if v.Kind() == reflect.Pointer && !v.IsNil() {
					r[k] = v.Elem().Interface() // SQLite's bool comes back as *bool
				}
				cells = append(cells, k+"="+renderValue(r[k]))
			}
			out[table] = append(out[table], strings.Join(cells, " "))
		}
		out[table+" columns"] = nil
		cols, err := h.db.Migrator().ColumnTypes(table)
		require.NoError(t, err)
		for _, c := range cols {
			out[table+" columns"] = append(out[table+" columns"], c.Name())
		}
	}
	return out
}

// TestCoexistenceWithHostTables: a host with its own users, sessions,
// password_resets and golang-migrate schema_migrations (at a timestamp
// version) adopts authstore under a prefix (and on PostgreSQL a schema):
// the migrations go up and down, every repository works on the prefixed
// tables, a host table references authstore's users by a foreign key that
// cascades, and the host's tables, rows and version are untouched
// throughout.
func TestCoexistenceWithHostTables(t *testing.T) {
	forEachFileBackend(t, func(t *testing.T, b Backend) {
		for _, n := range namings(t, b) {
			t.Run(n.name, func(t *testing.T) {
				ctx := requestCtx()
				base := b.Config(t)
				h := newHost(t, base)
				before := h.snapshot(t)

				// Without a prefix, authstore's names are the host's: refused,
				// naming the table and the fix, with nothing written.
				_, err := authstore.New(h.db, authstore.WithMigrate())
				require.ErrorIs(t, err, migrations.ErrForeignTable, "migrating over the host's tables")
				require.Contains(t, err.Error(), "AUTHSTORE_TABLE_PREFIX")
				require.Equal(t, before, h.snapshot(t), "the refused migration touched the host's tables")
				require.Equal(t, uint(hostVersion), h.version(t))
				_, err = authstore.New(h.db)
				require.ErrorIs(t, err, authstore.ErrNotMigrated)
				require.Contains(t, err.Error(), "is not authstore's: give authstore's tables a prefix")
				clean, err := authstore.New(h.db, authstore.WithoutSchemaCheck())
				require.NoError(t, err)
				st, err := clean.MigrationStatus(ctx)
				require.NoError(t, err)
				require.False(t, st.Dirty || st.Recorded, "the refused migration recorded %+v", st)
				m, err := clean.Migrator(ctx)
				require.NoError(t, err)
				require.ErrorIs(t, m.DownAll(ctx), migrations.ErrForeignTable, "down would drop the host's tables")
				require.ErrorIs(t, m.Force(ctx, 1), migrations.ErrForeignTable)
				m.Close()
				require.Equal(t, before, h.snapshot(t))

				f := newFixture(t, b, withConfig(func(c *config.Config) {
					c.DatabaseURL = base.DatabaseURL
					c.TablePrefix, c.Schema = n.tables.Prefix, n.tables.Schema
				}))
				s := f.s
				require.Equal(t, uint(hostVersion), h.version(t), "authstore's migrations moved the host's version")

				// The host references authstore's users table.
				h.files[fmt.Sprintf("%d_create_profiles.up.sql", hostVersion+1)] = &fstest.MapFile{Data: []byte(fmt.Sprintf(
					"CREATE TABLE profiles (id integer PRIMARY KEY, auth_user_id %s NOT NULL, bio text NOT NULL, FOREIGN KEY (auth_user_id) REFERENCES %s (id) ON DELETE CASCADE);",
					map[config.Dialect]string{config.DialectPostgres: "uuid", config.DialectSQLite: "text", config.DialectMySQL: "char(36)"}[b.Dialect], n.tables.Name("users")))}
				h.files[fmt.Sprintf("%d_create_profiles.down.sql", hostVersion+1)] = &fstest.MapFile{Data: []byte("DROP TABLE profiles;")}
				h.migrate(t, func(m *migrate.Migrate) error { return m.Up() })
				withProfiles := h.snapshot(t)

				// Every repository, on the prefixed tables.
				ada := f.register(t, "ada@example.com", userPassword) // the host has its own Ada
				_, err = s.Users.Authenticate(ctx, "ADA@example.com", userPassword)
				require.NoError(t, err)
				_, sessionToken, err := s.Sessions.Create(ctx, ada.ID, repositories.SessionInput{})
				require.NoError(t, err)
				_, err = s.Sessions.Find(ctx, sessionToken)
				require.NoError(t, err)
				reset := f.requestReset(t, ada.Email)
				_, err = s.PasswordResets.Reset(ctx, reset, "a new passphrase here", "a new passphrase here")
				require.NoError(t, err)
				_, verification, err := s.EmailVerifications.Issue(ctx, ada.ID)
				require.NoError(t, err)
				_, err = s.EmailVerifications.Consume(ctx, verification)
				require.NoError(t, err)
				client, secret := f.confidentialClient(t, nil)
				authedClient, err := s.Clients.Authenticate(ctx, client.ID, secret)
				require.NoError(t, err)
				code, verifier := f.code(t, client.ID, ada.ID, "read")
				pair, err := s.AuthCodes.Exchange(ctx, authedClient, code, redirectURI, verifier)
				require.NoError(t, err)
				_, err = s.AccessTokens.Validate(ctx, pair.AccessToken)
				require.NoError(t, err)
				child, err := s.RefreshTokens.Rotate(ctx, authedClient, pair.RefreshToken, nil)
				require.NoError(t, err)
				_, err = s.RefreshTokens.Rotate(ctx, authedClient, pair.RefreshToken, nil)
				require.ErrorIs(t, err, repositories.ErrReused, "reuse detection on the prefixed tables")
				intro, err := s.Tokens.Introspect(ctx, authedClient, child.AccessToken)
				require.NoError(t, err)
				require.False(t, intro.Active, "the reused family was revoked")
				_, pat, err := s.PersonalTokens.Create(ctx, ada.ID, "ci", []string{"read"}, nil)
				require.NoError(t, err)
				_, err = s.PersonalTokens.Find(ctx, pat)
				require.NoError(t, err)
				f.clock.Advance(400 * 24 * time.Hour)
				purged, err := s.Cleanup.Purge(ctx, repositories.PurgeOptions{})
				require.NoError(t, err)
				require.Positive(t, purged.Tables["oauth_refresh_tokens"], "purge reached the prefixed refresh tokens: %v", purged.Tables)
				stats, err := s.Cleanup.Stats(ctx)
				require.NoError(t, err)
				require.NotEmpty(t, stats)
				events, err := s.Activity.ListForUser(ctx, ada.ID, 100)
				require.NoError(t, err)
				require.NotEmpty(t, events)
				count, err := s.Users.Count(ctx)
				require.NoError(t, err)
				require.Equal(t, int64(1), count, "authstore counts its own users, not the host's")

				// A host transaction writes authstore's rows in the prefixed tables.
				err = h.db.Transaction(func(tx *gorm.DB) error {
					u, err := s.Users.WithTx(tx).Create(ctx, repositories.UserInput{Name: "Tx", Email: "tx@example.com", Password: userPassword, PasswordConfirmation: userPassword})
					if err != nil {
						return err
					}
					if err := tx.Create(&hostProfile{ID: 1, AuthUserID: u.ID, Bio: "in the host's transaction"}).Error; err != nil {
						return err
					}
					return errors.New("roll back")
				})
				require.EqualError(t, err, "roll back")
				_, err = s.Users.FindByEmail(ctx, "tx@example.com")
				require.ErrorIs(t, err, repositories.ErrNotFound, "the host's rollback kept authstore's row")

				// The foreign key holds and cascades.
				require.Error(t, h.db.Create(&hostProfile{ID: 2, AuthUserID: models.NewUUID(), Bio: "orphan"}).Error, "a profile of no authstore user")
				require.NoError(t, h.db.Create(&hostProfile{ID: 3, AuthUserID: ada.ID, Bio: "Ada's"}).Error)
				require.NoError(t, s.Users.Delete(ctx, ada.ID))
				var profiles int64
				require.NoError(t, h.db.Model(&hostProfile{}).Count(&profiles).Error)
				require.Zero(t, profiles, "deleting the user did not cascade to the host's profile")

				require.Equal(t, withProfiles, h.snapshot(t), "authstore's work touched the host's tables")

				// Down, and up again: the host is untouched.
				h.migrate(t, func(m *migrate.Migrate) error { return m.Steps(-1) }) // the host drops profiles
				m, err = s.Migrator(ctx)
				require.NoError(t, err)
				defer m.Close()
				require.NoError(t, m.DownAll(ctx))
				left := objectsIn(t, s.DB(), n.tables.Schema)
				for _, o := range left { // the version table too is gone
					require.True(t, n.tables.Schema == "" && !strings.HasPrefix(o, n.tables.Prefix), "down --all left %s", o)
				}
				require.Equal(t, before, h.snapshot(t), "rolling authstore back touched the host's tables")
				require.Equal(t, uint(hostVersion), h.version(t))
				require.NoError(t, m.Up(ctx))
				require.NoError(t, s.CheckSchema(ctx))
				require.Equal(t, before, h.snapshot(t))
			})
		}
	})
}

// TestSchemaCheck: Open and New tell the truth about the schema: no
// tables, an older or a newer version, a dirty one; a database built by
// AutoMigrate is accepted.
func TestSchemaCheck(t *testing.T) {
	ctx := context.Background()
	forEachFileBackend(t, func(t *testing.T, b Backend) {
		cfg := b.Config(t)

		_, err := authstore.Open(ctx, cfg)
		require.ErrorIs(t, err, authstore.ErrNotMigrated, "Open on an empty database")
		require.Contains(t, err.Error(), "authstore migrate up")

		s := openWith(t, cfg, authstore.WithMigrate())
		m, err := s.Migrator(ctx)
		require.NoError(t, err)
		defer m.Close()
		st, err := m.Status(ctx)
		require.NoError(t, err)
		require.True(t, st.Recorded)
		require.Equal(t, "authstore_schema_migrations", st.VersionTable)

		reopen := func() error {
			s, err := authstore.Open(ctx, cfg)
			if err == nil {
				s.Close()
			}
			return err
		}
		require.NoError(t, reopen())

		latest := migrations.Latest()
		require.NoError(t, m.Force(ctx, latest-1))
		err = reopen()
		require.ErrorIs(t, err, authstore.ErrNotMigrated, "a database one version behind")
		require.Contains(t, err.Error(), fmt.Sprintf("version %d of %d", latest-1, latest))

		require.NoError(t, s.DB().Exec("UPDATE authstore_schema_migrations SET version = 99").Error)
		err = reopen()
		require.ErrorIs(t, err, authstore.ErrSchemaTooNew)
		require.Contains(t, err.Error(), "99")

		require.NoError(t, s.DB().Exec("UPDATE authstore_schema_migrations SET version = ?, dirty = ?", latest, true).Error)
		err = reopen()
		require.ErrorIs(t, err, migrations.ErrDirty)
		require.Contains(t, err.Error(), fmt.Sprintf("authstore migrate force %d", latest))
		require.NoError(t, m.Force(ctx, latest))
		require.NoError(t, reopen())

		// AutoMigrate: no version table, authstore's tables.
		auto := b.Config(t)
		openWith(t, auto, authstore.WithAutoMigrate())
		s2, err := authstore.Open(ctx, auto)
		require.NoError(t, err, "a database built by AutoMigrate")
		s2.Close()

		// A forgotten prefix: the hint names the version table found.
		prefixed := b.Config(t)
		prefixed.TablePrefix = "auth_"
		openWith(t, prefixed, authstore.WithMigrate())
		forgot := prefixed
		forgot.TablePrefix = ""
		_, err = authstore.Open(ctx, forgot)
		require.ErrorIs(t, err, authstore.ErrNotMigrated)
		require.Contains(t, err.Error(), "found auth_authstore_schema_migrations: is AUTHSTORE_TABLE_PREFIX missing?")

		// A host's own users table is not authstore's.
		other := b.Config(t)
		h := newHost(t, other)
		_, err = authstore.New(h.db)
		require.ErrorIs(t, err, authstore.ErrNotMigrated, "a host's users table")
	})
}

// TestBaselineHandsAutoMigrateOver: baseline records a database built by
// AutoMigrate as migrated, after which up is a no-op; it refuses, naming
// the difference and recording nothing, a database missing a column, and a
// database that already records a version.
func TestBaselineHandsAutoMigrateOver(t *testing.T) {
	ctx := context.Background()
	forEachBackend(t, func(t *testing.T, b Backend) {
		s := openEmpty(t, b, authstore.WithAutoMigrate())
		m, err := s.Migrator(ctx)
		require.NoError(t, err)
		defer m.Close()
		require.NoError(t, m.Baseline(ctx))
		st, err := m.Status(ctx)
		require.NoError(t, err)
		require.Equal(t, migrations.Latest(), st.Version)
		require.False(t, st.Dirty)
		before := inspect(t, s.DB())
		require.NoError(t, m.Up(ctx))
		require.Equal(t, before, inspect(t, s.DB()), "up after baseline changed the schema")
		require.NoError(t, s.CheckSchema(ctx))
		err = m.Baseline(ctx)
		require.ErrorContains(t, err, fmt.Sprintf("already records version %d", migrations.Latest()))

		broken := openEmpty(t, b, authstore.WithAutoMigrate())
		require.NoError(t, broken.DB().Exec("ALTER TABLE users DROP COLUMN lockouts").Error)
		bm, err := broken.Migrator(ctx)
		require.NoError(t, err)
		defer bm.Close()
		err = bm.Baseline(ctx)
		require.ErrorIs(t, err, migrations.ErrSchemaMismatch)
		require.Contains(t, err.Error(), "users: column lockouts is missing")
		require.NotContains(t, err.Error(), "\n")
		st, err = bm.Status(ctx)
		require.NoError(t, err)
		require.False(t, st.Recorded, "a refused baseline recorded a version")
	})
}

// TestLegacyVersionTableTakenOver: a database that authstore migrated
// when it recorded its version in golang-migrate's schema_migrations opens
// as migrated, and the next Migrator copies the version to authstore's own
// table.
func TestLegacyVersionTableTakenOver(t *testing.T) {
	ctx := context.Background()
	forEachFileBackend(t, func(t *testing.T, b Backend) {
		cfg := b.Config(t)
		old := openWith(t, cfg, authstore.WithoutSchemaCheck())
		m, err := migrations.NewGORM(ctx, old.DB(), migrations.WithVersionTable("schema_migrations"))
		require.NoError(t, err)
		require.NoError(t, m.Up(ctx))
		m.Close()

		s := openWith(t, cfg) // the schema check reads the legacy version
		st, err := s.MigrationStatus(ctx)
		require.NoError(t, err)
		require.True(t, st.Recorded)
		require.Equal(t, migrations.Latest(), st.Version)

		m, err = s.Migrator(ctx)
		require.NoError(t, err)
		defer m.Close()
		require.Equal(t, migrations.Latest(), m.Adopted)
		st, err = m.Status(ctx)
		require.NoError(t, err)
		require.Equal(t, migrations.Latest(), st.Version)
		require.Equal(t, "authstore_schema_migrations", st.VersionTable)
		require.NoError(t, m.Up(ctx))
	})
}

// TestStepErrorNamesTheStatement: a migration statement that fails is told
// in one line naming its file, its line and the statement itself, on every
// dialect, and the migration leaves nothing of itself behind (MySQL:
// TestStepErrorMySQL, whose DDL commits as it runs).
func TestStepErrorNamesTheStatement(t *testing.T) {
	ctx := context.Background()
	forEachFileBackend(t, func(t *testing.T, b Backend) {
		if b.Dialect == config.DialectMySQL {
			t.Skip("MySQL index names are per table, and its DDL is not transactional: TestStepErrorMySQL")
		}
		cfg := b.Config(t)
		h := newHost(t, cfg)
		// The host's own index, by the name authstore gives one of its own.
		require.NoError(t, h.db.Exec("CREATE INDEX idx_x_users_created_at ON orders (total)").Error)
		s := openWith(t, withTables(cfg, naming{tables: config.Tables{Prefix: "x_"}}), authstore.WithoutSchemaCheck())
		m, err := s.Migrator(ctx)
		require.NoError(t, err)
		defer m.Close()
		err = m.Up(ctx)
		var se *migrations.StepError
		require.ErrorAs(t, err, &se)
		require.Contains(t, err.Error(), "000001_create_auth_tables.up.sql line 21 (CREATE INDEX idx_x_users_created_at ON x_users (created_at);)")
		require.NotContains(t, err.Error(), "\n")
		require.Empty(t, slices.DeleteFunc(objectsIn(t, s.DB(), ""), func(o string) bool { return !strings.HasPrefix(o, "x_") || o == "x_authstore_schema_migrations" }),
			"the failed migration left tables behind")
	})
}

// TestStepErrorMySQL: on MySQL a failing migration statement is told in
// one line as on the other dialects; MySQL commits each CREATE as it runs,
// so what ran before the failure stays and the version is recorded dirty,
// which Up then refuses (ErrDirty) until the database is repaired and
// forced.
func TestStepErrorMySQL(t *testing.T) {
	ctx := context.Background()
	b := Backend{Name: "mysql", Dialect: config.DialectMySQL, Config: mysqlConfig}
	cfg := b.Config(t)
	h := newHost(t, cfg)
	// A view by the name of a table authstore creates after its users.
	require.NoError(t, h.db.Exec("CREATE VIEW x_sessions AS SELECT id FROM orders").Error)
	s := openWith(t, withTables(cfg, naming{tables: config.Tables{Prefix: "x_"}}), authstore.WithoutSchemaCheck())
	m, err := s.Migrator(ctx)
	require.NoError(t, err)
	defer m.Close()
	err = m.Up(ctx)
	var se *migrations.StepError
	require.ErrorAs(t, err, &se)
	require.Contains(t, err.Error(), "000001_create_auth_tables.up.sql line 23 (CREATE TABLE x_sessions ()")
	require.NotContains(t, err.Error(), "\n")
	st, err := m.Status(ctx)
	require.NoError(t, err)
	require.True(t, st.Dirty, "a failed MySQL migration is recorded dirty: %+v", st)
	require.ErrorIs(t, m.Up(ctx), migrations.ErrDirty)
}

// TestAutoMigrateLeavesAHostTableAlone: AutoMigrate over a host's own users
// table (no prefix configured) refuses before it alters anything.
func TestAutoMigrateLeavesAHostTableAlone(t *testing.T) {
	forEachFileBackend(t, func(t *testing.T, b Backend) {
		cfg := b.Config(t)
		h := newHost(t, cfg)
		require.NoError(t, h.db.Exec("DELETE FROM users").Error) // an empty table is the one PostgreSQL would alter
		before := h.snapshot(t)
		_, err := authstore.New(h.db, authstore.WithAutoMigrate())
		require.ErrorIs(t, err, migrations.ErrForeignTable)
		require.Contains(t, err.Error(), "AUTHSTORE_TABLE_PREFIX")
		require.Equal(t, before, h.snapshot(t), "AutoMigrate altered the host's tables")
		err = authstore.AutoMigrate(h.db)
		require.ErrorIs(t, err, migrations.ErrForeignTable)
		require.Equal(t, before, h.snapshot(t))
	})
}
