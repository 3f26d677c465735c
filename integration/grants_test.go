package integration

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/forgeauth/authstore/models"
	"github.com/forgeauth/authstore/repositories"
	"github.com/stretchr/testify/require"
	"gorm.io/gorm"
)

// TestGrantsListForUser checks that ListForUser reports, per client, the
// union of the scopes of the user's live tokens, when the grant began and
// when a token was last issued, and leaves out expired grants, revoked
// clients, other users' grants and client credentials tokens.
func TestGrantsListForUser(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b Backend) {
		f := newFixture(t, b)
		ctx := requestCtx()
		uid := f.user(t, "u@example.com").ID
		other := f.user(t, "o@example.com").ID

		// A grant that expires before the others begin.
		old := f.publicClient(t)
		f.pair(t, old.ID, &uid, "read")
		f.clock.Advance(f.cfg.RefreshTokenLifetime + time.Hour)

		pub := f.publicClient(t)
		conf, _ := f.confidentialClient(t, nil)
		gone := f.publicClient(t)

		t0 := f.s.Now()
		p := f.pair(t, pub.ID, &uid, "read")
		f.clock.Advance(time.Minute)
		f.pair(t, pub.ID, &uid, "write", "read")
		f.clock.Advance(time.Minute)
		t2 := f.s.Now()
		f.pair(t, conf.ID, &uid)
		f.pair(t, gone.ID, &uid, "admin")
		require.NoError(t, f.s.Clients.Revoke(ctx, gone.ID))
		f.pair(t, conf.ID, &other, "anything")
		_, _, err := f.s.AccessTokens.IssueClientCredentials(ctx, authed(f.s, conf.ID), nil)
		require.NoError(t, err)
		f.clock.Advance(time.Minute)
		t3 := f.s.Now()
		_, err = f.s.RefreshTokens.Rotate(ctx, authed(f.s, pub.ID), p.RefreshToken, nil)
		require.NoError(t, err)

		got, err := f.s.Grants.ListForUser(ctx, uid)
		require.NoError(t, err)
		want := []repositories.Grant{
			{ClientID: pub.ID, ClientName: pub.Name, Scopes: models.Strings{"read", "write"}, FirstGrantedAt: t0, LastUsedAt: t3},
			{ClientID: conf.ID, ClientName: conf.Name, Scopes: models.Strings{}, FirstGrantedAt: t2, LastUsedAt: t2},
		}
		requireGrants(t, want, got)

		got, err = f.s.Grants.ListForUser(ctx, other)
		require.NoError(t, err)
		require.Len(t, got, 1, "ListForUser(other) = %+v; want the one grant to the confidential client", got)
		require.Equal(t, conf.ID, got[0].ClientID)

		t.Run("Expired", func(t *testing.T) {
			f.clock.Advance(f.cfg.RefreshTokenLifetime)
			got, err := f.s.Grants.ListForUser(ctx, uid)
			require.NoError(t, err)
			require.Empty(t, got, "ListForUser after every token expired = %+v; want none", got)
		})

		t.Run("UnknownAndMalformed", func(t *testing.T) {
			got, err := f.s.Grants.ListForUser(ctx, models.NewUUID())
			require.NoError(t, err)
			require.NotNil(t, got)
			require.Empty(t, got)
			for _, bad := range []models.UUID{"", "x", "0B4C6A0E-3D0F-4A59-9C1E-2F8E3A7D5B21"} {
				_, err := f.s.Grants.ListForUser(ctx, bad)
				require.ErrorIs(t, err, repositories.ErrInvalidInput, "ListForUser(%q)", bad)
			}
		})
	})
}

// requireGrants compares grants, times as instants.
func requireGrants(t *testing.T, want, got []repositories.Grant) {
	t.Helper()
	require.Len(t, got, len(want), "ListForUser = %+v; want %+v", got, want)
	for i := range want {
		w, g := want[i], got[i]
		require.Equal(t, w.ClientID, g.ClientID, "grant %d", i)
		require.Equal(t, w.ClientName, g.ClientName, "grant %d", i)
		require.Equal(t, w.Scopes, g.Scopes, "grant %d scopes", i)
		require.True(t, w.FirstGrantedAt.Equal(g.FirstGrantedAt), "grant %d FirstGrantedAt = %v; want %v", i, g.FirstGrantedAt, w.FirstGrantedAt)
		require.True(t, w.LastUsedAt.Equal(g.LastUsedAt), "grant %d LastUsedAt = %v; want %v", i, g.LastUsedAt, w.LastUsedAt)
	}
}

