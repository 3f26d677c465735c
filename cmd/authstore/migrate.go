package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/forgeauth/authstore"
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
dialect). The applied version is recorded in the schema_migrations table.`,
		Example: `  authstore migrate up
  authstore migrate status
  authstore migrate status --json
  authstore migrate down 1
  authstore migrate down --all`,
	})
	cmd.AddCommand(a.migrateUpCommand(), a.migrateDownCommand(), a.migrateStatusCommand(), a.migrateForceCommand())
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
	var all bool
	var steps int
	cmd := &cobra.Command{
		Use:   "down {N | --all}",
		Short: "Roll back the N most recent migrations, or all of them",
		Long: `down rolls back the N most recent applied migrations (N a positive integer),
or every applied migration with --all, and prints the version reached.
Give exactly one of N and --all.

Rolling back drops tables and the data in them.`,
		Example: `  # Undo the most recent migration
  authstore migrate down 1

  # Drop every authstore table and view
  authstore migrate down --all`,
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
			if !yes {
				in := cmd.InOrStdin()
				if !isTerminal(in) {
					return usagef("force records a version without running migrations; pass --yes to confirm (no terminal to ask)")
				}
				fmt.Fprintf(a.stderr, "Record version %d as applied and the database as clean, running no migration? [y/N] ", version)
				answer, _ := bufio.NewReader(in).ReadString('\n')
				if ans := strings.ToLower(strings.TrimSpace(answer)); ans != "y" && ans != "yes" {
					return failure{errors.New("force not confirmed; nothing changed")}
				}
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
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "status",
		Short: "Show the applied version and the embedded migrations",
		Long: `status prints the dialect, the database, the applied version (0 when none
is), whether the database is dirty (a migration failed part-way and must be
repaired by hand), the latest embedded version, and each embedded migration
as applied, pending or dirty.

With --json it prints one JSON object instead:
  {"dialect": "sqlite", "database": "./authstore.db", "version": 2,
   "dirty": false, "latest": 2, "pending": 0,
   "migrations": [{"version": 1, "name": "create_auth_tables", "state": "applied"}, ...]}`,
		Example: `  authstore migrate status
  authstore migrate status --json | jq .version`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := a.requireExisting(); err != nil {
				return err
			}
			return a.withMigrator(cmd.Context(), func(ctx context.Context, s *authstore.Store, m *migrations.Migrator) error {
				st, err := m.Status(ctx)
				if err != nil {
					return err
				}
				if asJSON {
					return a.printStatusJSON(st, databaseLabel(s.Config()))
				}
				return a.printStatus(st, databaseLabel(s.Config()))
			})
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the status as a JSON object")
	return cmd
}

// statusJSON is the output of `migrate status --json`.
type statusJSON struct {
	Dialect    string          `json:"dialect"`
	Database   string          `json:"database"`
	Version    uint            `json:"version"`
	Dirty      bool            `json:"dirty"`
	Latest     uint            `json:"latest"`
	Pending    int             `json:"pending"`
	Migrations []migrationJSON `json:"migrations"`
}

// migrationJSON is one embedded migration in statusJSON.
type migrationJSON struct {
	Version uint   `json:"version"`
	Name    string `json:"name"`
	State   string `json:"state"` // applied, pending or dirty
}

func (a *app) printStatusJSON(st migrations.Status, database string) error {
	out := statusJSON{
		Dialect:    string(st.Dialect),
		Database:   database,
		Version:    st.Version,
		Dirty:      st.Dirty,
		Latest:     st.Latest(),
		Pending:    len(st.Pending()),
		Migrations: []migrationJSON{},
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
	s, err := a.openStore(ctx)
	if err != nil {
		return err
	}
	defer func() {
		if cerr := s.Close(); cerr != nil && err == nil {
			err = fmt.Errorf("close database: %w", cerr)
		}
	}()
	if s.Config().Memory() {
		return errors.New(`migrate: OAUTH_STORAGE and AUTH_SESSION_STORAGE are "memory": there is no database to migrate`)
	}
	m, err := migrations.NewGORM(ctx, s.DB)
	if err != nil {
		return err
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
