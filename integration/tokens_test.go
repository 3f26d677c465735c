package integration

// Tests of repositories.Tokens' operator side (Inspect, InspectJTI,
// RevokeForClient): what an operator with no client credentials sees of a
// token, and the revocation of a client's grants. Introspect and Revoke,
// the token endpoint's side, are tested in boundary_test.go
// (TestTokensIntrospectAndRevoke).

import (
	"strings"
	"testing"
	"time"

	"github.com/forgeauth/authstore"
	"github.com/forgeauth/authstore/config"
	"github.com/forgeauth/authstore/models"
	"github.com/forgeauth/authstore/repositories"
	"github.com/stretchr/testify/require"
)

func TestTokensInspect(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b Backend) {
		f := newFixture(t, b)
		ctx := requestCtx()
		uid := f.user(t, "inspect@example.com").ID
		pub := f.publicClient(t)
		conf, _ := f.confidentialClient(t, nil)
		p := f.pair(t, pub.ID, &uid, "read", "write")
		pat, patToken, err := f.s.PersonalTokens.Create(ctx, uid, "ci", []string{"read"}, nil)
		require.NoError(t, err)

		t.Run("AccessToken", func(t *testing.T) {
			before := snapshotTables(t, f.s.DB())
			in, err := f.s.Tokens.Inspect(ctx, p.AccessToken)
			require.NoError(t, err)
			require.True(t, in.Active)
			require.Equal(t, repositories.TokenActive, in.State)
			require.Equal(t, repositories.TokenTypeAccess, in.TokenType)
			require.Equal(t, p.AccessTokenID, in.ID)
			require.Equal(t, pub.ID, in.ClientID)
			require.Equal(t, &uid, in.UserID)
			require.Equal(t, uid.String(), in.Subject)
			require.Equal(t, repositories.SubjectUser, in.SubjectType)
			require.Equal(t, []string{"read", "write"}, in.Scopes)
			require.Equal(t, &p.FamilyID, in.FamilyID)
			require.NotNil(t, in.ExpiresAt)
			require.Equal(t, p.ExpiresAt.Unix(), in.ExpiresAt.Unix())
			require.Equal(t, before, snapshotTables(t, f.s.DB()), "Inspect wrote rows")

			// Inspect agrees with what Introspect answers the token's client.
			intro, err := f.s.Tokens.Introspect(ctx, authed(f.s, pub.ID), p.AccessToken)
			require.NoError(t, err)
			require.Equal(t, intro.JTI, in.ID)
			require.Equal(t, intro.Scope, strings.Join(in.Scopes, " "))
			require.True(t, intro.ExpiresAt.Equal(*in.ExpiresAt))
			require.True(t, intro.IssuedAt.Equal(in.IssuedAt))

			byJTI, err := f.s.Tokens.InspectJTI(ctx, p.AccessTokenID)
			require.NoError(t, err)
			require.Equal(t, in, byJTI, "InspectJTI = %+v; want Inspect's %+v", byJTI, in)
		})

		t.Run("RefreshToken", func(t *testing.T) {
			in, err := f.s.Tokens.Inspect(ctx, p.RefreshToken)
			require.NoError(t, err)
			require.True(t, in.Active)
			require.Equal(t, repositories.TokenActive, in.State)
			require.Equal(t, repositories.TokenTypeRefresh, in.TokenType)
			require.Equal(t, p.RefreshTokenID, in.ID)
			require.Equal(t, pub.ID, in.ClientID)
			require.Equal(t, &p.FamilyID, in.FamilyID)
			require.Nil(t, in.UsedAt)
			require.True(t, in.ExpiresAt.Equal(p.RefreshExpiresAt))
		})

		t.Run("PersonalToken", func(t *testing.T) {
			before := snapshotTables(t, f.s.DB())
			in, err := f.s.Tokens.Inspect(ctx, patToken)
			require.NoError(t, err)
			require.True(t, in.Active)
			require.Equal(t, repositories.TokenTypePersonal, in.TokenType)
			require.Equal(t, pat.ID, in.ID)
			require.Equal(t, "ci", in.Name)
			require.Equal(t, &uid, in.UserID)
			require.Equal(t, models.UUID(""), in.ClientID)
			require.Nil(t, in.ExpiresAt, "a token without expiry got one")
			require.Equal(t, before, snapshotTables(t, f.s.DB()), "Inspect recorded a use of the personal token")

			// Introspect answers clients; a personal token is never active there.
			intro, err := f.s.Tokens.Introspect(ctx, authed(f.s, pub.ID), patToken)
			require.NoError(t, err)
			require.False(t, intro.Active)
		})

		t.Run("ClientCredentials", func(t *testing.T) {
			_, cc, err := f.s.AccessTokens.IssueClientCredentials(ctx, authed(f.s, conf.ID), nil)
			require.NoError(t, err)
			in, err := f.s.Tokens.Inspect(ctx, cc)
			require.NoError(t, err)
			require.True(t, in.Active)
			require.Nil(t, in.UserID)
			require.Equal(t, repositories.SubjectClient, in.SubjectType)
			require.Equal(t, conf.ID.String(), in.Subject)
		})

		t.Run("Unknown", func(t *testing.T) {
			for name, tc := range map[string]struct{ token, typ string }{
				"empty":                   {"", ""},
				"garbage":                 {"not a token", ""},
				"unknown refresh token":   {strings.Repeat("A", 43), ""},
				"unknown personal token":  {repositories.PersonalTokenPrefix + strings.Repeat("A", 43), ""},
				"too long":                {strings.Repeat("A", 600), ""},
				"forged jwt":              {p.AccessToken + "x", repositories.TokenTypeAccess},
				"three parts, not a jwt":  {"a.b.c", repositories.TokenTypeAccess},
				"refresh token, one more": {p.RefreshToken + "x", ""},
			} {
				in, err := f.s.Tokens.Inspect(ctx, tc.token)
				require.NoError(t, err, name)
				require.Equal(t, repositories.Inspection{State: repositories.TokenUnknown, TokenType: tc.typ}, in, name)
			}
		})

		t.Run("Revoked", func(t *testing.T) {
			q := f.pair(t, pub.ID, &uid, "read")
			require.NoError(t, f.s.AccessTokens.Revoke(ctx, q.AccessTokenID))
			in, err := f.s.Tokens.Inspect(ctx, q.AccessToken)
			require.NoError(t, err)
			require.False(t, in.Active)
			require.Equal(t, repositories.TokenRevoked, in.State)
			require.True(t, in.Revoked)
			require.Equal(t, q.AccessTokenID, in.ID, "a revoked token is still described")

			require.NoError(t, f.s.PersonalTokens.Revoke(ctx, uid, pat.ID))
			in, err = f.s.Tokens.Inspect(ctx, patToken)
			require.NoError(t, err)
			require.Equal(t, repositories.TokenRevoked, in.State)
			require.Equal(t, "ci", in.Name)
		})

		t.Run("Used", func(t *testing.T) {
			q := f.pair(t, pub.ID, &uid, "read")
			_, err := f.s.RefreshTokens.Rotate(ctx, authed(f.s, pub.ID), q.RefreshToken, nil)
			require.NoError(t, err)
			in, err := f.s.Tokens.Inspect(ctx, q.RefreshToken)
			require.NoError(t, err)
			require.False(t, in.Active)
			require.Equal(t, repositories.TokenUsed, in.State)
			require.NotNil(t, in.UsedAt)
			require.Equal(t, &q.FamilyID, in.FamilyID)
		})

		t.Run("Expired", func(t *testing.T) {
			q := f.pair(t, pub.ID, &uid, "read")
			soon := f.clock.Now().Add(time.Hour)
			_, short, err := f.s.PersonalTokens.Create(ctx, uid, "short", nil, &soon)
			require.NoError(t, err)
			f.clock.Advance(f.cfg.AccessTokenLifetime + time.Second)
			in, err := f.s.Tokens.Inspect(ctx, q.AccessToken)
			require.NoError(t, err)
			require.Equal(t, repositories.Inspection{State: repositories.TokenExpired, TokenType: repositories.TokenTypeAccess}, in)
			in, err = f.s.Tokens.InspectJTI(ctx, q.AccessTokenID)
			require.NoError(t, err)
			require.Equal(t, repositories.TokenExpired, in.State, "InspectJTI of an expired token")
			require.False(t, in.Active)
			in, err = f.s.Tokens.Inspect(ctx, short)
			require.NoError(t, err)
			require.Equal(t, repositories.TokenExpired, in.State, "an expired personal token")
			f.clock.Advance(f.cfg.RefreshTokenLifetime)
			in, err = f.s.Tokens.Inspect(ctx, q.RefreshToken)
			require.NoError(t, err)
			require.Equal(t, repositories.TokenExpired, in.State, "an expired refresh token")
			require.Equal(t, q.RefreshTokenID, in.ID)
		})

		t.Run("ErrNoSigningKey", func(t *testing.T) {
			nokey := f.sibling(t, authstore.WithConfig(f.configWith(func(c *config.Config) { c.JWTSecret = "" })))
			_, err := nokey.Tokens.Inspect(ctx, p.AccessToken)
			require.ErrorIs(t, err, repositories.ErrNoSigningKey)
			in, err := nokey.Tokens.Inspect(ctx, p.RefreshToken)
			require.NoError(t, err, "a refresh token needs no signing key")
			require.Equal(t, p.RefreshTokenID, in.ID)
		})
	})
}

