package authstore

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/forgeauth/authstore/config"
	"github.com/forgeauth/authstore/migrations"
	"github.com/forgeauth/authstore/models"
	"gorm.io/gorm"
)

// ErrNotMigrated is returned by Open and New for a database whose schema
// is older than this binary's, or holds no authstore tables at all: run
// `authstore migrate up` (or Store.Migrate, or WithMigrate), or in
// development WithAutoMigrate.
var ErrNotMigrated = errors.New("authstore: database schema is not migrated; run `authstore migrate up`")

// ErrSchemaTooNew is returned by Open and New for a database migrated by a
// newer authstore than this binary: this binary does not know its tables.
var ErrSchemaTooNew = errors.New("authstore: database schema is newer than this binary; upgrade authstore")

// schemaStep is what Open and New do about the schema.
type schemaStep int

const (
	schemaCheck       schemaStep = iota // check the version (the default)
	schemaMigrate                       // apply the SQL migrations, then check
	schemaAutoMigrate                   // AutoMigrate, then check
	schemaSkip                          // neither
)

// prepareSchema does what the options asked for the schema.
func (s *Store) prepareSchema(ctx context.Context) error {
	switch s.schema {
	case schemaSkip:
		return nil
	case schemaMigrate:
		if err := s.Migrate(ctx); err != nil {
			return err
		}
	case schemaAutoMigrate:
		if err := autoMigrate(s.db, s.config.Tables()); err != nil {
			return err
		}
	}
	return s.CheckSchema(ctx)
}

// CheckSchema reports whether the database's schema is the one this binary
// works with; Open and New call it. It returns
//   - nil when the migrations' version table is at this binary's newest
//     version, or when there is none but authstore's tables are there (a
//     database built by AutoMigrate; `authstore migrate baseline` hands it
//     over to the migrations);
//   - ErrNotMigrated when the version is older, or there are no tables;
//   - ErrSchemaTooNew when the version is newer;
//   - an error wrapping migrations.ErrDirty when a migration failed part-way.
func (s *Store) CheckSchema(ctx context.Context) error {
	st, err := s.MigrationStatus(ctx)
	if err != nil {
		return fmt.Errorf("authstore: %w", err)
	}
	latest := st.Latest()
	switch {
	case st.Dirty:
		return fmt.Errorf("authstore: %w at version %d; repair it, then run `authstore migrate force %d`", migrations.ErrDirty, st.Version, st.Version)
	case st.Recorded && st.Version > latest:
		return fmt.Errorf("%w (database at version %d, this binary knows versions up to %d)", ErrSchemaTooNew, st.Version, latest)
	case st.Recorded && st.Version < latest:
		return fmt.Errorf("%w (database at version %d of %d)", ErrNotMigrated, st.Version, latest)
	case st.Recorded:
		return nil
	}
	users := s.config.Tables().Name(models.BaseTable(&models.User{}))
	if s.db.WithContext(ctx).Migrator().HasColumn(&models.User{}, "email_normalized") {
		return nil // built by AutoMigrate
	}
	hint := "in development, authstore.WithAutoMigrate builds them"
	if s.db.WithContext(ctx).Migrator().HasTable(&models.User{}) {
		hint = fmt.Sprintf("table %s is not authstore's: give authstore's tables a prefix (AUTHSTORE_TABLE_PREFIX=auth_)", users)
	}
	if other, err := migrations.Elsewhere(ctx, s.db, s.migrationOptions()...); err == nil && len(other) > 0 {
		hint = fmt.Sprintf("found %s: is AUTHSTORE_TABLE_PREFIX missing?", strings.Join(other, ", "))
	}
	return fmt.Errorf("%w (no version table %s and no authstore table %s; %s)", ErrNotMigrated, st.VersionTable, users, hint)
}

// migrationOptions are the Migrator options of the Store's configuration.
func (s *Store) migrationOptions() []migrations.Option {
	return []migrations.Option{migrations.WithTables(s.config.Tables()), migrations.WithVersionTable(s.config.MigrationsTable)}
}

// Migrator returns a Migrator over the Store's database with the
// configured table names and version table: Up, Down, Status, Baseline,
// Force. The caller closes it.
func (s *Store) Migrator(ctx context.Context) (*migrations.Migrator, error) {
	return migrations.NewGORM(ctx, s.db, s.migrationOptions()...)
}

// MigrationStatus returns the applied and embedded migrations as the
// Migrator's Status does, but only reads: it works on a read-only database
// (WithReadOnly) and creates no version table.
func (s *Store) MigrationStatus(ctx context.Context) (migrations.Status, error) {
	return migrations.ReadStatus(ctx, s.db, s.migrationOptions()...)
}

