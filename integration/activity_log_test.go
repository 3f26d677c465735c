package integration

// Tests of repositories.ActivityLog (table user_activity_log): each
// method's success and error paths, and SECURITY.md 34 (what is recorded,
// and that rows are append-only).

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/forgeauth/authstore/models"
	"github.com/forgeauth/authstore/repositories"
	"github.com/stretchr/testify/require"
	"gorm.io/gorm"
)

func TestActivityLogRecordAndList(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b Backend) {
		f := newFixture(t, b)
		ctx := requestCtx()
		u := f.user(t, "activity@example.com") // writes user.registered
		start := f.clock.Now()

		t.Run("RecordOK", func(t *testing.T) {
			f.clock.Advance(time.Second)
			err := f.s.Activity.Record(ctx, &u.ID, models.EventTokenRevoked, map[string]any{"token_id": "t-1"})
			require.NoError(t, err, "Record(token.revoked) = %v; want nil", err)
			f.clock.Advance(time.Second)
			require.NoError(t, f.s.Activity.Record(context.Background(), nil, models.EventClientDeleted, nil), "Record(no user)")
			var rows []models.Activity
			require.NoError(t, f.s.DB().Order("id").Find(&rows).Error)
			last, prev := rows[len(rows)-1], rows[len(rows)-2]
			require.Nil(t, last.UserID)
			require.Equal(t, string(models.EventClientDeleted), last.Event)
			require.Equal(t, "{}", last.Metadata, "nil metadata is stored as {}")
			require.Empty(t, last.IPAddress, "no request metadata in the context")
			require.Equal(t, string(models.EventTokenRevoked), prev.Event)
			require.Equal(t, requestIP, prev.IPAddress)
			require.Equal(t, requestUA, prev.UserAgent)
			var meta map[string]any
			require.NoError(t, json.Unmarshal([]byte(prev.Metadata), &meta))
			require.Equal(t, map[string]any{"token_id": "t-1"}, meta)
		})

		t.Run("RecordErrInvalidInput", func(t *testing.T) {
			before := snapshotTables(t, f.s.DB())
			err := f.s.Activity.Record(ctx, &u.ID, models.Event("made.up"), nil)
			require.ErrorIs(t, err, repositories.ErrInvalidInput, "Record(made.up) = %v; want ErrInvalidInput", err)
			require.Equal(t, before, snapshotTables(t, f.s.DB()))
		})

		t.Run("ListOK", func(t *testing.T) {
			got, err := f.s.Activity.ListForUser(ctx, u.ID, 10)
			require.NoError(t, err)
			var events []string
			for _, a := range got {
				events = append(events, a.Event)
			}
			require.Equal(t, []string{string(models.EventTokenRevoked), string(models.EventRegistered)}, events, "ListForUser = %v; want newest first", events)
			one, err := f.s.Activity.ListForUser(ctx, u.ID, 1)
			require.NoError(t, err)
			require.Len(t, one, 1)
			require.Equal(t, string(models.EventTokenRevoked), one[0].Event)

			since, err := f.s.Activity.ListSince(ctx, start.Add(time.Second), 10)
			require.NoError(t, err)
			events = nil
			for _, a := range since {
				events = append(events, a.Event)
			}
			require.Equal(t, []string{string(models.EventClientDeleted), string(models.EventTokenRevoked)}, events, "ListSince = %v", events)
		})

		t.Run("ListErrInvalidInput", func(t *testing.T) {
			for _, limit := range []int{0, -1, repositories.MaxListLimit + 1} {
				_, err := f.s.Activity.ListForUser(ctx, u.ID, limit)
				require.ErrorIs(t, err, repositories.ErrInvalidInput, "ListForUser(limit %d) = %v; want ErrInvalidInput", limit, err)
				_, err = f.s.Activity.ListSince(ctx, start, limit)
				require.ErrorIs(t, err, repositories.ErrInvalidInput, "ListSince(limit %d) = %v; want ErrInvalidInput", limit, err)
			}
		})

		t.Run("PurgeOK", func(t *testing.T) {
			total := countRows(t, f.s.DB(), "user_activity_log", "")
			older := countRows(t, f.s.DB(), "user_activity_log", "created_at < ?", start.Add(2*time.Second))
			require.NotZero(t, older)
			require.Less(t, older, total)
			n, err := f.s.Activity.Purge(ctx, start.Add(2*time.Second))
			require.NoError(t, err)
			require.Equal(t, older, n, "Purge = %d; want %d", n, older)
			require.Equal(t, total-older, countRows(t, f.s.DB(), "user_activity_log", ""))
			n, err = f.s.Activity.Purge(ctx, start.Add(2*time.Second))
			require.NoError(t, err)
			require.Zero(t, n, "a second Purge deleted %d rows", n)
		})
	})
}

