package integration

// All-or-nothing (SECURITY.md 29): faults injected into multi-step
// changes of every repository leave the tables as they were, and
// repositories made WithTx commit or roll back with the caller's
// transaction.

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"

	"github.com/forgeauth/authstore/hooks"
	"github.com/forgeauth/authstore/models"
	"github.com/forgeauth/authstore/protocol"
	"github.com/forgeauth/authstore/repositories"
	"github.com/stretchr/testify/require"
	"gorm.io/gorm"
)

// errInjected is the fault faultInjector injects.
var errInjected = errors.New("injected fault")

// faultInjector fails the k-th statement (query, insert, update or delete) run
// through the *gorm.DB it was installed on.
type faultInjector struct {
	failAt atomic.Int64 // 0: never
	n      atomic.Int64
	fired  atomic.Bool
}

// injectFaults installs a faultInjector on db's callbacks (db must come
// from separateDB).
func injectFaults(t *testing.T, db *gorm.DB) *faultInjector {
	t.Helper()
	fi := &faultInjector{}
	fn := func(tx *gorm.DB) {
		if tx.Error != nil {
			return
		}
		if n := fi.n.Add(1); n == fi.failAt.Load() {
			fi.fired.Store(true)
			tx.AddError(errInjected)
		}
	}
	cb := db.Callback()
	require.NoError(t, cb.Create().Before("gorm:create").Register("test:inject_create", fn))
	require.NoError(t, cb.Update().Before("gorm:update").Register("test:inject_update", fn))
	require.NoError(t, cb.Delete().Before("gorm:delete").Register("test:inject_delete", fn))
	require.NoError(t, cb.Query().Before("gorm:query").Register("test:inject_query", fn))
	require.NoError(t, cb.Raw().Before("gorm:raw").Register("test:inject_raw", fn))
	return fi
}

// arm makes the k-th statement from now on fail (k = 0: none).
func (fi *faultInjector) arm(k int) {
	fi.n.Store(0)
	fi.fired.Store(false)
	fi.failAt.Store(int64(k))
}

// failingDB returns a *gorm.DB over the fixture's pool whose inserts into
// table fail with errInjected. Repositories built over it (their
// constructors) run their transactions on it, so the fault hits a step in
// the middle of one.
func (f *fixture) failingDB(t *testing.T, table string) *gorm.DB {
	t.Helper()
	db := separateDB(t, f.s)
	require.NoError(t, db.Callback().Create().Before("gorm:create").Register("test:fail_"+table, func(tx *gorm.DB) {
		if tx.Statement.Table == table {
			tx.AddError(errInjected)
		}
	}))
	return db
}

// TestAtomicityAccountRepositoriesWithTx shows that repositories made WithTx commit or roll
// back with the caller's transaction.
func TestAtomicityAccountRepositoriesWithTx(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b Backend) {
		f := newFixture(t, b)
		ctx := requestCtx()
		u := f.user(t, "tx@example.com")
		abort := errors.New("abort")

		run := func(commit bool) error {
			return f.s.DB().WithContext(ctx).Transaction(func(tx *gorm.DB) error {
				if err := f.s.Users.WithTx(tx).MarkEmailVerified(ctx, u.ID); err != nil {
					return err
				}
				if _, _, err := f.s.Sessions.WithTx(tx).Create(ctx, u.ID, repositories.SessionInput{}); err != nil {
					return err
				}
				if _, _, err := f.s.EmailVerifications.WithTx(tx).Issue(ctx, u.ID); err != nil {
					return err
				}
				if err := f.s.PasswordResets.WithTx(tx).Request(ctx, u.Email, func(context.Context, string, string) error { return nil }); err != nil {
					return err
				}
				if err := f.s.Activity.WithTx(tx).Record(ctx, &u.ID, models.EventProfileUpdated, nil); err != nil {
					return err
				}
				if commit {
					return nil
				}
				return abort
			})
		}

		t.Run("RolledBack", func(t *testing.T) {
			before := snapshotTables(t, f.s.DB())
			require.ErrorIs(t, run(false), abort)
			require.Equal(t, before, snapshotTables(t, f.s.DB()), "a rolled-back transaction left rows")
		})

		t.Run("OK", func(t *testing.T) {
			require.NoError(t, run(true))
			for _, table := range []string{"sessions", "email_verifications", "password_resets"} {
				require.EqualValues(t, 1, countRows(t, f.s.DB(), table, "user_id = ?", u.ID), "%s rows after commit", table)
			}
			got, err := f.s.Users.FindByID(ctx, u.ID)
			require.NoError(t, err)
			require.NotNil(t, got.EmailVerifiedAt)
		})
	})
}

