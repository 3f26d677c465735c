package main

import (
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/forgeauth/authstore/hooks"
)

// TestClientCommands walks client create, list, show, rotate-secret and
// revoke, their failures, and checks that no output holds a secret hash.
func TestClientCommands(t *testing.T) {
	t.Parallel()
	forBackends(t, func(t *testing.T, b backend) {
		var outputs []string
		keep := func(r result) result {
			outputs = append(outputs, r.stdout, r.stderr)
			return r
		}
		b.mustRun(t, "migrate", "up")

		// A confidential client, in text mode.
		r := keep(b.mustRun(t, "client", "create", "--name", "Web app",
			"--redirect-uri", "https://app.example.com/callback", "--redirect-uri", "http://127.0.0.1/cb"))
		m := regexp.MustCompile(`(?m)^created confidential client ([0-9a-f-]{36})$`).FindStringSubmatch(r.stdout)
		sm := regexp.MustCompile(`(?m)^client secret: (\S+)\n(.*)$`).FindStringSubmatch(r.stdout)
		if m == nil || sm == nil || !strings.Contains(sm[2], "will not be shown again") || r.stderr != "" {
			t.Fatalf("client create printed %v; want the id, the secret and the warning that it will not be shown again", r)
		}
		webID, webSecret := m[1], sm[1]
		for _, want := range []string{"https://app.example.com/callback", "http://127.0.0.1/cb", "authorization_code refresh_token"} {
			if !strings.Contains(r.stdout, want) {
				t.Errorf("client create printed\n%s\nwant %q in it", r.stdout, want)
			}
		}
		if !regexp.MustCompile(`(?m)^scopes: +\(any\)$`).MatchString(r.stdout) {
			t.Errorf("client create printed\n%s\nwant the line scopes: (any)", r.stdout)
		}
		checkSecret(t, b, webID, webSecret, true)

		// A public client, in JSON.
		var pub clientCreatedJSON
		keep(b.mustJSON(t, &pub, "client", "create", "--name", "CLI", "--public",
			"--redirect-uri", "http://127.0.0.1/callback", "--scopes", "read write,read", "--json"))
		if pub.Confidential || pub.ClientSecret != "" || pub.Warning != "" || pub.Name != "CLI" ||
			!slices.Equal(pub.Scopes, []string{"read", "write"}) || pub.Revoked {
			t.Errorf("client create --public --json = %+v; want a public client with scopes read write and no secret", pub)
		}

		// A confidential client in JSON: the secret under client_secret.
		var conf clientCreatedJSON
		keep(b.mustJSON(t, &conf, "client", "create", "--name", "Backend", "--redirect-uri", "https://b.example.com/cb", "--json"))
		if !conf.Confidential || conf.ClientSecret == "" || !strings.Contains(conf.Warning, "will not be shown again") {
			t.Errorf("client create --json = %+v; want client_secret and the warning", conf)
		}
		checkSecret(t, b, conf.ID.String(), conf.ClientSecret, true)

		// list and show.
		r = keep(b.mustRun(t, "client", "list"))
		for _, re := range []string{
			`(?m)^ID\s+TYPE\s+STATUS\s+CREATED\s+NAME$`,
			`(?m)^` + webID + `\s+confidential\s+active\s+\S+\s+Web app$`,
			`(?m)^` + pub.ID.String() + `\s+public\s+active\s+\S+\s+CLI$`,
		} {
			if !regexp.MustCompile(re).MatchString(r.stdout) {
				t.Errorf("client list printed\n%s\nwant a line matching %s", r.stdout, re)
			}
		}
		var list clientListJSON
		keep(b.mustJSON(t, &list, "client", "list", "--json"))
		if len(list.Clients) != 3 || list.Clients[0].ID.String() != webID || list.Clients[1].ID != pub.ID {
			t.Errorf("client list --json = %+v; want the 3 clients, oldest first", list)
		}
		var shown clientJSON
		keep(b.mustJSON(t, &shown, "client", "show", strings.ToUpper(webID), "--json"))
		if shown.ID.String() != webID || shown.Name != "Web app" || len(shown.RedirectURIs) != 2 {
			t.Errorf("client show --json = %+v; want the Web app client", shown)
		}
		r = keep(b.mustRun(t, "client", "show", webID))
		if !regexp.MustCompile(`(?m)^status:\s+active$`).MatchString(r.stdout) || !strings.Contains(r.stdout, "Web app") {
			t.Errorf("client show printed\n%s\nwant the active Web app client", r.stdout)
		}

		// rotate-secret: the new secret works, the old one no longer.
		r = keep(b.mustRun(t, "client", "rotate-secret", webID))
		sm = regexp.MustCompile(`(?m)^client secret: (\S+)\n(.*)$`).FindStringSubmatch(r.stdout)
		if sm == nil || sm[1] == webSecret || !strings.Contains(sm[2], "will not be shown again") {
			t.Fatalf("client rotate-secret printed %v; want a new secret and the warning", r)
		}
		checkSecret(t, b, webID, sm[1], true)
		checkSecret(t, b, webID, webSecret, false)
		var rot struct {
			ClientID     string `json:"client_id"`
			ClientSecret string `json:"client_secret"`
			Warning      string `json:"warning"`
		}
		keep(b.mustJSON(t, &rot, "client", "rotate-secret", conf.ID.String(), "--json"))
		if rot.ClientID != conf.ID.String() || rot.ClientSecret == "" || rot.ClientSecret == conf.ClientSecret || rot.Warning == "" {
			t.Errorf("client rotate-secret --json = %+v; want a new client_secret", rot)
		}
		checkSecret(t, b, conf.ID.String(), rot.ClientSecret, true)
		failsWith(t, keep(b.run(t, "client", "rotate-secret", pub.ID.String())), exitFailure, "public")

		// revoke, twice.
		r = keep(b.mustRun(t, "client", "revoke", webID))
		if !strings.Contains(r.stdout, "revoked client "+webID) {
			t.Errorf("client revoke printed %q", r.stdout)
		}
		r = keep(b.mustRun(t, "client", "revoke", webID))
		if !strings.Contains(r.stdout, "already revoked") {
			t.Errorf("second client revoke printed %q; want it to say already revoked", r.stdout)
		}
		keep(b.mustJSON(t, &shown, "client", "show", webID, "--json"))
		if !shown.Revoked {
			t.Errorf("client show --json after revoke = %+v; want revoked", shown)
		}
		failsWith(t, keep(b.run(t, "client", "rotate-secret", webID)), exitFailure, "client "+webID+" is revoked")

		// Unknown client id: exit 1, one line.
		const unknown = "0b4c6a0e-3d0f-4a59-9c1e-2f8e3a7d5b21"
		for _, cmd := range []string{"show", "rotate-secret", "revoke"} {
			failsWith(t, keep(b.run(t, "client", cmd, unknown)), exitFailure, "no client with id "+unknown)
		}

		// Malformed redirect URI: refused before the database (exit 2),
		// naming the problem; no client is created.
		clients := b.count(t, "oauth_clients")
		failsWith(t, keep(b.run(t, "client", "create", "--name", "Bad", "--redirect-uri", "app.example.com/cb")),
			exitUsage, `redirect uri "app.example.com/cb" is not absolute`)
		failsWith(t, keep(b.run(t, "client", "create", "--name", "Bad", "--redirect-uri", "https://app.example.com/cb#x")),
			exitUsage, "has a fragment")
		// A scope the repository refuses: exit 1, its message.
		failsWith(t, keep(b.run(t, "client", "create", "--name", "Bad", "--redirect-uri", "https://app.example.com/cb", "--scopes", `read "write"`)),
			exitFailure, "RFC 6749")
		if n := b.count(t, "oauth_clients"); n != clients {
			t.Errorf("oauth_clients has %d rows after refused creates; want %d", n, clients)
		}

		// No output ever holds a secret hash.
		hashes := b.strings(t, "SELECT secret FROM "+b.table("oauth_clients"))
		if len(hashes) != 2 {
			t.Fatalf("stored client secrets: %d; want 2", len(hashes))
		}
		for _, out := range outputs {
			if strings.Contains(out, "$argon2") {
				t.Errorf("output %q holds an Argon2id hash", out)
			}
			for _, h := range hashes {
				if strings.Contains(out, h) {
					t.Errorf("output %q holds the stored secret hash", out)
				}
			}
		}
	})
}

// checkSecret checks that secret matches (or, if !match, does not match)
// the hash stored for the client.
func checkSecret(t *testing.T, b backend, id, secret string, match bool) {
	t.Helper()
	hashes := b.strings(t, "SELECT secret FROM "+b.table("oauth_clients")+" WHERE id = ?", id)
	if len(hashes) != 1 {
		t.Fatalf("client %s: %d stored secrets; want 1", id, len(hashes))
	}
	ok, err := hooks.DefaultHasher().Verify(hashes[0], secret)
	if err != nil || ok != match {
		t.Errorf("client %s: secret %q matches the stored hash: %t, %v; want %t", id, secret, ok, err, match)
	}
}
