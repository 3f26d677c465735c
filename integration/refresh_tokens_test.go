package integration

// Tests of repositories.RefreshTokens (table oauth_refresh_tokens): each
// method's success and error paths, and SECURITY.md 7-12 and 20 (rotation,
// reuse detection, concurrency, grace window, binding and scope, cleanup,
// revocation).

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/forgeauth/authstore"
	"github.com/forgeauth/authstore/config"
	"github.com/forgeauth/authstore/hooks"
	"github.com/forgeauth/authstore/models"
	"github.com/forgeauth/authstore/repositories"
	"github.com/stretchr/testify/require"
	"gorm.io/gorm"
)

func TestRefreshTokensIssueRotateRevoke(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b Backend) {
		f := newFixture(t, b)
		ctx := requestCtx()
		uid := f.user(t, "u@example.com").ID
		c := f.publicClient(t)

		t.Run("Issue", func(t *testing.T) {
			p := f.pair(t, c.ID, &uid, "read")
			require.Equal(t, "Bearer", p.TokenType)
			require.EqualValues(t, 3600, p.ExpiresIn)
			require.Equal(t, []string{"read"}, p.Scopes)
			var row models.RefreshToken
			require.NoError(t, f.s.DB().Where("id = ?", p.RefreshTokenID).Take(&row).Error)
			require.Equal(t, hooks.Digest(p.RefreshToken), row.TokenHash)
			require.Equal(t, p.FamilyID, row.FamilyID)
			require.Equal(t, &p.AccessTokenID, row.AccessTokenID)
			require.Nil(t, row.ParentID)
			require.True(t, row.ExpiresAt.Equal(f.clock.Now().Add(30*24*time.Hour)), "expires_at = now + OAUTH_REFRESH_TOKEN_LIFETIME")
			var at models.AccessToken
			require.NoError(t, f.s.DB().Where("id = ?", p.AccessTokenID).Take(&at).Error)
			require.Equal(t, &p.FamilyID, at.FamilyID, "the access token belongs to the grant")
		})

		t.Run("Rotate", func(t *testing.T) {
			p := f.pair(t, c.ID, &uid, "read", "write")
			f.clock.Advance(time.Minute)
			next, err := f.s.RefreshTokens.Rotate(ctx, authed(f.s, c.ID), p.RefreshToken, nil)
			require.NoError(t, err)
			require.Equal(t, p.FamilyID, next.FamilyID)
			require.Equal(t, []string{"read", "write"}, next.Scopes, "no requested scopes keeps the grant's")
			require.NotEqual(t, p.RefreshToken, next.RefreshToken)
			var child models.RefreshToken
			require.NoError(t, f.s.DB().Where("id = ?", next.RefreshTokenID).Take(&child).Error)
			require.Equal(t, &p.RefreshTokenID, child.ParentID)
			claims, err := f.s.AccessTokens.Validate(ctx, next.AccessToken)
			require.NoError(t, err)
			require.Equal(t, string(uid), claims.Subject)
		})

		t.Run("Errors", func(t *testing.T) {
			p := f.pair(t, c.ID, &uid)
			before := snapshotTables(t, f.s.DB())
			for name, tok := range map[string]string{"unknown": "nope", "empty": "", "huge": strings.Repeat("a", 10000)} {
				_, err := f.s.RefreshTokens.Rotate(ctx, authed(f.s, c.ID), tok, nil)
				require.ErrorIs(t, err, repositories.ErrNotFound, name)
			}
			_, err := f.s.RefreshTokens.Rotate(ctx, authed(f.s, "bad"), p.RefreshToken, nil)
			require.ErrorIs(t, err, repositories.ErrInvalidCredentials)
			_, err = f.s.RefreshTokens.Rotate(ctx, authed(f.s, c.ID), p.RefreshToken, []string{"bad scope"})
			require.ErrorIs(t, err, repositories.ErrInvalidInput)
			require.Equal(t, before, snapshotTables(t, f.s.DB()), "a refused rotation wrote rows")

			f.clock.Advance(30 * 24 * time.Hour)
			_, err = f.s.RefreshTokens.Rotate(ctx, authed(f.s, c.ID), p.RefreshToken, nil)
			require.ErrorIs(t, err, repositories.ErrExpired)
			require.Equal(t, before, snapshotTables(t, f.s.DB()), "an expired token was burned")
		})

		t.Run("RevokeForUser", func(t *testing.T) {
			p1 := f.pair(t, c.ID, &uid)
			other := f.user(t, "o@example.com").ID
			p2 := f.pair(t, c.ID, &other)
			n, err := f.s.RefreshTokens.RevokeForUser(ctx, uid)
			require.NoError(t, err)
			require.Positive(t, n)
			_, err = f.s.RefreshTokens.Rotate(ctx, authed(f.s, c.ID), p1.RefreshToken, nil)
			require.ErrorIs(t, err, repositories.ErrRevoked)
			_, err = f.s.AccessTokens.Validate(ctx, p1.AccessToken)
			require.ErrorIs(t, err, repositories.ErrRevoked)
			_, err = f.s.RefreshTokens.Rotate(ctx, authed(f.s, c.ID), p2.RefreshToken, nil)
			require.NoError(t, err, "another user's grant was revoked")
			n, err = f.s.RefreshTokens.RevokeForUser(ctx, uid)
			require.NoError(t, err)
			require.Zero(t, n)
			_, err = f.s.RefreshTokens.RevokeForUser(ctx, "x")
			require.ErrorIs(t, err, repositories.ErrInvalidInput)
		})
	})
}

