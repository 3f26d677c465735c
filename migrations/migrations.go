// Package migrations holds authstore's versioned SQL migrations, one folder
// per dialect (postgres/, sqlite/, mysql/), embedded in the binary and
// applied with golang-migrate.
//
// Each file also runs as-is by hand: `psql -v ON_ERROR_STOP=1 -f FILE`,
// `sqlite3 DB < FILE` or `mysql DATABASE < FILE`, in version order.
// MySQL commits every CREATE, ALTER and DROP as it runs it: a MySQL
// migration that fails part-way leaves what ran before the failing
// statement, and the database dirty (ErrDirty) as on the other dialects. For tables under a prefix or in a
// schema (WithTables), RenderedFS gives the files for those names
// (`authstore migrate sql` prints them). The applied version is recorded
// in the table DefaultVersionTable (WithVersionTable), under the same
// prefix and schema: not golang-migrate's schema_migrations, which a host
// application that uses golang-migrate itself already owns. (On SQLite,
// golang-migrate's driver gives every version table's unique index the one
// name version_unique, created if no index of that name exists: beside a
// host's own golang-migrate table, the version table that comes second has
// no unique index. It holds one row.)
//
// A migration whose work SQL cannot do alike on every dialect has a Go step
// as well, which the Migrator runs in the migration's transaction before
// its statements: 000004_normalise_emails rewrites users.email_normalized
// in models.NormalizeEmail's form (Unicode NFKC and case folding, which
// SQLite lacks). Its SQL file, applied by hand, refuses to run while a row
// needs the Go step, naming the check constraint
// apply_000004_with_authstore_migrate; Up refuses before it starts, with
// ErrEmailCollision, when two users' addresses would become one.
package migrations

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/forgeauth/authstore/config"
	"github.com/forgeauth/authstore/models"
	"github.com/golang-migrate/migrate/v4"
	"github.com/golang-migrate/migrate/v4/database"
	mysqlmigrate "github.com/golang-migrate/migrate/v4/database/mysql"
	pgxmigrate "github.com/golang-migrate/migrate/v4/database/pgx/v5"
	"github.com/golang-migrate/migrate/v4/database/sqlite3"
	"github.com/golang-migrate/migrate/v4/source"
	"github.com/golang-migrate/migrate/v4/source/iofs"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
	"gorm.io/gorm"
)

//go:embed postgres/*.sql sqlite/*.sql mysql/*.sql
var files embed.FS

// ErrDialect is returned for a database other than PostgreSQL, SQLite or
// MySQL.
var ErrDialect = errors.New("migrations: unsupported dialect")

// ErrStopped is returned by a Migrator whose earlier run was cancelled:
// make a new one.
var ErrStopped = errors.New("migrations: migrator was stopped by a cancelled context; make a new one")

// ErrDirty is returned when a previous migration failed half-way: the
// database must be repaired by hand before migrating again.
var ErrDirty = errors.New("migrations: database is dirty (a previous migration failed part-way)")

// DefaultVersionTable is the table that records the applied version
// unless WithVersionTable names another (config's
// AUTHSTORE_MIGRATIONS_TABLE).
const DefaultVersionTable = "authstore_schema_migrations"

// legacyVersionTable is where authstore recorded its version before
// DefaultVersionTable: golang-migrate's default.
const legacyVersionTable = "schema_migrations"

// Option configures a Migrator (and ReadStatus).
type Option func(*settings)

// settings are what the options set.
type settings struct {
	tables       config.Tables
	versionTable string
	tablesSet    bool
}

// WithTables names authstore's tables: a prefix and, on PostgreSQL, a
// schema (config.Config.Tables). The default is the original names in the
// current schema, or for NewGORM the names of a Store's DB.
func WithTables(t config.Tables) Option {
	return func(s *settings) { s.tables, s.tablesSet = t, true }
}

// WithVersionTable names the table that records the applied version,
// before the prefix and schema of WithTables (DefaultVersionTable by
// default).
func WithVersionTable(name string) Option {
	return func(s *settings) {
		if name != "" {
			s.versionTable = name
		}
	}
}

