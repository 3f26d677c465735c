package integration

// The contract of repositories.Users on every backend: each method's
// success and error paths.

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/forgeauth/authstore/hooks"
	"github.com/forgeauth/authstore/models"
	"github.com/forgeauth/authstore/repositories"
	"github.com/stretchr/testify/require"
	"gorm.io/gorm"
)

func TestUsersCreate(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b Backend) {
		s, clock := authClockStore(t, b)
		ctx := requestCtx()

		t.Run("OK", func(t *testing.T) {
			in := repositories.NewUser{Name: "  Ada Lovelace ", Email: " Ada@Example.COM ", Password: authPassword, PasswordConfirmation: authPassword}
			u, err := s.Users.Create(ctx, in)
			require.NoError(t, err, "Create(%q) = %v; want nil", in.Email, err)
			require.True(t, u.ID.Valid(), "Create(...).ID = %q; want a UUID", u.ID)
			require.Equal(t, "Ada Lovelace", u.Name, "Create(...).Name")
			require.Equal(t, "Ada@Example.COM", u.Email, "Create(...).Email")
			require.Equal(t, "ada@example.com", u.EmailNormalized, "Create(...).EmailNormalized")
			require.Empty(t, u.Password, "Create(...).Password = %q; want it cleared", u.Password)
			require.True(t, hooks.IsArgon2id(u.PasswordHash), "Create(...).PasswordHash = %q; want an Argon2id PHC string", u.PasswordHash)
			require.Nil(t, u.EmailVerifiedAt)
			require.Zero(t, u.FailedLogins)
			require.True(t, u.CreatedAt.Equal(clock.Now()), "Create(...).CreatedAt = %v; want %v", u.CreatedAt, clock.Now())

			got, err := s.Users.FindByID(ctx, u.ID)
			require.NoError(t, err)
			require.Equal(t, authUTC(*u), authUTC(*got), "FindByID after Create: the round trip changed the user")
			require.Equal(t, u.PasswordHash, authStoredHash(t, s.DB, u.ID))
			require.EqualValues(t, 1, countEvents(t, s.DB, hooks.EventRegistered, &u.ID), "user.registered rows")
		})

		t.Run("ErrInvalidInput", func(t *testing.T) {
			long := strings.Repeat("x", hooks.MaxPasswordLength+1)
			cases := map[string]repositories.NewUser{
				"empty name":              {Name: "", Email: "a1@example.com", Password: authPassword, PasswordConfirmation: authPassword},
				"blank name":              {Name: "   ", Email: "a2@example.com", Password: authPassword, PasswordConfirmation: authPassword},
				"name too long":           {Name: strings.Repeat("é", repositories.MaxNameLength+1), Email: "a3@example.com", Password: authPassword, PasswordConfirmation: authPassword},
				"name with newline":       {Name: "Ada\nLovelace", Email: "a4@example.com", Password: authPassword, PasswordConfirmation: authPassword},
				"email not an address":    {Name: "Ada", Email: "not-an-email", Password: authPassword, PasswordConfirmation: authPassword},
				"email with display name": {Name: "Ada", Email: "Ada <a5@example.com>", Password: authPassword, PasswordConfirmation: authPassword},
				"email without dot":       {Name: "Ada", Email: "a6@localhost", Password: authPassword, PasswordConfirmation: authPassword},
				"email two addresses":     {Name: "Ada", Email: "a7@example.com, b7@example.com", Password: authPassword, PasswordConfirmation: authPassword},
				"email too long":          {Name: "Ada", Email: strings.Repeat("a", repositories.MaxEmailLength) + "@example.com", Password: authPassword, PasswordConfirmation: authPassword},
				"password too short":      {Name: "Ada", Email: "a8@example.com", Password: "1234567", PasswordConfirmation: "1234567"},
				"password mismatch":       {Name: "Ada", Email: "a9@example.com", Password: authPassword, PasswordConfirmation: authPassword + "!"},
				"password too long":       {Name: "Ada", Email: "a10@example.com", Password: long, PasswordConfirmation: long},
			}
			before := authRowCounts(t, s.DB)
			for name, in := range cases {
				_, err := s.Users.Create(ctx, in)
				require.ErrorIs(t, err, repositories.ErrInvalidInput, "%s: Create(%.40q) = %v; want ErrInvalidInput", name, in.Email, err)
			}
			require.Equal(t, before, authRowCounts(t, s.DB), "a refused Create wrote rows")
		})

		t.Run("ErrDuplicate", func(t *testing.T) {
			authInsertUser(t, s, "taken@example.com")
			before := authRowCounts(t, s.DB)
			in := repositories.NewUser{Name: "Eve", Email: "TAKEN@example.com", Password: authPassword, PasswordConfirmation: authPassword}
			_, err := s.Users.Create(ctx, in)
			require.ErrorIs(t, err, repositories.ErrDuplicate, "Create(%q) = %v; want ErrDuplicate", in.Email, err)
			require.Equal(t, before, authRowCounts(t, s.DB), "a duplicate Create wrote rows (activity included)")
		})
	})
}