// TestActivityLogRecordsAccountEvents checks that the account events (login
// success and failure, logout, registration, password change, reset
// requested and completed, email verified) are each recorded with the user
// id, IP and user agent of the request and a UTC time from the clock, that
// a failed change writes none and a rolled-back one leaves none.
//
// SECURITY 34: the activity log records every account event with user, IP, user agent and UTC time, in the same transaction as the change.
func TestActivityLogRecordsAccountEvents(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b Backend) {
		f := newFixture(t, b)
		ctx := requestCtx()
		const next, last = "a brand new passphrase", "the last passphrase"
		at := map[models.Event]time.Time{}
		step := func(e models.Event) {
			f.clock.Advance(time.Second)
			at[e] = f.clock.Now()
		}

		step(models.EventRegistered)
		u := f.register(t, "audit@example.com", userPassword)
		step(models.EventLoginFailed)
		_, err := f.s.Users.Authenticate(ctx, u.Email, "not the password")
		require.ErrorIs(t, err, repositories.ErrInvalidCredentials)
		step(models.EventLoginSucceeded)
		_, err = f.s.Users.Authenticate(ctx, u.Email, userPassword)
		require.NoError(t, err)
		step(models.EventSessionCreated)
		_, session, err := f.s.Sessions.Create(ctx, u.ID, repositories.SessionInput{})
		require.NoError(t, err)
		step(models.EventLogout)
		require.NoError(t, f.s.Sessions.Delete(ctx, session))
		step(models.EventPasswordChanged)
		require.NoError(t, f.s.Users.ChangePassword(ctx, u.ID, userPassword, next, next, ""))
		step(models.EventPasswordResetRequested)
		reset := f.requestReset(t, u.Email)
		step(models.EventPasswordResetCompleted)
		_, err = f.s.PasswordResets.Reset(ctx, reset, last, last)
		require.NoError(t, err)
		step(models.EventEmailVerificationSent)
		_, verification, err := f.s.EmailVerifications.Issue(ctx, u.ID)
		require.NoError(t, err)
		step(models.EventEmailVerified)
		_, err = f.s.EmailVerifications.Consume(ctx, verification)
		require.NoError(t, err)

		t.Run("OK", func(t *testing.T) {
			rows, err := f.s.Activity.ListForUser(ctx, u.ID, repositories.MaxListLimit)
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
				require.Equal(t, utcFmt(when), utcText(t, f.s.DB(), "user_activity_log", "created_at", a.ID), "%s created_at as stored", e)
			}
		})

		t.Run("FailedChangeWritesNoActivity", func(t *testing.T) {
			before := countRows(t, f.s.DB(), "user_activity_log", "")
			_, err := f.s.Users.Create(ctx, repositories.UserInput{Name: "Eve", Email: "AUDIT@example.com", Password: userPassword, PasswordConfirmation: userPassword})
			require.ErrorIs(t, err, repositories.ErrDuplicate)
			_, _, err = f.s.Sessions.Create(ctx, models.NewUUID(), repositories.SessionInput{})
			require.ErrorIs(t, err, repositories.ErrMissingReferent)
			_, err = f.s.PasswordResets.Reset(ctx, reset, "yet another passphrase", "yet another passphrase")
			require.ErrorIs(t, err, repositories.ErrUsed)
			require.Equal(t, before, countRows(t, f.s.DB(), "user_activity_log", ""), "a failed change wrote an activity row")
		})

		t.Run("RolledBackWithTheChange", func(t *testing.T) {
			before := snapshotTables(t, f.s.DB())
			abort := errors.New("abort")
			err := f.s.DB().WithContext(ctx).Transaction(func(tx *gorm.DB) error {
				if _, _, err := f.s.Sessions.WithTx(tx).Create(ctx, u.ID, repositories.SessionInput{}); err != nil {
					return err
				}
				return abort
			})
			require.ErrorIs(t, err, abort)
			require.Equal(t, before, snapshotTables(t, f.s.DB()), "session.created survived the rollback of its session")
		})
	})
}

// TestActivityLogAppendOnly checks that no API updates or deletes an
// activity row except the retention purge.
//
// SECURITY 34: no API updates or deletes a log row except retention.
func TestActivityLogAppendOnly(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b Backend) {
		f := newFixture(t, b)
		ctx := requestCtx()
		u := f.user(t, "append-only@example.com")
		var a models.Activity
		require.NoError(t, f.s.DB().Where("user_id = ?", u.ID).Take(&a).Error)
		db := f.s.DB().WithContext(ctx)

		t.Run("ErrAppendOnly", func(t *testing.T) {
			before := snapshotTables(t, f.s.DB())
			edited := a
			edited.Event = string(models.EventLoginSucceeded)
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
			require.Equal(t, before, snapshotTables(t, f.s.DB()), "an activity row changed")
		})

		t.Run("OKPurge", func(t *testing.T) {
			f.clock.Advance(time.Hour)
			require.NoError(t, f.s.Activity.Record(ctx, &u.ID, models.EventProfileUpdated, nil))
			n, err := f.s.Activity.Purge(ctx, f.clock.Now())
			require.NoError(t, err)
			require.EqualValues(t, 1, n, "Purge = %d; want 1", n)
			require.Zero(t, countRows(t, f.s.DB(), "user_activity_log", "id = ?", a.ID))
			require.EqualValues(t, 1, countRows(t, f.s.DB(), "user_activity_log", ""))
		})
	})
}
