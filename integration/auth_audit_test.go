package integration

// SECURITY.md 29, 33 and 34 for the authentication tables: all-or-nothing
// multi-step changes, no secret in any log, and the activity log. Also the
// model hooks as host code meets them, and AUTH_REQUIRE_EMAIL_VERIFICATION.

import (
	"bytes"
	"context"
	"errors"
	"log"
	"os"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/forgeauth/authstore"
	"github.com/forgeauth/authstore/hooks"
	"github.com/forgeauth/authstore/models"
	"github.com/forgeauth/authstore/repositories"
	"github.com/stretchr/testify/require"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"
)

// TestMultiStepChangesAreAtomic proves SECURITY 29 for the authentication
// repositories: for every k, failing the k-th statement of a multi-step
// change leaves every table as it was; the run with no fault (k past the
// last statement) succeeds and must not have swallowed a fault.
func TestMultiStepChangesAreAtomic(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b Backend) {
		s := openMigrated(t, b)
		ctx := requestCtx()
		fdb := separateDB(t, s)
		faults := authInjectFaults(t, fdb)
		opts := repositories.Options{Config: s.Config}
		users := repositories.NewUsers(fdb, opts)
		sessions := repositories.NewSessions(fdb, opts)
		resets := repositories.NewPasswordResets(fdb, opts)
		verifications := repositories.NewEmailVerifications(fdb, opts)
		const next = "a brand new passphrase"

		// fixture gives a user sessions, a grant, an outstanding reset and
		// a verification token, through the healthy store.
		fixture := func(t *testing.T, email string) (*models.User, string, string, string) {
			u := authInsertUser(t, s, email)
			var session string
			for i := 0; i < 2; i++ {
				_, tok, err := s.Sessions.Create(ctx, u.ID, repositories.NewSession{})
				require.NoError(t, err)
				session = tok
			}
			authInsertGrant(t, s, u.ID)
			reset := authRequestReset(t, s.PasswordResets, u.Email)
			verification, _, err := s.EmailVerifications.Issue(ctx, u.ID)
			require.NoError(t, err)
			return u, session, reset, verification
		}

		// allOrNothing runs op with a fault at statement 1, 2, ... until op
		// succeeds, and returns how many statements op ran.
		allOrNothing := func(t *testing.T, name string, op func() error) int {
			t.Helper()
			for k := 1; k <= 40; k++ {
				before := snapshotTables(t, s.DB)
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
				require.ErrorIs(t, err, authErrInjected, "%s with a fault at statement %d = %v; want the fault", name, k, err)
				require.Equal(t, before, snapshotTables(t, s.DB), "%s with a fault at statement %d left a partial change", name, k)
			}
			t.Fatalf("%s never succeeded", name)
			return 0
		}

		t.Run("UsersChangePassword", func(t *testing.T) {
			u, _, _, _ := fixture(t, "atomic-change@example.com")
			allOrNothing(t, "ChangePassword", func() error { return users.ChangePassword(ctx, u.ID, authPassword, next, next, "") })
			ok, err := hooks.DefaultHasher().Verify(authStoredHash(t, s.DB, u.ID), next)
			require.NoError(t, err)
			require.True(t, ok)
			require.Zero(t, countRows(t, s.DB, "sessions", "user_id = ?", u.ID))
		})

		t.Run("PasswordResetsReset", func(t *testing.T) {
			u, _, reset, _ := fixture(t, "atomic-reset@example.com")
			allOrNothing(t, "Reset", func() error { _, err := resets.Reset(ctx, reset, next, next); return err })
			require.EqualValues(t, 1, countEvents(t, s.DB, hooks.EventPasswordResetCompleted, &u.ID))
		})

		t.Run("PasswordResetsRequest", func(t *testing.T) {
			u, _, _, _ := fixture(t, "atomic-request@example.com")
			delivered := 0
			allOrNothing(t, "Request", func() error {
				return resets.Request(ctx, u.Email, func(context.Context, string, string) error { delivered++; return nil })
			})
			require.Equal(t, 1, delivered, "deliver ran for a request that rolled back")
		})

		t.Run("EmailVerificationsConsume", func(t *testing.T) {
			u, _, _, verification := fixture(t, "atomic-verify@example.com")
			allOrNothing(t, "Consume", func() error { _, err := verifications.Consume(ctx, verification); return err })
			got, err := s.Users.FindByID(ctx, u.ID)
			require.NoError(t, err)
			require.NotNil(t, got.EmailVerifiedAt)
		})

		t.Run("UsersUpdateProfile", func(t *testing.T) {
			u, _, _, _ := fixture(t, "atomic-profile@example.com")
			email := "atomic-profile-2@example.com"
			allOrNothing(t, "UpdateProfile", func() error {
				_, err := users.UpdateProfile(ctx, u.ID, repositories.ProfileUpdate{Email: &email})
				return err
			})
		})

		t.Run("UsersDelete", func(t *testing.T) {
			u, _, _, _ := fixture(t, "atomic-delete@example.com")
			allOrNothing(t, "Delete", func() error { return users.Delete(ctx, u.ID) })
		})

		t.Run("SessionsDelete", func(t *testing.T) {
			_, session, _, _ := fixture(t, "atomic-logout@example.com")
			allOrNothing(t, "Sessions.Delete", func() error { return sessions.Delete(ctx, session) })
		})

		t.Run("UsersCreate", func(t *testing.T) {
			allOrNothing(t, "Users.Create", func() error {
				_, err := users.Create(ctx, repositories.NewUser{Name: "Ada", Email: "atomic-create@example.com", Password: next, PasswordConfirmation: next})
				return err
			})
		})
	})
}