func newSettings(opts []Option) settings {
	s := settings{versionTable: DefaultVersionTable}
	for _, o := range opts {
		o(&s)
	}
	return s
}

// versionTableName is the version table's name without its schema.
func (s settings) versionTableName() string { return s.tables.Prefix + s.versionTable }

// FS returns the embedded migration files of a dialect: NNNNNN_name.up.sql
// and NNNNNN_name.down.sql pairs.
func FS(d config.Dialect) (fs.FS, error) {
	if d != config.DialectPostgres && d != config.DialectSQLite && d != config.DialectMySQL {
		return nil, fmt.Errorf("%w: %q", ErrDialect, d)
	}
	return fs.Sub(files, string(d))
}

// Migrator applies and rolls back the embedded migrations on one database.
// It borrows the *sql.DB it is given and never closes it; Close releases the
// connection the Migrator holds.
type Migrator struct {
	m        *migrate.Migrate
	db       *sql.DB         // the database migrated
	own      *sql.DB         // PostgreSQL: the Migrator's own connections
	drv      database.Driver // MySQL: golang-migrate's driver, which holds a connection of db
	dialect  config.Dialect
	settings settings
	stopped  bool // a cancelled run leaves golang-migrate unusable
	down     bool // the run under way rolls back (for StepError's file)
	// Adopted is the version taken over from golang-migrate's
	// schema_migrations table, where authstore recorded it before
	// DefaultVersionTable; 0 when nothing was taken over.
	Adopted uint
}

// New returns a Migrator for db, which must be a PostgreSQL (pgx, as GORM's
// postgres driver opens it), SQLite (mattn/go-sqlite3) or MySQL
// (go-sql-driver/mysql) handle as d says. On MySQL the Migrator holds one
// of db's connections, for its lock, until Close, and runs the statements
// on another: db must allow two open connections.
// On PostgreSQL the Migrator opens connections of its own with the
// settings of db's (server, database, user, search_path), so that its
// advisory lock and statements never hold one of db's pooled connections;
// Close closes them.
//
// The Migrator creates its version table if it is missing (and, on
// PostgreSQL, the schema of WithTables). A database that authstore
// migrated when it recorded its version in schema_migrations is taken
// over: the version is copied to the new table (see Adopted).
func New(ctx context.Context, db *sql.DB, d config.Dialect, opts ...Option) (*Migrator, error) {
	st := newSettings(opts)
	src, err := RenderedFS(d, st.tables)
	if err != nil {
		return nil, err
	}
	source, err := iofs.New(src, ".")
	if err != nil {
		return nil, fmt.Errorf("migrations: read embedded files: %w", err)
	}
	mg := &Migrator{dialect: d, db: db, settings: st}
	legacy, err := legacyVersion(ctx, db, d, st)
	if err != nil {
		return nil, err
	}
	if d == config.DialectPostgres {
		if mg.own, err = ownPostgres(ctx, db); err != nil {
			return nil, err
		}
		if st.tables.Schema != "" {
			if _, err := mg.own.ExecContext(ctx, "CREATE SCHEMA IF NOT EXISTS "+st.tables.Schema); err != nil {
				mg.Close()
				return nil, fmt.Errorf("migrations: create schema %s: %s", st.tables.Schema, oneLine(err))
			}
		}
	}
	if err := mg.open(source); err != nil {
		mg.Close()
		return nil, err
	}
	if legacy > 0 {
		if err := mg.m.Force(int(legacy)); err != nil {
			mg.Close()
			return nil, fmt.Errorf("migrations: take over version %d from %s: %w", legacy, legacyVersionTable, err)
		}
		mg.Adopted = legacy
	}
	return mg, nil
}