// TestRefreshTokensRotationMarksUsed checks that each refresh issues a new
// token and marks the old one used, so a family never has two active
// tokens.
//
// SECURITY 7: a refresh issues a new token and marks the old one used; a family never has two active tokens.
func TestRefreshTokensRotationMarksUsed(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b Backend) {
		f := newFixture(t, b)
		ctx := requestCtx()
		uid := f.user(t, "u@example.com").ID
		pub := f.publicClient(t)
		p := f.pair(t, pub.ID, &uid)
		active := func() int64 {
			return countRows(t, f.s.DB(), "oauth_refresh_tokens", "family_id = ? AND used_at IS NULL AND revoked = ?", p.FamilyID, false)
		}
		require.EqualValues(t, 1, active())
		seen := map[string]bool{p.RefreshToken: true}
		cur := p
		for i := range 4 {
			f.clock.Advance(time.Minute)
			next, err := f.s.RefreshTokens.Rotate(ctx, authed(f.s, pub.ID), cur.RefreshToken, nil)
			require.NoError(t, err, "rotation %d", i)
			require.False(t, seen[next.RefreshToken], "rotation %d returned an old token", i)
			seen[next.RefreshToken] = true
			var old models.RefreshToken
			require.NoError(t, f.s.DB().Where("id = ?", cur.RefreshTokenID).Take(&old).Error)
			require.NotNil(t, old.UsedAt, "rotation %d left the old token unused", i)
			require.True(t, old.UsedAt.Equal(f.clock.Now()), "used_at = %v; want %v", old.UsedAt, f.clock.Now())
			require.EqualValues(t, 1, active(), "after rotation %d the family has %d active tokens", i, active())
			cur = next
		}
		require.EqualValues(t, 5, countRows(t, f.s.DB(), "oauth_refresh_tokens", "family_id = ?", p.FamilyID))
	})
}

