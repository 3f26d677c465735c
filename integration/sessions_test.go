package integration

// Tests of repositories.Sessions (table sessions): each method's success
// and error paths, and SECURITY.md 23 (digests, idle and absolute
// timeouts, a new token per login, and one on Renew after a step-up).

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/forgeauth/authstore/hooks"
	"github.com/forgeauth/authstore/models"
	"github.com/forgeauth/authstore/repositories"
	"github.com/stretchr/testify/require"
)

func TestSessionsCreate(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b Backend) {
		f := newFixture(t, b)
		ctx := requestCtx()
		u := f.user(t, "session@example.com")

		t.Run("OK", func(t *testing.T) {
			sess, token, err := f.s.Sessions.Create(ctx, u.ID, repositories.SessionInput{})
			require.NoError(t, err, "Create(%s) = %v; want nil", u.ID, err)
			require.Len(t, token, 43)
			require.True(t, sess.ID.Valid())
			require.Equal(t, u.ID, sess.UserID)
			require.Empty(t, sess.Token, "Create(...).Token = %q; want the plaintext cleared from the row value", sess.Token)
			require.Equal(t, hooks.Digest(token), sess.TokenHash)
			require.Equal(t, requestIP, sess.IPAddress, "IPAddress from the request metadata")
			require.Equal(t, requestUA, sess.UserAgent, "UserAgent from the request metadata")
			require.False(t, sess.Remember)
			require.True(t, sess.LastActivityAt.Equal(f.clock.Now()))
			require.True(t, sess.ExpiresAt.Equal(f.clock.Now().Add(f.cfg.SessionAbsoluteLifetime)), "ExpiresAt = %v; want now + AUTH_SESSION_ABSOLUTE_LIFETIME", sess.ExpiresAt)
			require.EqualValues(t, 1, countEvents(t, f.s.DB(), models.EventSessionCreated, &u.ID))
		})

		t.Run("OKExplicitMeta", func(t *testing.T) {
			sess, _, err := f.s.Sessions.Create(ctx, u.ID, repositories.SessionInput{IPAddress: "198.51.100.1", UserAgent: "curl/8", Remember: true})
			require.NoError(t, err)
			require.Equal(t, "198.51.100.1", sess.IPAddress)
			require.Equal(t, "curl/8", sess.UserAgent)
			require.True(t, sess.Remember)
			require.True(t, sess.ExpiresAt.Equal(f.clock.Now().Add(f.cfg.RememberLifetime)), "remembered ExpiresAt = %v; want now + AUTH_REMEMBER_LIFETIME", sess.ExpiresAt)
		})

		t.Run("ErrMissingReferent", func(t *testing.T) {
			before := snapshotTables(t, f.s.DB())
			for _, id := range []models.UUID{models.NewUUID(), "not-a-uuid", ""} {
				_, token, err := f.s.Sessions.Create(ctx, id, repositories.SessionInput{})
				require.ErrorIs(t, err, idErr(id, repositories.ErrMissingReferent), "Create(%q) = %v; want %v", id, err, idErr(id, repositories.ErrMissingReferent))
				require.Empty(t, token)
			}
			require.Equal(t, before, snapshotTables(t, f.s.DB()), "a refused session wrote rows")
		})
	})
}

func TestSessionsFind(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b Backend) {
		f := newFixture(t, b)
		ctx := requestCtx()
		u := f.user(t, "find-session@example.com")
		sess, token, err := f.s.Sessions.Create(ctx, u.ID, repositories.SessionInput{})
		require.NoError(t, err)

		t.Run("OK", func(t *testing.T) {
			got, err := f.s.Sessions.Find(ctx, token)
			require.NoError(t, err, "Find(token) = %v; want nil", err)
			require.Equal(t, sess.ID, got.ID)
			require.Equal(t, u.ID, got.UserID)
		})

		t.Run("ErrNotFound", func(t *testing.T) {
			for _, tok := range []string{"", "unknown", sess.TokenHash} {
				_, err := f.s.Sessions.Find(ctx, tok)
				require.ErrorIs(t, err, repositories.ErrNotFound, "Find(%q) = %v; want ErrNotFound", tok, err)
			}
		})

		t.Run("ErrExpired", func(t *testing.T) {
			f.clock.Advance(f.cfg.SessionLifetime + time.Second)
			_, err := f.s.Sessions.Find(ctx, token)
			require.ErrorIs(t, err, repositories.ErrExpired, "Find(idle token) = %v; want ErrExpired", err)
		})
	})
}

