package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/forgeauth/authstore"
	"github.com/forgeauth/authstore/config"
	"github.com/forgeauth/authstore/migrations"
	"github.com/spf13/cobra"
)

// migrateCommand builds `authstore migrate` and its subcommands.
func (a *app) migrateCommand() *cobra.Command {
	cmd := groupCommand(&cobra.Command{
		Use:   "migrate",
		Short: "Apply, roll back or inspect the versioned SQL migrations",
		Long: `migrate manages the database schema with the versioned SQL migrations
embedded in this binary (the files of the migrations package, one set per
dialect). The applied version is recorded in the table
AUTHSTORE_MIGRATIONS_TABLE (default authstore_schema_migrations, so that a
host application's own golang-migrate table schema_migrations is left
alone).

AUTHSTORE_TABLE_PREFIX (say auth_) puts a prefix on every table, view, index
and constraint authstore creates, the version table included; on PostgreSQL
AUTHSTORE_SCHEMA (say auth) puts them in a schema of their own. Every
migrate command, and every other command, uses the same names.`,
		Example: `  authstore migrate up
  authstore migrate status
  authstore migrate status --json
  authstore migrate down 1
  authstore migrate down --all --yes

  # Beside a host application's own users table
  AUTHSTORE_TABLE_PREFIX=auth_ authstore migrate up

  # Hand a database built by AutoMigrate over to the migrations
  authstore migrate baseline

  # Print the statements to apply by hand
  authstore migrate sql | psql -v ON_ERROR_STOP=1 "$DATABASE_URL"`,
	})
	cmd.AddCommand(a.migrateUpCommand(), a.migrateDownCommand(), a.migrateStatusCommand(), a.migrateForceCommand(),
		a.migrateBaselineCommand(), a.migrateSQLCommand())
	return cmd
}

func (a *app) migrateUpCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "up",
		Short: "Apply every pending migration",
		Long: `up applies every embedded migration not yet applied, in order, and prints
the version reached. It does nothing on an up-to-date database.

A migration that fails part-way leaves the database dirty: up then refuses
to run until the database is repaired by hand (see migrate status).`,
		Example: `  authstore migrate up
  authstore --database-url 'postgres://app@db.internal:5432/auth?sslmode=require' migrate up`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.withMigrator(cmd.Context(), func(ctx context.Context, _ *authstore.Store, m *migrations.Migrator) error {
				before, err := m.Status(ctx)
				if err != nil {
					return err
				}
				if err := m.Up(ctx); err != nil {
					return err
				}
				after, err := m.Status(ctx)
				if err != nil {
					return err
				}
				if after.Version == before.Version {
					fmt.Fprintf(a.stdout, "%s database already at version %s\n", after.Dialect, versionLabel(after))
				} else {
					fmt.Fprintf(a.stdout, "migrated %s database to version %s\n", after.Dialect, versionLabel(after))
				}
				return nil
			})
		},
	}
}

func (a *app) migrateDownCommand() *cobra.Command {
	var all, yes bool
	var steps int
	cmd := &cobra.Command{
		Use:   "down {N | --all}",
		Short: "Roll back the N most recent migrations, or all of them",
		Long: `down rolls back the N most recent applied migrations (N a positive integer),
or every applied migration with --all, and prints the version reached.
Give exactly one of N and --all.

Rolling back drops tables and the data in them: on a terminal down asks for
confirmation; elsewhere pass --yes.`,
		Example: `  # Undo the most recent migration
  authstore migrate down 1 --yes

  # Drop every authstore table and view
  authstore migrate down --all --yes`,
		Args: func(_ *cobra.Command, args []string) error {
			switch {
			case len(args) > 1:
				return usagef("down takes one argument N, got %d", len(args))
			case all && len(args) == 1:
				return usagef("down takes N or --all, not both")
			case all:
				return nil
			case len(args) == 0:
				return usagef("down needs N, the number of migrations to roll back, or --all")
			}
			n, err := strconv.Atoi(args[0])
			if err != nil || n < 1 {
				return usagef("down wants N, a positive integer, got %q", args[0])
			}
			steps = n
			return nil
		},
		RunE: func(cmd *cobra.Command, _ []string) error {
			what := fmt.Sprintf("Roll back the %d most recent migrations, dropping their tables and the data in them?", steps)
			if all {
				what = "Roll back every migration, dropping every authstore table and the data in them?"
			}
			if err := a.confirm(cmd, yes, what, "down drops tables"); err != nil {
				return err
			}
			return a.withMigrator(cmd.Context(), func(ctx context.Context, _ *authstore.Store, m *migrations.Migrator) error {
				before, err := m.Status(ctx)
				if err != nil {
					return err
				}
				if all {
					if before.Version == 0 && !before.Dirty {
						fmt.Fprintf(a.stdout, "%s database has no migration applied; nothing to roll back\n", before.Dialect)
						return nil
					}
					err = m.DownAll(ctx)
				} else {
					err = m.Down(ctx, steps)
				}
				if err != nil {
					return err
				}
				after, err := m.Status(ctx)
				if err != nil {
					return err
				}
				fmt.Fprintf(a.stdout, "rolled back %s database to version %s\n", after.Dialect, versionLabel(after))
				return nil
			})
		},
	}
	cmd.Flags().BoolVar(&all, "all", false, "roll back every applied migration")
	cmd.Flags().BoolVar(&yes, "yes", false, "confirm without being asked")
	return cmd
}