// open prepares golang-migrate over source and the database, creating the
// version table if it is missing.
func (mg *Migrator) open(source source.Driver) error {
	var drv database.Driver
	var err error
	switch mg.dialect {
	case config.DialectPostgres:
		drv, err = pgxmigrate.WithInstance(mg.own, &pgxmigrate.Config{
			MigrationsTable: mg.settings.versionTableName(),
			SchemaName:      mg.settings.tables.Schema,
		})
		if err != nil {
			return fmt.Errorf("migrations: prepare postgres: %w", err)
		}
	case config.DialectSQLite:
		drv, err = sqlite3.WithInstance(mg.db, &sqlite3.Config{MigrationsTable: mg.settings.versionTableName()})
		if err != nil {
			return fmt.Errorf("migrations: prepare sqlite: %w", err)
		}
	case config.DialectMySQL:
		// WithConnection, not WithInstance: the driver's Close would close
		// db itself.
		conn, err := mg.db.Conn(context.Background())
		if err != nil {
			return fmt.Errorf("migrations: prepare mysql: %s", oneLine(err))
		}
		my, err := mysqlmigrate.WithConnection(context.Background(), conn, &mysqlmigrate.Config{MigrationsTable: mg.settings.versionTableName()})
		if err != nil {
			conn.Close()
			return fmt.Errorf("migrations: prepare mysql: %s", oneLine(err))
		}
		drv, mg.drv = my, my
	}
	run := mg.db
	if mg.own != nil {
		run = mg.own
	}
	mg.m, err = migrate.NewWithInstance("iofs", source, string(mg.dialect), &stepwise{Driver: drv, db: run, mg: mg, version: -1})
	if err != nil {
		return fmt.Errorf("migrations: %w", err)
	}
	return nil
}

// oneLine is err's text on one line.
func oneLine(err error) string { return strings.Join(strings.Fields(err.Error()), " ") }

// NewGORM returns a Migrator over the connection pool of a GORM handle.
// The tables are named as db names them when it is a Store's DB, unless
// WithTables says otherwise.
func NewGORM(ctx context.Context, db *gorm.DB, opts ...Option) (*Migrator, error) {
	sqlDB, err := db.DB()
	if err != nil {
		return nil, fmt.Errorf("migrations: %w", err)
	}
	return New(ctx, sqlDB, config.Dialect(db.Dialector.Name()), gormTables(db, opts)...)
}

// gormTables puts in front of opts the tables of db's naming strategy, if
// it is a Store's.
func gormTables(db *gorm.DB, opts []Option) []Option {
	if t, ok := models.TablesOf(db.NamingStrategy); ok {
		return append([]Option{WithTables(t)}, opts...)
	}
	return opts
}

// Close releases the connections the Migrator opened or holds. The
// *sql.DB it was given stays open.
func (mg *Migrator) Close() error {
	if mg.own != nil {
		return mg.own.Close()
	}
	if mg.drv != nil {
		drv := mg.drv
		mg.drv = nil
		return drv.Close() // golang-migrate's MySQL driver holds a connection of db
	}
	return nil
}

// ownPostgres opens a small pool with the connection settings of one of
// db's connections, which must be pgx's.
func ownPostgres(ctx context.Context, db *sql.DB) (*sql.DB, error) {
	conn, err := db.Conn(ctx)
	if err != nil {
		return nil, fmt.Errorf("migrations: connect: %w", err)
	}
	defer conn.Close()
	var cfg *pgx.ConnConfig
	err = conn.Raw(func(dc any) error {
		c, ok := dc.(*stdlib.Conn)
		if !ok {
			return fmt.Errorf("migrations: the PostgreSQL handle's driver is %T; want pgx (github.com/jackc/pgx/v5/stdlib)", dc)
		}
		cfg = c.Conn().Config()
		return nil
	})
	if err != nil {
		return nil, err
	}
	own := stdlib.OpenDB(*cfg)
	own.SetMaxOpenConns(2) // the driver holds one for its lock and reads through another at start
	return own, nil
}

