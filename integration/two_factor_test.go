package integration

import (
	"crypto/sha256"
	"encoding/base32"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"
	"github.com/stretchr/testify/require"

	"github.com/forgeauth/authstore"
	"github.com/forgeauth/authstore/config"
	"github.com/forgeauth/authstore/envelope"
	"github.com/forgeauth/authstore/models"
	"github.com/forgeauth/authstore/repositories"
)

// withTwoFactor turns two-factor authentication on, with a master key for
// the TOTP secrets and a separate recovery key.
func withTwoFactor(c *config.Config) {
	c.EnableTwoFactor = true
	c.EncryptionKey = config.Secret(base64.StdEncoding.EncodeToString([]byte("two-factor-test-master-key-32byt")))
	c.RecoveryKey = config.Secret(base64.StdEncoding.EncodeToString([]byte("two-factor-test-recovery-key-32b")))
}

// totpCode returns secret's TOTP code at now.
func totpCode(t *testing.T, secret string, now time.Time) string {
	t.Helper()
	code, err := totp.GenerateCodeCustom(secret, now, totp.ValidateOpts{Period: 30, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
	require.NoError(t, err)
	return code
}

// nextStep moves the fixture's clock to the start of the next TOTP step,
// so that the code of the new step has not been used.
func (f *fixture) nextStep() {
	now := f.clock.Now()
	f.clock.Advance(time.Duration(30-now.Unix()%30)*time.Second - time.Duration(now.Nanosecond()))
}

// enrolled registers email with userPassword and a confirmed factor, and
// returns the user, the TOTP secret and the recovery codes.
func (f *fixture) enrolled(t *testing.T, email string) (*models.User, string, []string) {
	t.Helper()
	ctx := requestCtx()
	u := f.user(t, email)
	secret, _, err := f.s.TwoFactor.Enrol(ctx, u.ID)
	require.NoError(t, err)
	codes, err := f.s.TwoFactor.Confirm(ctx, u.ID, totpCode(t, secret, f.clock.Now()))
	require.NoError(t, err)
	f.nextStep()
	return u, secret, codes
}

func TestTwoFactorDisabled(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b Backend) {
		f := newFixture(t, b)
		u := f.user(t, "off@example.com")
		_, _, err := f.s.TwoFactor.Enrol(requestCtx(), u.ID)
		require.ErrorIs(t, err, repositories.ErrTwoFactorDisabled)
		require.Contains(t, err.Error(), "AUTH_ENABLE_TWO_FACTOR")

		noKey := newFixture(t, b, withConfig(func(c *config.Config) { c.EnableTwoFactor = true }))
		u = noKey.user(t, "nokey@example.com")
		_, _, err = noKey.s.TwoFactor.Enrol(requestCtx(), u.ID)
		require.ErrorIs(t, err, repositories.ErrTwoFactorDisabled)
		require.Contains(t, err.Error(), "AUTHSTORE_ENCRYPTION_KEY")
	})
}