// TestSessionsRenew: Renew gives a live session a new token (the old one
// finds nothing), keeping its id, times and assurance; an unknown,
// malformed or ended session is refused, and of two renewals of one
// session one wins.
func TestSessionsRenew(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b Backend) {
		f := newFixture(t, b)
		ctx := requestCtx()
		u := f.user(t, "renew@example.com")
		sess, token, err := f.s.Sessions.Create(ctx, u.ID, repositories.SessionInput{})
		require.NoError(t, err)

		t.Run("OK", func(t *testing.T) {
			f.clock.Advance(time.Second)
			got, renewed, err := f.s.Sessions.Renew(ctx, sess.ID)
			require.NoError(t, err, "Renew(%s)", sess.ID)
			require.NotEqual(t, token, renewed)
			require.Len(t, renewed, len(token))
			require.Equal(t, sess.ID, got.ID)
			require.Equal(t, sess.CreatedAt, got.CreatedAt.UTC())
			require.Equal(t, sess.ExpiresAt, got.ExpiresAt.UTC())
			require.Equal(t, sess.AssuranceLevel, got.AssuranceLevel)
			_, err = f.s.Sessions.Find(ctx, token)
			require.ErrorIs(t, err, repositories.ErrNotFound, "Find(old token) = %v; want ErrNotFound", err)
			found, err := f.s.Sessions.Find(ctx, renewed)
			require.NoError(t, err, "Find(new token)")
			require.Equal(t, sess.ID, found.ID)
			require.Equal(t, got.TokenHash, found.TokenHash)
			token = renewed
		})

		t.Run("Concurrent", func(t *testing.T) {
			tokens := make([]string, 2)
			errs := make([]error, 2)
			var wg sync.WaitGroup
			for i := range tokens {
				wg.Add(1)
				go func() {
					defer wg.Done()
					_, tokens[i], errs[i] = f.s.Sessions.Renew(ctx, sess.ID)
				}()
			}
			wg.Wait()
			var live int
			for i, err := range errs {
				if err != nil {
					require.ErrorIs(t, err, repositories.ErrConcurrentChange, "the losing Renew = %v", err)
					continue
				}
				if _, err := f.s.Sessions.Find(ctx, tokens[i]); err == nil {
					live++
				}
			}
			require.Equal(t, 1, live, "tokens that find the session after two renewals: %v", errs)
			_, err := f.s.Sessions.Find(ctx, token)
			require.ErrorIs(t, err, repositories.ErrNotFound, "the token before both renewals")
		})

		t.Run("ErrNotFound", func(t *testing.T) {
			for _, id := range []models.UUID{models.NewUUID(), "not-a-uuid"} {
				_, _, err := f.s.Sessions.Renew(ctx, id)
				require.ErrorIs(t, err, idErr(id, repositories.ErrNotFound), "Renew(%q) = %v; want %v", id, err, idErr(id, repositories.ErrNotFound))
			}
		})

		t.Run("ErrExpired", func(t *testing.T) {
			f.clock.Advance(f.cfg.SessionLifetime + time.Second)
			_, _, err := f.s.Sessions.Renew(ctx, sess.ID)
			require.ErrorIs(t, err, repositories.ErrExpired, "Renew(idle session) = %v; want ErrExpired", err)
		})
	})
}

func TestSessionsTouch(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b Backend) {
		f := newFixture(t, b)
		ctx := requestCtx()
		u := f.user(t, "touch@example.com")
		sess, _, err := f.s.Sessions.Create(ctx, u.ID, repositories.SessionInput{})
		require.NoError(t, err)

		t.Run("OK", func(t *testing.T) {
			f.clock.Advance(time.Second)
			require.NoError(t, f.s.Sessions.Touch(ctx, sess.ID), "Touch(%s)", sess.ID)
			require.Equal(t, utcFmt(f.clock.Now()), utcText(t, f.s.DB(), "sessions", "last_activity_at", sess.ID))
			require.NoError(t, f.s.Sessions.Touch(ctx, sess.ID), "Touch twice at one instant")
		})

		t.Run("ErrNotFound", func(t *testing.T) {
			for _, id := range []models.UUID{models.NewUUID(), "not-a-uuid"} {
				err := f.s.Sessions.Touch(ctx, id)
				require.ErrorIs(t, err, idErr(id, repositories.ErrNotFound), "Touch(%q) = %v; want %v", id, err, idErr(id, repositories.ErrNotFound))
			}
		})
	})
}