// TestAtomicityOAuthRepositoriesWithTx shows the repositories composing in a caller's
// transaction: a rollback undoes all of them.
func TestAtomicityOAuthRepositoriesWithTx(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b Backend) {
		f := newFixture(t, b)
		ctx := requestCtx()
		uid := f.user(t, "u@example.com").ID
		before := snapshotTables(t, f.s.DB())
		stop := errors.New("roll back")
		err := f.s.DB().WithContext(ctx).Transaction(func(tx *gorm.DB) error {
			c, _, err := f.s.Clients.WithTx(tx).Create(ctx, repositories.ClientInput{Name: "tx", RedirectURIs: []string{redirectURI}})
			require.NoError(t, err)
			_, err = f.s.RefreshTokens.WithTx(tx).Issue(ctx, c.ID, &uid, nil)
			require.NoError(t, err)
			_, _, err = f.s.PersonalTokens.WithTx(tx).Create(ctx, uid, "tx", nil, nil)
			require.NoError(t, err)
			_, _, err = f.s.AccessTokens.WithTx(tx).Issue(ctx, c.ID, &uid, nil, nil)
			require.NoError(t, err)
			v, _ := protocol.NewVerifier()
			_, _, err = f.s.AuthCodes.WithTx(tx).Create(ctx, repositories.AuthCodeInput{ClientID: c.ID, UserID: uid, RedirectURI: redirectURI, CodeChallenge: protocol.S256Challenge(v), CodeChallengeMethod: "S256"})
			require.NoError(t, err)
			return stop
		})
		require.ErrorIs(t, err, stop)
		require.Equal(t, before, snapshotTables(t, f.s.DB()), "the caller's rollback left rows behind")
	})
}

// hostAudit is a host application's own table, written in the host's
// transaction beside authstore's repositories.
type hostAudit struct {
	ID     uint   `gorm:"primaryKey"`
	Action string `gorm:"not null"`
}

// TableName returns host_audit.
func (hostAudit) TableName() string { return "host_audit" }

