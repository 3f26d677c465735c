package integration

// Tests of repositories.PasswordResets (table password_resets): each
// method's success and error paths, and SECURITY.md 25 (single use,
// expiry, a newer request voids older ones).

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/forgeauth/authstore"
	"github.com/forgeauth/authstore/config"
	"github.com/forgeauth/authstore/hooks"
	"github.com/forgeauth/authstore/models"
	"github.com/forgeauth/authstore/repositories"
	"github.com/stretchr/testify/require"
)

func TestPasswordResetsRequest(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b Backend) {
		f := newFixture(t, b)
		ctx := requestCtx()
		u := f.user(t, "Reset.Me@example.com")

		t.Run("OK", func(t *testing.T) {
			var to, token string
			calls := 0
			err := f.s.PasswordResets.Request(ctx, "reset.me@EXAMPLE.com", func(_ context.Context, addr, tok string) error {
				calls++
				to, token = addr, tok
				return nil
			})
			require.NoError(t, err, "Request(known) = %v; want nil", err)
			require.Equal(t, 1, calls, "deliver calls")
			require.Equal(t, u.Email, to, "deliver address")
			require.Len(t, token, 43)
			var pr models.PasswordReset
			require.NoError(t, f.s.DB().Where("token_hash = ?", hooks.Digest(token)).Take(&pr).Error, "no row holds the digest of the delivered token")
			require.Equal(t, u.ID, pr.UserID)
			require.Equal(t, u.Email, pr.Email)
			require.Nil(t, pr.UsedAt)
			require.True(t, pr.ExpiresAt.Equal(f.clock.Now().Add(f.cfg.PasswordResetLifetime)), "ExpiresAt = %v; want now + AUTH_PASSWORD_RESET_LIFETIME", pr.ExpiresAt)
			require.EqualValues(t, 1, countEvents(t, f.s.DB(), models.EventPasswordResetRequested, &u.ID))
		})

		t.Run("OKUnknownEmail", func(t *testing.T) {
			before := snapshotTables(t, f.s.DB())
			err := f.s.PasswordResets.Request(ctx, "nobody@example.com", func(context.Context, string, string) error {
				t.Error("deliver called for an unknown email")
				return nil
			})
			require.NoError(t, err, "Request(unknown) = %v; want nil", err)
			// Nothing written but the audit row of the request (issue 11
			// class 2: the unknown address costs what a known one does).
			after := snapshotTables(t, f.s.DB())
			require.Len(t, after["user_activity_log"], len(before["user_activity_log"])+1, "activity rows after Request(unknown)")
			delete(before, "user_activity_log")
			delete(after, "user_activity_log")
			require.Equal(t, before, after)
			a := lastEvent(t, f.s.DB(), models.EventPasswordResetRequested)
			require.Nil(t, a.UserID, "the unknown address's request names no user")
			require.JSONEq(t, `{"account":false}`, a.Metadata)
		})

		t.Run("ErrDeliver", func(t *testing.T) {
			failed := errors.New("smtp down")
			err := f.s.PasswordResets.Request(ctx, u.Email, func(context.Context, string, string) error { return failed })
			require.ErrorIs(t, err, failed, "Request(deliver fails) = %v; want the deliver error", err)
		})
	})
}