func TestUsersFind(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b Backend) {
		s := openMigrated(t, b)
		ctx := requestCtx()
		u := authInsertUser(t, s, "Find.Me@Example.com")

		t.Run("OK", func(t *testing.T) {
			got, err := s.Users.FindByID(ctx, u.ID)
			require.NoError(t, err, "FindByID(%s) = %v; want nil", u.ID, err)
			require.Equal(t, u.ID, got.ID)
			for _, email := range []string{"Find.Me@Example.com", "find.me@example.com", "  FIND.ME@EXAMPLE.COM "} {
				got, err := s.Users.FindByEmail(ctx, email)
				require.NoError(t, err, "FindByEmail(%q) = %v; want nil", email, err)
				require.Equal(t, u.ID, got.ID, "FindByEmail(%q).ID", email)
			}
		})

		t.Run("ErrNotFound", func(t *testing.T) {
			for _, id := range []models.UUID{models.NewUUID(), "", "not-a-uuid"} {
				_, err := s.Users.FindByID(ctx, id)
				require.ErrorIs(t, err, repositories.ErrNotFound, "FindByID(%q) = %v; want ErrNotFound", id, err)
			}
			for _, email := range []string{"nobody@example.com", "", "find.me@example.co"} {
				_, err := s.Users.FindByEmail(ctx, email)
				require.ErrorIs(t, err, repositories.ErrNotFound, "FindByEmail(%q) = %v; want ErrNotFound", email, err)
			}
		})
	})
}

func TestUsersListAndCount(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b Backend) {
		s, clock := authClockStore(t, b)
		ctx := requestCtx()
		var ids []models.UUID
		for _, e := range []string{"c@example.com", "a@example.com", "b@example.com"} {
			ids = append(ids, authInsertUser(t, s, e).ID)
			clock.Advance(time.Second)
		}

		t.Run("OK", func(t *testing.T) {
			n, err := s.Users.Count(ctx)
			require.NoError(t, err)
			require.EqualValues(t, 3, n, "Count() = %d; want 3", n)
			first, err := s.Users.List(ctx, 2, 0)
			require.NoError(t, err)
			rest, err := s.Users.List(ctx, 2, 2)
			require.NoError(t, err)
			var got []models.UUID
			for _, u := range append(first, rest...) {
				got = append(got, u.ID)
			}
			require.Equal(t, ids, got, "List pages = %v; want creation order %v", got, ids)
			none, err := s.Users.List(ctx, 10, 3)
			require.NoError(t, err)
			require.Empty(t, none, "List(10, 3) past the end")
		})

		t.Run("ErrInvalidInput", func(t *testing.T) {
			for _, c := range []struct{ limit, offset int }{{0, 0}, {-1, 0}, {repositories.MaxListLimit + 1, 0}, {1, -1}} {
				_, err := s.Users.List(ctx, c.limit, c.offset)
				require.ErrorIs(t, err, repositories.ErrInvalidInput, "List(%d, %d) = %v; want ErrInvalidInput", c.limit, c.offset, err)
			}
		})
	})
}

