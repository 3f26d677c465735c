package integration

// The contract of repositories.Sessions, PasswordResets,
// EmailVerifications and ActivityLog on every backend: each method's
// success and error paths.

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/forgeauth/authstore/hooks"
	"github.com/forgeauth/authstore/models"
	"github.com/forgeauth/authstore/repositories"
	"github.com/stretchr/testify/require"
)

func TestSessionsCreate(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b Backend) {
		s, clock := authClockStore(t, b)
		ctx := requestCtx()
		u := authInsertUser(t, s, "session@example.com")

		t.Run("OK", func(t *testing.T) {
			sess, token, err := s.Sessions.Create(ctx, u.ID, repositories.NewSession{})
			require.NoError(t, err, "Create(%s) = %v; want nil", u.ID, err)
			require.Len(t, token, 43)
			require.True(t, sess.ID.Valid())
			require.Equal(t, u.ID, sess.UserID)
			require.Empty(t, sess.Token, "Create(...).Token = %q; want the plaintext cleared from the row value", sess.Token)
			require.Equal(t, hooks.Digest(token), sess.TokenHash)
			require.Equal(t, requestIP, sess.IPAddress, "IPAddress from the request metadata")
			require.Equal(t, requestUA, sess.UserAgent, "UserAgent from the request metadata")
			require.False(t, sess.Remember)
			require.True(t, sess.LastActivityAt.Equal(clock.Now()))
			require.True(t, sess.ExpiresAt.Equal(clock.Now().Add(s.Sessions.AbsoluteLifetime)), "ExpiresAt = %v; want now + AbsoluteLifetime", sess.ExpiresAt)
			require.EqualValues(t, 1, countEvents(t, s.DB, hooks.EventSessionCreated, &u.ID))
		})

		t.Run("OKExplicitMeta", func(t *testing.T) {
			sess, _, err := s.Sessions.Create(ctx, u.ID, repositories.NewSession{IPAddress: "198.51.100.1", UserAgent: "curl/8", Remember: true})
			require.NoError(t, err)
			require.Equal(t, "198.51.100.1", sess.IPAddress)
			require.Equal(t, "curl/8", sess.UserAgent)
			require.True(t, sess.Remember)
			require.True(t, sess.ExpiresAt.Equal(clock.Now().Add(s.Config.RememberLifetime)), "remembered ExpiresAt = %v; want now + AUTH_REMEMBER_LIFETIME", sess.ExpiresAt)
		})

		t.Run("ErrNotFound", func(t *testing.T) {
			before := snapshotTables(t, s.DB)
			for _, id := range []models.UUID{models.NewUUID(), "not-a-uuid", ""} {
				_, token, err := s.Sessions.Create(ctx, id, repositories.NewSession{})
				require.ErrorIs(t, err, repositories.ErrNotFound, "Create(%q) = %v; want ErrNotFound", id, err)
				require.Empty(t, token)
			}
			require.Equal(t, before, snapshotTables(t, s.DB), "a refused session wrote rows")
		})
	})
}

func TestSessionsFind(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b Backend) {
		s, clock := authClockStore(t, b)
		ctx := requestCtx()
		u := authInsertUser(t, s, "find-session@example.com")
		sess, token, err := s.Sessions.Create(ctx, u.ID, repositories.NewSession{})
		require.NoError(t, err)

		t.Run("OK", func(t *testing.T) {
			got, err := s.Sessions.Find(ctx, token)
			require.NoError(t, err, "Find(token) = %v; want nil", err)
			require.Equal(t, sess.ID, got.ID)
			require.Equal(t, u.ID, got.UserID)
		})

		t.Run("ErrNotFound", func(t *testing.T) {
			for _, tok := range []string{"", "unknown", sess.TokenHash} {
				_, err := s.Sessions.Find(ctx, tok)
				require.ErrorIs(t, err, repositories.ErrNotFound, "Find(%q) = %v; want ErrNotFound", tok, err)
			}
		})

		t.Run("ErrExpired", func(t *testing.T) {
			clock.Advance(s.Config.SessionLifetime + time.Second)
			_, err := s.Sessions.Find(ctx, token)
			require.ErrorIs(t, err, repositories.ErrExpired, "Find(idle token) = %v; want ErrExpired", err)
		})
	})
}

