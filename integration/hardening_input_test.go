package integration

// Issue 11, classes 6, 8 and 10: bad input at every entry point. Ids that
// are not canonical UUIDs, text that is not text, nil callbacks and
// metadata JSON cannot encode are refused with the contract's sentinel
// (repositories/doc.go) before any work, in a bounded message, writing
// nothing, on every backend.

import (
	"context"
	"errors"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/forgeauth/authstore/models"
	"github.com/forgeauth/authstore/repositories"
	"github.com/stretchr/testify/require"
)

// maxErrLen bounds every error message these tests provoke: an error never
// echoes more than a few dozen bytes of an argument.
const maxErrLen = 300

// megabyte is 1 MiB of input.
var megabyte = strings.Repeat("a", 1<<20)

// requireRefused checks that err wraps want, is one bounded line, and
// holds no raw SQLSTATE or driver text.
func requireRefused(t *testing.T, name string, err, want error) {
	t.Helper()
	if want == nil {
		require.NoError(t, err, "%s = %v; want nil", name, err)
		return
	}
	require.ErrorIs(t, err, want, "%s = %v; want %v", name, err, want)
	msg := err.Error()
	require.Less(t, len(msg), maxErrLen, "%s: error of %d bytes: %.200q", name, len(msg), msg)
	require.NotContains(t, msg, "\n", "%s: error is not one line", name)
	for _, raw := range []string{"SQLSTATE", "22P02", "22021", "pq:", "sqlite"} {
		require.NotContains(t, msg, raw, "%s: raw driver error %q", name, msg)
	}
}

// badIDs returns the forms of a real row's id that must not name it:
// upper case, braces, urn, no hyphens, padding, a NUL, and junk.
func badIDs(id models.UUID) map[string]models.UUID {
	s := string(id)
	return map[string]models.UUID{
		"empty":       "",
		"junk":        "not-a-uuid",
		"upper case":  models.UUID(strings.ToUpper(s)),
		"braced":      models.UUID("{" + s + "}"),
		"urn":         models.UUID("urn:uuid:" + s),
		"no hyphens":  models.UUID(strings.ReplaceAll(s, "-", "")),
		"padded":      models.UUID(" " + s),
		"nul":         models.UUID(s[:35] + "\x00"),
		"1 MB":        models.UUID(megabyte),
		"invalid utf": models.UUID(s[:35] + "\xff"),
	}
}

