package integration

// Tests of repositories.EmailVerifications (table email_verifications):
// each method's success and error paths, and SECURITY.md 26 (a token is
// bound to the address it was sent sent.Email).

import (
	"testing"
	"time"

	"github.com/forgeauth/authstore/hooks"
	"github.com/forgeauth/authstore/models"
	"github.com/forgeauth/authstore/repositories"
	"github.com/stretchr/testify/require"
)

func TestEmailVerificationsIssue(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b Backend) {
		f := newFixture(t, b)
		ctx := requestCtx()
		u := f.user(t, "Issue@example.com")

		t.Run("OK", func(t *testing.T) {
			sent, token, err := f.s.EmailVerifications.Issue(ctx, u.ID)
			require.NoError(t, err, "Issue(%s) = %v; want nil", u.ID, err)
			require.Len(t, token, 43)
			require.Equal(t, u.Email, sent.Email)
			var v models.EmailVerification
			require.NoError(t, f.s.DB().Where("token_hash = ?", hooks.Digest(token)).Take(&v).Error)
			require.Equal(t, u.ID, v.UserID)
			require.Equal(t, u.Email, v.Email, "the token must be bound to the address it was sent to")
			require.Nil(t, v.VerifiedAt)
			require.True(t, v.ExpiresAt.Equal(f.clock.Now().Add(f.cfg.EmailVerificationLifetime)), "ExpiresAt = %v", v.ExpiresAt)
			require.EqualValues(t, 1, countEvents(t, f.s.DB(), models.EventEmailVerificationSent, &u.ID))
		})

		t.Run("ErrNotFound", func(t *testing.T) {
			before := snapshotTables(t, f.s.DB())
			for _, id := range []models.UUID{models.NewUUID(), "not-a-uuid", ""} {
				_, token, err := f.s.EmailVerifications.Issue(ctx, id)
				require.ErrorIs(t, err, idErr(id, repositories.ErrNotFound), "Issue(%q) = %v; want %v", id, err, idErr(id, repositories.ErrNotFound))
				require.Empty(t, token)
			}
			require.Equal(t, before, snapshotTables(t, f.s.DB()))
		})
	})
}

func TestEmailVerificationsConsume(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b Backend) {
		f := newFixture(t, b)
		ctx := requestCtx()
		u := f.user(t, "consume-verify@example.com")

		t.Run("OK", func(t *testing.T) {
			_, token, err := f.s.EmailVerifications.Issue(ctx, u.ID)
			require.NoError(t, err)
			f.clock.Advance(time.Hour)
			got, err := f.s.EmailVerifications.Consume(ctx, token)
			require.NoError(t, err, "Consume(token) = %v; want nil", err)
			require.Equal(t, u.ID, got.ID)
			require.NotNil(t, got.EmailVerifiedAt)
			require.True(t, got.EmailVerifiedAt.Equal(f.clock.Now()))
			require.Equal(t, utcFmt(f.clock.Now()), utcText(t, f.s.DB(), "users", "email_verified_at", u.ID))
			require.EqualValues(t, 1, countEvents(t, f.s.DB(), models.EventEmailVerified, &u.ID))
		})

		t.Run("ErrNotFound", func(t *testing.T) {
			for _, tok := range []string{"", "unknown"} {
				_, err := f.s.EmailVerifications.Consume(ctx, tok)
				require.ErrorIs(t, err, repositories.ErrNotFound, "Consume(%q) = %v; want ErrNotFound", tok, err)
			}
		})

		t.Run("ErrUsed", func(t *testing.T) {
			_, token, err := f.s.EmailVerifications.Issue(ctx, u.ID)
			require.NoError(t, err)
			_, err = f.s.EmailVerifications.Consume(ctx, token)
			require.NoError(t, err)
			before := snapshotTables(t, f.s.DB())
			_, err = f.s.EmailVerifications.Consume(ctx, token)
			require.ErrorIs(t, err, repositories.ErrUsed, "Consume twice = %v; want ErrUsed", err)
			require.Equal(t, before, snapshotTables(t, f.s.DB()))
		})

		t.Run("ErrExpired", func(t *testing.T) {
			v := f.user(t, "late@example.com")
			_, token, err := f.s.EmailVerifications.Issue(ctx, v.ID)
			require.NoError(t, err)
			f.clock.Advance(f.cfg.EmailVerificationLifetime)
			_, err = f.s.EmailVerifications.Consume(ctx, token)
			require.ErrorIs(t, err, repositories.ErrExpired, "Consume(expired) = %v; want ErrExpired", err)
			got, err := f.s.Users.FindByID(ctx, v.ID)
			require.NoError(t, err)
			require.Nil(t, got.EmailVerifiedAt, "an expired token verified the address")
		})
	})
}