// authSyncBuffer is a bytes.Buffer safe for concurrent writers.
type authSyncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (w *authSyncBuffer) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}

func (w *authSyncBuffer) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.String()
}

// authLogDB returns a session of the store's database whose GORM logger
// logs every statement, error and slow query to buf.
func authLogDB(db *gorm.DB, buf *authSyncBuffer, parameterized bool) *gorm.DB {
	lg := logger.New(log.New(buf, "", 0), logger.Config{LogLevel: logger.Info, ParameterizedQueries: parameterized, SlowThreshold: time.Nanosecond})
	return db.Session(&gorm.Session{Logger: lg})
}

// authOpenCapturingLog opens a migrated store whose own logger
// (authstore.Logger, which binds os.Stderr when the store is made) writes
// to a file, and returns a function that reads what it logged.
func authOpenCapturingLog(t *testing.T, b Backend, opts ...authstore.Option) (*authstore.Store, func() string) {
	t.Helper()
	f, err := os.CreateTemp(t.TempDir(), "stderr")
	require.NoError(t, err)
	t.Cleanup(func() { f.Close() })
	s := func() *authstore.Store {
		old := os.Stderr
		os.Stderr = f
		defer func() { os.Stderr = old }()
		return openMigrated(t, b, opts...)
	}()
	return s, func() string {
		out, err := os.ReadFile(f.Name())
		require.NoError(t, err)
		return string(out)
	}
}

// authLogRepos are the repositories a logging test drives.
type authLogRepos struct {
	users         *repositories.Users
	sessions      *repositories.Sessions
	resets        *repositories.PasswordResets
	verifications *repositories.EmailVerifications
}