func TestTwoFactorEnrolment(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b Backend) {
		f := newFixture(t, b, withConfig(withTwoFactor))
		ctx := requestCtx()
		u := f.user(t, "enrol@example.com")

		secret, uri, err := f.s.TwoFactor.Enrol(ctx, u.ID)
		require.NoError(t, err)
		require.Regexp(t, `^[A-Z2-7]{32}$`, secret, "a 160-bit base32 secret")
		require.True(t, strings.HasPrefix(uri, "otpauth://totp/"), "Enrol uri = %q", uri)
		require.Contains(t, uri, "secret="+secret)
		st, err := f.s.TwoFactor.Status(ctx, u.ID)
		require.NoError(t, err)
		require.Equal(t, repositories.TwoFactorStatus{Enrolled: true}, st)

		// Not confirmed: the password is still a full login.
		_, err = f.s.Users.Authenticate(ctx, u.Email, userPassword)
		require.NoError(t, err)

		_, err = f.s.TwoFactor.Confirm(ctx, u.ID, "000000")
		require.ErrorIs(t, err, repositories.ErrInvalidCredentials)
		require.Equal(t, int64(1), countEvents(t, f.s.DB(), models.EventTwoFactorFailed, &u.ID))

		codes, err := f.s.TwoFactor.Confirm(ctx, u.ID, totpCode(t, secret, f.clock.Now()))
		require.NoError(t, err)
		require.Len(t, codes, repositories.RecoveryCodeCount)
		for _, c := range codes {
			require.Regexp(t, `^[a-z2-7]{4}-[a-z2-7]{4}-[a-z2-7]{4}-[a-z2-7]{4}$`, c, "16 base32 characters: 80 bits")
		}
		_, _, err = f.s.TwoFactor.Enrol(ctx, u.ID)
		require.ErrorIs(t, err, repositories.ErrDuplicate, "a confirmed factor is not replaced")
		st, err = f.s.TwoFactor.Status(ctx, u.ID)
		require.NoError(t, err)
		require.True(t, st.Confirmed)
		require.Equal(t, int64(repositories.RecoveryCodeCount), st.RecoveryCodesLeft)
		for _, e := range []models.Event{models.EventTwoFactorEnrolled, models.EventTwoFactorConfirmed, models.EventRecoveryCodesGenerated} {
			require.Equal(t, int64(1), countEvents(t, f.s.DB(), e, &u.ID), "%s rows", e)
		}

		// The secret is sealed, bound to its row.
		var stored string
		require.NoError(t, f.s.DB().Raw("SELECT two_factor_secret FROM "+f.cfg.Tables().Name("users")+" WHERE id = ?", u.ID).Scan(&stored).Error)
		require.True(t, strings.HasPrefix(stored, "ae1."), "two_factor_secret = %.12q...; want an envelope ciphertext", stored)
		other := f.user(t, "other@example.com")
		require.NoError(t, f.s.DB().Exec("UPDATE "+f.cfg.Tables().Name("users")+" SET two_factor_secret = ?, two_factor_confirmed_at = ? WHERE id = ?", stored, f.clock.Now(), other.ID).Error)
		err = f.s.TwoFactor.Verify(ctx, other.ID, totpCode(t, secret, f.clock.Now()))
		require.Error(t, err, "a secret copied to another user's row does not open")
		require.NotContains(t, err.Error(), secret)
	})
}

