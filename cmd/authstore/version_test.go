package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"testing"
)

// TestVersion runs `authstore version` in an empty folder: it prints the
// module, Go and newest schema versions, opens no database (creates no
// file) and its --json form carries the same.
func TestVersion(t *testing.T) {
	dir := t.TempDir()
	newest := newestMigration(t)

	r := run(t, dir, nil, "version")
	if r.code != 0 || r.stderr != "" {
		t.Fatalf("version: %v", r)
	}
	for _, re := range []string{`(?m)^authstore \S+`, `(?m)^go:\s+` + regexp.QuoteMeta(runtime.Version()) + `$`,
		`(?m)^schema: ` + regexp.QuoteMeta(fmt.Sprint(newest.Version)) + ` \(` + newest.Name + `\)$`} {
		if !regexp.MustCompile(re).MatchString(r.stdout) {
			t.Errorf("version printed\n%s\nwant a line matching %s", r.stdout, re)
		}
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("version created %v in its folder; it must open no database", entries)
	}
	if _, err := os.Stat(filepath.Join(dir, "authstore.db")); err == nil {
		t.Error("version created authstore.db")
	}

	r = run(t, dir, nil, "version", "--json")
	var v versionInfo
	if r.code != 0 || json.Unmarshal([]byte(r.stdout), &v) != nil {
		t.Fatalf("version --json: %v", r)
	}
	if v.Module == "" || v.Go != runtime.Version() || v.Schema != newest.Version || v.SchemaName != newest.Name {
		t.Errorf("version --json = %+v; want go %s, schema %d (%s)", v, runtime.Version(), newest.Version, newest.Name)
	}
}