func TestSessionsTouch(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b Backend) {
		s, clock := authClockStore(t, b)
		ctx := requestCtx()
		u := authInsertUser(t, s, "touch@example.com")
		sess, _, err := s.Sessions.Create(ctx, u.ID, repositories.NewSession{})
		require.NoError(t, err)

		t.Run("OK", func(t *testing.T) {
			clock.Advance(time.Second)
			require.NoError(t, s.Sessions.Touch(ctx, sess.ID), "Touch(%s)", sess.ID)
			require.Equal(t, authFmt(clock.Now()), authUTCText(t, s.DB, "sessions", "last_activity_at", sess.ID))
			require.NoError(t, s.Sessions.Touch(ctx, sess.ID), "Touch twice at one instant")
		})

		t.Run("ErrNotFound", func(t *testing.T) {
			for _, id := range []models.UUID{models.NewUUID(), "not-a-uuid"} {
				err := s.Sessions.Touch(ctx, id)
				require.ErrorIs(t, err, repositories.ErrNotFound, "Touch(%q) = %v; want ErrNotFound", id, err)
			}
		})
	})
}

func TestSessionsDelete(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b Backend) {
		s := openMigrated(t, b)
		ctx := requestCtx()
		u := authInsertUser(t, s, "logout@example.com")
		sess, token, err := s.Sessions.Create(ctx, u.ID, repositories.NewSession{})
		require.NoError(t, err)
		_, keep, err := s.Sessions.Create(ctx, u.ID, repositories.NewSession{})
		require.NoError(t, err)

		t.Run("OK", func(t *testing.T) {
			require.NoError(t, s.Sessions.Delete(ctx, token), "Delete(token)")
			_, err := s.Sessions.Find(ctx, token)
			require.ErrorIs(t, err, repositories.ErrNotFound, "Find after Delete = %v; want ErrNotFound", err)
			_, err = s.Sessions.Find(ctx, keep)
			require.NoError(t, err, "Delete ended another session")
			require.EqualValues(t, 1, countEvents(t, s.DB, hooks.EventLogout, &u.ID))
			require.EqualValues(t, 1, countEvents(t, s.DB, hooks.EventSessionDeleted, &u.ID))
			require.Zero(t, countRows(t, s.DB, "sessions", "id = ?", sess.ID))
		})

		t.Run("ErrNotFound", func(t *testing.T) {
			for _, tok := range []string{token, "unknown", ""} {
				err := s.Sessions.Delete(ctx, tok)
				require.ErrorIs(t, err, repositories.ErrNotFound, "Delete(%q) = %v; want ErrNotFound", tok, err)
			}
			require.EqualValues(t, 1, countEvents(t, s.DB, hooks.EventLogout, &u.ID), "a failed logout was logged")
		})
	})
}

func TestSessionsDeleteOthersAndList(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b Backend) {
		s, clock := authClockStore(t, b)
		ctx := requestCtx()
		u := authInsertUser(t, s, "others@example.com")
		other := authInsertUser(t, s, "bystander@example.com")
		var ids []models.UUID
		for i := 0; i < 3; i++ {
			sess, _, err := s.Sessions.Create(ctx, u.ID, repositories.NewSession{})
			require.NoError(t, err)
			ids = append(ids, sess.ID)
			clock.Advance(time.Second)
		}
		_, _, err := s.Sessions.Create(ctx, other.ID, repositories.NewSession{})
		require.NoError(t, err)

		t.Run("ListOK", func(t *testing.T) {
			clock.Advance(s.Sessions.AbsoluteLifetime) // expired sessions are listed too
			got, err := s.Sessions.ListForUser(ctx, u.ID)
			require.NoError(t, err)
			var gotIDs []models.UUID
			for _, x := range got {
				gotIDs = append(gotIDs, x.ID)
			}
			require.Equal(t, []models.UUID{ids[2], ids[1], ids[0]}, gotIDs, "ListForUser = %v; want newest first", gotIDs)
			none, err := s.Sessions.ListForUser(ctx, models.NewUUID())
			require.NoError(t, err)
			require.Empty(t, none)
		})

		t.Run("OK", func(t *testing.T) {
			n, err := s.Sessions.DeleteOthers(ctx, u.ID, ids[1])
			require.NoError(t, err)
			require.EqualValues(t, 2, n, "DeleteOthers(keep one of 3) = %d; want 2", n)
			got, err := s.Sessions.ListForUser(ctx, u.ID)
			require.NoError(t, err)
			require.Len(t, got, 1)
			require.Equal(t, ids[1], got[0].ID, "DeleteOthers ended the kept session")
			require.EqualValues(t, 1, countRows(t, s.DB, "sessions", "user_id = ?", other.ID), "DeleteOthers reached another user")
			require.EqualValues(t, 1, countEvents(t, s.DB, hooks.EventSessionDeleted, &u.ID))

			n, err = s.Sessions.DeleteOthers(ctx, u.ID, "")
			require.NoError(t, err)
			require.EqualValues(t, 1, n, "DeleteOthers(keep none) = %d; want 1", n)
		})

		t.Run("OKNone", func(t *testing.T) {
			before := snapshotTables(t, s.DB)
			n, err := s.Sessions.DeleteOthers(ctx, u.ID, "")
			require.NoError(t, err)
			require.Zero(t, n, "DeleteOthers with no session = %d; want 0", n)
			require.Equal(t, before, snapshotTables(t, s.DB), "DeleteOthers of nothing wrote a row")
		})
	})
}