// Up applies every migration not yet applied. It is a no-op on an up-to-date
// database.
//
// It refuses, changing nothing, a database where a table bears one of
// authstore's names but is not authstore's (ErrForeignTable: give
// authstore's tables a prefix), and one that holds authstore's tables but
// records no version (ErrUnversioned: run Baseline).
func (mg *Migrator) Up(ctx context.Context) error {
	st, err := mg.Status(ctx)
	if err != nil {
		return err
	}
	existing, err := guard(ctx, mg.db, mg.dialect, mg.settings.tables)
	if err != nil {
		return err
	}
	if !st.Recorded && len(existing) > 0 {
		return fmt.Errorf("%w (found %s, and nothing in %s)", ErrUnversioned, mg.settings.tables.Name(existing[0]), st.VersionTable)
	}
	if err := mg.checkEmails(ctx, st); err != nil {
		return err
	}
	mg.down = false
	return mg.run(ctx, func() error { return mg.m.Up() })
}

// guardDown refuses to roll back when a table down would drop is not
// authstore's, or another table references one of authstore's.
func (mg *Migrator) guardDown(ctx context.Context) error {
	if _, err := guard(ctx, mg.db, mg.dialect, mg.settings.tables); err != nil {
		return err
	}
	return dependents(ctx, mg.db, mg.dialect, mg.settings.tables)
}

// Down rolls back the n most recent migrations (n >= 1).
//
// It refuses, changing nothing, when a table with one of authstore's names
// is not authstore's (ErrForeignTable) or a table of another application
// references one of authstore's (ErrDependents): down would drop the one or
// fail half-way on the other.
func (mg *Migrator) Down(ctx context.Context, n int) error {
	if n < 1 {
		return fmt.Errorf("migrations: down wants a positive number of steps, got %d", n)
	}
	if err := mg.guardDown(ctx); err != nil {
		return err
	}
	st, err := mg.Status(ctx)
	if err != nil {
		return err
	}
	if n > st.AppliedCount() {
		return fmt.Errorf("migrations: cannot roll back %d migrations, %d applied", n, st.AppliedCount())
	}
	mg.down = true
	return mg.run(ctx, func() error { return mg.m.Steps(-n) })
}

// Force records version as the applied one and the database as clean,
// without running any migration: for a database left dirty by a failed
// migration (ErrDirty), once it has been repaired by hand to match that
// version. 0 records that no migration is applied. It returns an error for
// a version the binary does not carry.
//
// It refuses a version above 0 while a table with one of authstore's names
// is not authstore's (ErrForeignTable): recording it would let Down drop
// that table.
func (mg *Migrator) Force(ctx context.Context, version uint) error {
	v := -1 // golang-migrate's "no version"
	if version > 0 {
		if _, err := guard(ctx, mg.db, mg.dialect, mg.settings.tables); err != nil {
			return err
		}
		vs, err := Versions(mg.dialect)
		if err != nil {
			return err
		}
		known := false
		for _, x := range vs {
			known = known || x.Version == version
		}
		if !known {
			return fmt.Errorf("migrations: force: version %d is not one of the %d this binary carries", version, len(vs))
		}
		v = int(version)
	}
	return mg.run(ctx, func() error { return mg.m.Force(v) })
}

// DownAll rolls back every applied migration and drops the version table,
// leaving none of authstore's tables or views: a database that holds other
// tables is as it was before authstore's first migration. The Migrator
// stays usable (Up creates the version table again).
//
// It refuses as Down does.
func (mg *Migrator) DownAll(ctx context.Context) error {
	if err := mg.guardDown(ctx); err != nil {
		return err
	}
	mg.down = true
	if err := mg.run(ctx, func() error { return mg.m.Down() }); err != nil {
		return err
	}
	db := mg.db
	if mg.own != nil {
		db = mg.own
	}
	if _, err := db.ExecContext(ctx, "DROP TABLE IF EXISTS "+mg.settings.qualifiedVersionTable()); err != nil {
		return fmt.Errorf("migrations: drop version table %s: %s", mg.settings.qualifiedVersionTable(), oneLine(err))
	}
	// golang-migrate makes the version table when it is opened: the next
	// call that needs it opens it again (ready).
	if mg.own != nil {
		mg.m.Close() // its driver holds a connection of mg.own, and closes it
		mg.own = nil
	}
	if mg.drv != nil {
		mg.m.Close() // its driver holds a connection of mg.db, and gives it back
		mg.drv = nil
	}
	mg.m = nil
	return nil
}