func TestTwoFactorLogin(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b Backend) {
		f := newFixture(t, b, withConfig(withTwoFactor))
		ctx := requestCtx()
		u, secret, codes := f.enrolled(t, "login@example.com")

		got, err := f.s.Users.Authenticate(ctx, u.Email, userPassword)
		require.ErrorIs(t, err, repositories.ErrSecondFactorRequired)
		require.Nil(t, got, "no user for a caller that ignores the second factor")
		require.Zero(t, countEvents(t, f.s.DB(), models.EventLoginSucceeded, &u.ID))

		res, challenge, err := f.s.Users.Login(ctx, u.Email, userPassword)
		require.NoError(t, err)
		require.True(t, res.SecondFactorRequired)
		require.NotEmpty(t, challenge)
		require.Equal(t, f.clock.Now().Add(models.TwoFactorChallengeLifetime), res.ChallengeExpiresAt)

		_, _, err = f.s.TwoFactor.CompleteLogin(ctx, challenge+"x", totpCode(t, secret, f.clock.Now()), repositories.SessionInput{})
		require.ErrorIs(t, err, repositories.ErrInvalidCredentials)
		_, _, err = f.s.TwoFactor.CompleteLogin(ctx, challenge, "123", repositories.SessionInput{})
		require.ErrorIs(t, err, repositories.ErrInvalidCredentials)

		s, token, err := f.s.TwoFactor.CompleteLogin(ctx, challenge, totpCode(t, secret, f.clock.Now()), repositories.SessionInput{})
		require.NoError(t, err)
		require.Equal(t, models.AssuranceTwoFactor, s.AssuranceLevel)
		require.Equal(t, f.clock.Now(), *s.SecondFactorAt)
		found, err := f.s.Sessions.Find(ctx, token)
		require.NoError(t, err)
		require.Equal(t, models.AssuranceTwoFactor, found.AssuranceLevel)
		require.Equal(t, f.clock.Now(), found.SecondFactorAt.UTC())
		require.Equal(t, int64(1), countEvents(t, f.s.DB(), models.EventLoginSucceeded, &u.ID))
		require.Equal(t, int64(1), countEvents(t, f.s.DB(), models.EventTwoFactorSucceeded, &u.ID))

		_, _, err = f.s.TwoFactor.CompleteLogin(ctx, challenge, codes[0], repositories.SessionInput{})
		require.ErrorIs(t, err, repositories.ErrUsed, "a challenge is used once")

		// A recovery code completes a login too; the challenge expires.
		_, challenge, err = f.s.Users.Login(ctx, u.Email, userPassword)
		require.NoError(t, err)
		s, _, err = f.s.TwoFactor.CompleteLogin(ctx, challenge, strings.ToUpper(codes[0]), repositories.SessionInput{})
		require.NoError(t, err)
		require.Equal(t, models.AssuranceTwoFactor, s.AssuranceLevel)
		_, challenge, err = f.s.Users.Login(ctx, u.Email, userPassword)
		require.NoError(t, err)
		f.clock.Advance(models.TwoFactorChallengeLifetime)
		_, _, err = f.s.TwoFactor.CompleteLogin(ctx, challenge, codes[1], repositories.SessionInput{})
		require.ErrorIs(t, err, repositories.ErrExpired)

		// Step-up of a password session.
		plain := f.user(t, "plain@example.com")
		_, err = f.s.Users.Authenticate(ctx, plain.Email, userPassword)
		require.NoError(t, err)
		ps, _, err := f.s.Sessions.Create(ctx, u.ID, repositories.SessionInput{})
		require.NoError(t, err)
		require.Equal(t, models.AssurancePassword, ps.AssuranceLevel)
		require.Nil(t, ps.SecondFactorAt)
		f.nextStep()
		up, err := f.s.TwoFactor.StepUp(ctx, ps.ID, totpCode(t, secret, f.clock.Now()))
		require.NoError(t, err)
		require.Equal(t, models.AssuranceTwoFactor, up.AssuranceLevel)

		// A password change voids open challenges.
		_, challenge, err = f.s.Users.Login(ctx, u.Email, userPassword)
		require.NoError(t, err)
		require.NoError(t, f.s.Users.SetPassword(ctx, u.ID, "another password 123"))
		f.nextStep()
		_, _, err = f.s.TwoFactor.CompleteLogin(ctx, challenge, totpCode(t, secret, f.clock.Now()), repositories.SessionInput{})
		require.ErrorIs(t, err, repositories.ErrInvalidCredentials)
	})
}

// TestTwoFactorChallengesPurged: Cleanup.Purge deletes the challenges no
// login can use (expired, and used: a challenge is single use) and the
// used TOTP steps outside every verification window; a live challenge
// survives and still completes its login. (TestCleanupViewsListWhatPurgeDeletes
// compares expired_auth_records, which reads the database's clock, with a
// purge.)
func TestTwoFactorChallengesPurged(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b Backend) {
		f := newFixture(t, b, withConfig(withTwoFactor))
		ctx := requestCtx()
		u, secret, _ := f.enrolled(t, "purge@example.com") // Confirm spent a step
		login := func() string {
			t.Helper()
			res, challenge, err := f.s.Users.Login(ctx, u.Email, userPassword)
			require.NoError(t, err)
			require.True(t, res.SecondFactorRequired)
			return challenge
		}
		purge := func() repositories.PurgeResult {
			t.Helper()
			res, err := f.s.Cleanup.Purge(ctx, repositories.PurgeOptions{})
			require.NoError(t, err)
			return res
		}
		challenges := func() int64 { return countRows(t, f.s.DB(), "two_factor_challenges", "user_id = ?", u.ID) }
		steps := func() int64 { return countRows(t, f.s.DB(), "two_factor_used_steps", "user_id = ?", u.ID) }

		used := login()
		_, _, err := f.s.TwoFactor.CompleteLogin(ctx, used, totpCode(t, secret, f.clock.Now()), repositories.SessionInput{})
		require.NoError(t, err)
		login() // never completed: it expires
		require.Equal(t, int64(2), challenges())
		require.Equal(t, int64(2), steps())

		res := purge()
		require.Equal(t, int64(1), res.Tables["two_factor_challenges"], "the used challenge goes before it expires")
		require.Zero(t, res.Tables["two_factor_used_steps"], "steps used within the window stay")
		require.Equal(t, int64(1), challenges())

		f.clock.Advance(models.TwoFactorChallengeLifetime + time.Second)
		live := login()
		res = purge()
		require.Equal(t, int64(1), res.Tables["two_factor_challenges"], "the expired challenge goes")
		require.Equal(t, int64(2), res.Tables["two_factor_used_steps"], "steps used minutes ago go")
		require.Equal(t, int64(1), challenges(), "the live challenge survives")
		require.Zero(t, steps())

		f.nextStep()
		_, _, err = f.s.TwoFactor.CompleteLogin(ctx, live, totpCode(t, secret, f.clock.Now()), repositories.SessionInput{})
		require.NoError(t, err, "the challenge that survived the purge completes its login")
		res = purge()
		require.Equal(t, int64(1), res.Tables["two_factor_challenges"])
		require.Zero(t, res.Tables["two_factor_used_steps"])
		f.clock.Advance(91 * time.Second) // past the three steps a code is accepted for
		res = purge()
		require.Equal(t, int64(1), res.Tables["two_factor_used_steps"])
		require.Zero(t, challenges())
		require.Zero(t, steps())
	})
}