func TestPasswordResetsRequest(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b Backend) {
		s, clock := authClockStore(t, b)
		ctx := requestCtx()
		u := authInsertUser(t, s, "Reset.Me@example.com")

		t.Run("OK", func(t *testing.T) {
			var to, token string
			calls := 0
			err := s.PasswordResets.Request(ctx, "reset.me@EXAMPLE.com", func(_ context.Context, addr, tok string) error {
				calls++
				to, token = addr, tok
				return nil
			})
			require.NoError(t, err, "Request(known) = %v; want nil", err)
			require.Equal(t, 1, calls, "deliver calls")
			require.Equal(t, u.Email, to, "deliver address")
			require.Len(t, token, 43)
			var pr models.PasswordReset
			require.NoError(t, s.DB.Where("token_hash = ?", hooks.Digest(token)).Take(&pr).Error, "no row holds the digest of the delivered token")
			require.Equal(t, u.ID, pr.UserID)
			require.Equal(t, u.Email, pr.Email)
			require.Nil(t, pr.UsedAt)
			require.True(t, pr.ExpiresAt.Equal(clock.Now().Add(s.Config.PasswordResetLifetime)), "ExpiresAt = %v; want now + AUTH_PASSWORD_RESET_LIFETIME", pr.ExpiresAt)
			require.EqualValues(t, 1, countEvents(t, s.DB, hooks.EventPasswordResetRequested, &u.ID))
		})

		t.Run("OKUnknownEmail", func(t *testing.T) {
			before := snapshotTables(t, s.DB)
			err := s.PasswordResets.Request(ctx, "nobody@example.com", func(context.Context, string, string) error {
				t.Error("deliver called for an unknown email")
				return nil
			})
			require.NoError(t, err, "Request(unknown) = %v; want nil", err)
			require.Equal(t, before, snapshotTables(t, s.DB))
		})

		t.Run("ErrDeliver", func(t *testing.T) {
			failed := errors.New("smtp down")
			err := s.PasswordResets.Request(ctx, u.Email, func(context.Context, string, string) error { return failed })
			require.ErrorIs(t, err, failed, "Request(deliver fails) = %v; want the deliver error", err)
		})
	})
}