// TestRefreshTokensReuseRevokesFamily checks that presenting a used
// refresh token revokes every refresh and access token of its family,
// returns ErrReused, records refresh_token.reused, and that the revocation
// is visible from a fresh connection although the call failed.
//
// SECURITY 8: presenting a used refresh token revokes its whole family and returns a reuse error; the revocation committed.
func TestRefreshTokensReuseRevokesFamily(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b Backend) {
		f := newFixture(t, b)
		ctx := requestCtx()
		uid := f.user(t, "u@example.com").ID
		pub := f.publicClient(t)
		p := f.pair(t, pub.ID, &uid)
		other := f.pair(t, pub.ID, &uid) // another grant of the same user and client
		p2, err := f.s.RefreshTokens.Rotate(ctx, authed(f.s, pub.ID), p.RefreshToken, nil)
		require.NoError(t, err)
		p3, err := f.s.RefreshTokens.Rotate(ctx, authed(f.s, pub.ID), p2.RefreshToken, nil)
		require.NoError(t, err)

		_, err = f.s.RefreshTokens.Rotate(ctx, authed(f.s, pub.ID), p.RefreshToken, nil) // the stolen first token
		require.ErrorIs(t, err, repositories.ErrReused)

		fresh := f.freshDB(t)
		require.EqualValues(t, 3, countRows(t, fresh, "oauth_refresh_tokens", "family_id = ?", p.FamilyID))
		require.Zero(t, countRows(t, fresh, "oauth_refresh_tokens", "family_id = ? AND revoked = ?", p.FamilyID, false), "refresh tokens of the family survived")
		require.EqualValues(t, 3, countRows(t, fresh, "oauth_access_tokens", "family_id = ? AND revoked = ?", p.FamilyID, true))
		require.Zero(t, countRows(t, fresh, "oauth_access_tokens", "family_id = ? AND revoked = ?", p.FamilyID, false), "access tokens of the family survived")
		require.EqualValues(t, 1, countRows(t, fresh, "user_activity_log", "event = ? AND user_id = ?", string(models.EventRefreshTokenReused), uid))

		for _, at := range []string{p.AccessToken, p2.AccessToken, p3.AccessToken} {
			_, err := f.s.AccessTokens.Validate(ctx, at)
			require.ErrorIs(t, err, repositories.ErrRevoked)
		}
		_, err = f.s.RefreshTokens.Rotate(ctx, authed(f.s, pub.ID), p3.RefreshToken, nil)
		require.ErrorIs(t, err, repositories.ErrRevoked, "the newest token of a revoked family still works")
		_, err = f.s.RefreshTokens.Rotate(ctx, authed(f.s, pub.ID), p2.RefreshToken, nil)
		require.ErrorIs(t, err, repositories.ErrReused, "every presentation of a used token is reuse")

		// The other grant is untouched.
		_, err = f.s.AccessTokens.Validate(ctx, other.AccessToken)
		require.NoError(t, err)
		_, err = f.s.RefreshTokens.Rotate(ctx, authed(f.s, pub.ID), other.RefreshToken, nil)
		require.NoError(t, err)
	})
}

// TestRefreshTokensGraceWindow checks the optional grace window: off by
// default; on, a retry within it returns the same child and creates no row;
// past it, or once the child was used, reuse revokes the family.
//
// SECURITY 10: an optional grace window (off by default) returns the same child for a retry and creates no row; past it, reuse revokes the family.
func TestRefreshTokensGraceWindow(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b Backend) {
		f := newFixture(t, b)
		ctx := requestCtx()
		uid := f.user(t, "u@example.com").ID
		pub := f.publicClient(t)

		t.Run("OffByDefault", func(t *testing.T) {
			p := f.pair(t, pub.ID, &uid)
			_, err := f.s.RefreshTokens.Rotate(ctx, authed(f.s, pub.ID), p.RefreshToken, nil)
			require.NoError(t, err)
			_, err = f.s.RefreshTokens.Rotate(ctx, authed(f.s, pub.ID), p.RefreshToken, nil)
			require.ErrorIs(t, err, repositories.ErrReused, "an immediate retry without a grace window")
		})

		grace := f.sibling(t, authstore.WithConfig(f.configWith(func(c *config.Config) { c.RefreshReuseInterval = 30 * time.Second }))).RefreshTokens

		t.Run("RetryWithinWindow", func(t *testing.T) {
			p := f.pair(t, pub.ID, &uid)
			child, err := grace.Rotate(ctx, authed(f.s, pub.ID), p.RefreshToken, nil)
			require.NoError(t, err)
			f.clock.Advance(10 * time.Second)
			before := snapshotTables(t, f.s.DB())
			again, err := grace.Rotate(ctx, authed(f.s, pub.ID), p.RefreshToken, nil)
			require.NoError(t, err)
			require.Equal(t, child.RefreshToken, again.RefreshToken, "the retry got another child")
			require.Equal(t, child.AccessToken, again.AccessToken)
			require.Equal(t, before, snapshotTables(t, f.s.DB()), "the retry wrote rows")
			// The child works normally.
			_, err = grace.Rotate(ctx, authed(f.s, pub.ID), child.RefreshToken, nil)
			require.NoError(t, err)
			// Now that the child is used, a retry of the parent is reuse.
			_, err = grace.Rotate(ctx, authed(f.s, pub.ID), p.RefreshToken, nil)
			require.ErrorIs(t, err, repositories.ErrReused)
			require.Zero(t, countRows(t, f.s.DB(), "oauth_refresh_tokens", "family_id = ? AND revoked = ?", p.FamilyID, false))
		})

		t.Run("PastWindow", func(t *testing.T) {
			p := f.pair(t, pub.ID, &uid)
			child, err := grace.Rotate(ctx, authed(f.s, pub.ID), p.RefreshToken, nil)
			require.NoError(t, err)
			f.clock.Advance(31 * time.Second)
			_, err = grace.Rotate(ctx, authed(f.s, pub.ID), p.RefreshToken, nil)
			require.ErrorIs(t, err, repositories.ErrReused)
			_, err = f.s.AccessTokens.Validate(ctx, child.AccessToken)
			require.ErrorIs(t, err, repositories.ErrRevoked, "reuse past the window left the child's access token alive")
			_, err = grace.Rotate(ctx, authed(f.s, pub.ID), child.RefreshToken, nil)
			require.ErrorIs(t, err, repositories.ErrRevoked)
		})

		t.Run("ConcurrentRetries", func(t *testing.T) {
			p := f.pair(t, pub.ID, &uid)
			f.warmPool(t)
			const n = 20
			pairs := make([]*repositories.TokenPair, n)
			errs := make([]error, n)
			barrier(n, func(i int) { pairs[i], errs[i] = grace.Rotate(ctx, authed(f.s, pub.ID), p.RefreshToken, nil) })
			requireNoLockErrors(t, errs)
			for i := range n {
				require.NoError(t, errs[i], "goroutine %d", i)
				require.Equal(t, pairs[0].RefreshToken, pairs[i].RefreshToken, "goroutine %d got another child", i)
			}
			require.EqualValues(t, 2, countRows(t, f.s.DB(), "oauth_refresh_tokens", "family_id = ?", p.FamilyID))
		})
	})
}