// migrateForceCommand is `authstore migrate force VERSION`: clear a dirty
// state left by a failed migration.
func (a *app) migrateForceCommand() *cobra.Command {
	var yes bool
	var version uint
	cmd := &cobra.Command{
		Use:   "force VERSION",
		Short: "Record VERSION as applied and clear a dirty state, running no migration",
		Long: `force records VERSION as the applied migration and the database as clean,
without running any migration. Use it once, after a migration failed part-way
(migrate status says dirty) and you have repaired the database by hand so that
it matches VERSION; 0 records that no migration is applied. Then run migrate
up again.

It changes what the database says about itself: on a terminal it asks for
confirmation; elsewhere pass --yes.`,
		Example: `  # 000001 failed half-way; after dropping what it created:
  authstore migrate force 0 --yes
  authstore migrate up`,
		Args: func(_ *cobra.Command, args []string) error {
			if len(args) != 1 {
				return usagef("force takes one argument VERSION, got %d", len(args))
			}
			n, err := strconv.ParseUint(args[0], 10, 32)
			if err != nil {
				return usagef("force wants VERSION, a migration version or 0, got %q", args[0])
			}
			version = uint(n)
			return nil
		},
		RunE: func(cmd *cobra.Command, _ []string) error {
			what := fmt.Sprintf("Record version %d as applied and the database as clean, running no migration?", version)
			if err := a.confirm(cmd, yes, what, "force records a version without running migrations"); err != nil {
				return err
			}
			return a.withMigrator(cmd.Context(), func(ctx context.Context, _ *authstore.Store, m *migrations.Migrator) error {
				if err := m.Force(ctx, version); err != nil {
					return err
				}
				st, err := m.Status(ctx)
				if err != nil {
					return err
				}
				fmt.Fprintf(a.stdout, "recorded %s database at version %s, clean; no migration ran\n", st.Dialect, versionLabel(st))
				return nil
			})
		},
	}
	cmd.Flags().BoolVar(&yes, "yes", false, "confirm without being asked")
	return cmd
}

func (a *app) migrateStatusCommand() *cobra.Command {
	var asJSON *output
	cmd := &cobra.Command{
		Use:   "status",
		Short: "Show the applied version and the embedded migrations",
		Long: `status prints the dialect, the database, the applied version (0 when none
is), whether the database is dirty (a migration failed part-way and must be
repaired by hand), the latest embedded version, and each embedded migration
as applied, pending or dirty.

With --json it prints one JSON object instead:
  {"dialect": "sqlite", "database": "./authstore.db",
   "version_table": "authstore_schema_migrations", "version": 3,
   "dirty": false, "latest": 3, "pending": 0,
   "migrations": [{"version": 1, "name": "create_auth_tables", "state": "applied"}, ...]}`,
		Example: `  authstore migrate status
  authstore migrate status --json | jq .version`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			// It only reads: a read-only SQLite file will do, and a missing
			// one is an error, not a new empty database.
			return a.withStore(cmd.Context(), func(ctx context.Context, s *authstore.Store) error {
				st, err := s.MigrationStatus(ctx)
				if err != nil {
					return err
				}
				if !st.Recorded {
					cfg := s.Config()
					if other, err := migrations.Elsewhere(ctx, s.DB(), migrations.WithVersionTable(cfg.MigrationsTable)); err == nil && len(other) > 0 {
						fmt.Fprintf(a.stderr, "notice: no version in %s, but found %s: is AUTHSTORE_TABLE_PREFIX missing?\n", st.VersionTable, strings.Join(other, ", "))
					}
				}
				if asJSON.JSON() {
					return a.printStatusJSON(st, databaseLabel(s.Config()))
				}
				return a.printStatus(st, databaseLabel(s.Config()))
			}, authstore.WithReadOnly(), authstore.WithoutSchemaCheck())
		},
	}
	asJSON = addOutput(cmd, "the status")
	return cmd
}