// ready opens golang-migrate again after DownAll, with a new pool of the
// Migrator's own on PostgreSQL.
func (mg *Migrator) ready(ctx context.Context) error {
	if mg.m != nil {
		return nil
	}
	if mg.dialect == config.DialectPostgres {
		var err error
		if mg.own, err = ownPostgres(ctx, mg.db); err != nil {
			return err
		}
	}
	src, err := RenderedFS(mg.dialect, mg.settings.tables)
	if err != nil {
		return err
	}
	source, err := iofs.New(src, ".")
	if err != nil {
		return fmt.Errorf("migrations: read embedded files: %w", err)
	}
	return mg.open(source)
}

func (mg *Migrator) run(ctx context.Context, step func() error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if mg.stopped {
		return ErrStopped
	}
	if err := mg.ready(ctx); err != nil {
		return err
	}
	done := make(chan struct{})
	defer close(done)
	go func() {
		select {
		case <-ctx.Done():
			select {
			case mg.m.GracefulStop <- true:
			default:
			}
		case <-done:
		}
	}()
	err := step()
	if ctx.Err() != nil {
		// golang-migrate stays stopped after a graceful stop.
		mg.stopped = true
	}
	if errors.Is(err, migrate.ErrNoChange) {
		return nil
	}
	var dirty migrate.ErrDirty
	if errors.As(err, &dirty) {
		return fmt.Errorf("%w at version %d; repair the database to match a version, then record it with `authstore migrate force VERSION` (Migrator.Force)", ErrDirty, max(dirty.Version, 0))
	}
	if err != nil {
		return mg.stepError(err)
	}
	return ctx.Err()
}

// StepError is a migration statement that failed, told in one line: the
// file, the line and the first line of the statement, and the database's
// error, never the whole file (golang-migrate's own error quotes it).
type StepError struct {
	// File is the migration file that failed, e.g.
	// "000001_create_auth_tables.up.sql" (its version when the direction is
	// unknown).
	File string
	// Line is the failing statement's line in File, 0 when unknown.
	Line uint
	// Statement is the statement's first line, cut to 80 bytes.
	Statement string
	// Err is the database's error.
	Err error
}

// Error returns the failure in one line.
func (e *StepError) Error() string {
	at := e.File
	if e.Line > 0 {
		at += fmt.Sprintf(" line %d", e.Line)
	}
	if e.Statement != "" {
		at += fmt.Sprintf(" (%s)", e.Statement)
	}
	return fmt.Sprintf("migrations: %s: %v", at, e.Err)
}

// Unwrap returns the database's error.
func (e *StepError) Unwrap() error { return e.Err }

// stepError turns golang-migrate's error for a failed statement into a
// StepError naming the file of the version the database is now dirty at;
// any other error is only prefixed.
func (mg *Migrator) stepError(err error) error {
	var d database.Error
	if p := (*database.Error)(nil); errors.As(err, &p) && p != nil {
		d = *p
	} else if !errors.As(err, &d) {
		return fmt.Errorf("migrations: %w", err)
	}
	se := &StepError{Line: d.Line, Statement: firstLine(string(d.Query)), Err: d.OrigErr}
	if se.Err == nil {
		se.Err = errors.New(d.Err)
	}
	se.Err = errors.New(strings.Join(strings.Fields(se.Err.Error()), " ")) // one line, whatever the driver printed
	// golang-migrate marks the database dirty at the version a step goes
	// to: the one being applied (up), or the one below the version being
	// rolled back (down; none below the first).
	se.File = "a migration"
	v, _, verr := mg.m.Version()
	if errors.Is(verr, migrate.ErrNilVersion) {
		v, verr = 0, nil
	}
	if verr == nil {
		se.File = fmt.Sprintf("version %d", v)
		vs, _ := Versions(mg.dialect)
		for _, x := range vs {
			if !mg.down && x.Version == v {
				se.File = x.upFile()
			}
			if mg.down && x.Version > v {
				se.File = x.downFile()
				break
			}
		}
	}
	return se
}