// TestRefreshTokensBoundToClientScopeNeverWidens checks that a refresh token is bound to
// its client (another client's attempt fails and does not burn it) and that
// scope never widens on refresh.
//
// SECURITY 11: a refresh token is bound to its client; scope never widens on refresh.
func TestRefreshTokensBoundToClientScopeNeverWidens(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b Backend) {
		f := newFixture(t, b)
		ctx := requestCtx()
		uid := f.user(t, "u@example.com").ID
		pub := f.publicClient(t)
		thief := f.publicClient(t)
		p := f.pair(t, pub.ID, &uid, "read", "write")

		before := snapshotTables(t, f.s.DB())
		_, err := f.s.RefreshTokens.Rotate(ctx, authed(f.s, thief.ID), p.RefreshToken, nil)
		require.ErrorIs(t, err, repositories.ErrInvalidCredentials)
		require.ErrorIs(t, f.s.RefreshTokens.Revoke(ctx, authed(f.s, thief.ID), p.RefreshToken), repositories.ErrInvalidCredentials, "another client revoked the token")
		_, err = f.s.RefreshTokens.Rotate(ctx, authed(f.s, pub.ID), p.RefreshToken, []string{"read", "admin"})
		require.ErrorIs(t, err, repositories.ErrInvalidScope, "refresh widened the scope")
		require.Contains(t, err.Error(), `"admin"`)
		require.Equal(t, before, snapshotTables(t, f.s.DB()), "a refused refresh burned or changed the token")

		narrow, err := f.s.RefreshTokens.Rotate(ctx, authed(f.s, pub.ID), p.RefreshToken, []string{"read"})
		require.NoError(t, err)
		require.Equal(t, []string{"read"}, narrow.Scopes)
		claims, err := f.s.AccessTokens.Validate(ctx, narrow.AccessToken)
		require.NoError(t, err)
		require.Equal(t, "read", claims.Scope)
		// SECURITY 38: the narrower scope narrowed the access token only;
		// the grant, and so the new refresh token, keeps read and write.
		require.EqualValues(t, 1, countRows(t, f.s.DB(), "oauth_refresh_tokens", "id = ? AND scopes = ?", narrow.RefreshTokenID, `["read","write"]`),
			"the refresh token lost the grant's scope")
		_, err = f.s.RefreshTokens.Rotate(ctx, authed(f.s, pub.ID), narrow.RefreshToken, []string{"read", "admin"})
		require.ErrorIs(t, err, repositories.ErrInvalidScope, "a refresh asked for more than the grant")
		again, err := f.s.RefreshTokens.Rotate(ctx, authed(f.s, pub.ID), narrow.RefreshToken, []string{"read", "write"})
		require.NoError(t, err, "a later refresh may ask again for all of the grant")
		require.Equal(t, []string{"read", "write"}, again.Scopes)
		full, err := f.s.RefreshTokens.Rotate(ctx, authed(f.s, pub.ID), again.RefreshToken, nil)
		require.NoError(t, err)
		require.Equal(t, []string{"read", "write"}, full.Scopes, "no scope asked: the grant's")
	})
}