// TestHardeningIDs calls every exported method that takes an id with the
// malformed forms of real ids: each answers the contract's sentinel
// (ErrInvalidInput; ErrInvalidCredentials where it authenticates; nil for
// an RFC 7009 revocation by jti) in a bounded message, and nothing is
// written, so Sessions.DeleteOthers(user, "not-a-uuid") ends no session and
// an upper-case id finds no row on any backend.
func TestHardeningIDs(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b Backend) {
		f := newFixture(t, b)
		ctx := requestCtx()
		u := f.user(t, "ada@example.com")
		sess, _, err := f.s.Sessions.Create(ctx, u.ID, repositories.SessionInput{})
		require.NoError(t, err)
		_, _, err = f.s.Sessions.Create(ctx, u.ID, repositories.SessionInput{})
		require.NoError(t, err)
		c, secret := f.confidentialClient(t, nil)
		pair := f.pair(t, c.ID, &u.ID, "read")
		jti := pair.AccessTokenID
		pass := "another good password"
		tokenID := models.NewUUID()
		if pat, _, err := f.s.PersonalTokens.Create(ctx, u.ID, "cli", nil, nil); err == nil {
			tokenID = pat.ID
		}

		type call struct {
			want error
			fn   func(bad models.UUID) error
			// real is the id whose forms are tried.
			real models.UUID
			// optional: "" means "none" for this argument, so the empty form
			// is skipped.
			optional bool
		}
		inv, cred := repositories.ErrInvalidInput, repositories.ErrInvalidCredentials
		calls := map[string]call{
			"Users.FindByID": {inv, func(id models.UUID) error { _, err := f.s.Users.FindByID(ctx, id); return err }, u.ID, false},
			"Users.UpdateProfile": {inv, func(id models.UUID) error {
				n := "x"
				_, err := f.s.Users.UpdateProfile(ctx, id, repositories.ProfileInput{Name: &n})
				return err
			}, u.ID, false},
			"Users.ChangePassword":      {inv, func(id models.UUID) error { return f.s.Users.ChangePassword(ctx, id, userPassword, pass, pass, "") }, u.ID, false},
			"Users.ChangePassword/keep": {inv, func(id models.UUID) error { return f.s.Users.ChangePassword(ctx, u.ID, userPassword, pass, pass, id) }, sess.ID, true},
			"Users.SetPassword":         {inv, func(id models.UUID) error { return f.s.Users.SetPassword(ctx, id, pass) }, u.ID, false},
			"Users.MarkEmailVerified":   {inv, func(id models.UUID) error { return f.s.Users.MarkEmailVerified(ctx, id) }, u.ID, false},
			"Users.Delete":              {inv, func(id models.UUID) error { return f.s.Users.Delete(ctx, id) }, u.ID, false},
			"Users.Lock":                {inv, func(id models.UUID) error { return f.s.Users.Lock(ctx, id, time.Hour) }, u.ID, false},
			"Users.Unlock":              {inv, func(id models.UUID) error { return f.s.Users.Unlock(ctx, id) }, u.ID, false},
			"Users.Import": {inv, func(id models.UUID) error {
				_, err := f.s.Users.Import(ctx, []repositories.ImportUser{{ID: id, Name: "Imp", Email: "imp@example.com", PasswordHash: userHash()}}, repositories.ImportOptions{})
				return err
			}, u.ID, true},
			"Sessions.Create": {inv, func(id models.UUID) error {
				_, _, err := f.s.Sessions.Create(ctx, id, repositories.SessionInput{})
				return err
			}, u.ID, false},
			"Sessions.Touch":             {inv, func(id models.UUID) error { return f.s.Sessions.Touch(ctx, id) }, sess.ID, false},
			"Sessions.Revoke":            {inv, func(id models.UUID) error { return f.s.Sessions.Revoke(ctx, id) }, sess.ID, false},
			"Sessions.DeleteOthers/user": {inv, func(id models.UUID) error { _, err := f.s.Sessions.DeleteOthers(ctx, id, sess.ID); return err }, u.ID, false},
			"Sessions.DeleteOthers/keep": {inv, func(id models.UUID) error { _, err := f.s.Sessions.DeleteOthers(ctx, u.ID, id); return err }, sess.ID, true},
			"Sessions.RevokeForUser":     {inv, func(id models.UUID) error { _, err := f.s.Sessions.RevokeForUser(ctx, id); return err }, u.ID, false},
			"Sessions.ListForUser":       {inv, func(id models.UUID) error { _, err := f.s.Sessions.ListForUser(ctx, id); return err }, u.ID, false},
			"EmailVerifications.Issue":   {inv, func(id models.UUID) error { _, _, err := f.s.EmailVerifications.Issue(ctx, id); return err }, u.ID, false},
			"Activity.Record":            {inv, func(id models.UUID) error { return f.s.Activity.Record(ctx, &id, models.EventLogout, nil) }, u.ID, false},
			"Activity.ListForUser":       {inv, func(id models.UUID) error { _, err := f.s.Activity.ListForUser(ctx, id, 10); return err }, u.ID, false},
			"Clients.Create/owner": {inv, func(id models.UUID) error {
				_, _, err := f.s.Clients.Create(ctx, repositories.ClientInput{Name: "x", RedirectURIs: []string{redirectURI}, UserID: &id})
				return err
			}, u.ID, false},
			"Clients.Find": {inv, func(id models.UUID) error { _, err := f.s.Clients.Find(ctx, id); return err }, c.ID, false},
			"Clients.Update": {inv, func(id models.UUID) error {
				_, err := f.s.Clients.Update(ctx, id, "x", []string{redirectURI})
				return err
			}, c.ID, false},
			"Clients.RotateSecret": {inv, func(id models.UUID) error { _, err := f.s.Clients.RotateSecret(ctx, id); return err }, c.ID, false},
			"Clients.Revoke":       {inv, func(id models.UUID) error { return f.s.Clients.Revoke(ctx, id) }, c.ID, false},
			"Clients.Delete":       {inv, func(id models.UUID) error { return f.s.Clients.Delete(ctx, id) }, c.ID, false},
			"Clients.Import": {inv, func(id models.UUID) error {
				_, err := f.s.Clients.Import(ctx, []repositories.ImportClient{{ID: id, Name: "imp", RedirectURIs: []string{redirectURI}, GrantTypes: []string{"authorization_code"}}}, repositories.ImportOptions{})
				return err
			}, c.ID, false},
			"Clients.Import/owner": {inv, func(id models.UUID) error {
				_, err := f.s.Clients.Import(ctx, []repositories.ImportClient{{ID: models.NewUUID(), UserID: &id, Name: "imp", RedirectURIs: []string{redirectURI}, GrantTypes: []string{"authorization_code"}}}, repositories.ImportOptions{})
				return err
			}, u.ID, false},
			"Clients.Authenticate/secret": {cred, func(id models.UUID) error { _, err := f.s.Clients.Authenticate(ctx, id, secret); return err }, c.ID, false},
			"Clients.Authenticate/public": {cred, func(id models.UUID) error { _, err := f.s.Clients.Authenticate(ctx, id, ""); return err }, c.ID, false},
			"Clients.ValidateCredentials": {cred, func(id models.UUID) error { _, err := f.s.Clients.ValidateCredentials(ctx, id, secret); return err }, c.ID, false},
			"AccessTokens.Issue/client":   {inv, func(id models.UUID) error { _, _, err := f.s.AccessTokens.Issue(ctx, id, &u.ID, nil, nil); return err }, c.ID, false},
			"AccessTokens.Issue/user":     {inv, func(id models.UUID) error { _, _, err := f.s.AccessTokens.Issue(ctx, c.ID, &id, nil, nil); return err }, u.ID, false},
			"AccessTokens.Issue/family": {inv, func(id models.UUID) error {
				_, _, err := f.s.AccessTokens.Issue(ctx, c.ID, &u.ID, nil, &id)
				return err
			}, jti, false},
			"AccessTokens.Revoke":          {nil, func(id models.UUID) error { return f.s.AccessTokens.Revoke(ctx, id) }, jti, false},
			"AccessTokens.RevokeForUser":   {inv, func(id models.UUID) error { _, err := f.s.AccessTokens.RevokeForUser(ctx, id); return err }, u.ID, false},
			"AccessTokens.RevokeForClient": {inv, func(id models.UUID) error { _, err := f.s.AccessTokens.RevokeForClient(ctx, id); return err }, c.ID, false},
			"RefreshTokens.Issue/client":   {inv, func(id models.UUID) error { _, err := f.s.RefreshTokens.Issue(ctx, id, &u.ID, nil); return err }, c.ID, false},
			"RefreshTokens.Issue/user":     {inv, func(id models.UUID) error { _, err := f.s.RefreshTokens.Issue(ctx, c.ID, &id, nil); return err }, u.ID, false},
			"RefreshTokens.RevokeForUser":  {inv, func(id models.UUID) error { _, err := f.s.RefreshTokens.RevokeForUser(ctx, id); return err }, u.ID, false},
			"AuthCodes.Create/client": {inv, func(id models.UUID) error {
				_, _, err := f.s.AuthCodes.Create(ctx, repositories.AuthCodeInput{ClientID: id, UserID: u.ID, RedirectURI: redirectURI})
				return err
			}, c.ID, false},
			"AuthCodes.Create/user": {inv, func(id models.UUID) error {
				_, _, err := f.s.AuthCodes.Create(ctx, repositories.AuthCodeInput{ClientID: c.ID, UserID: id, RedirectURI: redirectURI})
				return err
			}, u.ID, false},
			"PersonalTokens.Create": {inv, func(id models.UUID) error {
				_, _, err := f.s.PersonalTokens.Create(ctx, id, "cli", nil, nil)
				return err
			}, u.ID, false},
			"PersonalTokens.ListForUser":  {inv, func(id models.UUID) error { _, err := f.s.PersonalTokens.ListForUser(ctx, id); return err }, u.ID, false},
			"PersonalTokens.Revoke/user":  {inv, func(id models.UUID) error { return f.s.PersonalTokens.Revoke(ctx, id, tokenID) }, u.ID, false},
			"PersonalTokens.Revoke/token": {inv, func(id models.UUID) error { return f.s.PersonalTokens.Revoke(ctx, u.ID, id) }, tokenID, false},
			"Grants.ListForUser":          {inv, func(id models.UUID) error { _, err := f.s.Grants.ListForUser(ctx, id); return err }, u.ID, false},
			"Grants.Revoke/user":          {inv, func(id models.UUID) error { _, err := f.s.Grants.Revoke(ctx, id, c.ID); return err }, u.ID, false},
			"Grants.Revoke/client":        {inv, func(id models.UUID) error { _, err := f.s.Grants.Revoke(ctx, u.ID, id); return err }, c.ID, false},
			"Tokens.InspectJTI":           {inv, func(id models.UUID) error { _, err := f.s.Tokens.InspectJTI(ctx, id); return err }, jti, false},
			"Tokens.RevokeForClient":      {inv, func(id models.UUID) error { _, err := f.s.Tokens.RevokeForClient(ctx, id); return err }, c.ID, false},
		}
		for name, c := range calls {
			before := snapshotTables(t, f.s.DB())
			for form, bad := range badIDs(c.real) {
				if bad == "" && c.optional {
					continue
				}
				err := c.fn(bad)
				requireRefused(t, name+"("+form+")", err, c.want)
			}
			require.Equal(t, before, snapshotTables(t, f.s.DB()), "%s with a malformed id wrote something", name)
		}

		// The defect the issue saw: SQLite ended every session of the user.
		n, err := f.s.Sessions.DeleteOthers(ctx, u.ID, "not-a-uuid")
		requireRefused(t, "DeleteOthers(user, not-a-uuid)", err, repositories.ErrInvalidInput)
		require.Zero(t, n)
		left, err := f.s.Sessions.ListForUser(ctx, u.ID)
		require.NoError(t, err)
		require.Len(t, left, 2, "DeleteOthers with a malformed keep id ended sessions")
	})
}