func TestTokensInspectJTI(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b Backend) {
		f := newFixture(t, b)
		ctx := requestCtx()
		for _, tc := range []struct {
			jti  models.UUID
			want error
		}{
			{models.NewUUID(), repositories.ErrNotFound},
			{"", repositories.ErrInvalidInput},
			{"not-a-uuid", repositories.ErrInvalidInput},
		} {
			_, err := f.s.Tokens.InspectJTI(ctx, tc.jti)
			require.ErrorIs(t, err, tc.want, "InspectJTI(%q) = %v; want %v", tc.jti, err, tc.want)
		}
	})
}

func TestTokensRevokeForClient(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b Backend) {
		f := newFixture(t, b)
		ctx := requestCtx()
		uid := f.user(t, "client-revoke@example.com").ID
		pub := f.publicClient(t)
		other := f.publicClient(t)
		p := f.pair(t, pub.ID, &uid, "read")
		f.code(t, pub.ID, uid, "read")
		kept := f.pair(t, other.ID, &uid, "read")

		t.Run("OK", func(t *testing.T) {
			n, err := f.s.Tokens.RevokeForClient(ctx, pub.ID)
			require.NoError(t, err)
			require.EqualValues(t, 3, n, "RevokeForClient = %d; want 3 (a code, a refresh and an access token)", n)
			for _, tok := range []string{p.AccessToken, p.RefreshToken} {
				in, err := f.s.Tokens.Inspect(ctx, tok)
				require.NoError(t, err)
				require.Equal(t, repositories.TokenRevoked, in.State)
			}
			require.EqualValues(t, 1, countRows(t, f.s.DB(), "oauth_authorization_codes", "client_id = ? AND revoked = ?", pub.ID, true),
				"RevokeForClient left the client's authorization code alive")
			for _, tok := range []string{kept.AccessToken, kept.RefreshToken} {
				in, err := f.s.Tokens.Inspect(ctx, tok)
				require.NoError(t, err)
				require.True(t, in.Active, "RevokeForClient reached another client's token")
			}
			c, err := f.s.Clients.Find(ctx, pub.ID)
			require.NoError(t, err)
			require.False(t, c.Revoked, "RevokeForClient revoked the client itself")
			ev := lastEvent(t, f.s.DB(), models.EventTokenRevoked)
			require.Contains(t, ev.Metadata, pub.ID.String())
			require.Contains(t, ev.Metadata, `"revoked_rows":3`)
		})

		t.Run("OKNone", func(t *testing.T) {
			before := snapshotTables(t, f.s.DB())
			n, err := f.s.Tokens.RevokeForClient(ctx, pub.ID)
			require.NoError(t, err)
			require.Zero(t, n)
			require.Equal(t, before, snapshotTables(t, f.s.DB()), "RevokeForClient of nothing wrote a row")
		})

		t.Run("Errors", func(t *testing.T) {
			_, err := f.s.Tokens.RevokeForClient(ctx, models.NewUUID())
			require.ErrorIs(t, err, repositories.ErrNotFound)
			_, err = f.s.Tokens.RevokeForClient(ctx, "nope")
			require.ErrorIs(t, err, repositories.ErrInvalidInput)
		})
	})
}
