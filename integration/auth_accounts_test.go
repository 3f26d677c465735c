package integration

// SECURITY.md 24–28: what a password change ends, single-use resets,
// verification tokens bound to an address, no account enumeration, and
// failed logins counted atomically.

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/forgeauth/authstore"
	"github.com/forgeauth/authstore/hooks"
	"github.com/forgeauth/authstore/models"
	"github.com/forgeauth/authstore/repositories"
	"github.com/stretchr/testify/require"
)

// authGrant is an OAuth client with a refresh and an access token of one
// user, written directly with GORM.
type authGrant struct {
	Client  *models.Client
	Access  *models.AccessToken
	Refresh *models.RefreshToken
}

func authInsertGrant(t *testing.T, s *authstore.Store, userID models.UUID) authGrant {
	t.Helper()
	db := s.DB.WithContext(requestCtx())
	now := s.Now()
	c := &models.Client{Name: "app", RedirectURIs: models.Strings{"https://app.example.com/cb"},
		GrantTypes: models.Strings{"authorization_code", "refresh_token"}, Scopes: models.Strings{"read"}}
	require.NoError(t, db.Create(c).Error)
	at := &models.AccessToken{ClientID: c.ID, UserID: &userID, Name: "", Scopes: models.Strings{"read"}, ExpiresAt: now.Add(time.Hour)}
	require.NoError(t, db.Create(at).Error)
	tok, err := hooks.NewToken()
	require.NoError(t, err)
	rt := &models.RefreshToken{TokenHash: hooks.Digest(tok), AccessTokenID: &at.ID, ClientID: c.ID, UserID: &userID,
		Scopes: models.Strings{"read"}, ExpiresAt: now.Add(24 * time.Hour)}
	require.NoError(t, db.Create(rt).Error)
	at.FamilyID = &rt.FamilyID
	require.NoError(t, db.Model(at).Update("family_id", rt.FamilyID).Error)
	return authGrant{Client: c, Access: at, Refresh: rt}
}

// revoked reports whether the grant's refresh and access tokens are revoked.
func (g authGrant) revoked(t *testing.T, s *authstore.Store) (refresh, access bool) {
	t.Helper()
	var rt models.RefreshToken
	require.NoError(t, s.DB.Where("id = ?", g.Refresh.ID).Take(&rt).Error)
	var at models.AccessToken
	require.NoError(t, s.DB.Where("id = ?", g.Access.ID).Take(&at).Error)
	return rt.Revoked, at.Revoked
}

