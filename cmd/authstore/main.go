// Command authstore is the operator CLI of authstore: it manages the schema
// of the database that holds an OAuth2 server's clients, tokens and codes
// and its user accounts.
//
// Usage:
//
//	authstore [--database-url URL] migrate up
//	authstore [--database-url URL] migrate down N
//	authstore [--database-url URL] migrate down --all
//	authstore [--database-url URL] migrate status [--json]
//
// migrate up applies the pending versioned SQL migrations embedded in the
// binary; migrate down rolls back the N most recent ones, or all of them;
// migrate status reports the applied version against the embedded ones.
//
// The database is DATABASE_URL (postgres://..., postgresql://... or
// sqlite://PATH; default sqlite://./authstore.db), which --database-url
// overrides. Every other setting is read from the environment as package
// config describes. A SQLite file is created if it does not exist.
//
// Exit status: 0 on success, 1 when the command failed (invalid
// configuration, database unreachable, migration failed, ...), 2 on bad
// usage (unknown command or flag, bad argument). Errors are one line on
// standard error; no password from DATABASE_URL is ever printed.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := newApp(os.Stdout, os.Stderr, os.Environ).run(ctx, os.Args[1:])
	stop()
	os.Exit(code)
}
