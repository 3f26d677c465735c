package main

import (
	"context"
	"errors"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/forgeauth/authstore"
	"github.com/forgeauth/authstore/config"
	"github.com/forgeauth/authstore/hooks"
	"github.com/forgeauth/authstore/models"
	"github.com/forgeauth/authstore/protocol"
	"github.com/forgeauth/authstore/repositories"
)

// testJWTSecret signs the access tokens the session and token tests make
// in-process; the CLI gets it as JWT_SECRET.
const testJWTSecret = "cli-test-jwt-secret-0123456789abcdef0123"

// oauthStore migrates b's database and opens a Store on it in the test,
// with JWT_SECRET set, to make sessions and tokens as an application
// would. It returns the Store and b's target with JWT_SECRET in its
// environment, so the CLI checks the same signatures.
func oauthStore(t *testing.T, b backend) (*authstore.Store, target) {
	t.Helper()
	tg := withEnv(b.target, "JWT_SECRET="+testJWTSecret)
	s, err := authstore.Open(context.Background(), storeConfig(t, b, tg), authstore.WithMigrate())
	if err != nil {
		t.Fatalf("authstore.Open(WithMigrate()): %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s, tg
}

// newTestUser creates a user in s.
func newTestUser(t *testing.T, s *authstore.Store, email string) models.UUID {
	t.Helper()
	u, err := s.Users.Create(context.Background(), repositories.UserInput{
		Name: "Test User", Email: email, Password: "correct horse battery", PasswordConfirmation: "correct horse battery",
	})
	if err != nil {
		t.Fatalf("Users.Create(%s): %v", email, err)
	}
	return u.ID
}

// newTestClient registers a public client with the authorization_code and
// refresh_token grants in s.
func newTestClient(t *testing.T, s *authstore.Store, name string) models.UUID {
	t.Helper()
	c, _, err := s.Clients.Create(context.Background(), repositories.ClientInput{
		Name: name, RedirectURIs: []string{"https://app.example.com/cb"}, Scopes: []string{"read", "write"},
	})
	if err != nil {
		t.Fatalf("Clients.Create(%s): %v", name, err)
	}
	return c.ID
}

// newTestPair starts a grant: an access JWT and a refresh token.
func newTestPair(t *testing.T, s *authstore.Store, client, user models.UUID, scopes ...string) *repositories.TokenPair {
	t.Helper()
	p, err := s.RefreshTokens.Issue(context.Background(), client, &user, scopes)
	if err != nil {
		t.Fatalf("RefreshTokens.Issue: %v", err)
	}
	return p
}

// inspect is the state the library gives token now.
func inspectToken(t *testing.T, s *authstore.Store, token string) repositories.Inspection {
	t.Helper()
	in, err := s.Tokens.Inspect(context.Background(), token)
	if err != nil {
		t.Fatalf("Tokens.Inspect: %v", err)
	}
	return in
}

// countEvents counts the activity rows of event for user.
func countUserEvents(t *testing.T, s *authstore.Store, event models.Event, user models.UUID) int64 {
	t.Helper()
	var n int64
	if err := s.DB().Model(&models.Activity{}).Where("event = ? AND user_id = ?", string(event), user).Count(&n).Error; err != nil {
		t.Fatal(err)
	}
	return n
}

// noSecrets fails if r's output holds any of secrets (tokens) or their
// digests.
func holdsNoToken(t *testing.T, r result, secrets ...string) {
	t.Helper()
	for _, sec := range secrets {
		for _, s := range []string{sec, hooks.Digest(sec)} {
			if strings.Contains(r.stdout, s) || strings.Contains(r.stderr, s) {
				t.Errorf("output %v holds a token or its digest", r)
			}
		}
	}
}

func TestSessionCommands(t *testing.T) {
	t.Parallel()
	forBackends(t, func(t *testing.T, b backend) {
		s, tg := oauthStore(t, b)
		ctx := context.Background()
		ada, grace := newTestUser(t, s, "ada@example.com"), newTestUser(t, s, "grace@example.com")
		first, firstToken, err := s.Sessions.Create(ctx, ada, repositories.SessionInput{IPAddress: "203.0.113.7", UserAgent: "Firefox 128"})
		if err != nil {
			t.Fatal(err)
		}
		second, secondToken, err := s.Sessions.Create(ctx, ada, repositories.SessionInput{Remember: true})
		if err != nil {
			t.Fatal(err)
		}
		_, graceToken, err := s.Sessions.Create(ctx, grace, repositories.SessionInput{})
		if err != nil {
			t.Fatal(err)
		}
		alive := func(token string) bool {
			t.Helper()
			_, err := s.Sessions.Find(ctx, token)
			if err != nil && !errors.Is(err, repositories.ErrNotFound) {
				t.Fatalf("Sessions.Find: %v", err)
			}
			return err == nil
		}

		// list, JSON and table; never a token or digest.
		var list sessionListJSON
		r := tg.mustJSON(t, &list, "session", "list", "--user", ada.String(), "-o", "json")
		holdsNoToken(t, r, firstToken, secondToken)
		if list.UserID != ada || len(list.Sessions) != 2 {
			t.Fatalf("session list -o json = %+v; want ada's 2 sessions", list)
		}
		ids := map[models.UUID]sessionJSON{}
		for _, x := range list.Sessions {
			ids[x.ID] = x
		}
		if got := ids[first.ID]; got.IPAddress != "203.0.113.7" || got.Remember || got.UserID != ada || !got.ExpiresAt.Equal(first.ExpiresAt) {
			t.Errorf("session list -o json: first session %+v; want its IP, not remembered, expiring %v", got, first.ExpiresAt)
		}
		if got := ids[second.ID]; !got.Remember {
			t.Errorf("session list -o json: second session %+v; want remembered", got)
		}
		r = tg.mustRun(t, "session", "list", "--user", ada.String())
		holdsNoToken(t, r, firstToken, secondToken)
		for _, re := range []string{
			`(?m)^ID\s+CREATED\s+LAST ACTIVITY\s+EXPIRES\s+REMEMBER\s+IP\s+USER AGENT$`,
			`(?m)^` + first.ID.String() + `\s+\S+\s+\S+\s+\S+\s+no\s+203\.0\.113\.7\s+Firefox 128$`,
			`(?m)^` + second.ID.String() + `\s+\S+\s+\S+\s+\S+\s+yes\s+-\s+-$`,
		} {
			if !regexp.MustCompile(re).MatchString(r.stdout) {
				t.Errorf("session list printed\n%s\nwant a line matching %s", r.stdout, re)
			}
		}
		unknown := models.NewUUID()
		failsWith(t, tg.run(t, "session", "list", "--user", unknown.String()), exitFailure, "no user with id "+unknown.String())
		failsWith(t, tg.run(t, "session", "list", "--user", "ada"), exitUsage, `--user "ada" is not a UUID`)
		failsWith(t, tg.run(t, "session", "list"), exitUsage, `"user"`)

		// revoke one session by id.
		r = tg.mustRun(t, "session", "revoke", first.ID.String())
		if want := "revoked session " + first.ID.String() + "\n"; r.stdout != want {
			t.Errorf("session revoke ID printed %q; want %q", r.stdout, want)
		}
		if alive(firstToken) || !alive(secondToken) {
			t.Errorf("after session revoke ID: first alive %v, second alive %v; want only the second", alive(firstToken), alive(secondToken))
		}
		if n := countUserEvents(t, s, models.EventSessionDeleted, ada); n != 1 {
			t.Errorf("session.deleted events of ada = %d; want 1", n)
		}
		failsWith(t, tg.run(t, "session", "revoke", first.ID.String()), exitFailure, "no session with id "+first.ID.String())
		failsWith(t, tg.run(t, "session", "revoke", "not-a-uuid"), exitUsage, `session ID "not-a-uuid" is not a UUID`)
		failsWith(t, tg.run(t, "session", "revoke"), exitUsage, "--user")
		failsWith(t, tg.run(t, "session", "revoke", second.ID.String(), "--user", ada.String()), exitUsage, "not both")
		failsWith(t, tg.run(t, "session", "revoke", "--user", "42", "--yes"), exitUsage, `--user "42" is not a UUID`)

		// revoke --user needs --yes without a terminal.
		failsWith(t, tg.run(t, "session", "revoke", "--user", ada.String()), exitUsage, "--yes")
		if !alive(secondToken) {
			t.Fatal("an unconfirmed session revoke --user ended a session")
		}
		var revoked sessionRevokedJSON
		tg.mustJSON(t, &revoked, "session", "revoke", "--user", ada.String(), "--yes", "-o", "json")
		if revoked.Revoked != 1 || revoked.UserID == nil || *revoked.UserID != ada {
			t.Errorf("session revoke --user -o json = %+v; want 1 revoked for ada", revoked)
		}
		if alive(secondToken) || !alive(graceToken) {
			t.Errorf("after session revoke --user ada: ada's session alive %v, grace's %v; want only grace's", alive(secondToken), alive(graceToken))
		}
		r = tg.mustRun(t, "session", "revoke", "--user", ada.String(), "--yes")
		if !strings.Contains(r.stdout, "had no sessions; nothing changed") {
			t.Errorf("session revoke --user with none left printed %q", r.stdout)
		}
		r = tg.mustRun(t, "session", "list", "--user", ada.String())
		if r.stdout != "user "+ada.String()+" has no sessions\n" {
			t.Errorf("session list of a user without sessions printed %q", r.stdout)
		}
		failsWith(t, tg.run(t, "session", "revoke", "--user", unknown.String(), "--yes"), exitFailure, "no user with id "+unknown.String())
	})
}

// inspectionJSONOf runs token introspect - with token on standard input
// and -o json, and decodes the answer, which must exit 0 and never hold
// the token.
func inspectionJSONOf(t *testing.T, tg target, token string) inspectionJSON {
	t.Helper()
	r := tg.runInput(t, token+"\n", "token", "introspect", "-", "-o", "json")
	if r.code != 0 || r.stderr != "" {
		t.Fatalf("token introspect -: %v; want exit 0 and nothing on stderr", r)
	}
	holdsNoToken(t, r, token)
	var in inspectionJSON
	decodeJSON(t, r.stdout, &in)
	return in
}

func TestTokenIntrospectCommand(t *testing.T) {
	t.Parallel()
	forBackends(t, func(t *testing.T, b backend) {
		s, tg := oauthStore(t, b)
		ctx := context.Background()
		ada := newTestUser(t, s, "ada@example.com")
		client := newTestClient(t, s, "Web app")
		p := newTestPair(t, s, client, ada, "read", "write")
		pat, patToken, err := s.PersonalTokens.Create(ctx, ada, "ci", []string{"read"}, nil)
		if err != nil {
			t.Fatal(err)
		}

		// An access token as the argument, as a table.
		r := tg.mustRun(t, "token", "introspect", p.AccessToken)
		holdsNoToken(t, r, p.AccessToken)
		for _, re := range []string{
			`(?m)^active:\s+yes$`, `(?m)^state:\s+active$`, `(?m)^type:\s+access token \(JWT\)$`,
			`(?m)^jti:\s+` + p.AccessTokenID.String() + `$`, `(?m)^subject:\s+user ` + ada.String() + `$`,
			`(?m)^client:\s+` + client.String() + `$`, `(?m)^scopes:\s+read write$`,
			`(?m)^family:\s+` + p.FamilyID.String() + `$`, `(?m)^revoked:\s+no$`, `(?m)^expires:\s+\S+Z$`,
		} {
			if !regexp.MustCompile(re).MatchString(r.stdout) {
				t.Errorf("token introspect printed\n%s\nwant a line matching %s", r.stdout, re)
			}
		}

		// From standard input, as JSON: access, refresh and personal token.
		in := inspectionJSONOf(t, tg, p.AccessToken)
		if !in.Active || in.State != "active" || *in.TokenType != "access_token" || *in.ID != p.AccessTokenID ||
			*in.ClientID != client || *in.UserID != ada || *in.Subject != ada.String() || *in.SubjectType != "user" ||
			strings.Join(in.Scopes, " ") != "read write" || *in.FamilyID != p.FamilyID || in.ExpiresAt.Unix() != p.ExpiresAt.Unix() {
			t.Errorf("token introspect - (access token) = %+v", in)
		}
		in = inspectionJSONOf(t, tg, p.RefreshToken)
		if !in.Active || *in.TokenType != "refresh_token" || *in.ID != p.RefreshTokenID || *in.ClientID != client ||
			*in.FamilyID != p.FamilyID || in.UsedAt != nil || !in.ExpiresAt.Equal(p.RefreshExpiresAt) {
			t.Errorf("token introspect - (refresh token) = %+v", in)
		}
		in = inspectionJSONOf(t, tg, patToken)
		if !in.Active || *in.TokenType != "personal_access_token" || *in.ID != pat.ID || *in.Name != "ci" ||
			in.ClientID != nil || *in.UserID != ada || in.ExpiresAt != nil || in.LastUsedAt != nil {
			t.Errorf("token introspect - (personal token) = %+v", in)
		}
		r = tg.runInput(t, patToken+"\n", "token", "introspect", "-")
		if r.code != 0 || !regexp.MustCompile(`(?m)^last used:\s+never$`).MatchString(r.stdout) {
			t.Errorf("token introspect - (personal token): %v; want 'last used: never' (looking is no use)", r)
		}

		// A garbage token is inactive, with exit status 0: the question was
		// answered.
		for _, garbage := range []string{"garbage", "a.b.c", p.AccessToken + "x", "asp_nothing"} {
			in := inspectionJSONOf(t, tg, garbage)
			if in.Active || in.State != "unknown" || in.ID != nil || in.UserID != nil || in.ExpiresAt != nil {
				t.Errorf("token introspect of %q = %+v; want inactive and unknown, nothing else", garbage, in)
			}
		}
		r = tg.runInput(t, "garbage\n", "token", "introspect", "-")
		if r.code != 0 || r.stdout != "active:  no\nstate:   unknown\ntype:    -\n" {
			t.Errorf("token introspect of garbage: %v; want exit 0 and active no, state unknown", r)
		}

		// Revoked, then introspect shows inactive.
		tg.mustRun(t, "token", "revoke", "--jti", p.AccessTokenID.String())
		in = inspectionJSONOf(t, tg, p.AccessToken)
		if in.Active || in.State != "revoked" || !in.Revoked || *in.ID != p.AccessTokenID {
			t.Errorf("token introspect after revoke --jti = %+v; want inactive, revoked", in)
		}
		if _, err := s.RefreshTokens.Rotate(ctx, authenticatePublic(t, s, client), p.RefreshToken, nil); err != nil {
			t.Fatalf("Rotate: %v", err)
		}
		in = inspectionJSONOf(t, tg, p.RefreshToken)
		if in.Active || in.State != "used" || in.UsedAt == nil {
			t.Errorf("token introspect of a rotated refresh token = %+v; want inactive, used", in)
		}

		// Bad input: no argument, no token on standard input.
		failsWith(t, tg.run(t, "token", "introspect"), exitUsage, "takes one argument")
		failsWith(t, tg.runInput(t, "", "token", "introspect", "-"), exitUsage, "no token on standard input")
		failsWith(t, tg.runInput(t, "\n\n", "token", "introspect", "-"), exitUsage, "no token on standard input")

		// Without JWT_SECRET an access token cannot be checked; a refresh
		// token can.
		nokey := b.target
		r = nokey.runInput(t, p.AccessToken+"\n", "token", "introspect", "-")
		failsWith(t, r, exitFailure, "JWT_SECRET is not set")
		holdsNoToken(t, r, p.AccessToken)
		r = nokey.runInput(t, p.RefreshToken+"\n", "token", "introspect", "-")
		if r.code != 0 || !strings.Contains(r.stdout, "refresh token") {
			t.Errorf("token introspect of a refresh token without JWT_SECRET: %v; want exit 0", r)
		}
	})
}

// authenticated authenticates a public client (no secret).
func authenticatePublic(t *testing.T, s *authstore.Store, client models.UUID) repositories.AuthenticatedClient {
	t.Helper()
	c, err := s.Clients.Authenticate(context.Background(), client, "")
	if err != nil {
		t.Fatalf("Clients.Authenticate: %v", err)
	}
	return c
}

func TestTokenRevokeCommand(t *testing.T) {
	t.Parallel()
	forBackends(t, func(t *testing.T, b backend) {
		s, tg := oauthStore(t, b)
		ctx := context.Background()
		ada, grace := newTestUser(t, s, "ada@example.com"), newTestUser(t, s, "grace@example.com")
		web, cli := newTestClient(t, s, "Web app"), newTestClient(t, s, "CLI")
		adaWeb, adaCLI, graceWeb := newTestPair(t, s, web, ada, "read"), newTestPair(t, s, cli, ada, "read"), newTestPair(t, s, web, grace, "read")
		verifier, err := protocol.NewVerifier()
		if err != nil {
			t.Fatal(err)
		}
		_, code, err := s.AuthCodes.Create(ctx, repositories.AuthCodeInput{
			ClientID: web, UserID: ada, RedirectURI: "https://app.example.com/cb", Scopes: []string{"read"},
			CodeChallenge: protocol.S256Challenge(verifier), CodeChallengeMethod: protocol.PKCEMethodS256,
		})
		if err != nil {
			t.Fatal(err)
		}
		state := func(token string) string { t.Helper(); return inspectToken(t, s, token).State }

		// Bad usage: exactly one of the three, each a UUID.
		id := models.NewUUID().String()
		for _, tc := range []struct {
			args []string
			want string
		}{
			{[]string{"token", "revoke"}, "give exactly one of --jti, --user or --client, got 0"},
			{[]string{"token", "revoke", "--jti", id, "--user", id}, "got 2"},
			{[]string{"token", "revoke", "--user", id, "--client", id, "--yes"}, "got 2"},
			{[]string{"token", "revoke", "--jti", "abc"}, `--jti "abc" is not a UUID`},
			{[]string{"token", "revoke", "--user", "abc", "--yes"}, `--user "abc" is not a UUID`},
			{[]string{"token", "revoke", "--client", "", "--yes"}, "--client is required"},
			{[]string{"token", "revoke", id}, "takes no argument"},
		} {
			failsWith(t, tg.run(t, tc.args...), exitUsage, tc.want)
		}

		// --jti: one access token; its refresh token keeps working.
		failsWith(t, tg.run(t, "token", "revoke", "--jti", id), exitFailure, "no access token with jti "+id)
		r := tg.mustRun(t, "token", "revoke", "--jti", adaWeb.AccessTokenID.String())
		if want := "revoked access token " + adaWeb.AccessTokenID.String() + "\n"; r.stdout != want {
			t.Errorf("token revoke --jti printed %q; want %q", r.stdout, want)
		}
		if state(adaWeb.AccessToken) != "revoked" || state(adaWeb.RefreshToken) != "active" {
			t.Errorf("after revoke --jti: access %s, refresh %s; want revoked, active", state(adaWeb.AccessToken), state(adaWeb.RefreshToken))
		}
		var res tokensRevokedJSON
		tg.mustJSON(t, &res, "token", "revoke", "--jti", adaWeb.AccessTokenID.String(), "-o", "json")
		if res.Revoked != 0 || res.JTI == nil || *res.JTI != adaWeb.AccessTokenID {
			t.Errorf("token revoke --jti again -o json = %+v; want 0 revoked", res)
		}

		// --user: confirmation, then every token and code of the user.
		failsWith(t, tg.run(t, "token", "revoke", "--user", ada.String()), exitUsage, "--yes")
		if state(adaCLI.AccessToken) != "active" {
			t.Fatal("an unconfirmed token revoke --user revoked a token")
		}
		failsWith(t, tg.run(t, "token", "revoke", "--user", id, "--yes"), exitFailure, "no user with id "+id)
		tg.mustJSON(t, &res, "token", "revoke", "--user", ada.String(), "--yes", "-o", "json")
		// adaWeb's refresh token, adaCLI's two tokens and the code.
		if res.Revoked != 4 || res.UserID == nil || *res.UserID != ada {
			t.Errorf("token revoke --user -o json = %+v; want 4 revoked for ada", res)
		}
		for _, tok := range []string{adaWeb.RefreshToken, adaCLI.AccessToken, adaCLI.RefreshToken} {
			if got := state(tok); got != "revoked" {
				t.Errorf("after revoke --user ada: a token of ada is %s; want revoked", got)
			}
		}
		if _, err := s.AuthCodes.Exchange(ctx, authenticatePublic(t, s, web), code, "https://app.example.com/cb", verifier); !errors.Is(err, repositories.ErrRevoked) {
			t.Errorf("Exchange of ada's code after revoke --user = %v; want ErrRevoked", err)
		}
		if state(graceWeb.AccessToken) != "active" || state(graceWeb.RefreshToken) != "active" {
			t.Error("token revoke --user ada reached grace's tokens")
		}
		r = tg.mustRun(t, "token", "revoke", "--user", ada.String(), "--yes")
		if !strings.Contains(r.stdout, "no live tokens or codes of user "+ada.String()+"; nothing changed") {
			t.Errorf("token revoke --user again printed %q", r.stdout)
		}

		// --client: confirmation, then everything issued to the client; the
		// client stays.
		failsWith(t, tg.run(t, "token", "revoke", "--client", web.String()), exitUsage, "--yes")
		failsWith(t, tg.run(t, "token", "revoke", "--client", id, "--yes"), exitFailure, "no client with id "+id)
		r = tg.mustRun(t, "token", "revoke", "--client", web.String(), "--yes")
		if want := "revoked 2 tokens and codes issued to client " + web.String() + "\n"; r.stdout != want {
			t.Errorf("token revoke --client printed %q; want %q", r.stdout, want)
		}
		if state(graceWeb.AccessToken) != "revoked" || state(graceWeb.RefreshToken) != "revoked" {
			t.Error("token revoke --client left a token of the client active")
		}
		if c, err := s.Clients.Find(ctx, web); err != nil || c.Revoked {
			t.Errorf("after token revoke --client: client %+v, %v; want it registered and active", c, err)
		}
		if n := countUserEvents(t, s, models.EventTokenRevoked, ada); n < 2 {
			t.Errorf("token.revoked events of ada = %d; want one per revocation", n)
		}
		tg.mustJSON(t, &res, "token", "revoke", "--client", web.String(), "--yes", "-o", "json")
		if res.Revoked != 0 || res.ClientID == nil || *res.ClientID != web {
			t.Errorf("token revoke --client again -o json = %+v; want 0 revoked", res)
		}
	})
}

// TestSessionTokenHelp checks that the new groups are listed in the root
// help.
func TestSessionTokenHelp(t *testing.T) {
	t.Parallel()
	r := run(t, t.TempDir(), nil, "--help")
	for _, re := range []string{`(?m)^\s+session\s`, `(?m)^\s+token\s`} {
		if !regexp.MustCompile(re).MatchString(r.stdout) {
			t.Errorf("authstore --help printed\n%s\nwant a line matching %s", r.stdout, re)
		}
	}
}

// TestSessionTokenOnATerminal checks, on a pseudo-terminal, that session
// revoke --user asks and does nothing unless told yes, and that token
// introspect - asks for the token without echoing it.
func TestSessionTokenOnATerminal(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	url := "sqlite://" + filepath.Join(dir, "auth.db")
	tg := target{dialect: "sqlite", dir: dir, env: []string{"DATABASE_URL=" + url, "JWT_SECRET=" + testJWTSecret}}
	cfg, err := config.LoadFrom(map[string]string{"DATABASE_URL": url, "JWT_SECRET": testJWTSecret})
	if err != nil {
		t.Fatal(err)
	}
	s, err := authstore.Open(context.Background(), cfg, authstore.WithMigrate())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ada := newTestUser(t, s, "ada@example.com")
	_, sessionToken, err := s.Sessions.Create(context.Background(), ada, repositories.SessionInput{})
	if err != nil {
		t.Fatal(err)
	}
	alive := func() bool {
		_, err := s.Sessions.Find(context.Background(), sessionToken)
		return err == nil
	}

	r := runOnTerminal(t, tg, "n\n", "session", "revoke", "--user", ada.String())
	if r.code != 1 || !strings.Contains(r.out, "End every session of user "+ada.String()) || !strings.Contains(r.out, "not confirmed; nothing changed") || !alive() {
		t.Errorf("session revoke --user answered no: exit %d, output %q; want exit 1, the question, 'not confirmed' and the session alive", r.code, r.out)
	}
	r = runOnTerminal(t, tg, "y\n", "session", "revoke", "--user", ada.String())
	if r.code != 0 || !strings.Contains(r.out, "revoked 1 session of user "+ada.String()) || alive() {
		t.Errorf("session revoke --user answered yes: exit %d, output %q; want exit 0 and the session ended", r.code, r.out)
	}

	p := newTestPair(t, s, newTestClient(t, s, "Web app"), ada, "read")
	out, code := typeTokenOnTerminal(t, tg, p.AccessToken, "token", "introspect", "-")
	if code != 0 || !strings.Contains(out, "Token: ") || !regexp.MustCompile(`(?m)^active:\s+yes$`).MatchString(out) {
		t.Errorf("token introspect - on a terminal: exit %d, output %q; want the prompt and active yes", code, out)
	}
	if strings.Contains(out, p.AccessToken) {
		t.Errorf("token introspect - echoed the token: %q", out)
	}
}

// typeTokenOnTerminal runs the binary on a pseudo-terminal and types token
// once the terminal's echo is off (the no-echo prompt is up), then returns
// what the terminal showed and the exit status.
func typeTokenOnTerminal(t *testing.T, tg target, token string, args ...string) (string, int) {
	t.Helper()
	tm := startTerminal(t, tg, args...)
	tm.waitUntil("the echo turned off", func() bool { return !tm.echoOn() })
	tm.typeText(token + "\n")
	r := tm.wait()
	return r.out, r.code
}