func TestSessionsDelete(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b Backend) {
		f := newFixture(t, b)
		ctx := requestCtx()
		u := f.user(t, "logout@example.com")
		sess, token, err := f.s.Sessions.Create(ctx, u.ID, repositories.SessionInput{})
		require.NoError(t, err)
		_, keep, err := f.s.Sessions.Create(ctx, u.ID, repositories.SessionInput{})
		require.NoError(t, err)

		t.Run("OK", func(t *testing.T) {
			require.NoError(t, f.s.Sessions.Delete(ctx, token), "Delete(token)")
			_, err := f.s.Sessions.Find(ctx, token)
			require.ErrorIs(t, err, repositories.ErrNotFound, "Find after Delete = %v; want ErrNotFound", err)
			_, err = f.s.Sessions.Find(ctx, keep)
			require.NoError(t, err, "Delete ended another session")
			require.EqualValues(t, 1, countEvents(t, f.s.DB(), models.EventLogout, &u.ID))
			require.EqualValues(t, 0, countEvents(t, f.s.DB(), models.EventSessionDeleted, &u.ID), "one logout wrote a second row")
			require.Zero(t, countRows(t, f.s.DB(), "sessions", "id = ?", sess.ID))
		})

		t.Run("ErrNotFound", func(t *testing.T) {
			for _, tok := range []string{token, "unknown", ""} {
				err := f.s.Sessions.Delete(ctx, tok)
				require.ErrorIs(t, err, repositories.ErrNotFound, "Delete(%q) = %v; want ErrNotFound", tok, err)
			}
			require.EqualValues(t, 1, countEvents(t, f.s.DB(), models.EventLogout, &u.ID), "a failed logout was logged")
		})
	})
}

func TestSessionsDeleteOthersAndList(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b Backend) {
		f := newFixture(t, b)
		ctx := requestCtx()
		u := f.user(t, "others@example.com")
		other := f.user(t, "bystander@example.com")
		var ids []models.UUID
		for i := 0; i < 3; i++ {
			sess, _, err := f.s.Sessions.Create(ctx, u.ID, repositories.SessionInput{})
			require.NoError(t, err)
			ids = append(ids, sess.ID)
			f.clock.Advance(time.Second)
		}
		_, _, err := f.s.Sessions.Create(ctx, other.ID, repositories.SessionInput{})
		require.NoError(t, err)

		t.Run("ListOK", func(t *testing.T) {
			f.clock.Advance(f.cfg.SessionAbsoluteLifetime) // expired sessions are listed too
			got, err := f.s.Sessions.ListForUser(ctx, u.ID)
			require.NoError(t, err)
			var gotIDs []models.UUID
			for _, x := range got {
				gotIDs = append(gotIDs, x.ID)
			}
			require.Equal(t, []models.UUID{ids[2], ids[1], ids[0]}, gotIDs, "ListForUser = %v; want newest first", gotIDs)
			none, err := f.s.Sessions.ListForUser(ctx, models.NewUUID())
			require.NoError(t, err)
			require.Empty(t, none)
		})

		t.Run("OK", func(t *testing.T) {
			n, err := f.s.Sessions.DeleteOthers(ctx, u.ID, ids[1])
			require.NoError(t, err)
			require.EqualValues(t, 2, n, "DeleteOthers(keep one of 3) = %d; want 2", n)
			got, err := f.s.Sessions.ListForUser(ctx, u.ID)
			require.NoError(t, err)
			require.Len(t, got, 1)
			require.Equal(t, ids[1], got[0].ID, "DeleteOthers ended the kept session")
			require.EqualValues(t, 1, countRows(t, f.s.DB(), "sessions", "user_id = ?", other.ID), "DeleteOthers reached another user")
			require.EqualValues(t, 1, countEvents(t, f.s.DB(), models.EventSessionDeleted, &u.ID))

			n, err = f.s.Sessions.DeleteOthers(ctx, u.ID, "")
			require.NoError(t, err)
			require.EqualValues(t, 1, n, "DeleteOthers(keep none) = %d; want 1", n)
		})

		t.Run("OKNone", func(t *testing.T) {
			before := snapshotTables(t, f.s.DB())
			n, err := f.s.Sessions.DeleteOthers(ctx, u.ID, "")
			require.NoError(t, err)
			require.Zero(t, n, "DeleteOthers with no session = %d; want 0", n)
			require.Equal(t, before, snapshotTables(t, f.s.DB()), "DeleteOthers of nothing wrote a row")
		})
	})
}