func TestPasswordResetsReset(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b Backend) {
		s, clock := authClockStore(t, b)
		ctx := requestCtx()
		h := hooks.DefaultHasher()
		const next = "a brand new passphrase"

		t.Run("OK", func(t *testing.T) {
			u := authInsertUser(t, s, "reset-ok@example.com")
			token := authRequestReset(t, s.PasswordResets, u.Email)
			got, err := s.PasswordResets.Reset(ctx, token, next, next)
			require.NoError(t, err, "Reset(token) = %v; want nil", err)
			require.Equal(t, u.ID, got.ID)
			stored := authStoredHash(t, s.DB, u.ID)
			require.Equal(t, stored, got.PasswordHash)
			ok, err := h.Verify(stored, next)
			require.NoError(t, err)
			require.True(t, ok, "the reset password does not verify")
			var prID string
			require.NoError(t, s.DB.Raw("SELECT id FROM password_resets WHERE token_hash = ?", hooks.Digest(token)).Scan(&prID).Error)
			require.Equal(t, authFmt(clock.Now()), authUTCText(t, s.DB, "password_resets", "used_at", prID), "password_resets.used_at")
			require.EqualValues(t, 1, countEvents(t, s.DB, hooks.EventPasswordResetCompleted, &u.ID))
			require.EqualValues(t, 1, countEvents(t, s.DB, hooks.EventPasswordChanged, &u.ID))
		})

		t.Run("ErrInvalidInput", func(t *testing.T) {
			u := authInsertUser(t, s, "reset-invalid@example.com")
			token := authRequestReset(t, s.PasswordResets, u.Email)
			before := snapshotTables(t, s.DB)
			for _, c := range []struct{ pw, confirm string }{{"short", "short"}, {next, next + "!"}} {
				_, err := s.PasswordResets.Reset(ctx, token, c.pw, c.confirm)
				require.ErrorIs(t, err, repositories.ErrInvalidInput, "Reset(%q, %q) = %v; want ErrInvalidInput", c.pw, c.confirm, err)
			}
			require.Equal(t, before, snapshotTables(t, s.DB), "a refused reset consumed the token or wrote rows")
		})

		t.Run("ErrNotFound", func(t *testing.T) {
			_, err := s.PasswordResets.Reset(ctx, "unknown-token", next, next)
			require.ErrorIs(t, err, repositories.ErrNotFound, "Reset(unknown) = %v; want ErrNotFound", err)
		})

		t.Run("ErrUsed", func(t *testing.T) {
			u := authInsertUser(t, s, "reset-used@example.com")
			token := authRequestReset(t, s.PasswordResets, u.Email)
			_, err := s.PasswordResets.Consume(ctx, token)
			require.NoError(t, err)
			before := snapshotTables(t, s.DB)
			_, err = s.PasswordResets.Reset(ctx, token, next, next)
			require.ErrorIs(t, err, repositories.ErrUsed, "Reset(used) = %v; want ErrUsed", err)
			require.Equal(t, before, snapshotTables(t, s.DB))
		})

		t.Run("ErrExpired", func(t *testing.T) {
			u := authInsertUser(t, s, "reset-expired@example.com")
			token := authRequestReset(t, s.PasswordResets, u.Email)
			clock.Advance(s.Config.PasswordResetLifetime)
			before := snapshotTables(t, s.DB)
			_, err := s.PasswordResets.Reset(ctx, token, next, next)
			require.ErrorIs(t, err, repositories.ErrExpired, "Reset(expired) = %v; want ErrExpired", err)
			require.Equal(t, before, snapshotTables(t, s.DB), "an expired reset changed something")
		})
	})
}

func TestPasswordResetsConsume(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b Backend) {
		s, clock := authClockStore(t, b)
		ctx := requestCtx()
		u := authInsertUser(t, s, "consume@example.com")

		t.Run("OK", func(t *testing.T) {
			token := authRequestReset(t, s.PasswordResets, u.Email)
			clock.Advance(s.Config.PasswordResetLifetime - time.Second)
			pr, err := s.PasswordResets.Consume(ctx, token)
			require.NoError(t, err, "Consume(token) = %v; want nil", err)
			require.Equal(t, u.ID, pr.UserID)
			require.NotNil(t, pr.UsedAt)
			require.True(t, pr.UsedAt.Equal(clock.Now()), "UsedAt = %v; want %v", pr.UsedAt, clock.Now())
			require.Equal(t, u.PasswordHash, authStoredHash(t, s.DB, u.ID), "Consume changed the password")

			_, err = s.PasswordResets.Consume(ctx, token)
			require.ErrorIs(t, err, repositories.ErrUsed, "Consume twice = %v; want ErrUsed", err)
		})

		t.Run("ErrNotFound", func(t *testing.T) {
			for _, tok := range []string{"", "unknown"} {
				_, err := s.PasswordResets.Consume(ctx, tok)
				require.ErrorIs(t, err, repositories.ErrNotFound, "Consume(%q) = %v; want ErrNotFound", tok, err)
			}
		})

		t.Run("ErrExpired", func(t *testing.T) {
			token := authRequestReset(t, s.PasswordResets, u.Email)
			clock.Advance(s.Config.PasswordResetLifetime)
			_, err := s.PasswordResets.Consume(ctx, token)
			require.ErrorIs(t, err, repositories.ErrExpired, "Consume(expired) = %v; want ErrExpired", err)
		})
	})
}