// TestRefreshTokensReuseDetectedAfterCleanup checks that the purge keeps
// used refresh tokens of a live family, so reuse is still detected, while
// deleting families that are wholly expired.
//
// SECURITY 12: cleanup never breaks reuse detection: used tokens of a live family are kept until the family expires.
func TestRefreshTokensReuseDetectedAfterCleanup(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b Backend) {
		f := newFixture(t, b)
		ctx := requestCtx()
		uid := f.user(t, "u@example.com").ID
		pub := f.publicClient(t)
		cleanup := f.s.Cleanup
		live := f.pair(t, pub.ID, &uid)
		dead := f.pair(t, pub.ID, &uid)
		f.clock.Advance(29 * 24 * time.Hour)
		child, err := f.s.RefreshTokens.Rotate(ctx, authed(f.s, pub.ID), live.RefreshToken, nil)
		require.NoError(t, err)
		f.clock.Advance(2 * 24 * time.Hour) // the first tokens are past their 30 days; the child is not

		_, err = cleanup.Purge(ctx, repositories.PurgeOptions{})
		require.NoError(t, err)
		require.Zero(t, countRows(t, f.s.DB(), "oauth_refresh_tokens", "family_id = ?", dead.FamilyID), "the purge kept an expired family")
		require.EqualValues(t, 2, countRows(t, f.s.DB(), "oauth_refresh_tokens", "family_id = ?", live.FamilyID), "the purge deleted a used token of a live family")

		_, err = f.s.RefreshTokens.Rotate(ctx, authed(f.s, pub.ID), live.RefreshToken, nil)
		require.ErrorIs(t, err, repositories.ErrReused, "reuse was not detected after a purge")
		_, err = f.s.RefreshTokens.Rotate(ctx, authed(f.s, pub.ID), child.RefreshToken, nil)
		require.ErrorIs(t, err, repositories.ErrRevoked)
	})
}

// TestRefreshTokensRevokeRevokesGrant checks RFC 7009: revoking a refresh
// token revokes the access tokens of its grant; revoking twice is a no-op;
// revoking an unknown token is not an error.
//
// SECURITY 20: revoking a refresh token revokes the access tokens of its grant; revoking twice is a no-op; revoking an unknown token is not an error.
func TestRefreshTokensRevokeRevokesGrant(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b Backend) {
		f := newFixture(t, b)
		ctx := requestCtx()
		uid := f.user(t, "u@example.com").ID
		pub := f.publicClient(t)
		p := f.pair(t, pub.ID, &uid)
		p2, err := f.s.RefreshTokens.Rotate(ctx, authed(f.s, pub.ID), p.RefreshToken, nil)
		require.NoError(t, err)
		other := f.pair(t, pub.ID, &uid)

		require.NoError(t, f.s.RefreshTokens.Revoke(ctx, authed(f.s, pub.ID), p2.RefreshToken))
		for _, at := range []string{p.AccessToken, p2.AccessToken} {
			_, err := f.s.AccessTokens.Validate(ctx, at)
			require.ErrorIs(t, err, repositories.ErrRevoked)
		}
		_, err = f.s.RefreshTokens.Rotate(ctx, authed(f.s, pub.ID), p2.RefreshToken, nil)
		require.ErrorIs(t, err, repositories.ErrRevoked)
		require.EqualValues(t, 1, countEvents(t, f.s.DB(), models.EventTokenRevoked))

		snap := snapshotTables(t, f.s.DB())
		require.NoError(t, f.s.RefreshTokens.Revoke(ctx, authed(f.s, pub.ID), p2.RefreshToken), "revoking twice")
		require.NoError(t, f.s.RefreshTokens.Revoke(ctx, authed(f.s, pub.ID), p.RefreshToken), "revoking an older token of a revoked grant")
		require.NoError(t, f.s.RefreshTokens.Revoke(ctx, authed(f.s, pub.ID), "unknown-token"), "revoking an unknown token")
		require.NoError(t, f.s.RefreshTokens.Revoke(ctx, authed(f.s, pub.ID), ""), "revoking an empty token")
		require.Equal(t, snap, snapshotTables(t, f.s.DB()), "a no-op revocation wrote rows")

		_, err = f.s.AccessTokens.Validate(ctx, other.AccessToken)
		require.NoError(t, err, "another grant was revoked")
	})
}

