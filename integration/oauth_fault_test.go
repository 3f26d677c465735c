package integration

// Concurrency (SECURITY 9 and 13) and all-or-nothing (SECURITY 29) tests
// of the OAuth repositories, on every backend.

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/forgeauth/authstore/hooks"
	"github.com/forgeauth/authstore/repositories"
	"github.com/stretchr/testify/require"
	"gorm.io/gorm"
)

// oauthErrInjected is the fault oauthFailOn injects.
var oauthErrInjected = errors.New("oauth test: injected fault")

// oauthFailOn returns a *gorm.DB over the store's pool whose inserts into
// table fail with oauthErrInjected. Repositories use it through WithTx, so
// the fault hits a step in the middle of their transaction.
func oauthFailOn(t *testing.T, e *oauthEnv, table string) *gorm.DB {
	t.Helper()
	db := separateDB(t, e.s)
	require.NoError(t, db.Callback().Create().Before("gorm:create").Register("oauth:fail_"+table, func(tx *gorm.DB) {
		if tx.Statement.Table == table {
			tx.AddError(oauthErrInjected)
		}
	}))
	return db
}

// TestOAuthSecurity09ConcurrentRotation presents one refresh token from 50
// goroutines started together, for a first token and for a rotated one:
// exactly one rotation succeeds, no call sees a lock error or a deadlock,
// and the losers' presentations count as reuse, which revokes the family.
func TestOAuthSecurity09ConcurrentRotation(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b Backend) {
		e := newOAuthEnv(t, b)
		ctx := requestCtx()
		uid := e.user(t, "u@example.com")
		pub := e.publicClient(t)
		oauthWarmPool(t, e)

		for _, depth := range []int{0, 2} {
			t.Run(fmt.Sprintf("AfterRotations%d", depth), func(t *testing.T) {
				p := e.pair(t, pub.ID, &uid)
				for range depth {
					next, err := e.refresh.Rotate(ctx, p.RefreshToken, pub.ID, nil)
					require.NoError(t, err)
					p = next
				}
				reusedBefore := countEvents(t, e.s.DB, hooks.EventRefreshTokenReused)

				const n = 50
				pairs := make([]*repositories.TokenPair, n)
				errs := make([]error, n)
				barrier(n, func(i int) { pairs[i], errs[i] = e.refresh.Rotate(ctx, p.RefreshToken, pub.ID, nil) })

				oauthRequireNoLockErrors(t, errs)
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
				require.EqualValues(t, depth+2, countRows(t, e.s.DB, "oauth_refresh_tokens", "family_id = ?", p.FamilyID), "one child per rotation")
				require.EqualValues(t, depth+2, countRows(t, e.s.DB, "oauth_access_tokens", "family_id = ?", p.FamilyID))
				// The concurrent presentations were reuse: the family is revoked.
				require.Zero(t, countRows(t, e.s.DB, "oauth_refresh_tokens", "family_id = ? AND revoked = ?", p.FamilyID, false))
				require.Zero(t, countRows(t, e.s.DB, "oauth_access_tokens", "family_id = ? AND revoked = ?", p.FamilyID, false))
				require.EqualValues(t, reusedBefore+n-1, countEvents(t, e.s.DB, hooks.EventRefreshTokenReused))
			})
		}
	})
}

// TestOAuthSecurity08ReuseRacesRotation races reuse of a used token (the
// thief) against rotations of its live child (the client): however they
// interleave, no lock error or deadlock surfaces, at most one rotation
// succeeds, and afterwards no token of the family is left active.
func TestOAuthSecurity08ReuseRacesRotation(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b Backend) {
		e := newOAuthEnv(t, b)
		ctx := requestCtx()
		uid := e.user(t, "u@example.com")
		pub := e.publicClient(t)
		oauthWarmPool(t, e)
		for round := range 3 {
			parent := e.pair(t, pub.ID, &uid)
			child, err := e.refresh.Rotate(ctx, parent.RefreshToken, pub.ID, nil)
			require.NoError(t, err)
			const n = 40
			errs := make([]error, n)
			barrier(n, func(i int) {
				tok := child.RefreshToken
				if i%2 == 0 {
					tok = parent.RefreshToken
				}
				_, errs[i] = e.refresh.Rotate(ctx, tok, pub.ID, nil)
			})
			oauthRequireNoLockErrors(t, errs)
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
			require.Zero(t, countRows(t, e.s.DB, "oauth_refresh_tokens", "family_id = ? AND revoked = ?", parent.FamilyID, false), "round %d: a token of a reused family is still active", round)
			require.Zero(t, countRows(t, e.s.DB, "oauth_access_tokens", "family_id = ? AND revoked = ?", parent.FamilyID, false), "round %d", round)
		}
	})
}