// TestSessionsTimeouts checks that session tokens are stored as digests,
// that the idle and absolute timeouts and remember-me hold on a fake clock,
// that lookups write the activity time at most once per AUTH_SESSION_TOUCH_INTERVAL, and
// that each login gets a new token.
//
// SECURITY 23: session tokens are stored as digests; idle and absolute timeouts hold (fake clock); a new token on login.
func TestSessionsTimeouts(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b Backend) {
		f := newFixture(t, b)
		ctx := requestCtx()
		u := f.user(t, "timeouts@example.com")
		idle := f.cfg.SessionLifetime
		require.Less(t, idle, f.cfg.SessionAbsoluteLifetime, "the test needs idle < absolute")
		require.Less(t, f.cfg.SessionTouchInterval, idle/2)

		t.Run("StoredAsDigest", func(t *testing.T) {
			sess, token, err := f.s.Sessions.Create(ctx, u.ID, repositories.SessionInput{})
			require.NoError(t, err)
			var stored string
			require.NoError(t, f.s.DB().Raw("SELECT token_hash FROM sessions WHERE id = ?", sess.ID).Scan(&stored).Error)
			require.Equal(t, hooks.Digest(token), stored, "sessions.token_hash = %q; want the SHA-256 of the token", stored)
			require.Zero(t, countRows(t, f.s.DB(), "sessions", "token_hash = ?", token), "a session row holds the plaintext token")
		})

		t.Run("ErrExpiredWhenIdle", func(t *testing.T) {
			_, token, err := f.s.Sessions.Create(ctx, u.ID, repositories.SessionInput{})
			require.NoError(t, err)
			f.clock.Advance(idle - time.Second)
			_, err = f.s.Sessions.Find(ctx, token)
			require.NoError(t, err, "Find(idle %v < AUTH_SESSION_LIFETIME) = %v; want nil", idle-time.Second, err)
			f.clock.Advance(idle + time.Second)
			_, err = f.s.Sessions.Find(ctx, token)
			require.ErrorIs(t, err, repositories.ErrExpired, "Find(idle %v > AUTH_SESSION_LIFETIME) = %v; want ErrExpired", idle+time.Second, err)
		})

		t.Run("OKActivityKeepsAlive", func(t *testing.T) {
			_, token, err := f.s.Sessions.Create(ctx, u.ID, repositories.SessionInput{})
			require.NoError(t, err)
			step := idle - time.Minute
			for i := 1; i <= 3; i++ {
				f.clock.Advance(step)
				_, err = f.s.Sessions.Find(ctx, token)
				require.NoError(t, err, "Find after %d × %v of activity (%v since login) = %v; want nil", i, step, time.Duration(i)*step, err)
			}
		})

		t.Run("ErrExpiredPastAbsoluteLimit", func(t *testing.T) {
			sess, token, err := f.s.Sessions.Create(ctx, u.ID, repositories.SessionInput{})
			require.NoError(t, err)
			end := sess.CreatedAt.Add(f.cfg.SessionAbsoluteLifetime)
			require.True(t, sess.ExpiresAt.Equal(end), "ExpiresAt = %v; want created + AUTH_SESSION_ABSOLUTE_LIFETIME", sess.ExpiresAt)
			step := idle / 2
			finds := 0
			for f.clock.Now().Add(step).Before(end) {
				f.clock.Advance(step)
				_, err = f.s.Sessions.Find(ctx, token)
				require.NoError(t, err, "Find at %v before the absolute limit = %v; want nil", f.clock.Now().Sub(sess.CreatedAt), err)
				finds++
			}
			require.Greater(t, finds, 2)
			f.clock.Advance(end.Sub(f.clock.Now())) // exactly at the limit
			_, err = f.s.Sessions.Find(ctx, token)
			require.ErrorIs(t, err, repositories.ErrExpired, "Find at the absolute limit, active all along = %v; want ErrExpired", err)
		})

		t.Run("OKRememberMe", func(t *testing.T) {
			sess, token, err := f.s.Sessions.Create(ctx, u.ID, repositories.SessionInput{Remember: true})
			require.NoError(t, err)
			remember := f.cfg.RememberLifetime
			require.True(t, sess.ExpiresAt.Equal(sess.CreatedAt.Add(remember)), "ExpiresAt = %v; want created + AUTH_REMEMBER_LIFETIME", sess.ExpiresAt)
			f.clock.Advance(f.cfg.SessionAbsoluteLifetime + idle) // past both non-remembered limits, idle all along
			_, err = f.s.Sessions.Find(ctx, token)
			require.NoError(t, err, "Find(remembered, idle %v) = %v; want nil", f.cfg.SessionAbsoluteLifetime+idle, err)
			f.clock.Advance(sess.ExpiresAt.Sub(f.clock.Now()) - time.Second)
			_, err = f.s.Sessions.Find(ctx, token)
			require.NoError(t, err, "Find(remembered, 1s before AUTH_REMEMBER_LIFETIME) = %v; want nil", err)
			f.clock.Advance(time.Second)
			_, err = f.s.Sessions.Find(ctx, token)
			require.ErrorIs(t, err, repositories.ErrExpired, "Find(remembered, at AUTH_REMEMBER_LIFETIME) = %v; want ErrExpired", err)
		})

		t.Run("OKLookupWritesOnlyPerTouchInterval", func(t *testing.T) {
			sess, token, err := f.s.Sessions.Create(ctx, u.ID, repositories.SessionInput{})
			require.NoError(t, err)
			created := f.clock.Now()
			for i := 0; i < 3; i++ {
				f.clock.Advance(f.cfg.SessionTouchInterval / 4)
				_, err = f.s.Sessions.Find(ctx, token)
				require.NoError(t, err)
				require.Equal(t, utcFmt(created), utcText(t, f.s.DB(), "sessions", "last_activity_at", sess.ID),
					"Find within AUTH_SESSION_TOUCH_INTERVAL wrote last_activity_at")
			}
			f.clock.Advance(f.cfg.SessionTouchInterval / 4) // AUTH_SESSION_TOUCH_INTERVAL since the last write
			got, err := f.s.Sessions.Find(ctx, token)
			require.NoError(t, err)
			require.True(t, got.LastActivityAt.Equal(f.clock.Now()))
			require.Equal(t, utcFmt(f.clock.Now()), utcText(t, f.s.DB(), "sessions", "last_activity_at", sess.ID),
				"Find after AUTH_SESSION_TOUCH_INTERVAL did not record the activity")
		})

		t.Run("OKNewTokenPerLogin", func(t *testing.T) {
			a, ta, err := f.s.Sessions.Create(ctx, u.ID, repositories.SessionInput{})
			require.NoError(t, err)
			c, tc, err := f.s.Sessions.Create(ctx, u.ID, repositories.SessionInput{})
			require.NoError(t, err)
			require.NotEqual(t, ta, tc, "two logins got the same token")
			require.NotEqual(t, a.ID, c.ID)
			require.NotEqual(t, a.TokenHash, c.TokenHash)
		})
	})
}