// TestEmailVerificationsBoundToAddress proves that a verification token
// verifies only the address it was sent sent.Email, expires, and is single use.
//
// SECURITY 26: a verification token is bound to the address it was sent to: after an email change the old token fails.
func TestEmailVerificationsBoundToAddress(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b Backend) {
		f := newFixture(t, b)
		ctx := requestCtx()

		t.Run("ErrRevokedAfterEmailChange", func(t *testing.T) {
			u := f.user(t, "before@example.com")
			sent, token, err := f.s.EmailVerifications.Issue(ctx, u.ID)
			require.NoError(t, err)
			require.Equal(t, "before@example.com", sent.Email)
			email := "after@example.com"
			_, err = f.s.Users.UpdateProfile(ctx, u.ID, repositories.ProfileInput{Email: &email})
			require.NoError(t, err)
			_, err = f.s.EmailVerifications.Consume(ctx, token)
			require.ErrorIs(t, err, repositories.ErrRevoked, "Consume(token sent to the old address) = %v; want ErrRevoked", err)
			got, err := f.s.Users.FindByID(ctx, u.ID)
			require.NoError(t, err)
			require.Nil(t, got.EmailVerifiedAt, "a token for the old address verified the new one")

			sent, fresh, err := f.s.EmailVerifications.Issue(ctx, u.ID)
			require.NoError(t, err)
			require.Equal(t, email, sent.Email)
			_, err = f.s.EmailVerifications.Consume(ctx, fresh)
			require.NoError(t, err, "Consume(token sent to the new address) = %v; want nil", err)
		})

		t.Run("ErrExpired", func(t *testing.T) {
			u := f.user(t, "expire-verify@example.com")
			_, token, err := f.s.EmailVerifications.Issue(ctx, u.ID)
			require.NoError(t, err)
			f.clock.Advance(f.cfg.EmailVerificationLifetime)
			_, err = f.s.EmailVerifications.Consume(ctx, token)
			require.ErrorIs(t, err, repositories.ErrExpired, "Consume at AUTH_EMAIL_VERIFICATION_LIFETIME = %v; want ErrExpired", err)
		})

		t.Run("ErrUsed", func(t *testing.T) {
			u := f.user(t, "twice-verify@example.com")
			_, token, err := f.s.EmailVerifications.Issue(ctx, u.ID)
			require.NoError(t, err)
			_, err = f.s.EmailVerifications.Consume(ctx, token)
			require.NoError(t, err)
			_, err = f.s.EmailVerifications.Consume(ctx, token)
			require.ErrorIs(t, err, repositories.ErrUsed, "Consume twice = %v; want ErrUsed", err)
			require.EqualValues(t, 1, countEvents(t, f.s.DB(), models.EventEmailVerified, &u.ID))
		})

		t.Run("OKSetsEmailVerifiedAt", func(t *testing.T) {
			u := f.user(t, "ok-verify@example.com")
			_, token, err := f.s.EmailVerifications.Issue(ctx, u.ID)
			require.NoError(t, err)
			f.clock.Advance(f.cfg.EmailVerificationLifetime - time.Second)
			got, err := f.s.EmailVerifications.Consume(ctx, token)
			require.NoError(t, err)
			require.NotNil(t, got.EmailVerifiedAt)
			require.Equal(t, utcFmt(f.clock.Now()), utcText(t, f.s.DB(), "users", "email_verified_at", u.ID))
		})

		t.Run("OKConcurrentConsumeOnce", func(t *testing.T) {
			u := f.user(t, "race-verify@example.com")
			_, token, err := f.s.EmailVerifications.Issue(ctx, u.ID)
			require.NoError(t, err)
			const n = 20
			errs := make([]error, n)
			barrier(n, func(i int) { _, errs[i] = f.s.EmailVerifications.Consume(ctx, token) })
			ok := 0
			for i, err := range errs {
				if err == nil {
					ok++
					continue
				}
				require.ErrorIs(t, err, repositories.ErrUsed, "Consume(goroutine %d) = %v; want nil or ErrUsed", i, err)
			}
			require.Equal(t, 1, ok, "%d concurrent Consume calls succeeded; want 1", ok)
			require.EqualValues(t, 1, countEvents(t, f.s.DB(), models.EventEmailVerified, &u.ID))
		})
	})
}