// TestAtomicityTwoFactorAndAuthRequestsWithTx shows TwoFactor and
// AuthRequests composing in a host's transaction, opened on the host's own
// handle over the same database, with a row of the host's own table
// (host_audit): enrolment and confirmation, a replayed TOTP code (refused,
// and recorded as a failure, without aborting the host's transaction on
// PostgreSQL), a login completed with a
// recovery code (its challenge, session and recovery code), an
// authorization request created, completed from that session, given a
// code, redeemed, and its code replayed (the revocation Redeem commits
// before returning ErrCodeReplayed). A rollback leaves every table as it
// was, host_audit and the activity log included; a commit keeps all of it.
// On SQLite, whose one writer is the host's transaction, no step uses
// another connection of the pool (one that wrote would wait for the host's
// lock and fail at the busy timeout).
func TestAtomicityTwoFactorAndAuthRequestsWithTx(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b Backend) {
		f := newFixture(t, b, withConfig(withTwoFactor))
		ctx := requestCtx()
		host := separateDB(t, f.s)
		require.NoError(t, host.AutoMigrate(&hostAudit{}))
		u := f.user(t, "host-tx@example.com")
		c := f.publicClient(t)
		abort := errors.New("abort")

		type outcome struct {
			pair *repositories.TokenPair
			req  *models.AuthRequest
		}
		run := func(t *testing.T, commit bool) (outcome, error) {
			var out outcome
			err := host.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
				audit := func(action string) { require.NoError(t, tx.Create(&hostAudit{Action: action}).Error) }
				tf, ar := f.s.TwoFactor.WithTx(tx), f.s.AuthRequests.WithTx(tx)

				audit("enrol")
				secret, _, err := tf.Enrol(ctx, u.ID)
				require.NoError(t, err)
				totp := totpCode(t, secret, f.clock.Now())
				codes, err := tf.Confirm(ctx, u.ID, totp)
				require.NoError(t, err)
				// A replayed code fails on the used step's unique index
				// inside a savepoint: the host's transaction goes on.
				require.ErrorIs(t, tf.Verify(ctx, u.ID, totp), repositories.ErrUsed)

				audit("login")
				res, challenge, err := f.s.Users.WithTx(tx).Login(ctx, u.Email, userPassword)
				require.NoError(t, err)
				require.True(t, res.SecondFactorRequired)
				session, _, err := tf.CompleteLogin(ctx, challenge, codes[0], repositories.SessionInput{})
				require.NoError(t, err, "a recovery code completes the login")

				audit("authorize")
				out.req, err = ar.Create(ctx, authRequestInput(c.ID, "openid", "offline_access"))
				require.NoError(t, err)
				require.NoError(t, ar.CompleteFromSession(ctx, out.req.ID, session, []string{"pwd", "otp"}))
				code, err := hooks.NewToken()
				require.NoError(t, err)
				require.NoError(t, ar.SaveCode(ctx, out.req.ID, code))
				_, out.pair, err = ar.Redeem(ctx, code)
				require.NoError(t, err)
				_, _, err = ar.Redeem(ctx, code)
				require.ErrorIs(t, err, repositories.ErrCodeReplayed)
				if commit {
					return nil
				}
				return abort
			})
			return out, err
		}

		t.Run("RolledBack", func(t *testing.T) {
			before := snapshotTables(t, f.s.DB())
			require.Contains(t, before, "host_audit")
			_, err := run(t, false)
			require.ErrorIs(t, err, abort)
			require.Equal(t, before, snapshotTables(t, f.s.DB()), "the host's rollback left rows behind")
			st, err := f.s.TwoFactor.Status(ctx, u.ID)
			require.NoError(t, err)
			require.False(t, st.Enrolled, "the host's rollback kept the factor")
		})

		t.Run("OK", func(t *testing.T) {
			out, err := run(t, true)
			require.NoError(t, err)
			require.EqualValues(t, 3, countRows(t, f.s.DB(), "host_audit", ""), "the host's own rows")
			st, err := f.s.TwoFactor.Status(ctx, u.ID)
			require.NoError(t, err)
			require.True(t, st.Confirmed)
			require.Equal(t, int64(repositories.RecoveryCodeCount-1), st.RecoveryCodesLeft, "the recovery code's use committed")
			require.EqualValues(t, 1, countRows(t, f.s.DB(), "two_factor_challenges", "user_id = ? AND used_at IS NOT NULL", u.ID))
			require.EqualValues(t, 1, countRows(t, f.s.DB(), "two_factor_used_steps", "user_id = ?", u.ID), "Confirm's TOTP step")
			require.EqualValues(t, 1, countRows(t, f.s.DB(), "sessions", "user_id = ? AND assurance_level = ?", u.ID, models.AssuranceTwoFactor))
			require.EqualValues(t, 1, countRows(t, f.s.DB(), "oauth_auth_requests", "id = ? AND used_at IS NOT NULL AND revoked = ?", out.req.ID, true),
				"the request was redeemed, then revoked by the replay")
			_, err = f.s.AccessTokens.Validate(ctx, out.pair.AccessToken)
			require.ErrorIs(t, err, repositories.ErrRevoked, "the replay's revocation committed with the host")
			for _, e := range []models.Event{models.EventTwoFactorEnrolled, models.EventTwoFactorConfirmed, models.EventRecoveryCodesGenerated,
				models.EventTwoFactorChallenged, models.EventRecoveryCodeUsed, models.EventTwoFactorSucceeded, models.EventLoginSucceeded,
				models.EventSessionCreated, models.EventLoginSession, models.EventAuthCodeReplayed, models.EventTwoFactorFailed} {
				require.Equal(t, int64(1), countEvents(t, f.s.DB(), e, &u.ID), "%s rows after the host's commit", e)
			}
			_, err = f.s.AuthRequests.Find(ctx, out.req.ID)
			require.ErrorIs(t, err, repositories.ErrRevoked)
		})
	})
}