// statusJSON is the output of `migrate status --json`.
type statusJSON struct {
	Dialect      string          `json:"dialect"`
	Database     string          `json:"database"`
	VersionTable string          `json:"version_table"`
	Version      uint            `json:"version"`
	Dirty        bool            `json:"dirty"`
	Latest       uint            `json:"latest"`
	Pending      int             `json:"pending"`
	Migrations   []migrationJSON `json:"migrations"`
}

// migrationJSON is one embedded migration in statusJSON.
type migrationJSON struct {
	Version uint   `json:"version"`
	Name    string `json:"name"`
	State   string `json:"state"` // applied, pending or dirty
}

func (a *app) printStatusJSON(st migrations.Status, database string) error {
	out := statusJSON{
		Dialect:      string(st.Dialect),
		Database:     database,
		VersionTable: st.VersionTable,
		Version:      st.Version,
		Dirty:        st.Dirty,
		Latest:       st.Latest(),
		Pending:      len(st.Pending()),
		Migrations:   []migrationJSON{},
	}
	for _, v := range st.Available {
		out.Migrations = append(out.Migrations, migrationJSON{Version: v.Version, Name: v.Name, State: state(st, v)})
	}
	enc := json.NewEncoder(a.stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}

func (a *app) printStatus(st migrations.Status, database string) error {
	w := tabwriter.NewWriter(a.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintf(w, "dialect:\t%s\n", st.Dialect)
	fmt.Fprintf(w, "database:\t%s\n", database)
	fmt.Fprintf(w, "version table:\t%s\n", st.VersionTable)
	fmt.Fprintf(w, "version:\t%s\n", versionLabel(st))
	fmt.Fprintf(w, "dirty:\t%t\n", st.Dirty)
	fmt.Fprintf(w, "latest:\t%d\n", st.Latest())
	fmt.Fprintf(w, "pending:\t%d\n", len(st.Pending()))
	if err := w.Flush(); err != nil {
		return err
	}
	fmt.Fprintln(a.stdout, "migrations:")
	w = tabwriter.NewWriter(a.stdout, 0, 0, 2, ' ', 0)
	for _, v := range st.Available {
		fmt.Fprintf(w, "  %d\t%s\t%s\n", v.Version, v.Name, state(st, v))
	}
	return w.Flush()
}

// state says whether v is applied, pending or dirty (failed part-way) in st.
func state(st migrations.Status, v migrations.Version) string {
	switch {
	case st.Dirty && v.Version == st.Version:
		return "dirty"
	case v.Version <= st.Version:
		return "applied"
	}
	return "pending"
}

// versionLabel formats the applied version of st with its name, e.g.
// "2 (create_oauth_tables)".
func versionLabel(st migrations.Status) string {
	if st.Version == 0 {
		return "0 (no migration applied)"
	}
	for _, v := range st.Available {
		if v.Version == st.Version {
			label := fmt.Sprintf("%d (%s)", v.Version, v.Name)
			if st.Dirty {
				label += ", dirty"
			}
			return label
		}
	}
	return fmt.Sprintf("%d (not a migration of this binary: it is newer)", st.Version)
}

// withMigrator opens the Store and a Migrator over its database, calls fn,
// and closes both.
func (a *app) withMigrator(ctx context.Context, fn func(context.Context, *authstore.Store, *migrations.Migrator) error) (err error) {
	cfg, err := a.config()
	if err != nil {
		return err
	}
	if cfg.Memory() {
		return errors.New(`migrate: OAUTH_STORAGE and AUTH_SESSION_STORAGE are "memory": there is no database to migrate`)
	}
	s, err := a.openStore(ctx, authstore.WithoutSchemaCheck())
	if err != nil {
		return err
	}
	defer func() {
		if cerr := s.Close(); cerr != nil && err == nil {
			err = fmt.Errorf("close database: %w", cerr)
		}
	}()
	m, err := s.Migrator(ctx)
	if err != nil {
		return err
	}
	if m.Adopted > 0 {
		fmt.Fprintf(a.stderr, "took over version %d from schema_migrations into %s\n", m.Adopted, cfg.Tables().Name(cfg.MigrationsTable))
	}
	defer m.Close()
	return fn(ctx, s, m)
}

// noArgs accepts no positional argument; an extra one is bad usage.
func noArgs(cmd *cobra.Command, args []string) error {
	if len(args) > 0 {
		return usagef("%s takes no argument, got %q", cmd.CommandPath(), args[0])
	}
	return nil
}

// confirm asks on a terminal whether to go on with what; without one it
// needs --yes (yes), and says so with why, the reason it asks.
func (a *app) confirm(cmd *cobra.Command, yes bool, what, why string) error {
	if yes {
		return nil
	}
	in := cmd.InOrStdin()
	if !isTerminal(in) {
		return usagef("%s; pass --yes to confirm (no terminal to ask)", why)
	}
	fmt.Fprintf(a.stderr, "%s [y/N] ", what)
	answer, _ := bufio.NewReader(in).ReadString('\n')
	if ans := strings.ToLower(strings.TrimSpace(answer)); ans != "y" && ans != "yes" {
		return failure{fmt.Errorf("%s: not confirmed; nothing changed", cmd.Name())}
	}
	return nil
}

// migrateBaselineCommand is `authstore migrate baseline`: hand a database
// built by AutoMigrate (or by hand) over to the migrations.
func (a *app) migrateBaselineCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "baseline",
		Short: "Record a database built by AutoMigrate as migrated, after checking its schema",
		Long: `baseline hands a database whose authstore tables were built without the
migrations (by AutoMigrate in development, or by hand) over to them: it
compares the database's tables, columns, indexes, foreign keys and views with
those the embedded migrations build, and when they are the same records the
newest version as applied, running no migration. migrate up is then a no-op
until a newer authstore brings a migration.

When they differ it refuses and names the first difference (a missing column,
say); bring the database in line (or run migrate up on a fresh one and move
the data), then baseline again. A database that already records a version
needs migrate up, not baseline.`,
		Example: `  authstore migrate baseline
  authstore migrate up   # now a no-op`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.withMigrator(cmd.Context(), func(ctx context.Context, _ *authstore.Store, m *migrations.Migrator) error {
				if err := m.Baseline(ctx); err != nil {
					return err
				}
				st, err := m.Status(ctx)
				if err != nil {
					return err
				}
				fmt.Fprintf(a.stdout, "schema matches the migrations; recorded %s database at version %s; no migration ran\n", st.Dialect, versionLabel(st))
				return nil
			})
		},
	}
}

