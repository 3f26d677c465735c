package main

import (
	"fmt"
	"strings"
	"testing"

	"github.com/forgeauth/authstore/hooks"
)

// TestDemoLeavesNoPlaintext is the "done when" of the authentication and
// OAuth2 issues: `authstore demo --json`, run twice on a fresh database,
// leaves Argon2id PHC strings in users.password and in the secrets of
// confidential clients, none of the printed plaintexts anywhere in a dump
// of the database, and activity rows of at least six distinct events.
func TestDemoLeavesNoPlaintext(t *testing.T) {
	t.Parallel()
	forBackends(t, func(t *testing.T, b backend) {
		var secrets []string
		for run := 0; run < 2; run++ {
			var report map[string]any
			b.mustJSON(t, &report, "demo", "--json")
			n := 0
			for k, v := range report {
				s, ok := v.(string)
				if !ok || !(strings.HasSuffix(k, "password") || strings.HasSuffix(k, "token") || strings.HasSuffix(k, "secret") || strings.HasSuffix(k, "code")) {
					continue
				}
				if len(s) < 16 {
					t.Fatalf("demo --json %s = %q: too short to be a generated secret", k, s)
				}
				secrets = append(secrets, s)
				n++
			}
			if n < 15 {
				t.Fatalf("demo --json printed %d plaintexts; want every generated one (>= 15)", n)
			}
		}

		dump := b.dump(t)
		for _, s := range secrets {
			if strings.Contains(dump, s) {
				t.Errorf("a plaintext printed by demo --json is stored in the database")
			}
		}
		for _, h := range b.strings(t, "SELECT password FROM "+b.table("users")) {
			if !hooks.IsArgon2id(h) {
				t.Errorf("users.password holds a value that is not an Argon2id PHC string")
			}
		}
		confidential := b.strings(t, "SELECT secret FROM "+b.table("oauth_clients")+" WHERE confidential = ?", true)
		if len(confidential) != 2 {
			t.Errorf("confidential clients with a secret = %d; want 2 (one per run)", len(confidential))
		}
		for _, h := range confidential {
			if !hooks.IsArgon2id(h) {
				t.Errorf("oauth_clients.secret holds a value that is not an Argon2id PHC string")
			}
		}
		if events := b.strings(t, "SELECT DISTINCT event FROM "+b.table("user_activity_log")); len(events) < 6 {
			t.Errorf("distinct activity events = %v; want at least 6", events)
		}
	})
}

// dump returns every value of every column of every table as text.
func (b backend) dump(t *testing.T) string {
	t.Helper()
	var tables []string
	if b.schema == "" {
		tables = b.strings(t, "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")
	} else {
		tables = b.strings(t, "SELECT table_name FROM information_schema.tables WHERE table_schema = ? AND table_type = 'BASE TABLE'", b.schema)
	}
	if len(tables) < 10 {
		t.Fatalf("dump found tables %v; want the ten of authstore", tables)
	}
	var sb strings.Builder
	for _, table := range tables {
		rows, err := b.db.Query("SELECT * FROM " + b.table(table))
		if err != nil {
			t.Fatalf("dump %s: %v", table, err)
		}
		cols, _ := rows.Columns()
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		for rows.Next() {
			if err := rows.Scan(ptrs...); err != nil {
				t.Fatal(err)
			}
			for _, v := range vals {
				if bs, ok := v.([]byte); ok {
					v = string(bs)
				}
				fmt.Fprintf(&sb, "%v\x00", v)
			}
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		rows.Close()
	}
	return sb.String()
}