func TestUsersUpdateProfile(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b Backend) {
		s, clock := authClockStore(t, b)
		ctx := requestCtx()
		ptr := func(s string) *string { return &s }

		t.Run("OKName", func(t *testing.T) {
			u := authInsertUser(t, s, "name@example.com")
			clock.Advance(time.Minute)
			got, err := s.Users.UpdateProfile(ctx, u.ID, repositories.ProfileUpdate{Name: ptr(" Grace Hopper ")})
			require.NoError(t, err, "UpdateProfile(name) = %v; want nil", err)
			require.Equal(t, "Grace Hopper", got.Name)
			require.Equal(t, u.Email, got.Email)
			require.True(t, got.UpdatedAt.Equal(clock.Now()), "UpdatedAt = %v; want %v", got.UpdatedAt, clock.Now())
			require.Equal(t, u.PasswordHash, authStoredHash(t, s.DB, u.ID), "a profile update touched the password")
			require.EqualValues(t, 1, countEvents(t, s.DB, hooks.EventProfileUpdated, &u.ID), "user.updated rows")
		})

		t.Run("OKEmailClearsVerification", func(t *testing.T) {
			u := authInsertUser(t, s, "old@example.com")
			require.NoError(t, s.Users.MarkEmailVerified(ctx, u.ID))
			got, err := s.Users.UpdateProfile(ctx, u.ID, repositories.ProfileUpdate{Email: ptr("New@Example.com")})
			require.NoError(t, err, "UpdateProfile(email) = %v; want nil", err)
			require.Equal(t, "New@Example.com", got.Email)
			require.Equal(t, "new@example.com", got.EmailNormalized)
			require.Nil(t, got.EmailVerifiedAt, "a new email must be unverified")
			_, err = s.Users.FindByEmail(ctx, "old@example.com")
			require.ErrorIs(t, err, repositories.ErrNotFound, "the old email still finds the user")
			found, err := s.Users.FindByEmail(ctx, "new@example.com")
			require.NoError(t, err)
			require.Equal(t, u.ID, found.ID)
		})

		t.Run("OKCaseOnlyKeepsVerification", func(t *testing.T) {
			u := authInsertUser(t, s, "case@example.com")
			require.NoError(t, s.Users.MarkEmailVerified(ctx, u.ID))
			got, err := s.Users.UpdateProfile(ctx, u.ID, repositories.ProfileUpdate{Email: ptr("CASE@example.com")})
			require.NoError(t, err)
			require.Equal(t, "CASE@example.com", got.Email)
			require.NotNil(t, got.EmailVerifiedAt, "changing only the case of an address unverified it")
		})

		t.Run("OKNoChangeWritesNothing", func(t *testing.T) {
			u := authInsertUser(t, s, "same@example.com")
			before := snapshotTables(t, s.DB)
			got, err := s.Users.UpdateProfile(ctx, u.ID, repositories.ProfileUpdate{Name: ptr(u.Name), Email: ptr(u.Email)})
			require.NoError(t, err)
			require.Equal(t, u.ID, got.ID)
			require.Equal(t, before, snapshotTables(t, s.DB), "an update that changes nothing wrote rows")
		})

		t.Run("ErrNotFound", func(t *testing.T) {
			for _, id := range []models.UUID{models.NewUUID(), "not-a-uuid"} {
				_, err := s.Users.UpdateProfile(ctx, id, repositories.ProfileUpdate{Name: ptr("X")})
				require.ErrorIs(t, err, repositories.ErrNotFound, "UpdateProfile(%q) = %v; want ErrNotFound", id, err)
			}
		})

		t.Run("ErrInvalidInput", func(t *testing.T) {
			u := authInsertUser(t, s, "invalid@example.com")
			before := snapshotTables(t, s.DB)
			for _, in := range []repositories.ProfileUpdate{{Name: ptr("")}, {Email: ptr("nope")}, {Email: ptr("")}} {
				_, err := s.Users.UpdateProfile(ctx, u.ID, in)
				require.ErrorIs(t, err, repositories.ErrInvalidInput, "UpdateProfile(%+v) = %v; want ErrInvalidInput", in, err)
			}
			require.Equal(t, before, snapshotTables(t, s.DB))
		})

		t.Run("ErrDuplicate", func(t *testing.T) {
			authInsertUser(t, s, "first@example.com")
			u := authInsertUser(t, s, "second@example.com")
			before := snapshotTables(t, s.DB)
			_, err := s.Users.UpdateProfile(ctx, u.ID, repositories.ProfileUpdate{Email: ptr("FIRST@example.com")})
			require.ErrorIs(t, err, repositories.ErrDuplicate, "UpdateProfile(taken email) = %v; want ErrDuplicate", err)
			require.Equal(t, before, snapshotTables(t, s.DB))
		})
	})
}

