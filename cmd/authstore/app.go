package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"strings"

	"github.com/forgeauth/authstore"
	"github.com/forgeauth/authstore/config"
	"github.com/spf13/cobra"
	"gorm.io/gorm/logger"
)

// Exit statuses.
const (
	exitOK      = 0 // success
	exitFailure = 1 // the command ran and failed
	exitUsage   = 2 // bad command line
)

// app is what every command shares: the output streams, the environment
// and the global flags. Each command group lives in its own file as a
// method that returns its *cobra.Command (see migrateCommand) and is added
// in rootCommand.
type app struct {
	stdout, stderr io.Writer
	environ        func() []string // os.Environ in main
	databaseURL    optionalString  // --database-url
}

// newApp returns an app that writes to stdout and stderr and reads its
// configuration from environ.
func newApp(stdout, stderr io.Writer, environ func() []string) *app {
	return &app{stdout: stdout, stderr: stderr, environ: environ}
}

// rootCommand builds the command tree.
func (a *app) rootCommand() *cobra.Command {
	root := groupCommand(&cobra.Command{
		Use:   "authstore",
		Short: "Operate an authstore database (OAuth2 server and user accounts)",
		Long: `authstore manages the database of an OAuth2 authorization server and its
user accounts, on PostgreSQL, MySQL/MariaDB or SQLite.

The database is DATABASE_URL, which --database-url overrides:
  postgres://USER:PASSWORD@HOST:PORT/DB?sslmode=... (or postgresql://)
  mysql://USER:PASSWORD@HOST:3306/DB (or mariadb://)
  sqlite://./relative.db or sqlite:///absolute/path.db
With neither set it is sqlite://./authstore.db. A SQLite file that does not
exist is created by the commands that write (migrate up, serve, demo, ...);
the commands that only read refuse it. Every other setting comes from the
environment (OAUTH_*, AUTH_*, JWT_*, DB_* and AUTHSTORE_* keys: the master
key AUTHSTORE_ENCRYPTION_KEY, the table prefix AUTHSTORE_TABLE_PREFIX, ...).

Exit status: 0 on success, 1 on failure, 2 on bad usage.`,
		Example: `  # Migrate ./authstore.db and walk every flow
  authstore demo

  # Create or update the schema of ./authstore.db
  authstore migrate up

  # Run the OpenID provider and its login page on 127.0.0.1:8080
  authstore serve

  # Delete expired tokens, codes and sessions; show the backlog
  authstore purge --dry-run
  authstore stats

  # The same on PostgreSQL
  DATABASE_URL='postgres://app@db.internal:5432/auth?sslmode=require' authstore migrate up

  # Show which migrations are applied
  authstore --database-url sqlite:///var/lib/authstore/auth.db migrate status

  # Shell completion (ids of clients and users complete from the database)
  source <(authstore completion bash)
  authstore completion zsh > "${fpath[1]}/_authstore"
  authstore completion fish > ~/.config/fish/completions/authstore.fish`,
	})
	root.SilenceUsage = true
	root.SilenceErrors = true
	// Suggestions would make the error span several lines.
	root.DisableSuggestions = true
	// authstore completion bash|zsh|fish|powershell prints a completion
	// script; commands that take a client or user id complete it from the
	// database (completion.go).
	root.SetOut(a.stdout)
	root.SetErr(a.stderr)
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError{err} })
	root.PersistentFlags().Var(&a.databaseURL, "database-url",
		"database URL, overriding DATABASE_URL (default sqlite://./authstore.db)")

	root.AddCommand(
		a.migrateCommand(),
		a.demoCommand(),
		a.purgeCommand(),
		a.statsCommand(),
		a.clientCommand(),
		a.userCommand(),
		a.activityCommand(),
		a.versionCommand(),
		a.sessionCommand(),
		a.tokenCommand(),
		a.patCommand(),
		a.grantCommand(),
		a.exportCommand(),
		a.importCommand(),
		a.backupCommand(),
		a.keysCommand(),
		a.serveCommand(),
	)
	// Cobra adds its completion command at Execute; added now, it answers
	// an unknown shell (completion tcsh) with a usage error, as every
	// command group does, instead of its help and status 0.
	root.InitDefaultCompletionCmd()
	for _, c := range root.Commands() {
		if c.Name() == "completion" {
			c.Args = nil
			groupCommand(c)
		}
	}
	a.completeIDs(root)
	markFailures(root)
	return root
}

// run executes the command line args (without the program name), reports
// an error on stderr and returns the exit status.
func (a *app) run(ctx context.Context, args []string) int {
	root := a.rootCommand()
	root.SetArgs(args)
	cmd, err := root.ExecuteContextC(ctx)
	if err == nil {
		return exitOK
	}
	fmt.Fprintln(a.stderr, errorLine(ctx, err))
	var f failure
	if errors.As(err, &f) {
		return exitFailure
	}
	fmt.Fprintf(a.stderr, "run '%s --help' for usage\n", cmd.CommandPath())
	return exitUsage
}