// migrateSQLCommand is `authstore migrate sql`: print the migrations for
// applying by hand.
func (a *app) migrateSQLCommand() *cobra.Command {
	var dialect string
	var down bool
	var after uint
	cmd := &cobra.Command{
		Use:   "sql",
		Short: "Print the migrations' statements, for the configured table names, to apply by hand",
		Long: `sql prints the statements of the embedded migrations with the table prefix,
schema and version table of the configuration (AUTHSTORE_TABLE_PREFIX,
AUTHSTORE_SCHEMA, AUTHSTORE_MIGRATIONS_TABLE), ready for psql or sqlite3.
Each migration ends by recording its version in the version table, as
migrate up would, so migrate status and migrate up agree with a database
migrated this way. It connects to no database: the dialect is DATABASE_URL's
unless --dialect names one.

With --down it prints the down migrations, newest first, each recording the
version below it.`,
		Example: `  AUTHSTORE_TABLE_PREFIX=auth_ authstore migrate sql --dialect postgres > authstore.sql
  psql -v ON_ERROR_STOP=1 -1 -f authstore.sql "$DATABASE_URL"

  authstore --database-url sqlite://./auth.db migrate sql | sqlite3 ./auth.db

  # Only what a database at version 2 still needs
  authstore migrate sql --after 2`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := a.config()
			if err != nil {
				return err
			}
			d := config.Dialect(dialect)
			if dialect == "" {
				u, err := cfg.Database()
				if err != nil {
					return err
				}
				d = u.Dialect
			}
			if d != config.DialectPostgres && d != config.DialectSQLite && d != config.DialectMySQL {
				return usagef("--dialect wants postgres, sqlite or mysql, got %q", dialect)
			}
			if d != config.DialectPostgres && cfg.Schema != "" {
				return usagef("AUTHSTORE_SCHEMA is set (%q) but %s has no schemas of its own", cfg.Schema, d)
			}
			script, err := migrations.Script(d, migrations.ScriptOptions{
				Tables: cfg.Tables(), VersionTable: cfg.MigrationsTable, Down: down, After: after,
			})
			if err != nil {
				return err
			}
			_, err = io.WriteString(a.stdout, script)
			return err
		},
	}
	cmd.Flags().StringVar(&dialect, "dialect", "", "postgres, sqlite or mysql (default: DATABASE_URL's)")
	cmd.Flags().BoolVar(&down, "down", false, "print the down migrations, newest first")
	cmd.Flags().UintVar(&after, "after", 0, "only the migrations above this version (with --down: down to it)")
	return cmd
}