func TestTwoFactorSecurity(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b Backend) {
		t.Run("Property45", func(t *testing.T) {
			f := newFixture(t, b, withConfig(withTwoFactor), withConfig(func(c *config.Config) { c.LockoutThreshold = 0 }))
			ctx := requestCtx()
			u, secret, codes := f.enrolled(t, "p45@example.com")

			t.Run("StepAcceptedOnce", func(t *testing.T) {
				code := totpCode(t, secret, f.clock.Now())
				require.NoError(t, f.s.TwoFactor.Verify(ctx, u.ID, code))
				err := f.s.TwoFactor.Verify(ctx, u.ID, code)
				require.ErrorIs(t, err, repositories.ErrUsed, "a replay within the window")
				require.ErrorIs(t, err, repositories.ErrInvalidCredentials)
				f.clock.Advance(30 * time.Second)
				require.ErrorIs(t, f.s.TwoFactor.Verify(ctx, u.ID, code), repositories.ErrUsed, "the previous step's code, replayed")
				f.nextStep()
			})

			t.Run("ConcurrentTOTP", func(t *testing.T) {
				code := totpCode(t, secret, f.clock.Now())
				const n = 8
				var won atomic.Int64
				errs := make([]error, n)
				barrier(n, func(i int) {
					if errs[i] = f.s.TwoFactor.Verify(ctx, u.ID, code); errs[i] == nil {
						won.Add(1)
					}
				})
				require.Equal(t, int64(1), won.Load(), "exactly one of %d identical submissions wins: %v", n, errs)
				for _, err := range errs {
					if err != nil {
						require.ErrorIs(t, err, repositories.ErrUsed)
					}
				}
				f.nextStep()
			})

			t.Run("RecoveryCodesKeyedAndCounted", func(t *testing.T) {
				var rows []models.RecoveryCode
				require.NoError(t, f.s.DB().Where("user_id = ?", u.ID).Find(&rows).Error)
				require.Len(t, rows, repositories.RecoveryCodeCount)
				for _, r := range rows {
					require.Regexp(t, `^hmac:[0-9a-f]{16}$`, r.KeyVersion)
					require.Regexp(t, `^[0-9a-f]{64}$`, r.CodeHash)
				}
				for _, c := range codes {
					for _, form := range []string{c, strings.ReplaceAll(c, "-", "")} {
						found, _ := scanForSecrets(t, f.s.DB(), secretForms(form))
						require.Empty(t, found, "recovery code %q, or its plain digest, at rest", form)
					}
				}
				require.NoError(t, f.s.TwoFactor.Verify(ctx, u.ID, codes[2]))
				err := f.s.TwoFactor.Verify(ctx, u.ID, codes[2])
				require.ErrorIs(t, err, repositories.ErrUsed)
				st, err := f.s.TwoFactor.Status(ctx, u.ID)
				require.NoError(t, err)
				require.Equal(t, int64(repositories.RecoveryCodeCount-1), st.RecoveryCodesLeft)
				require.Equal(t, int64(1), countEvents(t, f.s.DB(), models.EventRecoveryCodeUsed, &u.ID))
			})

			t.Run("ConcurrentRecoveryCode", func(t *testing.T) {
				const n = 8
				var won atomic.Int64
				errs := make([]error, n)
				barrier(n, func(i int) {
					if errs[i] = f.s.TwoFactor.Verify(ctx, u.ID, codes[3]); errs[i] == nil {
						won.Add(1)
					}
				})
				require.Equal(t, int64(1), won.Load(), "exactly one of %d uses of one recovery code wins: %v", n, errs)
				st, err := f.s.TwoFactor.Status(ctx, u.ID)
				require.NoError(t, err)
				require.Equal(t, int64(repositories.RecoveryCodeCount-2), st.RecoveryCodesLeft)
			})

			t.Run("RegenerationVoidsOldSet", func(t *testing.T) {
				fresh, err := f.s.TwoFactor.RegenerateRecoveryCodes(ctx, u.ID, codes[4])
				require.NoError(t, err)
				require.Len(t, fresh, repositories.RecoveryCodeCount)
				err = f.s.TwoFactor.Verify(ctx, u.ID, codes[5])
				require.ErrorIs(t, err, repositories.ErrInvalidCredentials, "an old code after regeneration")
				st, err := f.s.TwoFactor.Status(ctx, u.ID)
				require.NoError(t, err)
				require.Equal(t, int64(repositories.RecoveryCodeCount), st.RecoveryCodesLeft)
				codes = fresh
			})

			t.Run("PurgeSpentSteps", func(t *testing.T) {
				f.nextStep()
				require.NoError(t, f.s.TwoFactor.Verify(ctx, u.ID, totpCode(t, secret, f.clock.Now())))
				step := f.clock.Now().Unix() / 30
				_, err := f.s.Cleanup.Purge(ctx, repositories.PurgeOptions{})
				require.NoError(t, err)
				require.Equal(t, int64(1), countRows(t, f.s.DB(), "two_factor_used_steps", "user_id = ? AND step = ?", u.ID, step),
					"a step inside the window is kept")
				f.clock.Advance(91 * time.Second)
				res, err := f.s.Cleanup.Purge(ctx, repositories.PurgeOptions{})
				require.NoError(t, err)
				require.NotZero(t, res.Tables["two_factor_used_steps"])
				require.Zero(t, countRows(t, f.s.DB(), "two_factor_used_steps", "user_id = ?", u.ID))
			})

			t.Run("Disable", func(t *testing.T) {
				f.nextStep()
				require.ErrorIs(t, f.s.TwoFactor.Disable(ctx, u.ID, "111111"), repositories.ErrInvalidCredentials)
				require.NoError(t, f.s.TwoFactor.Disable(ctx, u.ID, totpCode(t, secret, f.clock.Now())))
				st, err := f.s.TwoFactor.Status(ctx, u.ID)
				require.NoError(t, err)
				require.Equal(t, repositories.TwoFactorStatus{}, st)
				_, err = f.s.Users.Authenticate(ctx, u.Email, userPassword)
				require.NoError(t, err, "no factor: the password is a login again")
				require.Equal(t, int64(1), countEvents(t, f.s.DB(), models.EventTwoFactorDisabled, &u.ID))
			})
		})

		t.Run("Lockout", func(t *testing.T) {
			f := newFixture(t, b, withConfig(withTwoFactor), withConfig(func(c *config.Config) { c.LockoutThreshold = 3 }))
			ctx := requestCtx()
			u, secret, codes := f.enrolled(t, "lock@example.com")
			_, challenge, err := f.s.Users.Login(ctx, u.Email, userPassword)
			require.NoError(t, err)
			// A known password does not reset the count of wrong codes.
			for i := range 2 {
				_, _, err := f.s.TwoFactor.CompleteLogin(ctx, challenge, "000000", repositories.SessionInput{})
				require.ErrorIs(t, err, repositories.ErrInvalidCredentials, "wrong code %d", i+1)
				require.NotErrorIs(t, err, repositories.ErrAccountLocked)
				_, challenge, err = f.s.Users.Login(ctx, u.Email, userPassword)
				require.NoError(t, err)
			}
			_, _, err = f.s.TwoFactor.CompleteLogin(ctx, challenge, "not a code", repositories.SessionInput{})
			require.ErrorIs(t, err, repositories.ErrAccountLocked, "the third failure locks")
			_, _, err = f.s.TwoFactor.CompleteLogin(ctx, challenge, totpCode(t, secret, f.clock.Now()), repositories.SessionInput{})
			require.ErrorIs(t, err, repositories.ErrAccountLocked, "the right code while locked")
			require.ErrorIs(t, f.s.TwoFactor.Verify(ctx, u.ID, codes[0]), repositories.ErrAccountLocked)
			_, _, err = f.s.Users.Login(ctx, u.Email, userPassword)
			require.ErrorIs(t, err, repositories.ErrAccountLocked)
			require.Equal(t, int64(3), countEvents(t, f.s.DB(), models.EventTwoFactorFailed, &u.ID)-countLockedRefusals(t, f, u.ID))
			require.Equal(t, int64(1), countEvents(t, f.s.DB(), models.EventAccountLocked, &u.ID))

			// After the lock, the right code logs in and resets the count.
			f.clock.Advance(f.cfg.LockoutDuration)
			f.nextStep()
			_, challenge, err = f.s.Users.Login(ctx, u.Email, userPassword)
			require.NoError(t, err)
			_, _, err = f.s.TwoFactor.CompleteLogin(ctx, challenge, totpCode(t, secret, f.clock.Now()), repositories.SessionInput{})
			require.NoError(t, err)
			var failed int64
			require.NoError(t, f.s.DB().Model(&models.User{}).Select("failed_logins").Where("id = ?", u.ID).Scan(&failed).Error)
			require.Zero(t, failed)
		})

		t.Run("Reset", func(t *testing.T) {
			f := newFixture(t, b, withConfig(withTwoFactor))
			ctx := requestCtx()
			u, _, _ := f.enrolled(t, "reset@example.com")
			require.NoError(t, f.s.TwoFactor.Reset(ctx, u.ID))
			st, err := f.s.TwoFactor.Status(ctx, u.ID)
			require.NoError(t, err)
			require.Equal(t, repositories.TwoFactorStatus{}, st)
			require.Zero(t, countRows(t, f.s.DB(), "recovery_codes", "user_id = ?", u.ID))
			require.Equal(t, int64(1), countEvents(t, f.s.DB(), models.EventTwoFactorReset, &u.ID))
			require.ErrorIs(t, f.s.TwoFactor.Reset(ctx, models.NewUUID()), repositories.ErrNotFound)
		})
	})
}