// config returns the configuration: the environment as package config
// reads it, with --database-url, if given, in place of DATABASE_URL (so an
// invalid DATABASE_URL in the environment does not matter then), and,
// without AUTHSTORE_ENCRYPTION_KEY, the development master key that keys
// rotate or demo generated beside a SQLite database (keys.go).
func (a *app) config() (config.Config, error) {
	environ := map[string]string{}
	for _, kv := range a.environ() {
		if k, v, ok := strings.Cut(kv, "="); ok {
			environ[k] = v
		}
	}
	if a.databaseURL.set {
		environ["DATABASE_URL"] = a.databaseURL.value
	}
	cfg, err := config.LoadFrom(environ)
	if err != nil {
		return config.Config{}, err
	}
	if err := readDevMasterKey(&cfg); err != nil {
		return config.Config{}, err
	}
	return cfg, nil
}

// openStore opens the Store that the configuration names with opts (a
// SQLite file is created if it does not exist, unless opts hold
// authstore.WithReadOnly). The caller closes it. GORM's own log is off:
// the CLI reports every error it gets, in one line.
func (a *app) openStore(ctx context.Context, opts ...authstore.Option) (*authstore.Store, error) {
	cfg, err := a.config()
	if err != nil {
		return nil, err
	}
	return a.openConfigStore(ctx, cfg, opts...)
}

// openConfigStore is openStore over cfg instead of the environment's.
func (a *app) openConfigStore(ctx context.Context, cfg config.Config, opts ...authstore.Option) (*authstore.Store, error) {
	return authstore.Open(ctx, cfg, append([]authstore.Option{authstore.WithLogger(logger.Discard)}, opts...)...)
}

// databaseLabel names the database of cfg for display, without
// credentials: the file of a SQLite database, HOST:PORT/DB of a PostgreSQL
// one, followed by its search_path if the URL sets one.
func databaseLabel(cfg config.Config) string {
	if cfg.Memory() {
		return "in-memory"
	}
	d, err := cfg.Database()
	if err != nil {
		return ""
	}
	if d.Dialect == config.DialectSQLite {
		return d.DSN
	}
	if d.Dialect == config.DialectMySQL {
		u, err := url.Parse(cfg.DatabaseURL) // the URL; the DSN is the driver's form
		if err != nil {
			return ""
		}
		return u.Host + u.Path
	}
	u, err := url.Parse(d.DSN)
	if err != nil {
		return ""
	}
	label := u.Host + u.Path
	if sp := u.Query().Get("search_path"); sp != "" {
		label += " (search_path " + sp + ")"
	}
	return label
}

// groupCommand completes cmd as a command that only groups subcommands:
// without arguments it prints its help; with one it reports an unknown
// command as bad usage.
func groupCommand(cmd *cobra.Command) *cobra.Command {
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		if len(args) > 0 {
			return usageError{fmt.Errorf("unknown command %q for %q", args[0], cmd.CommandPath())}
		}
		return cmd.Help()
	}
	return cmd
}

// usageError is bad usage of the command line (exit status 2). Commands
// return it for an invalid argument; flag and unknown-command errors are
// usage errors too.
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

// usagef returns a usageError with a formatted message.
func usagef(format string, args ...any) error {
	return usageError{fmt.Errorf(format, args...)}
}

// failure is an error returned once the command line was accepted: the
// command failed (exit status 1).
type failure struct{ err error }

func (e failure) Error() string { return e.err.Error() }
func (e failure) Unwrap() error { return e.err }

// markFailures wraps the run functions of cmd and its subcommands so that
// the errors they return, other than usage errors, are failures. Errors
// from cobra itself (unknown command or flag, argument validation) are
// left as they are, and are usage errors.
func markFailures(cmd *cobra.Command) {
	for _, fn := range []*func(*cobra.Command, []string) error{
		&cmd.PersistentPreRunE, &cmd.PreRunE, &cmd.RunE, &cmd.PostRunE, &cmd.PersistentPostRunE,
	} {
		if *fn == nil {
			continue
		}
		run := *fn
		*fn = func(cmd *cobra.Command, args []string) error {
			err := run(cmd, args)
			var u usageError
			if err == nil || errors.As(err, &u) {
				return err
			}
			return failure{err}
		}
	}
	for _, sub := range cmd.Commands() {
		markFailures(sub)
	}
}

// errorLine formats err as the one line printed on stderr, prefixed with
// "authstore: " once.
func errorLine(ctx context.Context, err error) string {
	msg := err.Error()
	if errors.Is(err, context.Canceled) && ctx.Err() != nil {
		msg = "interrupted"
	}
	var parts []string
	for line := range strings.Lines(msg) {
		if line = strings.TrimSpace(line); line != "" {
			parts = append(parts, line)
		}
	}
	msg = strings.Join(parts, "; ")
	if !strings.HasPrefix(msg, "authstore: ") {
		msg = "authstore: " + msg
	}
	return msg
}

// optionalString is a string flag that records whether it was given, so
// that an explicitly empty value still overrides the environment.
type optionalString struct {
	value string
	set   bool
}

func (s *optionalString) String() string { return s.value }
func (s *optionalString) Type() string   { return "string" }

func (s *optionalString) Set(v string) error {
	s.value, s.set = v, true
	return nil
}