// TestHardeningText gives every text argument invalid UTF-8, a NUL byte
// and 1 MB: each is refused with ErrInvalidInput naming the field, before
// any work and writing nothing; a login with such an email is refused as
// an unknown email is (ErrInvalidCredentials, the dummy hash's cost, one
// login.failed row); a session's IP and user agent keep the request
// metadata caps.
func TestHardeningText(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b Backend) {
		f := newFixture(t, b)
		ctx := requestCtx()
		u := f.user(t, "ada@example.com")
		c := f.publicClient(t)
		bad := map[string]string{"nul": "a\x00b", "invalid utf-8": "a\xffb", "1 MB": megabyte}
		badEmail := map[string]string{"nul": "ada\x00@example.com", "invalid utf-8": "ada\xff@example.com", "1 MB": megabyte + "@example.com"}

		type call struct {
			field string // the field the message must name
			fn    func(s string) error
		}
		pw := "a good long password"
		calls := map[string]call{
			"Users.Create/name": {"name", func(s string) error {
				_, err := f.s.Users.Create(ctx, repositories.UserInput{Name: s, Email: "new@example.com", Password: pw, PasswordConfirmation: pw})
				return err
			}},
			"Users.UpdateProfile/name": {"name", func(s string) error {
				_, err := f.s.Users.UpdateProfile(ctx, u.ID, repositories.ProfileInput{Name: &s})
				return err
			}},
			"Users.Import/name": {"name", func(s string) error {
				_, err := f.s.Users.Import(ctx, []repositories.ImportUser{{Name: s, Email: "imp@example.com", PasswordHash: userHash()}}, repositories.ImportOptions{})
				return err
			}},
			"Sessions.Create/ip": {"ip address", func(s string) error {
				_, _, err := f.s.Sessions.Create(ctx, u.ID, repositories.SessionInput{IPAddress: s})
				return err
			}},
			"Sessions.Create/user agent": {"user agent", func(s string) error {
				_, _, err := f.s.Sessions.Create(ctx, u.ID, repositories.SessionInput{UserAgent: s})
				return err
			}},
			"PersonalTokens.Create/name": {"token name", func(s string) error {
				_, _, err := f.s.PersonalTokens.Create(ctx, u.ID, s, nil, nil)
				return err
			}},
			"Clients.Create/name": {"client name", func(s string) error {
				_, _, err := f.s.Clients.Create(ctx, repositories.ClientInput{Name: s, RedirectURIs: []string{redirectURI}})
				return err
			}},
			"Clients.Update/name": {"client name", func(s string) error {
				_, err := f.s.Clients.Update(ctx, c.ID, s, []string{redirectURI})
				return err
			}},
			"Clients.Create/redirect uri": {"redirect uri", func(s string) error {
				_, _, err := f.s.Clients.Create(ctx, repositories.ClientInput{Name: "x", RedirectURIs: []string{"https://app.example.com/" + s}})
				return err
			}},
			"Clients.Create/scope": {"scope", func(s string) error {
				_, _, err := f.s.Clients.Create(ctx, repositories.ClientInput{Name: "x", RedirectURIs: []string{redirectURI}, Scopes: []string{s}})
				return err
			}},
		}
		emailCalls := map[string]func(s string) error{
			"Users.Create/email": func(s string) error {
				_, err := f.s.Users.Create(ctx, repositories.UserInput{Name: "New", Email: s, Password: pw, PasswordConfirmation: pw})
				return err
			},
			"Users.UpdateProfile/email": func(s string) error {
				_, err := f.s.Users.UpdateProfile(ctx, u.ID, repositories.ProfileInput{Email: &s})
				return err
			},
			"Users.FindByEmail": func(s string) error { _, err := f.s.Users.FindByEmail(ctx, s); return err },
			"Users.Import/email": func(s string) error {
				_, err := f.s.Users.Import(ctx, []repositories.ImportUser{{Name: "Imp", Email: s, PasswordHash: userHash()}}, repositories.ImportOptions{})
				return err
			},
			"PasswordResets.Request": func(s string) error {
				return f.s.PasswordResets.Request(ctx, s, func(context.Context, string, string) error {
					t.Errorf("Request(%.40q) delivered", s)
					return nil
				})
			},
		}
		for name, c := range calls {
			before := snapshotTables(t, f.s.DB())
			for form, s := range bad {
				err := c.fn(s)
				requireRefused(t, name+"("+form+")", err, repositories.ErrInvalidInput)
				require.Contains(t, err.Error(), c.field, "%s(%s) = %v; want the field named", name, form, err)
			}
			require.Equal(t, before, snapshotTables(t, f.s.DB()), "%s with bad text wrote something", name)
		}
		for name, fn := range emailCalls {
			before := snapshotTables(t, f.s.DB())
			for form, s := range badEmail {
				err := fn(s)
				requireRefused(t, name+"("+form+")", err, repositories.ErrInvalidInput)
				require.Contains(t, err.Error(), "email", "%s(%s) = %v; want the field named", name, form, err)
			}
			require.Equal(t, before, snapshotTables(t, f.s.DB()), "%s with a bad email wrote something", name)
		}

		t.Run("session metadata caps", func(t *testing.T) {
			for name, in := range map[string]repositories.SessionInput{
				"ip over the cap":         {IPAddress: strings.Repeat("1", models.MaxIPLength+1)},
				"user agent over the cap": {UserAgent: strings.Repeat("u", models.MaxUserAgentLength+1)},
				"user agent with a line":  {UserAgent: "Mozilla\r\nX-Forged: 1"},
				"ip with an escape":       {IPAddress: "203.0.113.7\x1b[2J"},
			} {
				_, _, err := f.s.Sessions.Create(ctx, u.ID, in)
				requireRefused(t, "Sessions.Create("+name+")", err, repositories.ErrInvalidInput)
			}
			s, _, err := f.s.Sessions.Create(ctx, u.ID, repositories.SessionInput{
				IPAddress: strings.Repeat("1", models.MaxIPLength), UserAgent: strings.Repeat("ü", models.MaxUserAgentLength/2),
			})
			require.NoError(t, err, "a session at the caps")
			require.Len(t, s.IPAddress, models.MaxIPLength)
			require.Len(t, s.UserAgent, models.MaxUserAgentLength)
		})

		t.Run("login with bad text", func(t *testing.T) {
			failed := func() int64 {
				return countRows(t, f.s.DB(), "user_activity_log", "event = ? AND user_id IS NULL", string(models.EventLoginFailed))
			}
			// The cheapest of three unknown-email logins, for their cost (the
			// minimum, so a load spike cannot inflate it).
			unknown := time.Duration(math.MaxInt64)
			for range 3 {
				start := time.Now()
				_, err := f.s.Users.Authenticate(ctx, "nobody@example.com", userPassword)
				unknown = min(unknown, time.Since(start))
				require.ErrorIs(t, err, repositories.ErrInvalidCredentials)
			}
			for form, s := range badEmail {
				n := failed()
				start := time.Now()
				_, err := f.s.Users.Authenticate(ctx, s, userPassword)
				took := time.Since(start)
				requireRefused(t, "Authenticate("+form+")", err, repositories.ErrInvalidCredentials)
				require.NotErrorIs(t, err, repositories.ErrInvalidInput, "a login answers bad text as an unknown email")
				require.Equal(t, n+1, failed(), "Authenticate(%s) wrote no login.failed row", form)
				require.Greater(t, took, unknown/3, "Authenticate(%s) took %v, an unknown email %v: the dummy hash was skipped", form, took, unknown)
			}
		})
	})
}

