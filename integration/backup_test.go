package integration

// Tests of Store.Backup (backup.go): a consistent copy of a SQLite
// database taken while other goroutines write, checked and opened again;
// an existing path refused unless overwritten; PostgreSQL refused with
// pg_dump named, the in-memory database refused.

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/forgeauth/authstore"
	"github.com/forgeauth/authstore/config"
	"github.com/forgeauth/authstore/repositories"
	"github.com/stretchr/testify/require"
)

func TestBackup(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b Backend) {
		f := newFixture(t, b)
		ctx := requestCtx()
		path := filepath.Join(t.TempDir(), "backup.db")
		if b.Name == "memory" {
			err := f.s.Backup(ctx, path, authstore.BackupOptions{})
			require.ErrorContains(t, err, "in-memory")
			_, err = os.Stat(path)
			require.ErrorIs(t, err, fs.ErrNotExist)
			return
		}
		if b.Dialect != config.DialectSQLite {
			err := f.s.Backup(ctx, path, authstore.BackupOptions{})
			require.ErrorIs(t, err, authstore.ErrBackupUnsupported)
			require.Contains(t, err.Error(), map[config.Dialect]string{config.DialectPostgres: "pg_dump", config.DialectMySQL: "mysqldump"}[b.Dialect])
			_, err = os.Stat(path)
			require.ErrorIs(t, err, fs.ErrNotExist)
			return
		}
		for i := range 5 {
			f.user(t, fmt.Sprintf("before%d@example.com", i))
		}

		t.Run("WhileWriting", func(t *testing.T) {
			var wg sync.WaitGroup
			var written atomic.Int64
			stop := make(chan struct{})
			for w := range 3 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for i := 0; ; i++ {
						select {
						case <-stop:
							return
						default:
						}
						_, err := f.s.Users.Import(ctx, []repositories.ImportUser{{
							Name: "Writer", Email: fmt.Sprintf("w%d-%d@example.com", w, i), PasswordHash: userHash(),
						}}, repositories.ImportOptions{})
						if err != nil {
							t.Errorf("concurrent import: %v", err)
							return
						}
						written.Add(1)
					}
				}()
			}
			for written.Load() < 20 { // the writers are under way
				time.Sleep(time.Millisecond)
			}
			err := f.s.Backup(ctx, path, authstore.BackupOptions{})
			close(stop)
			wg.Wait()
			require.NoError(t, err)
			t.Logf("%d users written by 3 goroutines around the backup", written.Load())

			cfg := config.Default()
			cfg.DatabaseURL = "sqlite://" + path
			copyStore := openWith(t, cfg) // the schema check passes: the copy is migrated
			n, err := copyStore.Users.Count(ctx)
			require.NoError(t, err)
			require.GreaterOrEqual(t, n, int64(5))
			// A consistent snapshot: every user has its registration or
			// import row, none is torn off.
			var orphans int64
			require.NoError(t, copyStore.DB().Raw(`SELECT count(*) FROM users u WHERE NOT EXISTS
				(SELECT 1 FROM user_activity_log a WHERE a.user_id = u.id)`).Scan(&orphans).Error)
			require.Zero(t, orphans)
			st, err := copyStore.MigrationStatus(ctx)
			require.NoError(t, err)
			require.False(t, st.Dirty)
			require.NotZero(t, st.Version)
			entries, err := os.ReadDir(filepath.Dir(path))
			require.NoError(t, err)
			for _, e := range entries {
				require.NotContains(t, e.Name(), ".backup-", "a temporary file was left behind")
			}
		})

		t.Run("ExistingRefused", func(t *testing.T) {
			other := filepath.Join(t.TempDir(), "taken.db")
			require.NoError(t, os.WriteFile(other, []byte("keep me"), 0o600))
			err := f.s.Backup(ctx, other, authstore.BackupOptions{})
			require.ErrorIs(t, err, fs.ErrExist)
			got, err := os.ReadFile(other)
			require.NoError(t, err)
			require.Equal(t, "keep me", string(got))
			entries, err := os.ReadDir(filepath.Dir(other))
			require.NoError(t, err)
			require.Len(t, entries, 1, "a temporary file was left behind")

			require.NoError(t, f.s.Backup(ctx, other, authstore.BackupOptions{Overwrite: true}))
			got, err = os.ReadFile(other)
			require.NoError(t, err)
			require.Equal(t, "SQLite format 3\x00", string(got[:16]))
		})

		t.Run("ReadOnlyStore", func(t *testing.T) {
			ro := openWith(t, f.cfg, authstore.WithReadOnly())
			p := filepath.Join(t.TempDir(), "ro.db")
			require.NoError(t, ro.Backup(context.Background(), p, authstore.BackupOptions{}))
		})

		t.Run("MissingFolder", func(t *testing.T) {
			err := f.s.Backup(ctx, filepath.Join(t.TempDir(), "no", "such", "dir.db"), authstore.BackupOptions{})
			require.Error(t, err)
			require.False(t, errors.Is(err, fs.ErrExist))
		})
	})
}