// TestRefreshTokensConcurrentRotation presents one refresh token from 50
// goroutines started together, for a first token and for a rotated one:
// exactly one rotation succeeds, no call sees a lock error or a deadlock,
// and the losers' presentations count as reuse, which revokes the family.
//
// SECURITY 9: 50 goroutines present the same refresh token at once: exactly one rotation succeeds.
func TestRefreshTokensConcurrentRotation(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b Backend) {
		f := newFixture(t, b)
		ctx := requestCtx()
		uid := f.user(t, "u@example.com").ID
		pub := f.publicClient(t)
		f.warmPool(t)

		for _, depth := range []int{0, 2} {
			t.Run(fmt.Sprintf("AfterRotations%d", depth), func(t *testing.T) {
				p := f.pair(t, pub.ID, &uid)
				for range depth {
					next, err := f.s.RefreshTokens.Rotate(ctx, authed(f.s, pub.ID), p.RefreshToken, nil)
					require.NoError(t, err)
					p = next
				}
				reusedBefore := countEvents(t, f.s.DB(), models.EventRefreshTokenReused)

				const n = 50
				pairs := make([]*repositories.TokenPair, n)
				errs := make([]error, n)
				barrier(n, func(i int) {
					pairs[i], errs[i] = f.s.RefreshTokens.Rotate(ctx, authed(f.s, pub.ID), p.RefreshToken, nil)
				})

				requireNoLockErrors(t, errs)
				winners := 0
				for i, err := range errs {
					if err == nil {
						winners++
						require.NotNil(t, pairs[i])
						continue
					}
					require.ErrorIs(t, err, repositories.ErrReused, "goroutine %d", i)
				}
				require.Equal(t, 1, winners, "%d rotations succeeded; want exactly 1", winners)
				require.EqualValues(t, depth+2, countRows(t, f.s.DB(), "oauth_refresh_tokens", "family_id = ?", p.FamilyID), "one child per rotation")
				require.EqualValues(t, depth+2, countRows(t, f.s.DB(), "oauth_access_tokens", "family_id = ?", p.FamilyID))
				// The concurrent presentations were reuse: the family is revoked.
				require.Zero(t, countRows(t, f.s.DB(), "oauth_refresh_tokens", "family_id = ? AND revoked = ?", p.FamilyID, false))
				require.Zero(t, countRows(t, f.s.DB(), "oauth_access_tokens", "family_id = ? AND revoked = ?", p.FamilyID, false))
				require.EqualValues(t, reusedBefore+n-1, countEvents(t, f.s.DB(), models.EventRefreshTokenReused))
			})
		}
	})
}

// TestRefreshTokensReuseRacesRotation races reuse of a used token (the
// thief) against rotations of its live child (the client): however they
// interleave, no lock error or deadlock surfaces, at most one rotation
// succeeds, and afterwards no token of the family is left active.
//
// SECURITY 8: reuse of a used token racing rotations of its child leaves no token of the family active.
func TestRefreshTokensReuseRacesRotation(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b Backend) {
		f := newFixture(t, b)
		ctx := requestCtx()
		uid := f.user(t, "u@example.com").ID
		pub := f.publicClient(t)
		f.warmPool(t)
		for round := range 3 {
			parent := f.pair(t, pub.ID, &uid)
			child, err := f.s.RefreshTokens.Rotate(ctx, authed(f.s, pub.ID), parent.RefreshToken, nil)
			require.NoError(t, err)
			const n = 40
			errs := make([]error, n)
			barrier(n, func(i int) {
				tok := child.RefreshToken
				if i%2 == 0 {
					tok = parent.RefreshToken
				}
				_, errs[i] = f.s.RefreshTokens.Rotate(ctx, authed(f.s, pub.ID), tok, nil)
			})
			requireNoLockErrors(t, errs)
			winners := 0
			for i, err := range errs {
				if err == nil {
					winners++
					continue
				}
				if i%2 == 0 {
					require.ErrorIs(t, err, repositories.ErrReused, "round %d, thief %d", round, i)
				} else {
					require.True(t, errors.Is(err, repositories.ErrReused) || errors.Is(err, repositories.ErrRevoked), "round %d, client %d: %v", round, i, err)
				}
			}
			require.LessOrEqual(t, winners, 1, "round %d: %d rotations of one token succeeded", round, winners)
			require.Zero(t, countRows(t, f.s.DB(), "oauth_refresh_tokens", "family_id = ? AND revoked = ?", parent.FamilyID, false), "round %d: a token of a reused family is still active", round)
			require.Zero(t, countRows(t, f.s.DB(), "oauth_access_tokens", "family_id = ? AND revoked = ?", parent.FamilyID, false), "round %d", round)
		}
	})
}