func TestEmailVerificationsIssue(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b Backend) {
		s, clock := authClockStore(t, b)
		ctx := requestCtx()
		u := authInsertUser(t, s, "Issue@example.com")

		t.Run("OK", func(t *testing.T) {
			token, to, err := s.EmailVerifications.Issue(ctx, u.ID)
			require.NoError(t, err, "Issue(%s) = %v; want nil", u.ID, err)
			require.Len(t, token, 43)
			require.Equal(t, u.Email, to)
			var v models.EmailVerification
			require.NoError(t, s.DB.Where("token_hash = ?", hooks.Digest(token)).Take(&v).Error)
			require.Equal(t, u.ID, v.UserID)
			require.Equal(t, u.Email, v.Email, "the token must be bound to the address it was sent to")
			require.Nil(t, v.VerifiedAt)
			require.True(t, v.ExpiresAt.Equal(clock.Now().Add(s.Config.EmailVerificationLifetime)), "ExpiresAt = %v", v.ExpiresAt)
			require.EqualValues(t, 1, countEvents(t, s.DB, hooks.EventEmailVerificationSent, &u.ID))
		})

		t.Run("ErrNotFound", func(t *testing.T) {
			before := snapshotTables(t, s.DB)
			for _, id := range []models.UUID{models.NewUUID(), "not-a-uuid", ""} {
				token, _, err := s.EmailVerifications.Issue(ctx, id)
				require.ErrorIs(t, err, repositories.ErrNotFound, "Issue(%q) = %v; want ErrNotFound", id, err)
				require.Empty(t, token)
			}
			require.Equal(t, before, snapshotTables(t, s.DB))
		})
	})
}

func TestEmailVerificationsConsume(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b Backend) {
		s, clock := authClockStore(t, b)
		ctx := requestCtx()
		u := authInsertUser(t, s, "consume-verify@example.com")

		t.Run("OK", func(t *testing.T) {
			token, _, err := s.EmailVerifications.Issue(ctx, u.ID)
			require.NoError(t, err)
			clock.Advance(time.Hour)
			got, err := s.EmailVerifications.Consume(ctx, token)
			require.NoError(t, err, "Consume(token) = %v; want nil", err)
			require.Equal(t, u.ID, got.ID)
			require.NotNil(t, got.EmailVerifiedAt)
			require.True(t, got.EmailVerifiedAt.Equal(clock.Now()))
			require.Equal(t, authFmt(clock.Now()), authUTCText(t, s.DB, "users", "email_verified_at", u.ID))
			require.EqualValues(t, 1, countEvents(t, s.DB, hooks.EventEmailVerified, &u.ID))
		})

		t.Run("ErrNotFound", func(t *testing.T) {
			for _, tok := range []string{"", "unknown"} {
				_, err := s.EmailVerifications.Consume(ctx, tok)
				require.ErrorIs(t, err, repositories.ErrNotFound, "Consume(%q) = %v; want ErrNotFound", tok, err)
			}
		})

		t.Run("ErrUsed", func(t *testing.T) {
			token, _, err := s.EmailVerifications.Issue(ctx, u.ID)
			require.NoError(t, err)
			_, err = s.EmailVerifications.Consume(ctx, token)
			require.NoError(t, err)
			before := snapshotTables(t, s.DB)
			_, err = s.EmailVerifications.Consume(ctx, token)
			require.ErrorIs(t, err, repositories.ErrUsed, "Consume twice = %v; want ErrUsed", err)
			require.Equal(t, before, snapshotTables(t, s.DB))
		})

		t.Run("ErrExpired", func(t *testing.T) {
			v := authInsertUser(t, s, "late@example.com")
			token, _, err := s.EmailVerifications.Issue(ctx, v.ID)
			require.NoError(t, err)
			clock.Advance(s.Config.EmailVerificationLifetime)
			_, err = s.EmailVerifications.Consume(ctx, token)
			require.ErrorIs(t, err, repositories.ErrExpired, "Consume(expired) = %v; want ErrExpired", err)
			got, err := s.Users.FindByID(ctx, v.ID)
			require.NoError(t, err)
			require.Nil(t, got.EmailVerifiedAt, "an expired token verified the address")
		})
	})
}

