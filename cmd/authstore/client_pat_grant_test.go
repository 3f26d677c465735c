package main

import (
	"context"
	"errors"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/forgeauth/authstore"
	"github.com/forgeauth/authstore/models"
	"github.com/forgeauth/authstore/protocol"
	"github.com/forgeauth/authstore/repositories"
)

// Subprocess tests of client create's grant types, client update and
// delete, pat and grant, on SQLite and PostgreSQL; what they change is
// checked through the CLI or a Store opened in-process on the same
// database.

const (
	cpgPassword = "correct horse battery"
	// cpgJWTSecret signs the access tokens the in-process Store issues.
	cpgJWTSecret = "cli-test-jwt-secret-0123456789abcdef-0123"
	cpgUnknownID = "0b4c6a0e-3d0f-4a59-9c1e-2f8e3a7d5b21"
)

// cpgStore opens a Store in-process on b's database (migrating it), with a
// JWT secret so it can issue tokens, closed when the test ends.
func cpgStore(t *testing.T, b backend) *authstore.Store {
	t.Helper()
	cfg := storeConfig(t, b, b.target)
	cfg.JWTSecret = cpgJWTSecret
	s, err := authstore.Open(context.Background(), cfg, authstore.WithMigrate())
	if err != nil {
		t.Fatalf("authstore.Open(WithMigrate()): %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// cpgUser creates a user through the CLI and returns its id.
func cpgUser(t *testing.T, b backend, email string) string {
	t.Helper()
	var u userJSON
	r := b.runInput(t, cpgPassword+"\n", "user", "create", "--name", "Ada", "--email", email, "-o", "json")
	if r.code != 0 {
		t.Fatalf("user create: %v", r)
	}
	decodeJSON(t, r.stdout, &u)
	return u.ID.String()
}

// countEvent counts the activity rows with event.
func (b backend) countEvent(t *testing.T, event models.Event) int {
	t.Helper()
	return len(b.strings(t, "SELECT event FROM "+b.table("user_activity_log")+" WHERE event = ?", string(event)))
}

func TestClientCreateGrantTypes(t *testing.T) {
	t.Parallel()
	forBackends(t, func(t *testing.T, b backend) {
		b.mustRun(t, "migrate", "up")
		ctx := context.Background()

		// A service client: client_credentials only, no redirect URI.
		var svc clientCreatedJSON
		b.mustJSON(t, &svc, "client", "create", "--name", "Billing", "--grant-type", "client_credentials",
			"--scope", "invoices:read", "--scope", "invoices:write", "-o", "json")
		if !svc.Confidential || svc.ClientSecret == "" || !slices.Equal(svc.GrantTypes, []string{"client_credentials"}) ||
			len(svc.RedirectURIs) != 0 || !slices.Equal(svc.Scopes, []string{"invoices:read", "invoices:write"}) {
			t.Errorf("client create --grant-type client_credentials = %+v; want a confidential client_credentials client, no redirect URI, two scopes", svc)
		}
		s := cpgStore(t, b)
		ac, err := s.Clients.Authenticate(ctx, svc.ID, svc.ClientSecret)
		if err != nil {
			t.Fatalf("Clients.Authenticate(service client) = %v", err)
		}
		if _, _, err := s.AccessTokens.IssueClientCredentials(ctx, ac, []string{"invoices:read"}); err != nil {
			t.Errorf("IssueClientCredentials for the service client = %v; want a token", err)
		}
		if _, err := s.RefreshTokens.Issue(ctx, svc.ID, nil, nil); !errors.Is(err, repositories.ErrUnauthorizedClient) {
			t.Errorf("RefreshTokens.Issue for a client_credentials-only client = %v; want ErrUnauthorizedClient", err)
		}
		r := b.mustRun(t, "client", "show", svc.ID.String())
		if !regexp.MustCompile(`(?m)^grant types:\s+client_credentials$`).MatchString(r.stdout) || regexp.MustCompile(`(?m)^redirect uris:`).MatchString(r.stdout) {
			t.Errorf("client show of the service client printed\n%s", r.stdout)
		}

		// A public client: no secret printed, none stored; --scope and
		// --scopes together.
		var pub clientCreatedJSON
		r = b.mustJSON(t, &pub, "client", "create", "--name", "Native", "--public", "--redirect-uri", "http://127.0.0.1/cb",
			"--grant-type", "authorization_code", "--grant-type", "refresh_token", "--grant-type", "authorization_code",
			"--scope", "profile", "--scopes", "read write", "-o", "json")
		if pub.Confidential || pub.ClientSecret != "" || pub.Warning != "" || strings.Contains(r.stdout, "client_secret") ||
			!slices.Equal(pub.GrantTypes, []string{"authorization_code", "refresh_token"}) ||
			!slices.Equal(pub.Scopes, []string{"read", "write", "profile"}) {
			t.Errorf("client create --public = %+v (%s); want a public client, no secret, scopes read write profile", pub, r.stdout)
		}
		// The authorize URL and verifier the table output prints are in the
		// JSON too, for the authorization_code client only.
		if svc.AuthorizeURL != "" || svc.CodeVerifier != "" {
			t.Errorf("client create --grant-type client_credentials -o json: authorize_url %q, code_verifier %q; want neither", svc.AuthorizeURL, svc.CodeVerifier)
		}
		au, err := url.Parse(pub.AuthorizeURL)
		if err != nil || !strings.HasPrefix(pub.AuthorizeURL, defaultIssuer+"/authorize?") || pub.CodeVerifier == "" ||
			au.Query().Get("code_challenge") != protocol.S256Challenge(pub.CodeVerifier) || au.Query().Get("client_id") != pub.ID.String() ||
			au.Query().Get("scope") != "openid email profile offline_access" {
			t.Errorf("client create --public -o json: authorize_url %q, code_verifier %q; want serve's authorize URL with the verifier's challenge", pub.AuthorizeURL, pub.CodeVerifier)
		}
		if got := b.strings(t, "SELECT secret FROM "+b.table("oauth_clients")+" WHERE id = ?", pub.ID.String()); len(got) != 0 {
			t.Errorf("public client's stored secret = %q; want NULL", got)
		}
		r = b.mustRun(t, "client", "create", "--name", "Native 2", "--public", "--redirect-uri", "http://127.0.0.1/cb")
		if !strings.HasPrefix(r.stdout, "created public client ") || strings.Contains(r.stdout, "secret") {
			t.Errorf("client create --public printed %q; want a public client and no secret", r.stdout)
		}

		// Bad usage, refused before the database: nothing is created.
		clients := b.count(t, "oauth_clients")
		for _, tc := range []struct {
			args []string
			want string
		}{
			{[]string{"--name", "X"}, `"redirect-uri"`},
			{[]string{"--name", "X", "--redirect-uri", "https://a.example.com/cb", "--issuer", "127.0.0.1:8080"}, "--issuer"},
			{[]string{"--name", "X", "--grant-type", "authorization_code"}, `"redirect-uri"`},
			{[]string{"--name", "X", "--grant-type", "password"}, `--grant-type "password"`},
			{[]string{"--name", "X", "--grant-type", "personal_access"}, "--grant-type"},
			{[]string{"--name", "X", "--public", "--grant-type", "client_credentials"}, "public client cannot use the client_credentials grant"},
			{[]string{"--name", " ", "--grant-type", "client_credentials"}, "--name"},
			{[]string{"--grant-type", "client_credentials"}, "name"},
		} {
			failsWith(t, b.run(t, append([]string{"client", "create"}, tc.args...)...), exitUsage, tc.want)
		}
		if n := b.count(t, "oauth_clients"); n != clients {
			t.Errorf("oauth_clients has %d rows after refused creates; want %d", n, clients)
		}
	})
}

func TestClientUpdateAndDelete(t *testing.T) {
	t.Parallel()
	forBackends(t, func(t *testing.T, b backend) {
		b.mustRun(t, "migrate", "up")
		var c clientCreatedJSON
		b.mustJSON(t, &c, "client", "create", "--name", "Web", "--public", "--redirect-uri", "https://a.example.com/cb", "-o", "json")
		id := c.ID.String()

		// --name alone keeps the redirect URIs.
		var got clientJSON
		b.mustJSON(t, &got, "client", "update", id, "--name", "Web (EU)", "-o", "json")
		if got.Name != "Web (EU)" || !slices.Equal(got.RedirectURIs, []string{"https://a.example.com/cb"}) {
			t.Errorf("client update --name = %+v; want the new name and the old URI", got)
		}
		// --redirect-uri alone replaces every URI and keeps the name.
		r := b.mustRun(t, "client", "update", id, "--redirect-uri", "https://b.example.com/cb", "--redirect-uri", "http://127.0.0.1/cb")
		if !strings.HasPrefix(r.stdout, "updated client "+id+"\n") {
			t.Errorf("client update printed %q", r.stdout)
		}
		b.mustJSON(t, &got, "client", "show", id, "-o", "json")
		if got.Name != "Web (EU)" || !slices.Equal(got.RedirectURIs, []string{"https://b.example.com/cb", "http://127.0.0.1/cb"}) {
			t.Errorf("after client update --redirect-uri: %+v; want the name kept and the two new URIs", got)
		}

		failsWith(t, b.run(t, "client", "update", id), exitUsage, "nothing to update")
		failsWith(t, b.run(t, "client", "update", id, "--redirect-uri", "https://a.example.com/cb#frag"), exitUsage, "fragment")
		failsWith(t, b.run(t, "client", "update", id, "--name", ""), exitUsage, "--name")
		failsWith(t, b.run(t, "client", "update", "not-a-uuid", "--name", "X"), exitUsage, "not a UUID")
		failsWith(t, b.run(t, "client", "update", cpgUnknownID, "--name", "X"), exitFailure, "no client with id "+cpgUnknownID)

		// A client with a grant: delete removes it and its tokens.
		uid := cpgUser(t, b, "ada@example.com")
		s := cpgStore(t, b)
		u := models.UUID(uid)
		if _, err := s.RefreshTokens.Issue(context.Background(), c.ID, &u, nil); err != nil {
			t.Fatalf("RefreshTokens.Issue: %v", err)
		}

		// Without --yes and without a terminal: refused, nothing deleted.
		failsWith(t, b.run(t, "client", "delete", id), exitUsage, "--yes")
		if _, err := s.Clients.Find(context.Background(), c.ID); err != nil {
			t.Fatalf("after an unconfirmed delete: Clients.Find = %v; want the client", err)
		}
		r = b.mustRun(t, "client", "delete", id, "--yes")
		if r.stdout != "deleted client "+id+" (Web (EU)) and its tokens and codes\n" {
			t.Errorf("client delete --yes printed %q", r.stdout)
		}
		if _, err := s.Clients.Find(context.Background(), c.ID); !errors.Is(err, repositories.ErrNotFound) {
			t.Errorf("after client delete: Clients.Find = %v; want ErrNotFound", err)
		}
		for _, table := range []string{"oauth_access_tokens", "oauth_refresh_tokens"} {
			if n := b.count(t, table); n != 0 {
				t.Errorf("%s has %d rows after the client was deleted; want 0", table, n)
			}
		}
		if n := b.countEvent(t, models.EventClientDeleted); n != 1 {
			t.Errorf("client.deleted events: %d; want 1", n)
		}
		failsWith(t, b.run(t, "client", "delete", id, "--yes"), exitFailure, "no client with id "+id)
		failsWith(t, b.run(t, "client", "delete", "nope", "--yes"), exitUsage, "not a UUID")

		// A revoked client cannot be updated.
		b.mustJSON(t, &c, "client", "create", "--name", "Old", "--public", "--redirect-uri", "https://a.example.com/cb", "-o", "json")
		b.mustRun(t, "client", "revoke", c.ID.String())
		failsWith(t, b.run(t, "client", "update", c.ID.String(), "--name", "New"), exitFailure, "is revoked")
	})
}

func TestPatCommands(t *testing.T) {
	t.Parallel()
	forBackends(t, func(t *testing.T, b backend) {
		var outputs []string
		keep := func(r result) result {
			outputs = append(outputs, r.stdout, r.stderr)
			return r
		}
		b.mustRun(t, "migrate", "up")
		uid := cpgUser(t, b, "ada@example.com")
		ctx := context.Background()

		// create prints the token once, on stdout.
		r := b.mustRun(t, "pat", "create", "--user", uid, "--name", "deploy", "--scope", "read", "--scope", "write", "--expires", "30d")
		m := regexp.MustCompile(`(?m)^token: (` + repositories.PersonalTokenPrefix + `\S+)$`).FindStringSubmatch(r.stdout)
		idm := regexp.MustCompile(`^created personal access token ([0-9a-f-]{36}) \(deploy\) for user ` + uid + `\n`).FindStringSubmatch(r.stdout)
		if m == nil || idm == nil || r.stderr != "" || !strings.Contains(r.stdout, "will not be shown again") {
			t.Fatalf("pat create printed %v; want the id, the token and the warning on stdout", r)
		}
		token, tokenID := m[1], idm[1]
		if n := strings.Count(r.stdout, token); n != 1 {
			t.Errorf("pat create printed the token %d times; want once", n)
		}

		// The token works through the library.
		s := cpgStore(t, b)
		row, err := s.PersonalTokens.Find(ctx, token)
		if err != nil || string(row.ID) != tokenID || row.UserID.String() != uid || !slices.Equal(row.Scopes, models.Strings{"read", "write"}) || row.ExpiresAt == nil {
			t.Fatalf("PersonalTokens.Find(printed token) = %+v, %v; want token %s of user %s with scopes read write and an expiry", row, err, tokenID, uid)
		}

		// -o json: the token under "token".
		var created patCreatedJSON
		b.mustJSON(t, &created, "pat", "create", "--user", uid, "--name", "ci", "-o", "json")
		if created.Token == "" || created.Name != "ci" || created.ExpiresAt != nil || len(created.Scopes) != 0 || created.Warning == "" {
			t.Errorf("pat create -o json = %+v; want a token named ci, no expiry, no scope", created)
		}
		if _, err := s.PersonalTokens.Find(ctx, created.Token); err != nil {
			t.Errorf("PersonalTokens.Find(json token) = %v", err)
		}

		// list shows the prefix, never the token.
		r = keep(b.mustRun(t, "pat", "list", "--user", uid))
		for _, re := range []string{
			`(?m)^ID\s+PREFIX\s+STATUS\s+SCOPES\s+LAST USED\s+EXPIRES\s+NAME$`,
			`(?m)^` + tokenID + `\s+` + regexp.QuoteMeta(token[:repositories.PersonalTokenDisplayLength]) + `\s+active\s+read write\s+\d{4}-\S+\s+\d{4}-\S+\s+deploy$`,
			`(?m)^` + created.ID.String() + `\s+\S+\s+active\s+-\s+\d{4}-\S+\s+never\s+ci$`,
		} {
			if !regexp.MustCompile(re).MatchString(r.stdout) {
				t.Errorf("pat list printed\n%s\nwant a line matching %s", r.stdout, re)
			}
		}
		var list patListJSON
		keep(b.mustJSON(t, &list, "pat", "list", "--user", uid, "-o", "json"))
		if len(list.Tokens) != 2 || list.UserID.String() != uid || list.Tokens[0].ID.String() != tokenID ||
			list.Tokens[0].LastUsedAt == nil || list.Tokens[0].Revoked || list.Tokens[1].ID != created.ID {
			t.Errorf("pat list -o json = %+v; want the two tokens, the first used", list)
		}

		// revoke, twice.
		r = keep(b.mustRun(t, "pat", "revoke", "--user", uid, tokenID))
		if r.stdout != "revoked personal access token "+tokenID+" of user "+uid+"\n" {
			t.Errorf("pat revoke printed %q", r.stdout)
		}
		if _, err := s.PersonalTokens.Find(ctx, token); !errors.Is(err, repositories.ErrRevoked) {
			t.Errorf("PersonalTokens.Find after pat revoke = %v; want ErrRevoked", err)
		}
		if _, err := s.PersonalTokens.Find(ctx, created.Token); err != nil {
			t.Errorf("the other token after pat revoke: %v; want it still valid", err)
		}
		r = keep(b.mustRun(t, "pat", "revoke", "--user", uid, tokenID))
		if !strings.Contains(r.stdout, "already revoked") {
			t.Errorf("second pat revoke printed %q", r.stdout)
		}
		keep(b.mustJSON(t, &list, "pat", "list", "--user", uid, "-o", "json"))
		if !list.Tokens[0].Revoked || list.Tokens[1].Revoked {
			t.Errorf("pat list after revoke = %+v; want only the first revoked", list)
		}
		if n := b.countEvent(t, models.EventPersonalTokenRevoked); n != 1 {
			t.Errorf("personal_token.revoked events: %d; want 1", n)
		}

		// No output but create's holds a token.
		for _, out := range outputs {
			if strings.Contains(out, token) || strings.Contains(out, created.Token) {
				t.Errorf("output %q holds a personal access token", out)
			}
		}

		// Failures and bad usage.
		other := cpgUser(t, b, "grace@example.com")
		tokens := b.count(t, "oauth_personal_access_tokens")
		failsWith(t, b.run(t, "pat", "create", "--user", cpgUnknownID, "--name", "x"), exitFailure, "no user with id "+cpgUnknownID)
		failsWith(t, b.run(t, "pat", "create", "--user", "nope", "--name", "x"), exitUsage, `--user "nope" is not a UUID`)
		failsWith(t, b.run(t, "pat", "create", "--user", uid), exitUsage, "name")
		failsWith(t, b.run(t, "pat", "create", "--name", "x"), exitUsage, "user")
		failsWith(t, b.run(t, "pat", "create", "--user", uid, "--name", "x", "--expires", "soon"), exitUsage, "--expires")
		failsWith(t, b.run(t, "pat", "create", "--user", uid, "--name", "x", "--expires", "-1h"), exitUsage, "--expires")
		failsWith(t, b.run(t, "pat", "create", "--user", uid, "--name", "x", "--scope", `"bad"`), exitFailure, "scope")
		if n := b.count(t, "oauth_personal_access_tokens"); n != tokens {
			t.Errorf("oauth_personal_access_tokens has %d rows after refused creates; want %d", n, tokens)
		}
		failsWith(t, b.run(t, "pat", "list", "--user", cpgUnknownID), exitFailure, "no user with id "+cpgUnknownID)
		failsWith(t, b.run(t, "pat", "list"), exitUsage, "user")
		failsWith(t, b.run(t, "pat", "revoke", "--user", uid, cpgUnknownID), exitFailure, "has no personal access token with id "+cpgUnknownID)
		failsWith(t, b.run(t, "pat", "revoke", "--user", other, created.ID.String()), exitFailure, "has no personal access token")
		failsWith(t, b.run(t, "pat", "revoke", "--user", uid, "nope"), exitUsage, "not a UUID")
		failsWith(t, b.run(t, "pat", "revoke", "--user", uid), exitUsage, "token ID")
		failsWith(t, b.run(t, "pat", "revoke", "--user", cpgUnknownID, created.ID.String()), exitFailure, "no user with id")
		if _, err := s.PersonalTokens.Find(ctx, created.Token); err != nil {
			t.Errorf("the ci token after refused revokes: %v; want it still valid", err)
		}
	})
}

func TestGrantCommands(t *testing.T) {
	t.Parallel()
	forBackends(t, func(t *testing.T, b backend) {
		b.mustRun(t, "migrate", "up")
		ctx := context.Background()
		uid := cpgUser(t, b, "ada@example.com")
		var web, cli clientCreatedJSON
		b.mustJSON(t, &web, "client", "create", "--name", "Web app", "--public", "--redirect-uri", "https://a.example.com/cb", "-o", "json")
		b.mustJSON(t, &cli, "client", "create", "--name", "CLI tool", "--public", "--redirect-uri", "http://127.0.0.1/cb", "-o", "json")

		r := b.mustRun(t, "grant", "list", "--user", uid)
		if r.stdout != "user "+uid+" has authorized no client\n" {
			t.Errorf("grant list with no grant printed %q", r.stdout)
		}

		// Grants made in-process, as an authorization server would.
		s := cpgStore(t, b)
		u := models.UUID(uid)
		pw, err := s.RefreshTokens.Issue(ctx, web.ID, &u, []string{"read"})
		if err != nil {
			t.Fatalf("RefreshTokens.Issue: %v", err)
		}
		pc, err := s.RefreshTokens.Issue(ctx, cli.ID, &u, []string{"write", "admin"})
		if err != nil {
			t.Fatalf("RefreshTokens.Issue: %v", err)
		}

		r = b.mustRun(t, "grant", "list", "--user", uid)
		for _, re := range []string{
			`(?m)^CLIENT\s+SCOPES\s+GRANTED\s+LAST USED\s+NAME$`,
			`(?m)^` + web.ID.String() + `\s+read\s+\d{4}-\S+\s+\d{4}-\S+\s+Web app$`,
			`(?m)^` + cli.ID.String() + `\s+admin write\s+\d{4}-\S+\s+\d{4}-\S+\s+CLI tool$`,
		} {
			if !regexp.MustCompile(re).MatchString(r.stdout) {
				t.Errorf("grant list printed\n%s\nwant a line matching %s", r.stdout, re)
			}
		}
		var list grantListJSON
		b.mustJSON(t, &list, "grant", "list", "--user", uid, "-o", "json")
		if list.UserID.String() != uid || len(list.Grants) != 2 || list.Grants[0].ClientID != web.ID || list.Grants[0].ClientName != "Web app" ||
			!slices.Equal(list.Grants[1].Scopes, []string{"admin", "write"}) || list.Grants[0].FirstGrantedAt.IsZero() || list.Grants[0].LastUsedAt.IsZero() {
			t.Errorf("grant list -o json = %+v; want the two grants, oldest first", list)
		}

		// revoke needs --yes without a terminal.
		failsWith(t, b.run(t, "grant", "revoke", "--user", uid, "--client", web.ID.String()), exitUsage, "--yes")
		if _, err := s.AccessTokens.Validate(ctx, pw.AccessToken); err != nil {
			t.Fatalf("after an unconfirmed grant revoke: Validate = %v; want the token valid", err)
		}

		r = b.mustRun(t, "grant", "revoke", "--user", uid, "--client", web.ID.String(), "--yes")
		if r.stdout != "revoked 2 tokens and codes of user "+uid+" for client "+web.ID.String()+"\n" {
			t.Errorf("grant revoke printed %q", r.stdout)
		}
		if _, err := s.AccessTokens.Validate(ctx, pw.AccessToken); !errors.Is(err, repositories.ErrRevoked) {
			t.Errorf("the revoked grant's access token: Validate = %v; want ErrRevoked", err)
		}
		if _, err := s.AccessTokens.Validate(ctx, pc.AccessToken); err != nil {
			t.Errorf("the other client's access token: Validate = %v; want it valid", err)
		}
		b.mustJSON(t, &list, "grant", "list", "--user", uid, "-o", "json")
		if len(list.Grants) != 1 || list.Grants[0].ClientID != cli.ID {
			t.Errorf("grant list after revoke = %+v; want only the CLI tool", list)
		}
		if n := b.countEvent(t, models.EventGrantRevoked); n != 1 {
			t.Errorf("grant.revoked events: %d; want 1", n)
		}

		// Again: nothing to revoke; -o json gives the count.
		var res grantRevokedJSON
		b.mustJSON(t, &res, "grant", "revoke", "--user", uid, "--client", web.ID.String(), "--yes", "-o", "json")
		if res.Revoked != 0 || res.UserID.String() != uid || res.ClientID != web.ID {
			t.Errorf("second grant revoke -o json = %+v; want 0 revoked", res)
		}
		r = b.mustRun(t, "grant", "revoke", "--user", uid, "--client", web.ID.String(), "--yes")
		if !strings.Contains(r.stdout, "nothing to revoke") {
			t.Errorf("grant revoke of nothing printed %q", r.stdout)
		}

		// Failures and bad usage.
		failsWith(t, b.run(t, "grant", "list", "--user", cpgUnknownID), exitFailure, "no user with id "+cpgUnknownID)
		failsWith(t, b.run(t, "grant", "list", "--user", "nope"), exitUsage, "not a UUID")
		failsWith(t, b.run(t, "grant", "list"), exitUsage, "user")
		failsWith(t, b.run(t, "grant", "revoke", "--user", cpgUnknownID, "--client", cli.ID.String(), "--yes"), exitFailure, "no user with id "+cpgUnknownID)
		failsWith(t, b.run(t, "grant", "revoke", "--user", uid, "--client", cpgUnknownID, "--yes"), exitFailure, "no client with id "+cpgUnknownID)
		failsWith(t, b.run(t, "grant", "revoke", "--user", uid, "--client", "nope", "--yes"), exitUsage, `--client "nope" is not a UUID`)
		failsWith(t, b.run(t, "grant", "revoke", "--user", uid, "--yes"), exitUsage, "client")
		if _, err := s.AccessTokens.Validate(ctx, pc.AccessToken); err != nil {
			t.Errorf("the CLI tool's grant after refused revokes: %v; want it valid", err)
		}
	})
}

// TestClientCreateProviderFlags: the flags of what an OpenID provider
// reads of a client reach its row; a bad value creates nothing.
func TestClientCreateProviderFlags(t *testing.T) {
	t.Parallel()
	forBackends(t, func(t *testing.T, b backend) {
		b.mustRun(t, "migrate", "up")
		var c clientCreatedJSON
		b.mustJSON(t, &c, "client", "create", "--name", "Web", "--redirect-uri", "https://a.example.com/cb",
			"--post-logout-redirect-uri", "https://a.example.com/bye", "--audience", "https://api.example.com",
			"--token-endpoint-auth-method", "client_secret_post", "--access-token-type", "opaque", "--id-token-lifetime", "15m",
			"--response-type", "code", "-o", "json")
		row, err := cpgStore(t, b).Clients.Find(context.Background(), c.ID)
		if err != nil {
			t.Fatalf("Clients.Find = %v", err)
		}
		if !slices.Equal(row.PostLogoutRedirectURIs, []string{"https://a.example.com/bye"}) || !slices.Equal(row.Audiences, []string{"https://api.example.com"}) ||
			row.TokenEndpointAuthMethod == nil || *row.TokenEndpointAuthMethod != "client_secret_post" ||
			row.AccessTokenType == nil || *row.AccessTokenType != "opaque" || row.IDTokenLifetime == nil || *row.IDTokenLifetime != 900 ||
			!slices.Equal(row.ResponseTypes, []string{"code"}) {
			t.Errorf("client created with the provider flags = %+v", row)
		}
		clients := b.count(t, "oauth_clients")
		r := b.run(t, "client", "create", "--name", "X", "--redirect-uri", "https://a.example.com/cb", "--access-token-type", "macaroon")
		if r.code == 0 || !strings.Contains(r.stderr, "access token type") {
			t.Errorf("client create --access-token-type macaroon = %d %q; want a failure naming the access token type", r.code, r.stderr)
		}
		if n := b.count(t, "oauth_clients"); n != clients {
			t.Errorf("oauth_clients has %d rows after a refused create; want %d", n, clients)
		}
	})
}

// TestClientShowProviderMetadata: client show and its --json print what the
// OpenID provider reads of a client, the registered values and, for a
// client that registered none, the provider's defaults.
func TestClientShowProviderMetadata(t *testing.T) {
	t.Parallel()
	forBackends(t, func(t *testing.T, b backend) {
		b.mustRun(t, "migrate", "up")
		var c clientCreatedJSON
		b.mustJSON(t, &c, "client", "create", "--name", "OIDC app", "--redirect-uri", "https://app.example.com/cb",
			"--response-type", "code", "--token-endpoint-auth-method", "client_secret_post", "--access-token-type", "opaque",
			"--post-logout-redirect-uri", "https://app.example.com/bye", "--post-logout-redirect-uri", "https://app.example.com/bye2",
			"--audience", "api.example.com", "--id-token-lifetime", "15m", "-o", "json")
		id := c.ID.String()

		var got clientJSON
		b.mustJSON(t, &got, "client", "show", id, "--json")
		if !slices.Equal(got.ResponseTypes, []string{"code"}) || got.TokenEndpointAuthMethod != "client_secret_post" ||
			got.AccessTokenType != "opaque" || got.IDTokenLifetimeSeconds != 900 ||
			!slices.Equal(got.PostLogoutRedirectURIs, []string{"https://app.example.com/bye", "https://app.example.com/bye2"}) ||
			!slices.Equal(got.Audiences, []string{"api.example.com"}) {
			t.Errorf("client show --json = %+v; want the registered provider metadata", got)
		}
		r := b.mustRun(t, "client", "show", id)
		for _, line := range []string{
			"response types:              code\n",
			"token endpoint auth method:  client_secret_post\n",
			"access token type:           opaque\n",
			"post-logout redirect uris:   https://app.example.com/bye\n                             https://app.example.com/bye2\n",
			"audiences:                   api.example.com\n",
			"id token lifetime:           15m0s\n",
		} {
			if !strings.Contains(r.stdout, line) {
				t.Errorf("client show printed\n%s\nwant the line %q", r.stdout, line)
			}
		}

		// Nothing registered: the provider's defaults.
		var pub clientCreatedJSON
		b.mustJSON(t, &pub, "client", "create", "--name", "SPA", "--public", "--redirect-uri", "https://spa.example.com/cb", "-o", "json")
		b.mustJSON(t, &got, "client", "show", pub.ID.String(), "-o", "json")
		if !slices.Equal(got.ResponseTypes, []string{"code"}) || got.TokenEndpointAuthMethod != "none" || got.AccessTokenType != "jwt" ||
			got.IDTokenLifetimeSeconds != 3600 || got.PostLogoutRedirectURIs == nil || len(got.PostLogoutRedirectURIs) != 0 ||
			got.Audiences == nil || len(got.Audiences) != 0 {
			t.Errorf("client show --json of a client without metadata = %+v; want the defaults", got)
		}
		r = b.mustRun(t, "client", "show", pub.ID.String())
		for _, line := range []string{"token endpoint auth method:  none\n", "access token type:           jwt\n",
			"post-logout redirect uris:   -\n", "audiences:                   -\n", "id token lifetime:           1h0m0s\n"} {
			if !strings.Contains(r.stdout, line) {
				t.Errorf("client show printed\n%s\nwant the line %q", r.stdout, line)
			}
		}
	})
}