// failingMarshaler fails to encode with an error as long as its input.
type failingMarshaler struct{ s string }

func (m failingMarshaler) MarshalJSON() ([]byte, error) { return nil, errors.New(m.s) }

// TestHardeningCallbacks: a nil callback is refused before any write (a
// password reset for a known address included, which used to commit its
// row and then panic); metadata that JSON cannot encode is ErrInvalidInput;
// a 1 MB event name is not echoed.
func TestHardeningCallbacks(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b Backend) {
		f := newFixture(t, b)
		ctx := requestCtx()
		u := f.user(t, "ada@example.com")
		cyclic := map[string]any{}
		cyclic["self"] = cyclic
		calls := map[string]func() error{
			"PasswordResets.Request(known, nil)":   func() error { return f.s.PasswordResets.Request(ctx, u.Email, nil) },
			"PasswordResets.Request(unknown, nil)": func() error { return f.s.PasswordResets.Request(ctx, "nobody@example.com", nil) },
			"Users.Export(nil)":                    func() error { return f.s.Users.Export(ctx, nil) },
			"Clients.Export(nil)":                  func() error { return f.s.Clients.Export(ctx, nil) },
			"Activity.Record(1 MB event)": func() error {
				return f.s.Activity.Record(ctx, &u.ID, models.Event(megabyte), nil)
			},
			"Activity.Record(channel)": func() error {
				return f.s.Activity.Record(ctx, &u.ID, models.EventLogout, map[string]any{"c": make(chan int)})
			},
			"Activity.Record(func)": func() error {
				return f.s.Activity.Record(ctx, &u.ID, models.EventLogout, map[string]any{"f": func() {}})
			},
			"Activity.Record(NaN)": func() error {
				return f.s.Activity.Record(ctx, &u.ID, models.EventLogout, map[string]any{"n": math.NaN()})
			},
			"Activity.Record(cycle)": func() error {
				return f.s.Activity.Record(ctx, &u.ID, models.EventLogout, cyclic)
			},
			"Activity.Record(failing marshaler)": func() error {
				return f.s.Activity.Record(ctx, &u.ID, models.EventLogout, map[string]any{"m": failingMarshaler{megabyte}})
			},
		}
		for name, fn := range calls {
			before := snapshotTables(t, f.s.DB())
			var err error
			require.NotPanics(t, func() { err = fn() }, name)
			requireRefused(t, name, err, repositories.ErrInvalidInput)
			require.Equal(t, before, snapshotTables(t, f.s.DB()), "%s wrote something", name)
		}
		// Metadata JSON can encode, odd text included, is stored as valid
		// JSON text.
		require.NoError(t, f.s.Activity.Record(ctx, &u.ID, models.EventLogout, map[string]any{"s": "a\x00b\xff"}))
	})
}