func TestUsersChangePassword(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b Backend) {
		s := openMigrated(t, b)
		ctx := requestCtx()
		h := hooks.DefaultHasher()
		const next = "a brand new passphrase"

		t.Run("OK", func(t *testing.T) {
			u := authInsertUser(t, s, "change@example.com")
			err := s.Users.ChangePassword(ctx, u.ID, authPassword, next, next, "")
			require.NoError(t, err, "ChangePassword(right current) = %v; want nil", err)
			stored := authStoredHash(t, s.DB, u.ID)
			ok, err := h.Verify(stored, next)
			require.NoError(t, err)
			require.True(t, ok, "the new password does not verify against users.password")
			require.NotEqual(t, u.PasswordHash, stored)
			require.EqualValues(t, 1, countEvents(t, s.DB, hooks.EventPasswordChanged, &u.ID), "password.changed rows")
		})

		t.Run("ErrInvalidCredentials", func(t *testing.T) {
			u := authInsertUser(t, s, "wrong-current@example.com")
			before := snapshotTables(t, s.DB)
			err := s.Users.ChangePassword(ctx, u.ID, authPassword+"x", next, next, "")
			require.ErrorIs(t, err, repositories.ErrInvalidCredentials, "ChangePassword(wrong current) = %v; want ErrInvalidCredentials", err)
			require.Equal(t, before, snapshotTables(t, s.DB), "a refused ChangePassword wrote rows")
		})

		t.Run("ErrInvalidInput", func(t *testing.T) {
			u := authInsertUser(t, s, "invalid-next@example.com")
			before := snapshotTables(t, s.DB)
			for _, c := range []struct{ next, confirm string }{{"short", "short"}, {next, next + "!"}, {"", ""}} {
				err := s.Users.ChangePassword(ctx, u.ID, authPassword, c.next, c.confirm, "")
				require.ErrorIs(t, err, repositories.ErrInvalidInput, "ChangePassword(%q, %q) = %v; want ErrInvalidInput", c.next, c.confirm, err)
			}
			require.Equal(t, before, snapshotTables(t, s.DB))
		})

		t.Run("ErrNotFound", func(t *testing.T) {
			for _, id := range []models.UUID{models.NewUUID(), "not-a-uuid"} {
				err := s.Users.ChangePassword(ctx, id, authPassword, next, next, "")
				require.ErrorIs(t, err, repositories.ErrNotFound, "ChangePassword(%q) = %v; want ErrNotFound", id, err)
			}
		})
	})
}

