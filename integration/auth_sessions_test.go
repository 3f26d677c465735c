package integration

// SECURITY.md 23: session tokens are digests; idle and absolute timeouts
// hold on a fake clock; a login gets a new token.

import (
	"testing"
	"time"

	"github.com/forgeauth/authstore/hooks"
	"github.com/forgeauth/authstore/repositories"
	"github.com/stretchr/testify/require"
)

// TestSessionTimeouts proves SECURITY 23.
func TestSessionTimeouts(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b Backend) {
		s, clock := authClockStore(t, b)
		ctx := requestCtx()
		u := authInsertUser(t, s, "timeouts@example.com")
		idle := s.Config.SessionLifetime
		require.Less(t, idle, s.Sessions.AbsoluteLifetime, "the test needs idle < absolute")
		require.Less(t, s.Sessions.TouchInterval, idle/2)

		t.Run("StoredAsDigest", func(t *testing.T) {
			sess, token, err := s.Sessions.Create(ctx, u.ID, repositories.NewSession{})
			require.NoError(t, err)
			var stored string
			require.NoError(t, s.DB.Raw("SELECT token_hash FROM sessions WHERE id = ?", sess.ID).Scan(&stored).Error)
			require.Equal(t, hooks.Digest(token), stored, "sessions.token_hash = %q; want the SHA-256 of the token", stored)
			require.Zero(t, countRows(t, s.DB, "sessions", "token_hash = ?", token), "a session row holds the plaintext token")
		})

		t.Run("ErrExpiredWhenIdle", func(t *testing.T) {
			_, token, err := s.Sessions.Create(ctx, u.ID, repositories.NewSession{})
			require.NoError(t, err)
			clock.Advance(idle - time.Second)
			_, err = s.Sessions.Find(ctx, token)
			require.NoError(t, err, "Find(idle %v < AUTH_SESSION_LIFETIME) = %v; want nil", idle-time.Second, err)
			clock.Advance(idle + time.Second)
			_, err = s.Sessions.Find(ctx, token)
			require.ErrorIs(t, err, repositories.ErrExpired, "Find(idle %v > AUTH_SESSION_LIFETIME) = %v; want ErrExpired", idle+time.Second, err)
		})

		t.Run("OKActivityKeepsAlive", func(t *testing.T) {
			_, token, err := s.Sessions.Create(ctx, u.ID, repositories.NewSession{})
			require.NoError(t, err)
			step := idle - time.Minute
			for i := 1; i <= 3; i++ {
				clock.Advance(step)
				_, err = s.Sessions.Find(ctx, token)
				require.NoError(t, err, "Find after %d × %v of activity (%v since login) = %v; want nil", i, step, time.Duration(i)*step, err)
			}
		})

		t.Run("ErrExpiredPastAbsoluteLimit", func(t *testing.T) {
			sess, token, err := s.Sessions.Create(ctx, u.ID, repositories.NewSession{})
			require.NoError(t, err)
			end := sess.CreatedAt.Add(s.Sessions.AbsoluteLifetime)
			require.True(t, sess.ExpiresAt.Equal(end), "ExpiresAt = %v; want created + AbsoluteLifetime", sess.ExpiresAt)
			step := idle / 2
			finds := 0
			for clock.Now().Add(step).Before(end) {
				clock.Advance(step)
				_, err = s.Sessions.Find(ctx, token)
				require.NoError(t, err, "Find at %v before the absolute limit = %v; want nil", clock.Now().Sub(sess.CreatedAt), err)
				finds++
			}
			require.Greater(t, finds, 2)
			clock.Advance(end.Sub(clock.Now())) // exactly at the limit
			_, err = s.Sessions.Find(ctx, token)
			require.ErrorIs(t, err, repositories.ErrExpired, "Find at the absolute limit, active all along = %v; want ErrExpired", err)
		})

		t.Run("OKRememberMe", func(t *testing.T) {
			sess, token, err := s.Sessions.Create(ctx, u.ID, repositories.NewSession{Remember: true})
			require.NoError(t, err)
			remember := s.Config.RememberLifetime
			require.True(t, sess.ExpiresAt.Equal(sess.CreatedAt.Add(remember)), "ExpiresAt = %v; want created + AUTH_REMEMBER_LIFETIME", sess.ExpiresAt)
			clock.Advance(s.Sessions.AbsoluteLifetime + idle) // past both non-remembered limits, idle all along
			_, err = s.Sessions.Find(ctx, token)
			require.NoError(t, err, "Find(remembered, idle %v) = %v; want nil", s.Sessions.AbsoluteLifetime+idle, err)
			clock.Advance(sess.ExpiresAt.Sub(clock.Now()) - time.Second)
			_, err = s.Sessions.Find(ctx, token)
			require.NoError(t, err, "Find(remembered, 1s before AUTH_REMEMBER_LIFETIME) = %v; want nil", err)
			clock.Advance(time.Second)
			_, err = s.Sessions.Find(ctx, token)
			require.ErrorIs(t, err, repositories.ErrExpired, "Find(remembered, at AUTH_REMEMBER_LIFETIME) = %v; want ErrExpired", err)
		})

		t.Run("OKLookupWritesOnlyPerTouchInterval", func(t *testing.T) {
			sess, token, err := s.Sessions.Create(ctx, u.ID, repositories.NewSession{})
			require.NoError(t, err)
			created := clock.Now()
			for i := 0; i < 3; i++ {
				clock.Advance(s.Sessions.TouchInterval / 4)
				_, err = s.Sessions.Find(ctx, token)
				require.NoError(t, err)
				require.Equal(t, authFmt(created), authUTCText(t, s.DB, "sessions", "last_activity_at", sess.ID),
					"Find within TouchInterval wrote last_activity_at")
			}
			clock.Advance(s.Sessions.TouchInterval / 4) // TouchInterval since the last write
			got, err := s.Sessions.Find(ctx, token)
			require.NoError(t, err)
			require.True(t, got.LastActivityAt.Equal(clock.Now()))
			require.Equal(t, authFmt(clock.Now()), authUTCText(t, s.DB, "sessions", "last_activity_at", sess.ID),
				"Find after TouchInterval did not record the activity")
		})

		t.Run("OKNewTokenPerLogin", func(t *testing.T) {
			a, ta, err := s.Sessions.Create(ctx, u.ID, repositories.NewSession{})
			require.NoError(t, err)
			c, tc, err := s.Sessions.Create(ctx, u.ID, repositories.NewSession{})
			require.NoError(t, err)
			require.NotEqual(t, ta, tc, "two logins got the same token")
			require.NotEqual(t, a.ID, c.ID)
			require.NotEqual(t, a.TokenHash, c.TokenHash)
		})
	})
}