// Migrate applies every pending SQL migration to the Store's database, with
// the configured table names and version table.
func (s *Store) Migrate(ctx context.Context) error {
	m, err := s.Migrator(ctx)
	if err != nil {
		return err
	}
	defer m.Close()
	return m.Up(ctx)
}

// AutoMigrate creates or updates authstore's tables with GORM's AutoMigrate
// and creates the two monitoring views if they are missing. It is meant
// for development; production databases use the SQL migrations, which
// build the same schema. It refuses, changing nothing, a database where a
// table bears one of authstore's names but is not authstore's (a host's
// own users table: migrations.ErrForeignTable). The tables take the names
// of the configuration
// given WithConfig (AUTHSTORE_TABLE_PREFIX, AUTHSTORE_SCHEMA), or of db
// when it is a Store's DB; the other options do not matter here.
func AutoMigrate(db *gorm.DB, opts ...Option) error {
	s := Store{config: config.Default()}
	for _, o := range opts {
		o(&s)
	}
	tables := s.config.Tables()
	if len(opts) == 0 {
		if t, ok := models.TablesOf(db.NamingStrategy); ok {
			tables = t
		}
	}
	dialect := config.Dialect(db.Dialector.Name())
	switch dialect {
	case config.DialectPostgres, config.DialectSQLite, config.DialectMySQL:
	default:
		return fmt.Errorf("%w: %q", ErrUnsupportedDialect, dialect)
	}
	if dialect != config.DialectPostgres && tables.Schema != "" {
		return fmt.Errorf("authstore: automigrate: %w: AUTHSTORE_SCHEMA: want empty on %s, got %q", config.ErrInvalid, dialect, tables.Schema)
	}
	if t, ok := models.TablesOf(db.NamingStrategy); !ok || t != tables {
		own, err := ownGORM(db, dialect, tables, db.NowFunc, db.Logger)
		if err != nil {
			return err
		}
		db = own
	}
	return autoMigrate(db, tables)
}

// autoMigrate is AutoMigrate on db, whose naming strategy names the tables
// as tables says.
func autoMigrate(db *gorm.DB, tables config.Tables) error {
	dialect := config.Dialect(db.Dialector.Name())
	postgres := dialect == config.DialectPostgres
	if postgres && tables.Schema != "" {
		var n int64
		err := db.Raw("SELECT count(*) FROM information_schema.schemata WHERE schema_name = ?", tables.Schema).Scan(&n).Error
		if n == 0 && err == nil {
			err = db.Exec("CREATE SCHEMA IF NOT EXISTS " + tables.Schema).Error
		}
		if err != nil {
			return fmt.Errorf("authstore: automigrate: create schema %s: %w", tables.Schema, err)
		}
	}
	// AutoMigrate would add authstore's columns to a host's own table of
	// the same name, and on PostgreSQL keep what it added when a later
	// statement fails.
	if err := migrations.CheckTables(context.Background(), db, tables); err != nil {
		return fmt.Errorf("authstore: automigrate: %w", err)
	}
	migrate := db
	if dialect == config.DialectMySQL {
		// The binary collation compares digests and emails byte for byte,
		// as the other dialects do; the migrations give the same options.
		migrate = db.Set("gorm:table_options", mysqlTableOptions)
	}
	if err := migrate.AutoMigrate(models.All()...); err != nil {
		return fmt.Errorf("authstore: automigrate: %w", err)
	}
	q, args := "SELECT count(*) FROM sqlite_master WHERE type = 'view' AND name = ?", []any{""}
	switch dialect {
	case config.DialectPostgres:
		q = "SELECT count(*) FROM information_schema.views WHERE table_schema = COALESCE(NULLIF(?, ''), CURRENT_SCHEMA()) AND table_name = ?"
		args = []any{tables.Schema, ""}
	case config.DialectMySQL:
		q = "SELECT count(*) FROM information_schema.views WHERE table_schema = DATABASE() AND table_name = ?"
	}
	for _, v := range migrations.Views() {
		var n int64
		args[len(args)-1] = tables.Prefix + v.Name
		if err := db.Raw(q, args...).Scan(&n).Error; err != nil {
			return fmt.Errorf("authstore: automigrate: view %s: %w", v.Name, err)
		}
		if n > 0 {
			continue
		}
		if err := db.Exec(migrations.Render(v.For(dialect), tables)).Error; err != nil {
			return fmt.Errorf("authstore: automigrate: create view %s: %w", v.Name, err)
		}
	}
	return nil
}