// TestPasswordChangeEndsAccess proves SECURITY 24: ChangePassword and a
// completed reset end the user's other sessions, revoke their refresh and
// access tokens and void outstanding resets; other users keep theirs. (That
// it happens in one transaction is TestMultiStepChangesAreAtomic.)
func TestPasswordChangeEndsAccess(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b Backend) {
		s := openMigrated(t, b)
		ctx := requestCtx()
		const next = "a brand new passphrase"

		// setup gives a user three sessions, a grant and an outstanding
		// reset, and a bystander the same.
		type fixture struct {
			user            *models.User
			sessions        []string
			grant           authGrant
			reset           string
			bystander       *models.User
			bystanderGrant  authGrant
			bystanderReset  string
			bystanderSessID models.UUID
		}
		setup := func(t *testing.T, name string) fixture {
			f := fixture{user: authInsertUser(t, s, name+"@example.com"), bystander: authInsertUser(t, s, name+"-bystander@example.com")}
			for i := 0; i < 3; i++ {
				_, tok, err := s.Sessions.Create(ctx, f.user.ID, repositories.NewSession{})
				require.NoError(t, err)
				f.sessions = append(f.sessions, tok)
			}
			bs, _, err := s.Sessions.Create(ctx, f.bystander.ID, repositories.NewSession{})
			require.NoError(t, err)
			f.bystanderSessID = bs.ID
			f.grant = authInsertGrant(t, s, f.user.ID)
			f.bystanderGrant = authInsertGrant(t, s, f.bystander.ID)
			f.reset = authRequestReset(t, s.PasswordResets, f.user.Email)
			f.bystanderReset = authRequestReset(t, s.PasswordResets, f.bystander.Email)
			return f
		}
		checkBystander := func(t *testing.T, f fixture) {
			require.EqualValues(t, 1, countRows(t, s.DB, "sessions", "id = ?", f.bystanderSessID), "another user's session ended")
			rt, at := f.bystanderGrant.revoked(t, s)
			require.False(t, rt || at, "another user's tokens were revoked")
			require.EqualValues(t, 1, countRows(t, s.DB, "password_resets", "token_hash = ? AND used_at IS NULL", hooks.Digest(f.bystanderReset)), "another user's reset was voided")
		}

		t.Run("ChangePassword", func(t *testing.T) {
			f := setup(t, "change")
			keep, err := s.Sessions.Find(ctx, f.sessions[0])
			require.NoError(t, err)
			require.NoError(t, s.Users.ChangePassword(ctx, f.user.ID, authPassword, next, next, keep.ID))

			_, err = s.Sessions.Find(ctx, f.sessions[0])
			require.NoError(t, err, "ChangePassword ended the session it was asked to keep")
			for _, tok := range f.sessions[1:] {
				_, err := s.Sessions.Find(ctx, tok)
				require.ErrorIs(t, err, repositories.ErrNotFound, "Find(other session) after ChangePassword = %v; want ErrNotFound", err)
			}
			rt, at := f.grant.revoked(t, s)
			require.True(t, rt, "ChangePassword left the refresh token live")
			require.True(t, at, "ChangePassword left the access token live")
			_, err = s.PasswordResets.Consume(ctx, f.reset)
			require.Error(t, err, "an outstanding reset survived ChangePassword")
			require.True(t, errors.Is(err, repositories.ErrNotFound) || errors.Is(err, repositories.ErrUsed), "Consume(voided reset) = %v; want ErrNotFound or ErrUsed", err)
			checkBystander(t, f)
		})

		t.Run("CompletedReset", func(t *testing.T) {
			f := setup(t, "reset")
			// A second outstanding reset, written as host code would.
			other, err := hooks.NewToken()
			require.NoError(t, err)
			require.NoError(t, s.DB.WithContext(ctx).Create(&models.PasswordReset{UserID: f.user.ID, Email: f.user.Email, Token: other, ExpiresAt: s.Now().Add(time.Hour)}).Error)

			_, err = s.PasswordResets.Reset(ctx, f.reset, next, next)
			require.NoError(t, err)
			for _, tok := range f.sessions {
				_, err := s.Sessions.Find(ctx, tok)
				require.ErrorIs(t, err, repositories.ErrNotFound, "Find(session) after a reset = %v; want ErrNotFound", err)
			}
			rt, at := f.grant.revoked(t, s)
			require.True(t, rt, "a reset left the refresh token live")
			require.True(t, at, "a reset left the access token live")
			_, err = s.PasswordResets.Consume(ctx, other)
			require.True(t, errors.Is(err, repositories.ErrNotFound) || errors.Is(err, repositories.ErrUsed), "Consume(other outstanding reset) = %v; want ErrNotFound or ErrUsed", err)
			checkBystander(t, f)
		})
	})
}

// TestResetTokenSingleUse proves SECURITY 25: 20 concurrent resets with one
// token change the password exactly once; a reset token expires; a newer
// request voids older ones.
func TestResetTokenSingleUse(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b Backend) {
		// Let every goroutine hash at once, so that they reach the database
		// together instead of one hash slot apart.
		s, clock := authClockStore(t, b, authstore.WithHasher(hooks.DefaultHasher().WithConcurrency(20)))
		ctx := requestCtx()

		t.Run("OKExactlyOnceUnderConcurrency", func(t *testing.T) {
			u := authInsertUser(t, s, "race@example.com")
			token := authRequestReset(t, s.PasswordResets, u.Email)
			const n = 20
			errs := make([]error, n)
			barrier(n, func(i int) {
				pw := fmt.Sprintf("concurrent passphrase %02d", i)
				_, errs[i] = s.PasswordResets.Reset(ctx, token, pw, pw)
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
			require.EqualValues(t, 1, countEvents(t, s.DB, hooks.EventPasswordResetCompleted, &u.ID), "password_reset.completed rows")
			require.EqualValues(t, 1, countEvents(t, s.DB, hooks.EventPasswordChanged, &u.ID), "password.changed rows")
			ok, err := hooks.DefaultHasher().Verify(authStoredHash(t, s.DB, u.ID), fmt.Sprintf("concurrent passphrase %02d", winner))
			require.NoError(t, err)
			require.True(t, ok, "the stored password is not the winner's")
		})

		t.Run("ErrExpired", func(t *testing.T) {
			u := authInsertUser(t, s, "expiry@example.com")
			token := authRequestReset(t, s.PasswordResets, u.Email)
			clock.Advance(s.Config.PasswordResetLifetime - time.Second)
			_, err := s.PasswordResets.Consume(ctx, token)
			require.NoError(t, err, "Consume 1s before AUTH_PASSWORD_RESET_LIFETIME = %v; want nil", err)

			token = authRequestReset(t, s.PasswordResets, u.Email)
			clock.Advance(s.Config.PasswordResetLifetime)
			_, err = s.PasswordResets.Reset(ctx, token, "too late passphrase", "too late passphrase")
			require.ErrorIs(t, err, repositories.ErrExpired, "Reset at AUTH_PASSWORD_RESET_LIFETIME = %v; want ErrExpired", err)
			require.Equal(t, u.PasswordHash, authStoredHash(t, s.DB, u.ID), "an expired reset changed the password")
		})

		t.Run("NewerRequestVoidsOlder", func(t *testing.T) {
			u := authInsertUser(t, s, "newer@example.com")
			older := authRequestReset(t, s.PasswordResets, u.Email)
			newer := authRequestReset(t, s.PasswordResets, u.Email)
			require.NotEqual(t, older, newer)
			_, err := s.PasswordResets.Reset(ctx, older, "older passphrase", "older passphrase")
			require.True(t, errors.Is(err, repositories.ErrNotFound) || errors.Is(err, repositories.ErrUsed), "Reset(older token) = %v; want ErrNotFound or ErrUsed", err)
			require.Equal(t, u.PasswordHash, authStoredHash(t, s.DB, u.ID))
			_, err = s.PasswordResets.Reset(ctx, newer, "newer passphrase", "newer passphrase")
			require.NoError(t, err, "Reset(newer token) = %v; want nil", err)
		})
	})
}

