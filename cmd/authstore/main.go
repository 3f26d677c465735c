// Command authstore is the operator CLI of authstore: it runs the demo,
// manages the schema of the database that holds an OAuth2 server's
// clients, tokens and codes and its user accounts, purges expired rows,
// reports the backlog, and manages clients and users.
//
// Usage:
//
//	authstore [--database-url URL] demo [--json]
//	authstore [--database-url URL] migrate up | down N | down --all | status [--json]
//	authstore [--database-url URL] purge [--dry-run] [--batch-size N] [--activity-retention D] [--json]
//	authstore [--database-url URL] stats [--json]
//	authstore [--database-url URL] client create --name N --redirect-uri U [--public] [--scopes S] [--json]
//	authstore [--database-url URL] client list | show ID | rotate-secret ID | revoke ID
//	authstore [--database-url URL] user create --name N --email E   (password on stdin or prompted)
//	authstore [--database-url URL] user list [--limit N] [--offset N]
//	authstore [--database-url URL] activity [--user ID] [--since D] [--limit N]
//	authstore [--database-url URL] serve [--addr HOST:PORT] [--issuer URL]
//
// demo migrates the database and walks every flow. migrate up applies the
// pending versioned SQL migrations embedded in the binary; migrate down
// rolls back the N most recent ones, or all of them; migrate status reports
// the applied version against the embedded ones. serve runs the OpenID
// provider and its login page until SIGINT or SIGTERM. purge deletes expired rows
// in batches; stats shows per-table totals, expired backlog and lag. Client
// secrets are printed once, at creation or rotation.
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