func TestPasswordResetsReset(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b Backend) {
		f := newFixture(t, b)
		ctx := requestCtx()
		h := hooks.DefaultHasher()
		const next = "a brand new passphrase"

		t.Run("OK", func(t *testing.T) {
			u := f.user(t, "reset-ok@example.com")
			token := f.requestReset(t, u.Email)
			got, err := f.s.PasswordResets.Reset(ctx, token, next, next)
			require.NoError(t, err, "Reset(token) = %v; want nil", err)
			require.Equal(t, u.ID, got.ID)
			stored := f.storedHash(t, u.ID)
			require.Equal(t, stored, got.PasswordHash)
			ok, err := h.Verify(stored, next)
			require.NoError(t, err)
			require.True(t, ok, "the reset password does not verify")
			var prID string
			require.NoError(t, f.s.DB().Raw("SELECT id FROM password_resets WHERE token_hash = ?", hooks.Digest(token)).Scan(&prID).Error)
			require.Equal(t, utcFmt(f.clock.Now()), utcText(t, f.s.DB(), "password_resets", "used_at", prID), "password_resets.used_at")
			require.EqualValues(t, 1, countEvents(t, f.s.DB(), models.EventPasswordResetCompleted, &u.ID))
			require.EqualValues(t, 1, countEvents(t, f.s.DB(), models.EventPasswordChanged, &u.ID))
		})

		t.Run("ErrInvalidInput", func(t *testing.T) {
			u := f.user(t, "reset-invalid@example.com")
			token := f.requestReset(t, u.Email)
			before := snapshotTables(t, f.s.DB())
			for _, c := range []struct{ pw, confirm string }{{"short", "short"}, {next, next + "!"}} {
				_, err := f.s.PasswordResets.Reset(ctx, token, c.pw, c.confirm)
				require.ErrorIs(t, err, repositories.ErrInvalidInput, "Reset(%q, %q) = %v; want ErrInvalidInput", c.pw, c.confirm, err)
			}
			require.Equal(t, before, snapshotTables(t, f.s.DB()), "a refused reset consumed the token or wrote rows")
		})

		t.Run("ErrNotFound", func(t *testing.T) {
			_, err := f.s.PasswordResets.Reset(ctx, "unknown-token", next, next)
			require.ErrorIs(t, err, repositories.ErrNotFound, "Reset(unknown) = %v; want ErrNotFound", err)
		})

		t.Run("ErrUsed", func(t *testing.T) {
			u := f.user(t, "reset-used@example.com")
			token := f.requestReset(t, u.Email)
			_, err := f.s.PasswordResets.Consume(ctx, token)
			require.NoError(t, err)
			before := snapshotTables(t, f.s.DB())
			_, err = f.s.PasswordResets.Reset(ctx, token, next, next)
			require.ErrorIs(t, err, repositories.ErrUsed, "Reset(used) = %v; want ErrUsed", err)
			require.Equal(t, before, snapshotTables(t, f.s.DB()))
		})

		t.Run("ErrExpired", func(t *testing.T) {
			u := f.user(t, "reset-expired@example.com")
			token := f.requestReset(t, u.Email)
			f.clock.Advance(f.cfg.PasswordResetLifetime)
			before := snapshotTables(t, f.s.DB())
			_, err := f.s.PasswordResets.Reset(ctx, token, next, next)
			require.ErrorIs(t, err, repositories.ErrExpired, "Reset(expired) = %v; want ErrExpired", err)
			require.Equal(t, before, snapshotTables(t, f.s.DB()), "an expired reset changed something")
		})
	})
}

func TestPasswordResetsConsume(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b Backend) {
		f := newFixture(t, b)
		ctx := requestCtx()
		u := f.user(t, "consume@example.com")

		t.Run("OK", func(t *testing.T) {
			token := f.requestReset(t, u.Email)
			f.clock.Advance(f.cfg.PasswordResetLifetime - time.Second)
			pr, err := f.s.PasswordResets.Consume(ctx, token)
			require.NoError(t, err, "Consume(token) = %v; want nil", err)
			require.Equal(t, u.ID, pr.UserID)
			require.NotNil(t, pr.UsedAt)
			require.True(t, pr.UsedAt.Equal(f.clock.Now()), "UsedAt = %v; want %v", pr.UsedAt, f.clock.Now())
			require.Equal(t, u.PasswordHash, f.storedHash(t, u.ID), "Consume changed the password")

			_, err = f.s.PasswordResets.Consume(ctx, token)
			require.ErrorIs(t, err, repositories.ErrUsed, "Consume twice = %v; want ErrUsed", err)
		})

		t.Run("ErrNotFound", func(t *testing.T) {
			for _, tok := range []string{"", "unknown"} {
				_, err := f.s.PasswordResets.Consume(ctx, tok)
				require.ErrorIs(t, err, repositories.ErrNotFound, "Consume(%q) = %v; want ErrNotFound", tok, err)
			}
		})

		t.Run("ErrExpired", func(t *testing.T) {
			token := f.requestReset(t, u.Email)
			f.clock.Advance(f.cfg.PasswordResetLifetime)
			_, err := f.s.PasswordResets.Consume(ctx, token)
			require.ErrorIs(t, err, repositories.ErrExpired, "Consume(expired) = %v; want ErrExpired", err)
		})
	})
}