// TestVerificationBoundToAddress proves SECURITY 26: a verification token
// verifies only the address it was sent to, expires, and is single use.
func TestVerificationBoundToAddress(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b Backend) {
		s, clock := authClockStore(t, b)
		ctx := requestCtx()

		t.Run("ErrRevokedAfterEmailChange", func(t *testing.T) {
			u := authInsertUser(t, s, "before@example.com")
			token, to, err := s.EmailVerifications.Issue(ctx, u.ID)
			require.NoError(t, err)
			require.Equal(t, "before@example.com", to)
			email := "after@example.com"
			_, err = s.Users.UpdateProfile(ctx, u.ID, repositories.ProfileUpdate{Email: &email})
			require.NoError(t, err)
			_, err = s.EmailVerifications.Consume(ctx, token)
			require.ErrorIs(t, err, repositories.ErrRevoked, "Consume(token sent to the old address) = %v; want ErrRevoked", err)
			got, err := s.Users.FindByID(ctx, u.ID)
			require.NoError(t, err)
			require.Nil(t, got.EmailVerifiedAt, "a token for the old address verified the new one")

			fresh, to, err := s.EmailVerifications.Issue(ctx, u.ID)
			require.NoError(t, err)
			require.Equal(t, email, to)
			_, err = s.EmailVerifications.Consume(ctx, fresh)
			require.NoError(t, err, "Consume(token sent to the new address) = %v; want nil", err)
		})

		t.Run("ErrExpired", func(t *testing.T) {
			u := authInsertUser(t, s, "expire-verify@example.com")
			token, _, err := s.EmailVerifications.Issue(ctx, u.ID)
			require.NoError(t, err)
			clock.Advance(s.Config.EmailVerificationLifetime)
			_, err = s.EmailVerifications.Consume(ctx, token)
			require.ErrorIs(t, err, repositories.ErrExpired, "Consume at AUTH_EMAIL_VERIFICATION_LIFETIME = %v; want ErrExpired", err)
		})

		t.Run("ErrUsed", func(t *testing.T) {
			u := authInsertUser(t, s, "twice-verify@example.com")
			token, _, err := s.EmailVerifications.Issue(ctx, u.ID)
			require.NoError(t, err)
			_, err = s.EmailVerifications.Consume(ctx, token)
			require.NoError(t, err)
			_, err = s.EmailVerifications.Consume(ctx, token)
			require.ErrorIs(t, err, repositories.ErrUsed, "Consume twice = %v; want ErrUsed", err)
			require.EqualValues(t, 1, countEvents(t, s.DB, hooks.EventEmailVerified, &u.ID))
		})

		t.Run("OKSetsEmailVerifiedAt", func(t *testing.T) {
			u := authInsertUser(t, s, "ok-verify@example.com")
			token, _, err := s.EmailVerifications.Issue(ctx, u.ID)
			require.NoError(t, err)
			clock.Advance(s.Config.EmailVerificationLifetime - time.Second)
			got, err := s.EmailVerifications.Consume(ctx, token)
			require.NoError(t, err)
			require.NotNil(t, got.EmailVerifiedAt)
			require.Equal(t, authFmt(clock.Now()), authUTCText(t, s.DB, "users", "email_verified_at", u.ID))
		})

		t.Run("OKConcurrentConsumeOnce", func(t *testing.T) {
			u := authInsertUser(t, s, "race-verify@example.com")
			token, _, err := s.EmailVerifications.Issue(ctx, u.ID)
			require.NoError(t, err)
			const n = 20
			errs := make([]error, n)
			barrier(n, func(i int) { _, errs[i] = s.EmailVerifications.Consume(ctx, token) })
			ok := 0
			for i, err := range errs {
				if err == nil {
					ok++
					continue
				}
				require.ErrorIs(t, err, repositories.ErrUsed, "Consume(goroutine %d) = %v; want nil or ErrUsed", i, err)
			}
			require.Equal(t, 1, ok, "%d concurrent Consume calls succeeded; want 1", ok)
			require.EqualValues(t, 1, countEvents(t, s.DB, hooks.EventEmailVerified, &u.ID))
		})
	})
}