// authLogFlows registers a user, fails and succeeds a login, uses a
// session, verifies the email, resets and changes the password and logs
// out, with an error on each path. It returns every secret involved
// (passwords, tokens, their digests, password hashes) and the errors.
func authLogFlows(t *testing.T, s *authstore.Store, clock *Clock, r authLogRepos, email string) (map[string]string, []error) {
	t.Helper()
	ctx := requestCtx()
	const p1, p2, p3, wrong = "first log passphrase", "second log passphrase", "third log passphrase", "wrong log passphrase"
	secrets := map[string]string{"password 1": p1, "password 2": p2, "password 3": p3, "wrong password": wrong}
	addToken := func(name, tok string) {
		require.NotEmpty(t, tok)
		secrets[name] = tok
		secrets[name+" digest"] = hooks.Digest(tok)
	}
	addHash := func(name string, id models.UUID) { secrets[name] = authStoredHash(t, s.DB, id) }
	var errs []error
	fail := func(err error) {
		t.Helper()
		require.Error(t, err)
		errs = append(errs, err)
	}

	u, err := r.users.Create(ctx, repositories.NewUser{Name: "Ada", Email: email, Password: p1, PasswordConfirmation: p1})
	require.NoError(t, err)
	addHash("hash 1", u.ID)
	_, err = r.users.Create(ctx, repositories.NewUser{Name: "Ada", Email: strings.ToUpper(email), Password: p1, PasswordConfirmation: p1})
	fail(err)
	_, err = r.users.Authenticate(ctx, u.Email, wrong)
	fail(err)
	_, err = r.users.Authenticate(ctx, "nobody@example.com", wrong)
	fail(err)
	_, err = r.users.Authenticate(ctx, u.Email, p1)
	require.NoError(t, err)
	_, session, err := r.sessions.Create(ctx, u.ID, repositories.NewSession{Remember: true})
	require.NoError(t, err)
	addToken("session", session)
	clock.Advance(2 * r.sessions.TouchInterval)
	_, err = r.sessions.Find(ctx, session) // touches
	require.NoError(t, err)
	_, err = r.sessions.Find(ctx, session+"x")
	fail(err)
	_, _, err = r.sessions.Create(ctx, models.NewUUID(), repositories.NewSession{}) // foreign key refused
	fail(err)
	verification, _, err := r.verifications.Issue(ctx, u.ID)
	require.NoError(t, err)
	addToken("verification", verification)
	_, err = r.verifications.Consume(ctx, verification)
	require.NoError(t, err)
	_, err = r.verifications.Consume(ctx, verification)
	fail(err)
	var reset string
	require.NoError(t, r.resets.Request(ctx, u.Email, func(_ context.Context, _, tok string) error { reset = tok; return nil }))
	addToken("reset", reset)
	_, err = r.resets.Reset(ctx, reset, p2, p2)
	require.NoError(t, err)
	addHash("hash 2", u.ID)
	_, err = r.resets.Reset(ctx, reset, p2, p2)
	fail(err)
	_, session2, err := r.sessions.Create(ctx, u.ID, repositories.NewSession{})
	require.NoError(t, err)
	addToken("second session", session2)
	fail(r.users.ChangePassword(ctx, u.ID, wrong, p3, p3, ""))
	require.NoError(t, r.users.ChangePassword(ctx, u.ID, p2, p3, p3, ""))
	addHash("hash 3", u.ID)
	_, session3, err := r.sessions.Create(ctx, u.ID, repositories.NewSession{})
	require.NoError(t, err)
	addToken("third session", session3)
	require.NoError(t, r.sessions.Delete(ctx, session3))
	fail(r.sessions.Delete(ctx, session3))
	var expired string
	require.NoError(t, r.resets.Request(ctx, u.Email, func(_ context.Context, _, tok string) error { expired = tok; return nil }))
	addToken("expired reset", expired)
	clock.Advance(s.Config.PasswordResetLifetime)
	_, err = r.resets.Consume(ctx, expired)
	fail(err)
	require.Len(t, errs, 10)
	return secrets, errs
}

// authDigestRE matches a hex SHA-256 digest (a stored token).
var authDigestRE = regexp.MustCompile(`[0-9a-f]{64}`)

// TestNoSecretInLogs proves SECURITY 33 for the authentication flows: with
// GORM's logger at Info, and with the library's own logger, no password,
// token, token digest or password hash appears in the log, nor in any error
// returned.
func TestNoSecretInLogs(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b Backend) {
		clock := newClock()
		s, libraryLog := authOpenCapturingLog(t, b, authstore.WithClock(clock.Now))
		opts := repositories.Options{Config: s.Config}
		var buf authSyncBuffer
		ldb := authLogDB(s.DB, &buf, true)
		infoSecrets, infoErrs := authLogFlows(t, s, clock, authLogRepos{
			users: repositories.NewUsers(ldb, opts), sessions: repositories.NewSessions(ldb, opts),
			resets: repositories.NewPasswordResets(ldb, opts), verifications: repositories.NewEmailVerifications(ldb, opts),
		}, "info-log@example.com")
		libSecrets, libErrs := authLogFlows(t, s, clock, authLogRepos{
			users: s.Users, sessions: s.Sessions, resets: s.PasswordResets, verifications: s.EmailVerifications,
		}, "library-log@example.com")

		t.Run("LogsCaptured", func(t *testing.T) {
			for _, want := range []string{"INSERT INTO", "UPDATE", "DELETE FROM", "user_activity_log", "token_hash", "duplicated key"} {
				require.Contains(t, buf.String(), want, "the Info log has no %q: the logger is not wired", want)
			}
			for _, want := range []string{"duplicated key", "INSERT INTO"} {
				require.Contains(t, libraryLog(), want, "the library log has no %q: it is not captured", want)
			}
		})

		t.Run("OK", func(t *testing.T) {
			logs := map[string]string{"GORM Info log": buf.String(), "library log": libraryLog()}
			for logName, out := range logs {
				// Also secrets this test never saw: those of failed statements.
				require.NotRegexp(t, authDigestRE, out, "the %s holds a SHA-256 digest", logName)
				require.NotContains(t, out, "$argon2id$", "the %s holds a password hash", logName)
			}
			for _, secrets := range []map[string]string{infoSecrets, libSecrets} {
				for name, secret := range secrets {
					for logName, out := range logs {
						require.NotContains(t, out, secret, "the %s holds the %s", logName, name)
					}
					for _, err := range append(infoErrs, libErrs...) {
						require.NotContains(t, err.Error(), secret, "error %q holds the %s", err, name)
					}
				}
			}
		})

		// With bound values printed, the same scan finds the digest: the
		// check above can fail.
		t.Run("BoundValuesWouldLeak", func(t *testing.T) {
			var leak authSyncBuffer
			_, err := repositories.NewSessions(authLogDB(s.DB, &leak, false), opts).Find(requestCtx(), infoSecrets["session"])
			require.ErrorIs(t, err, repositories.ErrNotFound, "the password change ended the session")
			require.Contains(t, leak.String(), infoSecrets["session digest"])
			require.Regexp(t, authDigestRE, leak.String())
		})
	})
}