func TestUsersMarkEmailVerified(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b Backend) {
		s, clock := authClockStore(t, b)
		ctx := requestCtx()

		t.Run("OK", func(t *testing.T) {
			u := authInsertUser(t, s, "verify@example.com")
			clock.Advance(time.Hour)
			require.NoError(t, s.Users.MarkEmailVerified(ctx, u.ID))
			got, err := s.Users.FindByID(ctx, u.ID)
			require.NoError(t, err)
			require.NotNil(t, got.EmailVerifiedAt)
			require.True(t, got.EmailVerifiedAt.Equal(clock.Now()), "EmailVerifiedAt = %v; want %v", got.EmailVerifiedAt, clock.Now())
			require.EqualValues(t, 1, countEvents(t, s.DB, hooks.EventEmailVerified, &u.ID))
		})

		t.Run("ErrNotFound", func(t *testing.T) {
			before := snapshotTables(t, s.DB)
			for _, id := range []models.UUID{models.NewUUID(), "not-a-uuid", ""} {
				err := s.Users.MarkEmailVerified(ctx, id)
				require.ErrorIs(t, err, repositories.ErrNotFound, "MarkEmailVerified(%q) = %v; want ErrNotFound", id, err)
			}
			require.Equal(t, before, snapshotTables(t, s.DB))
		})
	})
}

func TestUsersDelete(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b Backend) {
		s := openMigrated(t, b)
		ctx := requestCtx()

		t.Run("OK", func(t *testing.T) {
			u := authInsertUser(t, s, "delete@example.com")
			other := authInsertUser(t, s, "keep@example.com")
			for _, id := range []models.UUID{u.ID, other.ID} {
				_, _, err := s.Sessions.Create(ctx, id, repositories.NewSession{})
				require.NoError(t, err)
				_, _, err = s.EmailVerifications.Issue(ctx, id)
				require.NoError(t, err)
			}
			authRequestReset(t, s.PasswordResets, u.Email)
			trail := countRows(t, s.DB, "user_activity_log", "user_id = ?", u.ID)
			require.NotZero(t, trail)

			require.NoError(t, s.Users.Delete(ctx, u.ID), "Delete(%s)", u.ID)
			_, err := s.Users.FindByID(ctx, u.ID)
			require.ErrorIs(t, err, repositories.ErrNotFound)
			for _, table := range []string{"sessions", "password_resets", "email_verifications"} {
				require.Zero(t, countRows(t, s.DB, table, "user_id = ?", u.ID), "%s rows of a deleted user remain", table)
			}
			for _, table := range []string{"sessions", "email_verifications"} {
				require.EqualValues(t, 1, countRows(t, s.DB, table, "user_id = ?", other.ID), "%s rows of another user went", table)
			}
			require.Zero(t, countRows(t, s.DB, "user_activity_log", "user_id = ?", u.ID))
			require.EqualValues(t, trail+1, countRows(t, s.DB, "user_activity_log", "user_id IS NULL"),
				"the activity trail must outlive the user (user_id NULL) plus one user.deleted row")
			var meta string
			require.NoError(t, s.DB.Raw("SELECT metadata FROM user_activity_log WHERE event = ?", string(hooks.EventUserDeleted)).Scan(&meta).Error)
			require.Contains(t, meta, string(u.ID), "user.deleted metadata = %s; want the user id", meta)
		})

		t.Run("ErrNotFound", func(t *testing.T) {
			u := authInsertUser(t, s, "twice@example.com")
			require.NoError(t, s.Users.Delete(ctx, u.ID))
			for _, id := range []models.UUID{u.ID, models.NewUUID(), "not-a-uuid"} {
				err := s.Users.Delete(ctx, id)
				require.ErrorIs(t, err, repositories.ErrNotFound, "Delete(%q) = %v; want ErrNotFound", id, err)
			}
		})
	})
}