// TestOAuthSecurity13ConcurrentExchange exchanges one code from 50
// goroutines started together: exactly one token pair exists afterwards.
func TestOAuthSecurity13ConcurrentExchange(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b Backend) {
		e := newOAuthEnv(t, b)
		ctx := requestCtx()
		uid := e.user(t, "u@example.com")
		pub := e.publicClient(t)
		code, verifier := e.code(t, pub.ID, uid)
		oauthWarmPool(t, e)

		const n = 50
		pairs := make([]*repositories.TokenPair, n)
		errs := make([]error, n)
		barrier(n, func(i int) { pairs[i], errs[i] = e.codes.Exchange(ctx, code, pub.ID, oauthRedirect, verifier) })

		oauthRequireNoLockErrors(t, errs)
		winners := 0
		var family string
		for i, err := range errs {
			if err == nil {
				winners++
				family = string(pairs[i].FamilyID)
				continue
			}
			require.ErrorIs(t, err, repositories.ErrCodeReplayed, "goroutine %d", i)
		}
		require.Equal(t, 1, winners, "%d exchanges succeeded; want exactly 1", winners)
		require.EqualValues(t, 1, countRows(t, e.s.DB, "oauth_refresh_tokens", "family_id = ?", family), "refresh tokens issued")
		require.EqualValues(t, 1, countRows(t, e.s.DB, "oauth_access_tokens", "family_id = ?", family), "access tokens issued")
		require.EqualValues(t, 1, countRows(t, e.s.DB, "oauth_refresh_tokens", ""))
		require.EqualValues(t, 1, countRows(t, e.s.DB, "oauth_access_tokens", ""))
	})
}

// TestOAuthSecurity29RotationAllOrNothing fails each insert of a rotation
// (the access token, then the refresh token, both after the parent was
// marked used) and the activity row of a reuse revocation: each time the
// tables are left as they were, and the token still works afterwards.
func TestOAuthSecurity29RotationAllOrNothing(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b Backend) {
		e := newOAuthEnv(t, b)
		ctx := requestCtx()
		uid := e.user(t, "u@example.com")
		pub := e.publicClient(t)

		for _, table := range []string{"oauth_access_tokens", "oauth_refresh_tokens"} {
			t.Run("FailInsertInto_"+table, func(t *testing.T) {
				p := e.pair(t, pub.ID, &uid)
				before := snapshotTables(t, e.s.DB)
				_, err := e.refresh.WithTx(oauthFailOn(t, e, table)).Rotate(ctx, p.RefreshToken, pub.ID, nil)
				require.ErrorIs(t, err, oauthErrInjected)
				require.Equal(t, before, snapshotTables(t, e.s.DB), "a failed rotation changed the tables")
				_, err = e.refresh.Rotate(ctx, p.RefreshToken, pub.ID, nil)
				require.NoError(t, err, "the failed rotation burned the token")
				require.NotEqual(t, before, snapshotTables(t, e.s.DB), "the snapshot does not see a rotation")
			})
		}

		t.Run("FailReuseRevocation", func(t *testing.T) {
			p := e.pair(t, pub.ID, &uid)
			child, err := e.refresh.Rotate(ctx, p.RefreshToken, pub.ID, nil)
			require.NoError(t, err)
			before := snapshotTables(t, e.s.DB)
			_, err = e.refresh.WithTx(oauthFailOn(t, e, "user_activity_log")).Rotate(ctx, p.RefreshToken, pub.ID, nil)
			require.ErrorIs(t, err, oauthErrInjected)
			require.False(t, errors.Is(err, repositories.ErrReused), "ErrReused reported for a revocation that did not commit")
			require.Equal(t, before, snapshotTables(t, e.s.DB), "a failed reuse revocation was half applied")
			_, err = e.access.Validate(ctx, child.AccessToken)
			require.NoError(t, err)
		})
	})
}