// TestAtomicityAccountChangesAllOrNothing proves for the authentication
// repositories that for every k, failing the k-th statement of a multi-step
// change leaves every table as it was; the run with no fault (k past the
// last statement) succeeds and must not have swallowed a fault.
//
// SECURITY 29: every multi-step change is all-or-nothing: an error injected after step k leaves the tables as they were.
func TestAtomicityAccountChangesAllOrNothing(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b Backend) {
		f := newFixture(t, b)
		ctx := requestCtx()
		fdb := separateDB(t, f.s)
		faults := injectFaults(t, fdb)
		opts := repositories.Options{Config: f.cfg}
		users := repositories.NewUsers(fdb, opts)
		sessions := repositories.NewSessions(fdb, opts)
		resets := repositories.NewPasswordResets(fdb, opts)
		verifications := repositories.NewEmailVerifications(fdb, opts)
		const next = "a brand new passphrase"

		// seed gives a user sessions, a grant, an outstanding reset and
		// a verification token, through the healthy store.
		seed := func(t *testing.T, email string) (*models.User, string, string, string) {
			u := f.user(t, email)
			var session string
			for i := 0; i < 2; i++ {
				_, tok, err := f.s.Sessions.Create(ctx, u.ID, repositories.SessionInput{})
				require.NoError(t, err)
				session = tok
			}
			f.insertGrant(t, u.ID)
			reset := f.requestReset(t, u.Email)
			_, verification, err := f.s.EmailVerifications.Issue(ctx, u.ID)
			require.NoError(t, err)
			return u, session, reset, verification
		}

		// allOrNothing runs op with a fault at statement 1, 2, ... until op
		// succeeds, and returns how many statements op ran.
		allOrNothing := func(t *testing.T, name string, op func() error) int {
			t.Helper()
			for k := 1; k <= 40; k++ {
				before := snapshotTables(t, f.s.DB())
				faults.arm(k)
				err := op()
				fired := faults.fired.Load()
				faults.arm(0)
				if err == nil {
					require.False(t, fired, "%s with a fault at statement %d = nil; want the fault", name, k)
					require.Greater(t, k, 2, "%s ran %d statements; want a multi-step change", name, k-1)
					t.Logf("%s: a fault at each of its %d statements left the tables as they were", name, k-1)
					return k - 1
				}
				require.ErrorIs(t, err, errInjected, "%s with a fault at statement %d = %v; want the fault", name, k, err)
				require.Equal(t, before, snapshotTables(t, f.s.DB()), "%s with a fault at statement %d left a partial change", name, k)
			}
			t.Fatalf("%s never succeeded", name)
			return 0
		}

		t.Run("UsersChangePassword", func(t *testing.T) {
			u, _, _, _ := seed(t, "atomic-change@example.com")
			allOrNothing(t, "ChangePassword", func() error { return users.ChangePassword(ctx, u.ID, userPassword, next, next, "") })
			ok, err := hooks.DefaultHasher().Verify(f.storedHash(t, u.ID), next)
			require.NoError(t, err)
			require.True(t, ok)
			require.Zero(t, countRows(t, f.s.DB(), "sessions", "user_id = ?", u.ID))
		})

		t.Run("PasswordResetsReset", func(t *testing.T) {
			u, _, reset, _ := seed(t, "atomic-reset@example.com")
			allOrNothing(t, "Reset", func() error { _, err := resets.Reset(ctx, reset, next, next); return err })
			require.EqualValues(t, 1, countEvents(t, f.s.DB(), models.EventPasswordResetCompleted, &u.ID))
		})

		t.Run("PasswordResetsRequest", func(t *testing.T) {
			u, _, _, _ := seed(t, "atomic-request@example.com")
			delivered := 0
			allOrNothing(t, "Request", func() error {
				return resets.Request(ctx, u.Email, func(context.Context, string, string) error { delivered++; return nil })
			})
			require.Equal(t, 1, delivered, "deliver ran for a request that rolled back")
		})

		t.Run("EmailVerificationsConsume", func(t *testing.T) {
			u, _, _, verification := seed(t, "atomic-verify@example.com")
			allOrNothing(t, "Consume", func() error { _, err := verifications.Consume(ctx, verification); return err })
			got, err := f.s.Users.FindByID(ctx, u.ID)
			require.NoError(t, err)
			require.NotNil(t, got.EmailVerifiedAt)
		})

		t.Run("UsersUpdateProfile", func(t *testing.T) {
			u, _, _, _ := seed(t, "atomic-profile@example.com")
			email := "atomic-profile-2@example.com"
			allOrNothing(t, "UpdateProfile", func() error {
				_, err := users.UpdateProfile(ctx, u.ID, repositories.ProfileInput{Email: &email})
				return err
			})
		})

		t.Run("UsersDelete", func(t *testing.T) {
			u, _, _, _ := seed(t, "atomic-delete@example.com")
			allOrNothing(t, "Delete", func() error { return users.Delete(ctx, u.ID) })
		})

		t.Run("SessionsDelete", func(t *testing.T) {
			_, session, _, _ := seed(t, "atomic-logout@example.com")
			allOrNothing(t, "Sessions.Delete", func() error { return sessions.Delete(ctx, session) })
		})

		t.Run("UsersCreate", func(t *testing.T) {
			allOrNothing(t, "Users.Create", func() error {
				_, err := users.Create(ctx, repositories.UserInput{Name: "Ada", Email: "atomic-create@example.com", Password: next, PasswordConfirmation: next})
				return err
			})
		})
	})
}