// countLockedRefusals counts the two_factor.failed rows of codes refused
// because the account was locked (not counted as failures).
func countLockedRefusals(t *testing.T, f *fixture, id models.UUID) int64 {
	t.Helper()
	var rows []models.Activity
	require.NoError(t, f.s.DB().Where("user_id = ? AND event = ?", id, models.EventTwoFactorFailed).Find(&rows).Error)
	var n int64
	for _, r := range rows {
		if strings.Contains(r.Metadata, `"locked"`) {
			n++
		}
	}
	return n
}

// TestTwoFactorTiming: before the password is verified, an account with a
// factor and one without cost the same (no enumeration of who has one),
// through Users.Login and through Users.Authenticate (which answers the
// right password of an account with a factor with ErrSecondFactorRequired):
// a wrong password fails both accounts with the same error.
func TestTwoFactorTiming(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b Backend) {
		f := newFixture(t, b, withConfig(withTwoFactor), withConfig(func(c *config.Config) { c.LockoutThreshold = 0 }))
		ctx := requestCtx()
		with, _, _ := f.enrolled(t, "with@example.com")
		without := f.user(t, "without@example.com")
		for _, c := range []struct {
			name  string
			login func(email string) error
		}{
			{"Users.Login", func(email string) error { _, _, err := f.s.Users.Login(ctx, email, "wrong password!"); return err }},
			{"Users.Authenticate", func(email string) error { _, err := f.s.Users.Authenticate(ctx, email, "wrong password!"); return err }},
		} {
			t.Run(c.name, func(t *testing.T) {
				errWith, errWithout := c.login(with.Email), c.login(without.Email)
				require.ErrorIs(t, errWith, repositories.ErrInvalidCredentials)
				require.NotErrorIs(t, errWith, repositories.ErrSecondFactorRequired, "a wrong password told the account has a factor")
				require.Equal(t, errWithout.Error(), errWith.Error(), "%s: a wrong password fails the account with a factor and the one without differently", c.name)
				wrong := func(email string) func() error {
					return func() error {
						err := c.login(email)
						if !errors.Is(err, repositories.ErrInvalidCredentials) || errors.Is(err, repositories.ErrSecondFactorRequired) {
							return errors.New("want ErrInvalidCredentials")
						}
						return nil
					}
				}
				k, u := timePairs(t, 60, wrong(with.Email), wrong(without.Email))
				kq, uq := quartiles(k), quartiles(u)
				d := ksDistance(k, u)
				t.Logf("with a factor median %v, without %v; D = %.2f", kq[1], uq[1], d)
				require.LessOrEqual(t, d, 0.5, "%s: a wrong password for an account with a factor (median %v) and one without (median %v) tell apart %.0f%% of the time",
					c.name, kq[1], uq[1], 100*(1+d)/2)
			})
		}
		// The right password tells them apart, as it must: only then is
		// the second factor asked for.
		_, err := f.s.Users.Authenticate(ctx, with.Email, userPassword)
		require.ErrorIs(t, err, repositories.ErrSecondFactorRequired)
		_, err = f.s.Users.Authenticate(ctx, without.Email, userPassword)
		require.NoError(t, err)
	})
}