// TestSessionsTouchDoesNotReviveExpired checks that Touch never revives a
// session past its idle limit.
//
// SECURITY 23: idle and absolute timeouts hold: Touch never revives an expired session.
func TestSessionsTouchDoesNotReviveExpired(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b Backend) {
		f := newFixture(t, b)
		ctx := context.Background()
		u := f.user(t, "touch@example.com")
		sess, token, err := f.s.Sessions.Create(ctx, u.ID, repositories.SessionInput{})
		require.NoError(t, err)

		f.clock.Advance(f.cfg.SessionLifetime + time.Second)
		err = f.s.Sessions.Touch(ctx, sess.ID)
		require.True(t, errors.Is(err, repositories.ErrExpired), "Touch(idle session) = %v; want ErrExpired", err)
		require.Equal(t, utcFmt(sess.LastActivityAt), utcText(t, f.s.DB(), "sessions", "last_activity_at", sess.ID), "a refused Touch wrote last_activity_at")
		_, err = f.s.Sessions.Find(ctx, token)
		require.True(t, errors.Is(err, repositories.ErrExpired), "Find after Touch = %v; want ErrExpired", err)
	})
}

func TestSessionsRevoke(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b Backend) {
		f := newFixture(t, b)
		ctx := requestCtx()
		u := f.user(t, "revoke-one@example.com")
		sess, token, err := f.s.Sessions.Create(ctx, u.ID, repositories.SessionInput{})
		require.NoError(t, err)
		_, keep, err := f.s.Sessions.Create(ctx, u.ID, repositories.SessionInput{})
		require.NoError(t, err)

		t.Run("OK", func(t *testing.T) {
			require.NoError(t, f.s.Sessions.Revoke(ctx, sess.ID), "Revoke(%s)", sess.ID)
			_, err := f.s.Sessions.Find(ctx, token)
			require.ErrorIs(t, err, repositories.ErrNotFound, "Find after Revoke = %v; want ErrNotFound", err)
			_, err = f.s.Sessions.Find(ctx, keep)
			require.NoError(t, err, "Revoke ended another session")
			require.EqualValues(t, 1, countEvents(t, f.s.DB(), models.EventSessionDeleted, &u.ID))
			require.EqualValues(t, 0, countEvents(t, f.s.DB(), models.EventLogout, &u.ID), "an operator's revocation was logged as a logout")
			require.Contains(t, lastEvent(t, f.s.DB(), models.EventSessionDeleted).Metadata, sess.ID.String())
		})

		t.Run("ErrNotFound", func(t *testing.T) {
			before := snapshotTables(t, f.s.DB())
			for _, id := range []models.UUID{sess.ID, models.NewUUID()} {
				err := f.s.Sessions.Revoke(ctx, id)
				require.ErrorIs(t, err, repositories.ErrNotFound, "Revoke(%s) = %v; want ErrNotFound", id, err)
			}
			require.Equal(t, before, snapshotTables(t, f.s.DB()), "a failed revocation wrote a row")
		})

		t.Run("ErrInvalidInput", func(t *testing.T) {
			for _, id := range []models.UUID{"", "not-a-uuid", "'; DROP TABLE sessions; --"} {
				err := f.s.Sessions.Revoke(ctx, id)
				require.ErrorIs(t, err, repositories.ErrInvalidInput, "Revoke(%q) = %v; want ErrInvalidInput", id, err)
			}
		})
	})
}