// TestOAuthSecurity29ExchangeAllOrNothing fails each insert of a code
// exchange, and the activity row of a replay revocation: each time the
// tables are left as they were.
func TestOAuthSecurity29ExchangeAllOrNothing(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b Backend) {
		e := newOAuthEnv(t, b)
		ctx := requestCtx()
		uid := e.user(t, "u@example.com")
		pub := e.publicClient(t)

		for _, table := range []string{"oauth_access_tokens", "oauth_refresh_tokens"} {
			t.Run("FailInsertInto_"+table, func(t *testing.T) {
				code, verifier := e.code(t, pub.ID, uid)
				before := snapshotTables(t, e.s.DB)
				_, err := e.codes.WithTx(oauthFailOn(t, e, table)).Exchange(ctx, code, pub.ID, oauthRedirect, verifier)
				require.ErrorIs(t, err, oauthErrInjected)
				require.Equal(t, before, snapshotTables(t, e.s.DB), "a failed exchange changed the tables")
				_, err = e.codes.Exchange(ctx, code, pub.ID, oauthRedirect, verifier)
				require.NoError(t, err, "the failed exchange burned the code")
			})
		}

		t.Run("FailReplayRevocation", func(t *testing.T) {
			code, verifier := e.code(t, pub.ID, uid)
			p, err := e.codes.Exchange(ctx, code, pub.ID, oauthRedirect, verifier)
			require.NoError(t, err)
			before := snapshotTables(t, e.s.DB)
			_, err = e.codes.WithTx(oauthFailOn(t, e, "user_activity_log")).Exchange(ctx, code, pub.ID, oauthRedirect, verifier)
			require.ErrorIs(t, err, oauthErrInjected)
			require.Equal(t, before, snapshotTables(t, e.s.DB), "a failed replay revocation was half applied")
			_, err = e.access.Validate(ctx, p.AccessToken)
			require.NoError(t, err)
		})

		t.Run("FailClientRevocation", func(t *testing.T) {
			p := e.pair(t, pub.ID, &uid)
			before := snapshotTables(t, e.s.DB)
			err := e.clients.WithTx(oauthFailOn(t, e, "user_activity_log")).Revoke(ctx, pub.ID)
			require.ErrorIs(t, err, oauthErrInjected)
			require.Equal(t, before, snapshotTables(t, e.s.DB), "a failed client revocation was half applied")
			_, err = e.access.Validate(ctx, p.AccessToken)
			require.NoError(t, err)
		})
	})
}

// TestOAuthSecurity08ReuseWaitsForRotation pins the interleaving the race
// above can only hope for: a rotation of the live child holds its row when
// the stolen parent is presented. On PostgreSQL the reuse's revocation
// waits for the rotation to commit and must then still revoke the
// grandchild the rotation inserted, which its first statement cannot see.
func TestOAuthSecurity08ReuseWaitsForRotation(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b Backend) {
		e := newOAuthEnv(t, b)
		ctx := requestCtx()
		uid := e.user(t, "u@example.com")
		pub := e.publicClient(t)
		parent := e.pair(t, pub.ID, &uid)
		child, err := e.refresh.Rotate(ctx, parent.RefreshToken, pub.ID, nil)
		require.NoError(t, err)

		// The rotation pauses before its first insert, after its
		// conditional update locked the child.
		paused, release := make(chan struct{}), make(chan struct{})
		slow := separateDB(t, e.s)
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
			grandchild, rotErr = e.refresh.WithTx(slow).Rotate(ctx, child.RefreshToken, pub.ID, nil)
		}()
		<-paused
		go func() {
			defer close(reuseDone)
			_, reuseErr = e.refresh.Rotate(ctx, parent.RefreshToken, pub.ID, nil)
		}()
		if b.Dialect == "postgres" {
			// Wait until the reuse's revocation is blocked on the child's row.
			require.Eventually(t, func() bool {
				var n int64
				e.s.DB.Raw(`SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()
					AND wait_event_type = 'Lock' AND query LIKE 'UPDATE "oauth_refresh_tokens"%'`).Scan(&n)
				return n > 0
			}, 10*time.Second, time.Millisecond, "the reuse never waited for the rotation")
		}
		close(release)
		<-rotDone
		<-reuseDone
		oauthRequireNoLockErrors(t, []error{rotErr, reuseErr})
		require.ErrorIs(t, reuseErr, repositories.ErrReused)
		if rotErr == nil { // it committed first: its grandchild must be revoked too
			_, err := e.access.Validate(ctx, grandchild.AccessToken)
			require.ErrorIs(t, err, repositories.ErrRevoked, "the grandchild's access token survived the reuse")
		} else {
			require.ErrorIs(t, rotErr, repositories.ErrRevoked)
		}
		require.Zero(t, countRows(t, e.s.DB, "oauth_refresh_tokens", "family_id = ? AND revoked = ?", parent.FamilyID, false), "a token of a reused family is still active")
		require.Zero(t, countRows(t, e.s.DB, "oauth_access_tokens", "family_id = ? AND revoked = ?", parent.FamilyID, false))
	})
}
