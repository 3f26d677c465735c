package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/forgeauth/authstore"
	"github.com/forgeauth/authstore/config"
	"github.com/spf13/cobra"
)

// backupCommand is `authstore backup PATH`.
func (a *app) backupCommand() *cobra.Command {
	var force bool
	var out *output
	cmd := &cobra.Command{
		Use:   "backup PATH",
		Short: "Copy a SQLite database to PATH while it is in use, and check the copy",
		Long: `backup writes a consistent copy of the SQLite database to PATH while
applications go on using it: SQLite's VACUUM INTO copies one snapshot
(writers in WAL mode are not blocked) into a temporary file beside PATH,
the copy is synced to disk and checked with PRAGMA integrity_check, and
only a copy that answers ok is moved to PATH. The database itself is
opened read-only.

An existing PATH is refused; --force replaces it, once the new copy passed
its check. The copy is a complete SQLite database: open it with
--database-url sqlite://PATH, or put it in place of the original to
restore.

PostgreSQL: backup refuses. Use pg_dump, which takes a consistent
snapshot of a live database, and pg_restore:
  pg_dump --format=custom --file=auth.dump "$DATABASE_URL"
  pg_restore --clean --dbname="$DATABASE_URL" auth.dump

With -o json it prints one JSON object:
  {"path": "/abs/path.db", "bytes": 131072, "integrity_check": "ok"}`,
		Example: `  authstore backup /var/backups/authstore-$(date +%F).db
  authstore backup --force /var/backups/authstore-latest.db
  authstore --database-url sqlite:///var/backups/authstore-latest.db stats`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) != 1 || args[0] == "" {
				return usagef("backup takes one argument, the path of the copy")
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := a.config()
			if err != nil {
				return err
			}
			if d, err := cfg.Database(); err == nil && d.Dialect != config.DialectSQLite && !cfg.Memory() {
				return authstore.ErrBackupUnsupported
			}
			path, err := filepath.Abs(args[0])
			if err != nil {
				return fmt.Errorf("backup: %w", err)
			}
			if _, err := os.Lstat(path); err == nil && !force {
				return fmt.Errorf("backup: %s exists; pass --force to replace it", path)
			}
			return a.withExistingStore(cmd.Context(), func(ctx context.Context, s *authstore.Store) error {
				err := s.Backup(ctx, path, authstore.BackupOptions{Overwrite: force})
				if errors.Is(err, fs.ErrExist) {
					return fmt.Errorf("backup: %s exists; pass --force to replace it", path)
				}
				if err != nil {
					return err
				}
				info, err := os.Stat(path)
				if err != nil {
					return fmt.Errorf("backup: %w", err)
				}
				if out.JSON() {
					return printJSON(a.stdout, backupJSON{Path: path, Bytes: info.Size(), IntegrityCheck: "ok"})
				}
				fmt.Fprintf(a.stdout, "backed up %s to %s (%d bytes, integrity_check ok)\n", databaseLabel(s.Config()), path, info.Size())
				return nil
			})
		},
	}
	cmd.Flags().BoolVar(&force, "force", false, "replace PATH if it exists")
	out = addOutput(cmd, "the result")
	return cmd
}

// backupJSON is the output of `backup -o json`.
type backupJSON struct {
	Path           string `json:"path"`
	Bytes          int64  `json:"bytes"`
	IntegrityCheck string `json:"integrity_check"`
}