func TestSessionsRevokeForUser(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b Backend) {
		f := newFixture(t, b)
		ctx := requestCtx()
		u := f.user(t, "revoke-all@example.com")
		other := f.user(t, "bystander@example.com")
		var tokens []string
		for i := 0; i < 3; i++ {
			_, tok, err := f.s.Sessions.Create(ctx, u.ID, repositories.SessionInput{Remember: i == 0})
			require.NoError(t, err)
			tokens = append(tokens, tok)
		}
		_, otherToken, err := f.s.Sessions.Create(ctx, other.ID, repositories.SessionInput{})
		require.NoError(t, err)

		t.Run("OK", func(t *testing.T) {
			n, err := f.s.Sessions.RevokeForUser(ctx, u.ID)
			require.NoError(t, err)
			require.EqualValues(t, 3, n, "RevokeForUser = %d; want 3", n)
			for _, tok := range tokens {
				_, err := f.s.Sessions.Find(ctx, tok)
				require.ErrorIs(t, err, repositories.ErrNotFound, "a session outlived RevokeForUser")
			}
			_, err = f.s.Sessions.Find(ctx, otherToken)
			require.NoError(t, err, "RevokeForUser reached another user")
			require.EqualValues(t, 1, countEvents(t, f.s.DB(), models.EventSessionDeleted, &u.ID))
			require.Contains(t, lastEvent(t, f.s.DB(), models.EventSessionDeleted).Metadata, `"count":3`)
		})

		t.Run("OKNone", func(t *testing.T) {
			before := snapshotTables(t, f.s.DB())
			n, err := f.s.Sessions.RevokeForUser(ctx, u.ID)
			require.NoError(t, err)
			require.Zero(t, n, "RevokeForUser with no session = %d; want 0", n)
			require.Equal(t, before, snapshotTables(t, f.s.DB()), "RevokeForUser of nothing wrote a row")
		})

		t.Run("ErrNotFound", func(t *testing.T) {
			_, err := f.s.Sessions.RevokeForUser(ctx, models.NewUUID())
			require.ErrorIs(t, err, repositories.ErrNotFound, "RevokeForUser(unknown user) = %v; want ErrNotFound", err)
		})

		t.Run("ErrInvalidInput", func(t *testing.T) {
			for _, id := range []models.UUID{"", "42"} {
				_, err := f.s.Sessions.RevokeForUser(ctx, id)
				require.ErrorIs(t, err, repositories.ErrInvalidInput, "RevokeForUser(%q) = %v; want ErrInvalidInput", id, err)
			}
		})
	})
}