// TestAtomicityRotationAllOrNothing fails each insert of a rotation
// (the access token, then the refresh token, both after the parent was
// marked used) and the activity row of a reuse revocation: each time the
// tables are left as they were, and the token still works afterwards.
//
// SECURITY 29: a refresh-token rotation, and the revocation of a reused family, is all-or-nothing.
func TestAtomicityRotationAllOrNothing(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b Backend) {
		f := newFixture(t, b)
		ctx := requestCtx()
		uid := f.user(t, "u@example.com").ID
		pub := f.publicClient(t)

		for _, table := range []string{"oauth_access_tokens", "oauth_refresh_tokens"} {
			t.Run("FailInsertInto_"+table, func(t *testing.T) {
				p := f.pair(t, pub.ID, &uid)
				before := snapshotTables(t, f.s.DB())
				_, err := repositories.NewRefreshTokens(f.failingDB(t, table), f.repoOptions()).Rotate(ctx, authed(f.s, pub.ID), p.RefreshToken, nil)
				require.ErrorIs(t, err, errInjected)
				require.Equal(t, before, snapshotTables(t, f.s.DB()), "a failed rotation changed the tables")
				_, err = f.s.RefreshTokens.Rotate(ctx, authed(f.s, pub.ID), p.RefreshToken, nil)
				require.NoError(t, err, "the failed rotation burned the token")
				require.NotEqual(t, before, snapshotTables(t, f.s.DB()), "the snapshot does not see a rotation")
			})
		}

		t.Run("FailReuseRevocation", func(t *testing.T) {
			p := f.pair(t, pub.ID, &uid)
			child, err := f.s.RefreshTokens.Rotate(ctx, authed(f.s, pub.ID), p.RefreshToken, nil)
			require.NoError(t, err)
			before := snapshotTables(t, f.s.DB())
			_, err = repositories.NewRefreshTokens(f.failingDB(t, "user_activity_log"), f.repoOptions()).Rotate(ctx, authed(f.s, pub.ID), p.RefreshToken, nil)
			require.ErrorIs(t, err, errInjected)
			require.False(t, errors.Is(err, repositories.ErrReused), "ErrReused reported for a revocation that did not commit")
			require.Equal(t, before, snapshotTables(t, f.s.DB()), "a failed reuse revocation was half applied")
			_, err = f.s.AccessTokens.Validate(ctx, child.AccessToken)
			require.NoError(t, err)
		})
	})
}