// TestActivityLogRecordsEvents proves SECURITY 34 for the authentication
// events: login success and failure, logout, registration, password change,
// reset requested and completed, email verified; each with the user id, IP
// and user agent of the request and a UTC time from the clock.
func TestActivityLogRecordsEvents(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b Backend) {
		s, clock := authClockStore(t, b)
		ctx := requestCtx()
		const next, last = "a brand new passphrase", "the last passphrase"
		at := map[hooks.Event]time.Time{}
		step := func(e hooks.Event) {
			clock.Advance(time.Second)
			at[e] = clock.Now()
		}

		step(hooks.EventRegistered)
		u := authRegister(t, s.Users, "audit@example.com", authPassword)
		step(hooks.EventLoginFailed)
		_, err := s.Users.Authenticate(ctx, u.Email, "not the password")
		require.ErrorIs(t, err, repositories.ErrInvalidCredentials)
		step(hooks.EventLoginSucceeded)
		_, err = s.Users.Authenticate(ctx, u.Email, authPassword)
		require.NoError(t, err)
		step(hooks.EventSessionCreated)
		_, session, err := s.Sessions.Create(ctx, u.ID, repositories.NewSession{})
		require.NoError(t, err)
		step(hooks.EventLogout)
		require.NoError(t, s.Sessions.Delete(ctx, session))
		step(hooks.EventPasswordChanged)
		require.NoError(t, s.Users.ChangePassword(ctx, u.ID, authPassword, next, next, ""))
		step(hooks.EventPasswordResetRequested)
		reset := authRequestReset(t, s.PasswordResets, u.Email)
		step(hooks.EventPasswordResetCompleted)
		_, err = s.PasswordResets.Reset(ctx, reset, last, last)
		require.NoError(t, err)
		step(hooks.EventEmailVerificationSent)
		verification, _, err := s.EmailVerifications.Issue(ctx, u.ID)
		require.NoError(t, err)
		step(hooks.EventEmailVerified)
		_, err = s.EmailVerifications.Consume(ctx, verification)
		require.NoError(t, err)

		t.Run("OK", func(t *testing.T) {
			rows, err := s.Activity.ListForUser(ctx, u.ID, repositories.MaxListLimit)
			require.NoError(t, err)
			byEvent := map[string][]models.Activity{}
			for _, a := range rows {
				byEvent[a.Event] = append(byEvent[a.Event], a)
			}
			for e, when := range at {
				got := byEvent[string(e)]
				require.NotEmpty(t, got, "no %s row for the user", e)
				a := got[len(got)-1] // the oldest: password.changed is also written by the reset
				require.NotNil(t, a.UserID)
				require.Equal(t, u.ID, *a.UserID, "%s user_id", e)
				require.Equal(t, requestIP, a.IPAddress, "%s ip_address", e)
				require.Equal(t, requestUA, a.UserAgent, "%s user_agent", e)
				require.True(t, a.CreatedAt.Equal(when), "%s created_at = %v; want %v", e, a.CreatedAt, when)
				require.Equal(t, authFmt(when), authUTCText(t, s.DB, "user_activity_log", "created_at", a.ID), "%s created_at as stored", e)
			}
		})

		t.Run("FailedChangeWritesNoActivity", func(t *testing.T) {
			before := countRows(t, s.DB, "user_activity_log", "")
			_, err := s.Users.Create(ctx, repositories.NewUser{Name: "Eve", Email: "AUDIT@example.com", Password: authPassword, PasswordConfirmation: authPassword})
			require.ErrorIs(t, err, repositories.ErrDuplicate)
			_, _, err = s.Sessions.Create(ctx, models.NewUUID(), repositories.NewSession{})
			require.ErrorIs(t, err, repositories.ErrNotFound)
			_, err = s.PasswordResets.Reset(ctx, reset, "yet another passphrase", "yet another passphrase")
			require.ErrorIs(t, err, repositories.ErrUsed)
			require.Equal(t, before, countRows(t, s.DB, "user_activity_log", ""), "a failed change wrote an activity row")
		})

		t.Run("RolledBackWithTheChange", func(t *testing.T) {
			before := snapshotTables(t, s.DB)
			abort := errors.New("abort")
			err := s.DB.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
				if _, _, err := s.Sessions.WithTx(tx).Create(ctx, u.ID, repositories.NewSession{}); err != nil {
					return err
				}
				return abort
			})
			require.ErrorIs(t, err, abort)
			require.Equal(t, before, snapshotTables(t, s.DB), "session.created survived the rollback of its session")
		})
	})
}