// TestNoAccountEnumeration proves SECURITY 27: a reset request for an
// unknown email answers like a known one and writes nothing; a login with
// an unknown email does the same Argon2id work, once, as a wrong password.
func TestNoAccountEnumeration(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b Backend) {
		s := openMigrated(t, b)
		ctx := requestCtx()
		u := authInsertUser(t, s, "known@example.com")

		t.Run("ResetRequest", func(t *testing.T) {
			before := authRowCounts(t, s.DB)
			calls := 0
			deliver := func(context.Context, string, string) error { calls++; return nil }
			unknownErr := s.PasswordResets.Request(ctx, "unknown@example.com", deliver)
			require.Equal(t, before, authRowCounts(t, s.DB), "Request(unknown email) wrote rows")
			require.Zero(t, calls, "Request(unknown email) called deliver")
			knownErr := s.PasswordResets.Request(ctx, u.Email, deliver)
			require.Equal(t, knownErr, unknownErr, "Request(unknown) = %v; Request(known) = %v; want the same", unknownErr, knownErr)
			require.NoError(t, unknownErr)
			require.Equal(t, 1, calls, "Request(known email) called deliver %d times", calls)
		})

		t.Run("LoginVerifierRunsOnce", func(t *testing.T) {
			var unknownErr, wrongErr error
			unknown := allocatedBytes(func() { _, unknownErr = s.Users.Authenticate(ctx, "unknown@example.com", authPassword) })
			wrong := allocatedBytes(func() { _, wrongErr = s.Users.Authenticate(ctx, u.Email, authPassword+"!") })
			require.ErrorIs(t, unknownErr, repositories.ErrInvalidCredentials)
			require.ErrorIs(t, wrongErr, repositories.ErrInvalidCredentials)
			require.Equal(t, wrongErr.Error(), unknownErr.Error(), "an unknown email and a wrong password must fail alike")

			cost := uint64(hooks.DefaultParams().Memory) * 1024 // one Argon2id run allocates its memory
			for name, got := range map[string]uint64{"unknown email": unknown, "wrong password": wrong} {
				require.GreaterOrEqual(t, got, cost, "Authenticate(%s) allocated %d bytes; want >= %d (one Argon2id run)", name, got, cost)
				require.Less(t, got, cost*3/2, "Authenticate(%s) allocated %d bytes; want < %d (exactly one Argon2id run)", name, got, cost*3/2)
			}
			ratio := float64(max(unknown, wrong)) / float64(min(unknown, wrong))
			require.LessOrEqual(t, ratio, 1.5, "unknown email allocated %d bytes, wrong password %d", unknown, wrong)
		})
	})
}

// TestFailedLoginsCountedAtomically proves SECURITY 28: 50 concurrent wrong
// passwords count 50 and log 50 failures; a success resets the count.
func TestFailedLoginsCountedAtomically(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b Backend) {
		// Let every goroutine verify at once, so that the failures reach the
		// database together instead of one hash slot apart.
		s := openMigrated(t, b, authstore.WithHasher(hooks.DefaultHasher().WithConcurrency(50)))
		ctx := requestCtx()
		u := authInsertUser(t, s, "counted@example.com")

		t.Run("OK", func(t *testing.T) {
			const n = 50
			errs := make([]error, n)
			barrier(n, func(i int) {
				_, errs[i] = s.Users.Authenticate(ctx, u.Email, fmt.Sprintf("wrong password %d", i))
			})
			for i, err := range errs {
				require.ErrorIs(t, err, repositories.ErrInvalidCredentials, "Authenticate(goroutine %d) = %v; want ErrInvalidCredentials", i, err)
			}
			got, err := s.Users.FindByID(ctx, u.ID)
			require.NoError(t, err)
			require.EqualValues(t, n, got.FailedLogins, "failed_logins = %d; want %d", got.FailedLogins, n)
			require.EqualValues(t, n, countEvents(t, s.DB, hooks.EventLoginFailed, &u.ID), "login.failed rows")
			require.Equal(t, u.PasswordHash, authStoredHash(t, s.DB, u.ID))

			_, err = s.Users.Authenticate(ctx, u.Email, authPassword)
			require.NoError(t, err)
			got, err = s.Users.FindByID(ctx, u.ID)
			require.NoError(t, err)
			require.Zero(t, got.FailedLogins, "failed_logins after a success = %d; want 0", got.FailedLogins)
		})
	})
}