// firstLine returns the first line of sql that is not blank or a comment,
// cut to 80 bytes.
func firstLine(sql string) string {
	for _, l := range strings.Split(sql, "\n") {
		l = strings.TrimSpace(l)
		if l == "" || strings.HasPrefix(l, "--") {
			continue
		}
		if len(l) > 80 {
			l = l[:80] + "..."
		}
		return l
	}
	return ""
}

// Status reports the applied version against the embedded ones.
type Status struct {
	Dialect config.Dialect
	// VersionTable is the table the version is recorded in.
	VersionTable string
	// Recorded is true when the version table records a version: false
	// for a database never migrated, or rolled back completely, or built
	// by AutoMigrate.
	Recorded bool
	// Version is the applied version, 0 when none is.
	Version uint
	// Dirty is true when a migration failed part-way.
	Dirty bool
	// Available lists every embedded version in order.
	Available []Version
}

// Version is one embedded migration.
type Version struct {
	Version uint
	Name    string
}

// upFile is the name of v's up migration file.
func (v Version) upFile() string { return fmt.Sprintf("%06d_%s.up.sql", v.Version, v.Name) }

// downFile is the name of v's down migration file.
func (v Version) downFile() string { return fmt.Sprintf("%06d_%s.down.sql", v.Version, v.Name) }

// AppliedCount returns how many embedded versions are at or below the
// applied version.
func (s Status) AppliedCount() int {
	n := 0
	for _, v := range s.Available {
		if v.Version <= s.Version {
			n++
		}
	}
	return n
}

// Latest returns the newest embedded version.
func (s Status) Latest() uint {
	if len(s.Available) == 0 {
		return 0
	}
	return s.Available[len(s.Available)-1].Version
}

// Pending lists the embedded versions not yet applied.
func (s Status) Pending() []Version {
	var out []Version
	for _, v := range s.Available {
		if v.Version > s.Version {
			out = append(out, v)
		}
	}
	return out
}

// Status returns the applied version and the embedded ones.
func (mg *Migrator) Status(ctx context.Context) (Status, error) {
	if err := ctx.Err(); err != nil {
		return Status{}, err
	}
	st := Status{Dialect: mg.dialect, VersionTable: mg.settings.qualifiedVersionTable()}
	v, dirty, ok, err := readVersion(ctx, mg.db, mg.dialect, mg.settings.tables.Schema, mg.settings.versionTableName())
	if err != nil {
		return Status{}, err
	}
	st.Version, st.Dirty, st.Recorded = v, dirty, ok
	st.Available, err = Versions(mg.dialect)
	return st, err
}

// Latest returns the newest embedded version: the one Up migrates to and
// Baseline records. It is read from the embedded files and is the same for
// every dialect (each carries the same versions, which a test checks);
// code and tests that mean "the newest version" use it rather than a
// number, so that a new migration changes nothing else.
func Latest() uint {
	vs, err := Versions(config.DialectSQLite)
	if err != nil || len(vs) == 0 {
		// The files are embedded and their names checked by the tests:
		// this cannot happen in a binary that passed them.
		panic(fmt.Sprintf("migrations: no embedded version: %v", err))
	}
	return vs[len(vs)-1].Version
}

var fileName = regexp.MustCompile(`^(\d+)_(\w+)\.(up|down)\.sql$`)

// Versions lists the embedded migrations of a dialect in order.
func Versions(d config.Dialect) ([]Version, error) {
	fsys, err := FS(d)
	if err != nil {
		return nil, err
	}
	entries, err := fs.ReadDir(fsys, ".")
	if err != nil {
		return nil, err
	}
	var out []Version
	for _, e := range entries {
		m := fileName.FindStringSubmatch(e.Name())
		if m == nil {
			return nil, fmt.Errorf("migrations: unexpected file %s/%s", d, e.Name())
		}
		if m[3] != "up" {
			continue
		}
		n, _ := strconv.ParseUint(m[1], 10, 64)
		out = append(out, Version{Version: uint(n), Name: m[2]})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Version < out[j].Version })
	return out, nil
}