// TestActivityAppendOnly proves the rest of SECURITY 34: no API updates or
// deletes an activity row except the retention purge.
func TestActivityAppendOnly(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b Backend) {
		s, clock := authClockStore(t, b)
		ctx := requestCtx()
		u := authInsertUser(t, s, "append-only@example.com")
		var a models.Activity
		require.NoError(t, s.DB.Where("user_id = ?", u.ID).Take(&a).Error)
		db := s.DB.WithContext(ctx)

		t.Run("ErrAppendOnly", func(t *testing.T) {
			before := snapshotTables(t, s.DB)
			edited := a
			edited.Event = string(hooks.EventLoginSucceeded)
			attempts := map[string]func() error{
				"Save":          func() error { return db.Save(&edited).Error },
				"Model.Updates": func() error { return db.Model(&a).Updates(map[string]any{"event": "tampered"}).Error },
				"Model.Update": func() error {
					return db.Model(&models.Activity{}).Where("id = ?", a.ID).Update("ip_address", "0.0.0.0").Error
				},
				"Updates(struct)": func() error { return db.Model(&a).Updates(models.Activity{UserAgent: "tampered"}).Error },
				"Delete(row)":     func() error { return db.Delete(&a).Error },
				"Delete(where)":   func() error { return db.Where("user_id = ?", u.ID).Delete(&models.Activity{}).Error },
				"Delete(by key)":  func() error { return db.Delete(&models.Activity{}, a.ID).Error },
				"Session.Save":    func() error { return db.Session(&gorm.Session{}).Save(&edited).Error },
				"Transaction.Delete": func() error {
					return db.Transaction(func(tx *gorm.DB) error { return tx.Delete(&a).Error })
				},
			}
			for name, attempt := range attempts {
				err := attempt()
				require.ErrorIs(t, err, models.ErrAppendOnly, "%s(activity row) = %v; want ErrAppendOnly", name, err)
			}
			require.Equal(t, before, snapshotTables(t, s.DB), "an activity row changed")
		})

		t.Run("OKPurge", func(t *testing.T) {
			clock.Advance(time.Hour)
			require.NoError(t, s.Activity.Record(ctx, &u.ID, hooks.EventProfileUpdated, nil))
			n, err := s.Activity.Purge(ctx, clock.Now())
			require.NoError(t, err)
			require.EqualValues(t, 1, n, "Purge = %d; want 1", n)
			require.Zero(t, countRows(t, s.DB, "user_activity_log", "id = ?", a.ID))
			require.EqualValues(t, 1, countRows(t, s.DB, "user_activity_log", ""))
		})
	})
}