// TestRefreshTokensReuseWaitsForRotation pins the interleaving the race
// above can only hope for: a rotation of the live child holds its row when
// the stolen parent is presented. On PostgreSQL the reuse's revocation
// waits for the rotation to commit and must then still revoke the
// grandchild the rotation inserted, which its first statement cannot see.
//
// SECURITY 8: a reuse that waits for a concurrent rotation still revokes the token that rotation inserted.
func TestRefreshTokensReuseWaitsForRotation(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b Backend) {
		f := newFixture(t, b)
		ctx := requestCtx()
		uid := f.user(t, "u@example.com").ID
		pub := f.publicClient(t)
		parent := f.pair(t, pub.ID, &uid)
		child, err := f.s.RefreshTokens.Rotate(ctx, authed(f.s, pub.ID), parent.RefreshToken, nil)
		require.NoError(t, err)

		// The rotation pauses before its first insert, after its
		// conditional update locked the child.
		paused, release := make(chan struct{}), make(chan struct{})
		slow := separateDB(t, f.s)
		require.NoError(t, slow.Callback().Create().Before("gorm:create").Register("oauth:pause", func(tx *gorm.DB) {
			if tx.Statement.Table == "oauth_access_tokens" {
				close(paused)
				<-release
			}
		}))
		var grandchild *repositories.TokenPair
		var rotErr, reuseErr error
		rotDone, reuseDone := make(chan struct{}), make(chan struct{})
		go func() {
			defer close(rotDone)
			grandchild, rotErr = repositories.NewRefreshTokens(slow, f.repoOptions()).Rotate(ctx, authed(f.s, pub.ID), child.RefreshToken, nil)
		}()
		<-paused
		go func() {
			defer close(reuseDone)
			_, reuseErr = f.s.RefreshTokens.Rotate(ctx, authed(f.s, pub.ID), parent.RefreshToken, nil)
		}()
		if b.Dialect == "postgres" {
			// Wait until the reuse's revocation is blocked on the child's row.
			require.Eventually(t, func() bool {
				var n int64
				f.s.DB().Raw(`SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()
					AND wait_event_type = 'Lock' AND query LIKE 'UPDATE "oauth_refresh_tokens"%'`).Scan(&n)
				return n > 0
			}, 10*time.Second, time.Millisecond, "the reuse never waited for the rotation")
		}
		close(release)
		<-rotDone
		<-reuseDone
		requireNoLockErrors(t, []error{rotErr, reuseErr})
		require.ErrorIs(t, reuseErr, repositories.ErrReused)
		if rotErr == nil { // it committed first: its grandchild must be revoked too
			_, err := f.s.AccessTokens.Validate(ctx, grandchild.AccessToken)
			require.ErrorIs(t, err, repositories.ErrRevoked, "the grandchild's access token survived the reuse")
		} else {
			require.ErrorIs(t, rotErr, repositories.ErrRevoked)
		}
		require.Zero(t, countRows(t, f.s.DB(), "oauth_refresh_tokens", "family_id = ? AND revoked = ?", parent.FamilyID, false), "a token of a reused family is still active")
		require.Zero(t, countRows(t, f.s.DB(), "oauth_access_tokens", "family_id = ? AND revoked = ?", parent.FamilyID, false))
	})
}