func TestUsersAuthenticate(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b Backend) {
		s, clock := authClockStore(t, b)
		ctx := requestCtx()
		u := authInsertUser(t, s, "login@example.com")

		t.Run("ErrInvalidCredentials", func(t *testing.T) {
			before := authStoredHash(t, s.DB, u.ID)
			_, wrong := s.Users.Authenticate(ctx, "login@example.com", authPassword+"!")
			require.ErrorIs(t, wrong, repositories.ErrInvalidCredentials, "Authenticate(wrong password) = %v; want ErrInvalidCredentials", wrong)
			_, unknown := s.Users.Authenticate(ctx, "nobody@example.com", authPassword)
			require.ErrorIs(t, unknown, repositories.ErrInvalidCredentials, "Authenticate(unknown email) = %v; want ErrInvalidCredentials", unknown)
			require.Equal(t, wrong.Error(), unknown.Error(), "an unknown email and a wrong password must fail alike")
			require.Equal(t, before, authStoredHash(t, s.DB, u.ID))
			got, err := s.Users.FindByID(ctx, u.ID)
			require.NoError(t, err)
			require.EqualValues(t, 1, got.FailedLogins, "FailedLogins after one wrong password")
			require.NotNil(t, got.LastFailedLoginAt)
			require.True(t, got.LastFailedLoginAt.Equal(clock.Now()))
			require.EqualValues(t, 1, countEvents(t, s.DB, hooks.EventLoginFailed, &u.ID))
			require.EqualValues(t, 1, countEvents(t, s.DB, hooks.EventLoginFailed, nil), "login.failed without a user for the unknown email")
		})

		t.Run("OK", func(t *testing.T) {
			got, err := s.Users.Authenticate(ctx, "  LOGIN@example.com", authPassword)
			require.NoError(t, err, "Authenticate(right password) = %v; want nil", err)
			require.Equal(t, u.ID, got.ID)
			require.Zero(t, got.FailedLogins)
			require.Equal(t, u.PasswordHash, authStoredHash(t, s.DB, u.ID), "a current hash was rehashed")
			require.EqualValues(t, 1, countEvents(t, s.DB, hooks.EventLoginSucceeded, &u.ID))
			stored, err := s.Users.FindByID(ctx, u.ID)
			require.NoError(t, err)
			require.Zero(t, stored.FailedLogins, "failed_logins after a success")
		})
	})
}

// TestRepositoriesWithTx shows that repositories made WithTx commit or roll
// back with the caller's transaction.
func TestRepositoriesWithTx(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b Backend) {
		s := openMigrated(t, b)
		ctx := requestCtx()
		u := authInsertUser(t, s, "tx@example.com")
		abort := errors.New("abort")

		run := func(commit bool) error {
			return s.DB.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
				if err := s.Users.WithTx(tx).MarkEmailVerified(ctx, u.ID); err != nil {
					return err
				}
				if _, _, err := s.Sessions.WithTx(tx).Create(ctx, u.ID, repositories.NewSession{}); err != nil {
					return err
				}
				if _, _, err := s.EmailVerifications.WithTx(tx).Issue(ctx, u.ID); err != nil {
					return err
				}
				if err := s.PasswordResets.WithTx(tx).Request(ctx, u.Email, func(context.Context, string, string) error { return nil }); err != nil {
					return err
				}
				if err := s.Activity.WithTx(tx).Record(ctx, &u.ID, hooks.EventProfileUpdated, nil); err != nil {
					return err
				}
				if commit {
					return nil
				}
				return abort
			})
		}

		t.Run("RolledBack", func(t *testing.T) {
			before := snapshotTables(t, s.DB)
			require.ErrorIs(t, run(false), abort)
			require.Equal(t, before, snapshotTables(t, s.DB), "a rolled-back transaction left rows")
		})

		t.Run("OK", func(t *testing.T) {
			require.NoError(t, run(true))
			for _, table := range []string{"sessions", "email_verifications", "password_resets"} {
				require.EqualValues(t, 1, countRows(t, s.DB, table, "user_id = ?", u.ID), "%s rows after commit", table)
			}
			got, err := s.Users.FindByID(ctx, u.ID)
			require.NoError(t, err)
			require.NotNil(t, got.EmailVerifiedAt)
		})
	})
}