// TestModelHooksThroughGORM covers host code writing users with GORM
// itself: a plaintext Password is hashed and cleared and the registration
// logged; saving a loaded user never rehashes; setting Password and saving
// hashes it and logs password.changed.
func TestModelHooksThroughGORM(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b Backend) {
		s := openMigrated(t, b)
		ctx := requestCtx()
		db := s.DB.WithContext(ctx)
		const pw, next = "host code passphrase", "host code new passphrase"
		u := &models.User{Name: "Host", Email: "Host@Example.com", Password: pw}
		require.NoError(t, db.Create(u).Error)

		t.Run("CreateHashes", func(t *testing.T) {
			require.Empty(t, u.Password, "db.Create left the plaintext on the value")
			require.True(t, u.ID.Valid())
			require.Equal(t, "host@example.com", u.EmailNormalized)
			stored := authStoredHash(t, s.DB, u.ID)
			require.Equal(t, u.PasswordHash, stored)
			ok, err := hooks.DefaultHasher().Verify(stored, pw)
			require.NoError(t, err)
			require.True(t, ok, "the hook's hash does not verify the password")
			require.EqualValues(t, 1, countEvents(t, s.DB, hooks.EventRegistered, &u.ID))
			found, _ := scanForSecrets(t, s.DB, map[string]string{"password": pw})
			require.Empty(t, found)
		})

		t.Run("SaveLoadedNeverRehashes", func(t *testing.T) {
			before := authStoredHash(t, s.DB, u.ID)
			var loaded models.User
			require.NoError(t, db.Where("id = ?", u.ID).Take(&loaded).Error)
			loaded.Name = "Host Renamed"
			require.NoError(t, db.Save(&loaded).Error)
			require.Equal(t, before, authStoredHash(t, s.DB, u.ID), "db.Save of a loaded user changed users.password")
			require.Zero(t, countEvents(t, s.DB, hooks.EventPasswordChanged, &u.ID))
			got, err := s.Users.FindByID(ctx, u.ID)
			require.NoError(t, err)
			require.Equal(t, "Host Renamed", got.Name)
		})

		t.Run("SetPasswordHashes", func(t *testing.T) {
			before := authStoredHash(t, s.DB, u.ID)
			var loaded models.User
			require.NoError(t, db.Where("id = ?", u.ID).Take(&loaded).Error)
			loaded.Password = next
			require.NoError(t, db.Save(&loaded).Error)
			require.Empty(t, loaded.Password)
			stored := authStoredHash(t, s.DB, u.ID)
			require.NotEqual(t, before, stored)
			ok, err := hooks.DefaultHasher().Verify(stored, next)
			require.NoError(t, err)
			require.True(t, ok, "the saved password does not verify")
			require.EqualValues(t, 1, countEvents(t, s.DB, hooks.EventPasswordChanged, &u.ID))
			_, err = s.Users.Authenticate(ctx, "host@example.com", next)
			require.NoError(t, err)
		})
	})
}

// TestAuthenticateRequiresVerifiedEmail covers AUTH_REQUIRE_EMAIL_VERIFICATION:
// an unverified user is refused with ErrEmailNotVerified, but only after a
// correct password, and accepted once verified.
func TestAuthenticateRequiresVerifiedEmail(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b Backend) {
		s := openMigrated(t, b)
		ctx := requestCtx()
		cfg := s.Config
		cfg.RequireEmailVerification = true
		users := repositories.NewUsers(s.DB, repositories.Options{Config: cfg})
		u := authInsertUser(t, s, "unverified@example.com")

		t.Run("ErrInvalidCredentials", func(t *testing.T) {
			_, err := users.Authenticate(ctx, u.Email, authPassword+"!")
			require.ErrorIs(t, err, repositories.ErrInvalidCredentials, "Authenticate(unverified, wrong password) = %v; want ErrInvalidCredentials", err)
			require.False(t, errors.Is(err, repositories.ErrEmailNotVerified), "a wrong password revealed that the email is unverified")
		})

		t.Run("ErrEmailNotVerified", func(t *testing.T) {
			_, err := users.Authenticate(ctx, u.Email, authPassword)
			require.ErrorIs(t, err, repositories.ErrEmailNotVerified, "Authenticate(unverified, right password) = %v; want ErrEmailNotVerified", err)
			require.Zero(t, countEvents(t, s.DB, hooks.EventLoginSucceeded, &u.ID))
		})

		t.Run("OK", func(t *testing.T) {
			token, _, err := s.EmailVerifications.Issue(ctx, u.ID)
			require.NoError(t, err)
			_, err = s.EmailVerifications.Consume(ctx, token)
			require.NoError(t, err)
			got, err := users.Authenticate(ctx, u.Email, authPassword)
			require.NoError(t, err, "Authenticate(verified, right password) = %v; want nil", err)
			require.Equal(t, u.ID, got.ID)
			_, err = s.Users.Authenticate(ctx, u.Email, authPassword)
			require.NoError(t, err, "the default configuration does not require verification")
		})
	})
}