// TestGrantsRevoke checks that Revoke revokes a user's codes, refresh and
// access tokens for one client, in one transaction with its activity row,
// and leaves the user's other clients and other users alone.
func TestGrantsRevoke(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b Backend) {
		f := newFixture(t, b)
		ctx := requestCtx()
		uid := f.user(t, "u@example.com").ID
		other := f.user(t, "o@example.com").ID
		a := f.publicClient(t)
		bc := f.publicClient(t)

		pa := f.pair(t, a.ID, &uid, "read")
		pb := f.pair(t, bc.ID, &uid, "read")
		po := f.pair(t, a.ID, &other, "read")
		code, verifier := f.code(t, a.ID, uid, "read")

		n, err := f.s.Grants.Revoke(ctx, uid, a.ID)
		require.NoError(t, err)
		require.EqualValues(t, 3, n, "Revoke revoked %d rows; want the code, the refresh and the access token", n)

		_, err = f.s.RefreshTokens.Rotate(ctx, authed(f.s, a.ID), pa.RefreshToken, nil)
		require.ErrorIs(t, err, repositories.ErrRevoked)
		_, err = f.s.AccessTokens.Validate(ctx, pa.AccessToken)
		require.ErrorIs(t, err, repositories.ErrRevoked)
		_, err = f.s.AuthCodes.Exchange(ctx, authed(f.s, a.ID), code, redirectURI, verifier)
		require.Error(t, err, "a code of the revoked grant was exchanged")

		// The user's other client and the other user's grant still work.
		_, err = f.s.RefreshTokens.Rotate(ctx, authed(f.s, bc.ID), pb.RefreshToken, nil)
		require.NoError(t, err, "the grant to the other client was revoked")
		_, err = f.s.RefreshTokens.Rotate(ctx, authed(f.s, a.ID), po.RefreshToken, nil)
		require.NoError(t, err, "another user's grant was revoked")
		got, err := f.s.Grants.ListForUser(ctx, uid)
		require.NoError(t, err)
		require.Len(t, got, 1)
		require.Equal(t, bc.ID, got[0].ClientID)

		ev := lastEvent(t, f.s.DB(), models.EventGrantRevoked)
		require.NotNil(t, ev.UserID)
		require.Equal(t, uid, *ev.UserID)
		var meta map[string]any
		require.NoError(t, json.Unmarshal([]byte(ev.Metadata), &meta))
		require.Equal(t, string(a.ID), meta["client_id"])
		require.EqualValues(t, 3, meta["revoked_rows"])
		require.Equal(t, requestIP, ev.IPAddress)

		// Again: nothing to revoke, no event.
		events := countEvents(t, f.s.DB(), models.EventGrantRevoked)
		n, err = f.s.Grants.Revoke(ctx, uid, a.ID)
		require.NoError(t, err)
		require.Zero(t, n)
		require.Equal(t, events, countEvents(t, f.s.DB(), models.EventGrantRevoked))

		t.Run("Errors", func(t *testing.T) {
			unknown := models.NewUUID()
			_, err := f.s.Grants.Revoke(ctx, unknown, a.ID)
			require.ErrorIs(t, err, repositories.ErrNotFound)
			require.ErrorContains(t, err, "user "+string(unknown))
			_, err = f.s.Grants.Revoke(ctx, uid, unknown)
			require.ErrorIs(t, err, repositories.ErrNotFound)
			require.ErrorContains(t, err, "client "+string(unknown))
			_, err = f.s.Grants.Revoke(ctx, "x", a.ID)
			require.ErrorIs(t, err, repositories.ErrInvalidInput)
			_, err = f.s.Grants.Revoke(ctx, uid, "x")
			require.ErrorIs(t, err, repositories.ErrInvalidInput)
		})

		t.Run("WithTxRollsBack", func(t *testing.T) {
			p := f.pair(t, bc.ID, &uid, "read")
			rollback := errors.New("roll back")
			err := f.s.DB().WithContext(ctx).Transaction(func(tx *gorm.DB) error {
				n, err := f.s.Grants.WithTx(tx).Revoke(ctx, uid, bc.ID)
				require.NoError(t, err)
				require.Positive(t, n)
				return rollback
			})
			require.ErrorIs(t, err, rollback)
			_, err = f.s.RefreshTokens.Rotate(ctx, authed(f.s, bc.ID), p.RefreshToken, nil)
			require.NoError(t, err, "a rolled back revocation revoked the grant")
		})
	})
}

// TestGrantsRevokeRacesRotation checks that a revocation racing rotations
// of the same grant leaves no live token: a rotation either commits before
// the revocation, whose repeated passes then revoke what it issued, or
// finds its token revoked.
func TestGrantsRevokeRacesRotation(t *testing.T) {
	forEachFileBackend(t, func(t *testing.T, b Backend) {
		f := newFixture(t, b)
		f.warmPool(t)
		ctx := context.Background()
		uid := f.user(t, "u@example.com").ID
		c := f.publicClient(t)
		const n = 4
		for round := range 3 {
			pairs := make([]*repositories.TokenPair, n)
			for i := range pairs {
				pairs[i] = f.pair(t, c.ID, &uid, "read")
			}
			errs := make([]error, n+1)
			barrier(n+1, func(i int) {
				if i == n {
					_, errs[i] = f.s.Grants.Revoke(ctx, uid, c.ID)
					return
				}
				_, errs[i] = f.s.RefreshTokens.Rotate(ctx, authed(f.s, c.ID), pairs[i].RefreshToken, nil)
			})
			requireNoLockErrors(t, errs)
			require.NoError(t, errs[n], "round %d: Revoke", round)
			for i, err := range errs[:n] {
				if err != nil {
					require.ErrorIs(t, err, repositories.ErrRevoked, "round %d: Rotate %d", round, i)
				}
			}
			got, err := f.s.Grants.ListForUser(ctx, uid)
			require.NoError(t, err)
			require.Empty(t, got, "round %d: a token outlived the grant's revocation: %+v", round, got)
			require.Zero(t, countRows(t, f.s.DB(), "oauth_access_tokens", "user_id = ? AND revoked = ?", uid, false), "round %d", round)
			require.Zero(t, countRows(t, f.s.DB(), "oauth_refresh_tokens", "user_id = ? AND revoked = ?", uid, false), "round %d", round)
		}
	})
}