// TestPasswordResetsSingleUse proves that 20 concurrent resets with one
// token change the password exactly once; a reset token expires; a newer
// request voids older ones.
//
// SECURITY 25: a reset token is single use (20 goroutines: exactly one password change), expires, and a newer request voids older ones.
func TestPasswordResetsSingleUse(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b Backend) {
		// Let every goroutine hash at once, so that they reach the database
		// together instead of one hash slot apart (with OWASP's
		// lowest-memory row: see lightHasher).
		f := newFixture(t, b, withStoreOptions(authstore.WithHasher(lightHasher(t, 20))))
		ctx := requestCtx()

		t.Run("OKExactlyOnceUnderConcurrency", func(t *testing.T) {
			u := f.user(t, "race@example.com")
			token := f.requestReset(t, u.Email)
			const n = 20
			errs := make([]error, n)
			barrier(n, func(i int) {
				pw := fmt.Sprintf("concurrent passphrase %02d", i)
				_, errs[i] = f.s.PasswordResets.Reset(ctx, token, pw, pw)
			})
			winner := -1
			for i, err := range errs {
				if err == nil {
					require.Equal(t, -1, winner, "Reset succeeded for goroutines %d and %d", winner, i)
					winner = i
					continue
				}
				require.ErrorIs(t, err, repositories.ErrUsed, "Reset(goroutine %d) = %v; want nil or ErrUsed", i, err)
			}
			require.NotEqual(t, -1, winner, "no Reset succeeded")
			require.EqualValues(t, 1, countEvents(t, f.s.DB(), models.EventPasswordResetCompleted, &u.ID), "password_reset.completed rows")
			require.EqualValues(t, 1, countEvents(t, f.s.DB(), models.EventPasswordChanged, &u.ID), "password.changed rows")
			ok, err := hooks.DefaultHasher().Verify(f.storedHash(t, u.ID), fmt.Sprintf("concurrent passphrase %02d", winner))
			require.NoError(t, err)
			require.True(t, ok, "the stored password is not the winner's")
		})

		t.Run("ErrExpired", func(t *testing.T) {
			u := f.user(t, "expiry@example.com")
			token := f.requestReset(t, u.Email)
			f.clock.Advance(f.cfg.PasswordResetLifetime - time.Second)
			_, err := f.s.PasswordResets.Consume(ctx, token)
			require.NoError(t, err, "Consume 1s before AUTH_PASSWORD_RESET_LIFETIME = %v; want nil", err)

			token = f.requestReset(t, u.Email)
			f.clock.Advance(f.cfg.PasswordResetLifetime)
			_, err = f.s.PasswordResets.Reset(ctx, token, "too late passphrase", "too late passphrase")
			require.ErrorIs(t, err, repositories.ErrExpired, "Reset at AUTH_PASSWORD_RESET_LIFETIME = %v; want ErrExpired", err)
			require.Equal(t, u.PasswordHash, f.storedHash(t, u.ID), "an expired reset changed the password")
		})

		t.Run("NewerRequestVoidsOlder", func(t *testing.T) {
			u := f.user(t, "newer@example.com")
			older := f.requestReset(t, u.Email)
			newer := f.requestReset(t, u.Email)
			require.NotEqual(t, older, newer)
			_, err := f.s.PasswordResets.Reset(ctx, older, "older passphrase", "older passphrase")
			require.True(t, errors.Is(err, repositories.ErrNotFound) || errors.Is(err, repositories.ErrUsed), "Reset(older token) = %v; want ErrNotFound or ErrUsed", err)
			require.Equal(t, u.PasswordHash, f.storedHash(t, u.ID))
			_, err = f.s.PasswordResets.Reset(ctx, newer, "newer passphrase", "newer passphrase")
			require.NoError(t, err, "Reset(newer token) = %v; want nil", err)
		})
	})
}

// TestPasswordResetsThrottled checks the per-account throttle of reset
// requests (AUTH_PASSWORD_RESET_THROTTLE, default 60 s): within it a
// request returns what any request returns and writes and sends nothing;
// after it a request works again.
func TestPasswordResetsThrottled(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b Backend) {
		f := newFixture(t, b, withConfig(func(c *config.Config) { c.PasswordResetThrottle = config.Default().PasswordResetThrottle }))
		require.Equal(t, time.Minute, f.cfg.PasswordResetThrottle)
		ctx := requestCtx()
		u := f.user(t, "throttle@example.com")
		first := f.requestReset(t, u.Email)

		f.clock.Advance(30 * time.Second)
		before := snapshotTables(t, f.s.DB())
		sent := 0
		err := f.s.PasswordResets.Request(ctx, u.Email, func(context.Context, string, string) error { sent++; return nil })
		require.NoError(t, err, "a throttled request answers as any request does")
		require.Zero(t, sent, "a throttled request sent a token")
		require.Equal(t, before, snapshotTables(t, f.s.DB()), "a throttled request wrote rows")
		_, err = f.s.PasswordResets.Consume(ctx, first)
		require.NoError(t, err, "the throttled request voided the outstanding token")

		f.clock.Advance(31 * time.Second)
		second := f.requestReset(t, u.Email)
		require.NotEqual(t, first, second)
	})
}