// TestAtomicityExchangeAllOrNothing fails each insert of a code
// exchange, and the activity row of a replay revocation: each time the
// tables are left as they were.
//
// SECURITY 29: a code exchange, the revocation of a replayed code's tokens and a client revocation are all-or-nothing.
func TestAtomicityExchangeAllOrNothing(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b Backend) {
		f := newFixture(t, b)
		ctx := requestCtx()
		uid := f.user(t, "u@example.com").ID
		pub := f.publicClient(t)

		for _, table := range []string{"oauth_access_tokens", "oauth_refresh_tokens"} {
			t.Run("FailInsertInto_"+table, func(t *testing.T) {
				code, verifier := f.code(t, pub.ID, uid)
				before := snapshotTables(t, f.s.DB())
				_, err := repositories.NewAuthCodes(f.failingDB(t, table), f.repoOptions()).Exchange(ctx, authed(f.s, pub.ID), code, redirectURI, verifier)
				require.ErrorIs(t, err, errInjected)
				require.Equal(t, before, snapshotTables(t, f.s.DB()), "a failed exchange changed the tables")
				_, err = f.s.AuthCodes.Exchange(ctx, authed(f.s, pub.ID), code, redirectURI, verifier)
				require.NoError(t, err, "the failed exchange burned the code")
			})
		}

		t.Run("FailReplayRevocation", func(t *testing.T) {
			code, verifier := f.code(t, pub.ID, uid)
			p, err := f.s.AuthCodes.Exchange(ctx, authed(f.s, pub.ID), code, redirectURI, verifier)
			require.NoError(t, err)
			before := snapshotTables(t, f.s.DB())
			_, err = repositories.NewAuthCodes(f.failingDB(t, "user_activity_log"), f.repoOptions()).Exchange(ctx, authed(f.s, pub.ID), code, redirectURI, verifier)
			require.ErrorIs(t, err, errInjected)
			require.Equal(t, before, snapshotTables(t, f.s.DB()), "a failed replay revocation was half applied")
			_, err = f.s.AccessTokens.Validate(ctx, p.AccessToken)
			require.NoError(t, err)
		})

		t.Run("FailClientRevocation", func(t *testing.T) {
			p := f.pair(t, pub.ID, &uid)
			before := snapshotTables(t, f.s.DB())
			err := repositories.NewClients(f.failingDB(t, "user_activity_log"), f.repoOptions()).Revoke(ctx, pub.ID)
			require.ErrorIs(t, err, errInjected)
			require.Equal(t, before, snapshotTables(t, f.s.DB()), "a failed client revocation was half applied")
			_, err = f.s.AccessTokens.Validate(ctx, p.AccessToken)
			require.NoError(t, err)
		})
	})
}