// secretForms returns the needles for a secret at rest: the secret and its
// plain SHA-256 digest, each raw and in hex, base32 and base64 (standard
// and URL, padded or not), for scanForSecrets.
func secretForms(secret string) map[string]string {
	sum := sha256.Sum256([]byte(secret))
	out := map[string]string{}
	for name, b := range map[string][]byte{"secret": []byte(secret), "sha256": sum[:]} {
		forms := append(encodings(string(b)), base32.StdEncoding.EncodeToString(b), base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b),
			strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b)))
		for i, f := range forms {
			if name == "sha256" && i == 0 {
				continue // raw digest bytes are not text
			}
			out[fmt.Sprintf("%s form %d", name, i)] = f
		}
	}
	return out
}

// TestTwoFactorEncryptionAtRest is SECURITY 44 for the TOTP secrets: a
// wrong master key fails at startup (with no signing key in the database),
// and keys reencrypt moves the secrets to a new master key.
func TestTwoFactorEncryptionAtRest(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b Backend) {
		ctx := requestCtx()
		f := newFixture(t, b, withConfig(withTwoFactor), withMasterKey(masterKey1))
		u, secret, _ := f.enrolled(t, "sealed@example.com")
		open := func(key []byte, previous ...[]byte) (*authstore.Store, error) {
			return authstore.New(f.s.DB(), authstore.WithConfig(f.configWith(func(c *config.Config) { setMasterKey(c, key, previous...) })),
				authstore.WithClock(f.clock.Now))
		}
		_, err := open(masterKey2)
		require.ErrorIs(t, err, envelope.ErrWrongKey, "a wrong master key fails at startup")
		require.ErrorContains(t, err, "TOTP secret of user "+string(u.ID))
		require.NotContains(t, err.Error(), secret)

		rotated, err := open(masterKey2, masterKey1)
		require.NoError(t, err, "the previous key still decrypts")
		res, err := rotated.Keys.Reencrypt(ctx, repositories.ReencryptOptions{})
		require.NoError(t, err)
		require.Equal(t, int64(1), res.Reencrypted, "the TOTP secret moved to the new key")
		moved, err := open(masterKey2)
		require.NoError(t, err, "after reencrypt the new key alone opens the secret")
		require.NoError(t, moved.TwoFactor.Verify(ctx, u.ID, totpCode(t, secret, f.clock.Now())))
	})
}
