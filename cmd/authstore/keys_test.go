package main

import (
	"encoding/base64"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/forgeauth/authstore/repositories"
)

// keysListJSON is the output of `keys list --json`.
type keysListJSON struct {
	Keys              []keyJSON `json:"keys"`
	JWKSMaxAgeSeconds int64     `json:"jwks_max_age_seconds"`
}

// TestKeysInEmptyFolder is the issue's "done when": `authstore keys rotate
// && authstore keys list --json` in an empty folder, nothing configured,
// creates the database and its first key, encrypted under a development
// master key generated beside it (and says so), and lists it.
func TestKeysInEmptyFolder(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	r := run(t, dir, nil, "keys", "rotate")
	if r.code != 0 {
		t.Fatalf("keys rotate in an empty folder: %v; want exit 0", r)
	}
	if !strings.Contains(r.stdout, "(RS256) is current: it signs from now") {
		t.Errorf("keys rotate: stdout %q; want the first key current", r.stdout)
	}
	if !strings.Contains(r.stderr, "generated a development master key in ./authstore.db.master-key") ||
		!strings.Contains(r.stderr, "AUTHSTORE_ENCRYPTION_KEY=$(openssl rand -base64 32)") {
		t.Errorf("keys rotate: stderr %q; want the development key announced with how to set a real one", r.stderr)
	}
	st, err := os.Stat(filepath.Join(dir, "authstore.db.master-key"))
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("development master key file: %v, %v; want mode 0600", st, err)
	}
	r = run(t, dir, nil, "keys", "list", "--json")
	if r.code != 0 || r.stderr != "" {
		t.Fatalf("keys list --json: %v; want exit 0 and nothing on stderr", r)
	}
	var list keysListJSON
	if err := json.Unmarshal([]byte(r.stdout), &list); err != nil {
		t.Fatalf("keys list --json: %v; output %q", err, r.stdout)
	}
	if len(list.Keys) != 1 || list.Keys[0].State != "current" || list.Keys[0].Algorithm != "RS256" || list.JWKSMaxAgeSeconds != 1800 {
		t.Errorf("keys list --json = %+v; want one current RS256 key and a max-age of 1800", list)
	}
	// The private key is not in the database file in the clear.
	raw, err := os.ReadFile(filepath.Join(dir, "authstore.db"))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(raw), "PRIVATE KEY") || strings.Contains(string(raw), `"d":`) {
		t.Error("the database file holds a private key in PEM or JWK form")
	}
}

// TestKeysCommands: rotate, list, retire and reencrypt on every backend,
// each change an activity row, and a wrong master key refused at once.
func TestKeysCommands(t *testing.T) {
	t.Parallel()
	oldKey := base64.StdEncoding.EncodeToString([]byte("cli-test-master-key-number-one-!"))
	newKey := base64.StdEncoding.EncodeToString([]byte("cli-test-master-key-number-two-!"))
	forBackends(t, func(t *testing.T, b backend) {
		b.mustRun(t, "migrate", "up")
		if b.dialect != "sqlite" {
			// No development key off a SQLite file: the operator is told
			// what to set, not about config.Load or envelope.Provider.
			r := b.run(t, "keys", "rotate")
			if r.code != 1 || !oneLine(r.stderr) || !strings.Contains(r.stderr, "set AUTHSTORE_ENCRYPTION_KEY in the environment") ||
				strings.Contains(r.stderr, "config.Load") {
				t.Errorf("keys rotate without AUTHSTORE_ENCRYPTION_KEY: %v; want exit 1 and one line saying to set it", r)
			}
		}
		b.env = append(b.env, "AUTHSTORE_ENCRYPTION_KEY="+oldKey)
		var first, next keyJSON
		b.mustJSON(t, &first, "keys", "rotate", "--json")
		b.mustJSON(t, &next, "keys", "rotate", "--algorithm", "EdDSA", "--json")
		if first.State != "current" || next.State != "next" || next.Algorithm != "EdDSA" {
			t.Fatalf("rotate twice: %+v then %+v; want current then next", first, next)
		}
		r := b.run(t, "keys", "rotate")
		if r.code != 1 || !strings.Contains(r.stderr, string(next.Kid)+" is already the next key") {
			t.Errorf("a third rotate: %v; want exit 1 naming the next key", r)
		}
		var retired keyJSON
		b.mustJSON(t, &retired, "keys", "retire", string(first.Kid), "--json")
		if retired.State != "retired" || retired.RemoveAt == nil {
			t.Errorf("keys retire = %+v; want retired with a removal time", retired)
		}
		var list keysListJSON
		b.mustJSON(t, &list, "keys", "list", "--json")
		states := map[string]string{}
		for _, k := range list.Keys {
			states[string(k.Kid)] = k.State
		}
		if states[string(first.Kid)] != "retired" || states[string(next.Kid)] != "current" || len(states) != 2 {
			t.Errorf("keys list after retiring the current key: %v; want it retired and the next key current", states)
		}
		if r := b.run(t, "keys", "retire", "not-a-uuid"); r.code != 2 {
			t.Errorf("keys retire not-a-uuid: %v; want bad usage", r)
		}

		// A new master key: the old one alone is refused when it is wrong.
		wrong := append(b.env[:len(b.env):len(b.env)], "AUTHSTORE_ENCRYPTION_KEY="+newKey)
		r = run(t, b.dir, wrong, "keys", "list")
		if r.code != 1 || !strings.Contains(r.stderr, "wrong master key") || strings.Contains(r.stderr, newKey) || strings.Contains(r.stderr, oldKey) {
			t.Errorf("keys list under another master key: %v; want a one-line wrong-key error without the keys", r)
		}
		moving := append(b.env[:len(b.env):len(b.env)], "AUTHSTORE_ENCRYPTION_KEY="+newKey, "AUTHSTORE_ENCRYPTION_KEYS_PREVIOUS="+oldKey)
		tg := b.target
		tg.env = moving
		var dry, done repositories.ReencryptResult
		tg.mustJSON(t, &dry, "keys", "reencrypt", "--dry-run", "--json")
		tg.mustJSON(t, &done, "keys", "reencrypt", "--batch-size", "1", "--json")
		if dry.Reencrypted != 2 || !dry.DryRun || done.Reencrypted != 2 || done.Checked != 2 {
			t.Errorf("reencrypt: dry run %+v, then %+v; want 2 and 2", dry, done)
		}
		tg.env = append(b.env[:len(b.env):len(b.env)], "AUTHSTORE_ENCRYPTION_KEY="+newKey)
		tg.mustJSON(t, &list, "keys", "list", "--json")

		events := b.strings(t, "SELECT event FROM "+b.table("user_activity_log")+" WHERE event LIKE 'signing_key.%' OR event = 'secrets.reencrypted' ORDER BY event")
		want := "secrets.reencrypted secrets.reencrypted signing_key.activated signing_key.created signing_key.created signing_key.retired"
		if got := strings.Join(events, " "); got != want {
			t.Errorf("activity: %s; want %s", got, want)
		}
	})
}