// TestRefreshTokensKeepTheLogin checks that a refresh token records the
// login of its grant, which a refreshed ID token reports (OpenID Connect
// Core 12.2): AuthRequests.Redeem copies the request's auth time and AMR,
// Rotate copies them unchanged to each child (not from the request, which
// may narrow the scope), Tokens.Inspect reports them; a grant without a
// login has none, and a token written before migration 000009 rotates
// with none.
func TestRefreshTokensKeepTheLogin(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b Backend) {
		f := newFixture(t, b)
		ctx := requestCtx()
		uid := f.user(t, "u@example.com").ID
		c := f.publicClient(t)
		row := func(t *testing.T, id models.UUID) models.RefreshToken {
			t.Helper()
			var rt models.RefreshToken
			require.NoError(t, f.s.DB().Where("id = ?", id).Take(&rt).Error)
			return rt
		}

		t.Run("RotateCopiesThem", func(t *testing.T) {
			r, err := f.s.AuthRequests.Create(ctx, authRequestInput(c.ID, "openid", "offline_access"))
			require.NoError(t, err)
			authTime := f.clock.Now().Add(-5 * time.Minute)
			amr := []string{"pwd", "otp"}
			require.NoError(t, f.s.AuthRequests.Complete(ctx, r.ID, uid, authTime, amr))
			code, err := hooks.NewToken()
			require.NoError(t, err)
			require.NoError(t, f.s.AuthRequests.SaveCode(ctx, r.ID, code))
			_, pair, err := f.s.AuthRequests.Redeem(ctx, code)
			require.NoError(t, err)
			require.NotEmpty(t, pair.RefreshToken)
			first := row(t, pair.RefreshTokenID)
			require.NotNil(t, first.AuthTime, "Redeem: auth_time")
			require.True(t, first.AuthTime.Equal(authTime), "Redeem: auth_time = %s; want %s", first.AuthTime, authTime)
			require.Equal(t, models.Strings(amr), first.AMR, "Redeem: amr")

			token := pair.RefreshToken
			for i := 1; i <= 2; i++ {
				f.clock.Advance(time.Minute)
				next, err := f.s.RefreshTokens.Rotate(ctx, authed(f.s, c.ID), token, []string{"openid"})
				require.NoError(t, err, "rotation %d", i)
				child := row(t, next.RefreshTokenID)
				require.NotNil(t, child.AuthTime, "rotation %d: auth_time", i)
				require.True(t, child.AuthTime.Equal(authTime), "rotation %d: auth_time = %s; want %s", i, child.AuthTime, authTime)
				require.Equal(t, models.Strings(amr), child.AMR, "rotation %d: amr", i)
				in, err := f.s.Tokens.Inspect(ctx, next.RefreshToken)
				require.NoError(t, err)
				require.NotNil(t, in.AuthTime, "Inspect after rotation %d: AuthTime", i)
				require.True(t, in.AuthTime.Equal(authTime), "Inspect after rotation %d: AuthTime = %s; want %s", i, in.AuthTime, authTime)
				require.Equal(t, amr, in.AMR, "Inspect after rotation %d: AMR", i)
				token = next.RefreshToken
			}
		})

		t.Run("GrantWithoutLogin", func(t *testing.T) {
			p := f.pair(t, c.ID, &uid, "read")
			next, err := f.s.RefreshTokens.Rotate(ctx, authed(f.s, c.ID), p.RefreshToken, nil)
			require.NoError(t, err)
			for _, id := range []models.UUID{p.RefreshTokenID, next.RefreshTokenID} {
				rt := row(t, id)
				require.Nil(t, rt.AuthTime, "RefreshTokens.Issue records no login: auth_time")
				require.Empty(t, rt.AMR, "RefreshTokens.Issue records no login: amr")
			}
			in, err := f.s.Tokens.Inspect(ctx, next.RefreshToken)
			require.NoError(t, err)
			require.Nil(t, in.AuthTime)
			require.Empty(t, in.AMR)
		})

		t.Run("RowBeforeMigration", func(t *testing.T) {
			// Down to 000008 (no auth_time or amr column), write a token as
			// that schema held it, migrate up again and rotate it.
			m := migrator(t, f.s)
			require.NoError(t, m.Down(ctx, 1), "down to 000008")
			tok, err := hooks.NewToken()
			require.NoError(t, err)
			old := &models.RefreshToken{Token: tok, ClientID: c.ID, UserID: &uid, Scopes: models.Strings{"read"},
				ExpiresAt: f.clock.Now().Add(time.Hour), CreatedAt: f.clock.Now()}
			require.NoError(t, f.s.DB().WithContext(ctx).Omit("AuthTime", "AMR").Create(old).Error, "insert a refresh token under 000008")
			require.NoError(t, m.Up(ctx), "up to the latest")
			before := row(t, old.ID)
			require.Nil(t, before.AuthTime, "a row from before 000009: auth_time NULL")
			require.Nil(t, before.AMR, "a row from before 000009: amr NULL")

			f.clock.Advance(time.Minute)
			next, err := f.s.RefreshTokens.Rotate(ctx, authed(f.s, c.ID), tok, nil)
			require.NoError(t, err, "a row from before 000009 rotates")
			child := row(t, next.RefreshTokenID)
			require.Nil(t, child.AuthTime)
			require.Empty(t, child.AMR)
			in, err := f.s.Tokens.Inspect(ctx, next.RefreshToken)
			require.NoError(t, err)
			require.Equal(t, repositories.TokenActive, in.State)
			require.Nil(t, in.AuthTime)
			require.Empty(t, in.AMR)
		})
	})
}