func TestActivityLogRecordAndList(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b Backend) {
		s, clock := authClockStore(t, b)
		ctx := requestCtx()
		u := authInsertUser(t, s, "activity@example.com") // writes user.registered
		start := clock.Now()

		t.Run("RecordOK", func(t *testing.T) {
			clock.Advance(time.Second)
			err := s.Activity.Record(ctx, &u.ID, hooks.EventTokenRevoked, map[string]any{"token_id": "t-1"})
			require.NoError(t, err, "Record(token.revoked) = %v; want nil", err)
			clock.Advance(time.Second)
			require.NoError(t, s.Activity.Record(context.Background(), nil, hooks.EventClientDeleted, nil), "Record(no user)")
			var rows []models.Activity
			require.NoError(t, s.DB.Order("id").Find(&rows).Error)
			last, prev := rows[len(rows)-1], rows[len(rows)-2]
			require.Nil(t, last.UserID)
			require.Equal(t, string(hooks.EventClientDeleted), last.Event)
			require.Equal(t, "{}", last.Metadata, "nil metadata is stored as {}")
			require.Empty(t, last.IPAddress, "no request metadata in the context")
			require.Equal(t, string(hooks.EventTokenRevoked), prev.Event)
			require.Equal(t, requestIP, prev.IPAddress)
			require.Equal(t, requestUA, prev.UserAgent)
			var meta map[string]any
			require.NoError(t, json.Unmarshal([]byte(prev.Metadata), &meta))
			require.Equal(t, map[string]any{"token_id": "t-1"}, meta)
		})

		t.Run("RecordErrInvalidInput", func(t *testing.T) {
			before := snapshotTables(t, s.DB)
			err := s.Activity.Record(ctx, &u.ID, hooks.Event("made.up"), nil)
			require.ErrorIs(t, err, repositories.ErrInvalidInput, "Record(made.up) = %v; want ErrInvalidInput", err)
			require.Equal(t, before, snapshotTables(t, s.DB))
		})

		t.Run("ListOK", func(t *testing.T) {
			got, err := s.Activity.ListForUser(ctx, u.ID, 10)
			require.NoError(t, err)
			var events []string
			for _, a := range got {
				events = append(events, a.Event)
			}
			require.Equal(t, []string{string(hooks.EventTokenRevoked), string(hooks.EventRegistered)}, events, "ListForUser = %v; want newest first", events)
			one, err := s.Activity.ListForUser(ctx, u.ID, 1)
			require.NoError(t, err)
			require.Len(t, one, 1)
			require.Equal(t, string(hooks.EventTokenRevoked), one[0].Event)

			since, err := s.Activity.ListSince(ctx, start.Add(time.Second), 10)
			require.NoError(t, err)
			events = nil
			for _, a := range since {
				events = append(events, a.Event)
			}
			require.Equal(t, []string{string(hooks.EventClientDeleted), string(hooks.EventTokenRevoked)}, events, "ListSince = %v", events)
		})

		t.Run("ListErrInvalidInput", func(t *testing.T) {
			for _, limit := range []int{0, -1, repositories.MaxListLimit + 1} {
				_, err := s.Activity.ListForUser(ctx, u.ID, limit)
				require.ErrorIs(t, err, repositories.ErrInvalidInput, "ListForUser(limit %d) = %v; want ErrInvalidInput", limit, err)
				_, err = s.Activity.ListSince(ctx, start, limit)
				require.ErrorIs(t, err, repositories.ErrInvalidInput, "ListSince(limit %d) = %v; want ErrInvalidInput", limit, err)
			}
		})

		t.Run("PurgeOK", func(t *testing.T) {
			total := countRows(t, s.DB, "user_activity_log", "")
			older := countRows(t, s.DB, "user_activity_log", "created_at < ?", start.Add(2*time.Second))
			require.NotZero(t, older)
			require.Less(t, older, total)
			n, err := s.Activity.Purge(ctx, start.Add(2*time.Second))
			require.NoError(t, err)
			require.Equal(t, older, n, "Purge = %d; want %d", n, older)
			require.Equal(t, total-older, countRows(t, s.DB, "user_activity_log", ""))
			n, err = s.Activity.Purge(ctx, start.Add(2*time.Second))
			require.NoError(t, err)
			require.Zero(t, n, "a second Purge deleted %d rows", n)
		})
	})
}
