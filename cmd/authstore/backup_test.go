package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/forgeauth/authstore/migrations"
)

func TestBackupCommand(t *testing.T) {
	t.Parallel()
	forBackends(t, func(t *testing.T, b backend) {
		b.mustRun(t, "migrate", "up")
		path := filepath.Join(t.TempDir(), "copy.db")
		if b.schema != "" {
			r := b.run(t, "backup", path)
			failsWith(t, r, exitFailure, "pg_dump")
			if _, err := os.Stat(path); err == nil {
				t.Errorf("backup on PostgreSQL created %s", path)
			}
			if help := b.mustRun(t, "backup", "--help").stdout; !strings.Contains(help, "pg_dump") {
				t.Errorf("backup --help does not name pg_dump")
			}
			return
		}

		t.Run("WhileWriting", func(t *testing.T) {
			// Another process writes users while the backup runs.
			var wg sync.WaitGroup
			var written atomic.Int64
			stop := make(chan struct{})
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := 0; ; i++ {
					select {
					case <-stop:
						return
					default:
					}
					r := b.runInput(t, "writer password\n", "user", "create", "--name", "Writer", "--email", fmt.Sprintf("w%d@example.com", i))
					if r.code != 0 {
						t.Errorf("concurrent user create: %v", r)
						return
					}
					written.Add(1)
				}
			}()
			for written.Load() < 2 {
				time.Sleep(10 * time.Millisecond)
			}
			r := b.run(t, "backup", path, "-o", "json")
			for written.Load() < 4 { // and writes go on after it
				time.Sleep(10 * time.Millisecond)
			}
			close(stop)
			wg.Wait()
			if r.code != 0 {
				t.Fatalf("backup while writing: %v", r)
			}
			var out backupJSON
			decodeJSON(t, r.stdout, &out)
			if out.Path != path || out.IntegrityCheck != "ok" || out.Bytes < 4096 {
				t.Errorf("backup -o json = %+v; want the path, its size and integrity_check ok", out)
			}

			cp := target{dialect: "sqlite", dir: b.dir, flags: []string{"--database-url", "sqlite://" + path}}
			if st := cp.status(t); st.Version != migrations.Latest() || st.Dirty {
				t.Errorf("migrate status of the copy = %+v; want version %d, clean", st, migrations.Latest())
			}
			var list userListJSON
			cp.mustJSON(t, &list, "user", "list", "--json")
			if list.Total < 2 || list.Total > written.Load() {
				t.Errorf("the copy holds %d users; want between 2 and the %d written", list.Total, written.Load())
			}
		})

		t.Run("Existing", func(t *testing.T) {
			r := b.run(t, "backup", path)
			failsWith(t, r, exitFailure, "exists", "--force")
			before, _ := os.Stat(path)
			b.runInput(t, "another password\n", "user", "create", "--name", "Later", "--email", "later@example.com")
			r = b.mustRun(t, "backup", "--force", path)
			if !strings.HasPrefix(r.stdout, "backed up ") || !strings.Contains(r.stdout, "integrity_check ok") {
				t.Errorf("backup --force printed %q", r.stdout)
			}
			after, _ := os.Stat(path)
			if os.SameFile(before, after) {
				t.Errorf("backup --force left the old file in place")
			}
			cp := target{dialect: "sqlite", dir: b.dir, flags: []string{"--database-url", "sqlite://" + path}}
			if r := cp.mustRun(t, "user", "list", "--json"); !strings.Contains(r.stdout, "later@example.com") {
				t.Errorf("the replaced copy lacks the user created before it")
			}
			entries, _ := os.ReadDir(filepath.Dir(path))
			for _, e := range entries {
				if strings.Contains(e.Name(), ".backup-") {
					t.Errorf("temporary file %s left behind", e.Name())
				}
			}
		})

		t.Run("Usage", func(t *testing.T) {
			failsWith(t, b.run(t, "backup"), exitUsage, "one argument")
			failsWith(t, b.run(t, "backup", "a.db", "b.db"), exitUsage, "one argument")
			failsWith(t, b.run(t, "backup", filepath.Join(t.TempDir(), "no", "dir", "x.db")), exitFailure)
		})
	})
}

func TestBackupMissingDatabase(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	failsWith(t, run(t, dir, nil, "backup", filepath.Join(t.TempDir(), "x.db")), exitFailure, "does not exist")
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("backup created %d files in the working directory; want none", len(entries))
	}
}
