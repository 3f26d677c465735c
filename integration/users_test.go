package integration

// Tests of repositories.Users (table users): each method's success and
// error paths, the model hooks as host code meets them,
// AUTH_REQUIRE_EMAIL_VERIFICATION, and SECURITY.md 4-6 (password storage)
// and 24, 27, 28 (what a password change ends, no enumeration, failed
// logins counted atomically).

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/forgeauth/authstore"
	"github.com/forgeauth/authstore/config"
	"github.com/forgeauth/authstore/hooks"
	"github.com/forgeauth/authstore/models"
	"github.com/forgeauth/authstore/repositories"
	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/bcrypt"
)

// weakHasher is valid (OWASP's 12 MiB / t=3 row) but differs from the
// default parameters, so a default Hasher wants to rehash its output.
func weakHasher(t *testing.T) *hooks.Hasher {
	t.Helper()
	h, err := hooks.NewHasher(hooks.Params{Memory: 12 * 1024, Iterations: 3, Parallelism: 1, SaltLength: 16, KeyLength: 32})
	require.NoError(t, err)
	return h
}

// inUTC returns u with every time in UTC, so that whole structs read
// from different drivers compare equal.
func inUTC(u models.User) models.User {
	utc := func(p *time.Time) *time.Time {
		if p == nil {
			return nil
		}
		v := p.UTC()
		return &v
	}
	u.CreatedAt, u.UpdatedAt = u.CreatedAt.UTC(), u.UpdatedAt.UTC()
	u.EmailVerifiedAt = utc(u.EmailVerifiedAt)
	u.TwoFactorConfirmedAt = utc(u.TwoFactorConfirmedAt)
	u.LastFailedLoginAt = utc(u.LastFailedLoginAt)
	return u
}

func TestUsersCreate(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b Backend) {
		f := newFixture(t, b)
		ctx := requestCtx()

		t.Run("OK", func(t *testing.T) {
			in := repositories.UserInput{Name: "  Ada Lovelace ", Email: " Ada@Example.COM ", Password: userPassword, PasswordConfirmation: userPassword}
			u, err := f.s.Users.Create(ctx, in)
			require.NoError(t, err, "Create(%q) = %v; want nil", in.Email, err)
			require.True(t, u.ID.Valid(), "Create(...).ID = %q; want a UUID", u.ID)
			require.Equal(t, "Ada Lovelace", u.Name, "Create(...).Name")
			require.Equal(t, "Ada@Example.COM", u.Email, "Create(...).Email")
			require.Equal(t, "ada@example.com", u.EmailNormalized, "Create(...).EmailNormalized")
			require.Empty(t, u.Password, "Create(...).Password = %q; want it cleared", u.Password)
			require.True(t, hooks.IsArgon2id(u.PasswordHash), "Create(...).PasswordHash = %q; want an Argon2id PHC string", u.PasswordHash)
			require.Nil(t, u.EmailVerifiedAt)
			require.Zero(t, u.FailedLogins)
			require.True(t, u.CreatedAt.Equal(f.clock.Now()), "Create(...).CreatedAt = %v; want %v", u.CreatedAt, f.clock.Now())

			got, err := f.s.Users.FindByID(ctx, u.ID)
			require.NoError(t, err)
			require.Equal(t, inUTC(*u), inUTC(*got), "FindByID after Create: the round trip changed the user")
			require.Equal(t, u.PasswordHash, f.storedHash(t, u.ID))
			require.EqualValues(t, 1, countEvents(t, f.s.DB(), models.EventRegistered, &u.ID), "user.registered rows")
		})

		t.Run("ErrInvalidInput", func(t *testing.T) {
			long := strings.Repeat("x", hooks.MaxPasswordLength+1)
			cases := map[string]repositories.UserInput{
				"empty name":              {Name: "", Email: "a1@example.com", Password: userPassword, PasswordConfirmation: userPassword},
				"blank name":              {Name: "   ", Email: "a2@example.com", Password: userPassword, PasswordConfirmation: userPassword},
				"name too long":           {Name: strings.Repeat("é", repositories.MaxNameLength+1), Email: "a3@example.com", Password: userPassword, PasswordConfirmation: userPassword},
				"name with newline":       {Name: "Ada\nLovelace", Email: "a4@example.com", Password: userPassword, PasswordConfirmation: userPassword},
				"email not an address":    {Name: "Ada", Email: "not-an-email", Password: userPassword, PasswordConfirmation: userPassword},
				"email with display name": {Name: "Ada", Email: "Ada <a5@example.com>", Password: userPassword, PasswordConfirmation: userPassword},
				"email without dot":       {Name: "Ada", Email: "a6@localhost", Password: userPassword, PasswordConfirmation: userPassword},
				"email two addresses":     {Name: "Ada", Email: "a7@example.com, b7@example.com", Password: userPassword, PasswordConfirmation: userPassword},
				"email too long":          {Name: "Ada", Email: strings.Repeat("a", repositories.MaxEmailLength) + "@example.com", Password: userPassword, PasswordConfirmation: userPassword},
				"password too short":      {Name: "Ada", Email: "a8@example.com", Password: "1234567", PasswordConfirmation: "1234567"},
				"password mismatch":       {Name: "Ada", Email: "a9@example.com", Password: userPassword, PasswordConfirmation: userPassword + "!"},
				"password too long":       {Name: "Ada", Email: "a10@example.com", Password: long, PasswordConfirmation: long},
			}
			before := rowCounts(t, f.s.DB())
			for name, in := range cases {
				_, err := f.s.Users.Create(ctx, in)
				require.ErrorIs(t, err, repositories.ErrInvalidInput, "%s: Create(%.40q) = %v; want ErrInvalidInput", name, in.Email, err)
			}
			require.Equal(t, before, rowCounts(t, f.s.DB()), "a refused Create wrote rows")
		})

		t.Run("ErrDuplicate", func(t *testing.T) {
			f.user(t, "taken@example.com")
			before := rowCounts(t, f.s.DB())
			in := repositories.UserInput{Name: "Eve", Email: "TAKEN@example.com", Password: userPassword, PasswordConfirmation: userPassword}
			_, err := f.s.Users.Create(ctx, in)
			require.ErrorIs(t, err, repositories.ErrDuplicate, "Create(%q) = %v; want ErrDuplicate", in.Email, err)
			require.Equal(t, before, rowCounts(t, f.s.DB()), "a duplicate Create wrote rows (activity included)")
		})
	})
}

func TestUsersFind(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b Backend) {
		f := newFixture(t, b)
		ctx := requestCtx()
		u := f.user(t, "Find.Me@Example.com")

		t.Run("OK", func(t *testing.T) {
			got, err := f.s.Users.FindByID(ctx, u.ID)
			require.NoError(t, err, "FindByID(%s) = %v; want nil", u.ID, err)
			require.Equal(t, u.ID, got.ID)
			for _, email := range []string{"Find.Me@Example.com", "find.me@example.com", "  FIND.ME@EXAMPLE.COM "} {
				got, err := f.s.Users.FindByEmail(ctx, email)
				require.NoError(t, err, "FindByEmail(%q) = %v; want nil", email, err)
				require.Equal(t, u.ID, got.ID, "FindByEmail(%q).ID", email)
			}
		})

		t.Run("ErrNotFound", func(t *testing.T) {
			for _, id := range []models.UUID{models.NewUUID(), "", "not-a-uuid"} {
				_, err := f.s.Users.FindByID(ctx, id)
				require.ErrorIs(t, err, idErr(id, repositories.ErrNotFound), "FindByID(%q) = %v; want %v", id, err, idErr(id, repositories.ErrNotFound))
			}
			for _, email := range []string{"nobody@example.com", "", "find.me@example.co"} {
				_, err := f.s.Users.FindByEmail(ctx, email)
				require.ErrorIs(t, err, repositories.ErrNotFound, "FindByEmail(%q) = %v; want ErrNotFound", email, err)
			}
		})
	})
}

func TestUsersListAndCount(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b Backend) {
		f := newFixture(t, b)
		ctx := requestCtx()
		var ids []models.UUID
		for _, e := range []string{"c@example.com", "a@example.com", "b@example.com"} {
			ids = append(ids, f.user(t, e).ID)
			f.clock.Advance(time.Second)
		}

		t.Run("OK", func(t *testing.T) {
			n, err := f.s.Users.Count(ctx)
			require.NoError(t, err)
			require.EqualValues(t, 3, n, "Count() = %d; want 3", n)
			first, err := f.s.Users.List(ctx, 2, 0)
			require.NoError(t, err)
			rest, err := f.s.Users.List(ctx, 2, 2)
			require.NoError(t, err)
			var got []models.UUID
			for _, u := range append(first, rest...) {
				got = append(got, u.ID)
			}
			require.Equal(t, ids, got, "List pages = %v; want creation order %v", got, ids)
			none, err := f.s.Users.List(ctx, 10, 3)
			require.NoError(t, err)
			require.Empty(t, none, "List(10, 3) past the end")
		})

		t.Run("ErrInvalidInput", func(t *testing.T) {
			for _, c := range []struct{ limit, offset int }{{0, 0}, {-1, 0}, {repositories.MaxListLimit + 1, 0}, {1, -1}} {
				_, err := f.s.Users.List(ctx, c.limit, c.offset)
				require.ErrorIs(t, err, repositories.ErrInvalidInput, "List(%d, %d) = %v; want ErrInvalidInput", c.limit, c.offset, err)
			}
		})
	})
}

func TestUsersUpdateProfile(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b Backend) {
		f := newFixture(t, b)
		ctx := requestCtx()
		ptr := func(s string) *string { return &s }

		t.Run("OKName", func(t *testing.T) {
			u := f.user(t, "name@example.com")
			f.clock.Advance(time.Minute)
			got, err := f.s.Users.UpdateProfile(ctx, u.ID, repositories.ProfileInput{Name: ptr(" Grace Hopper ")})
			require.NoError(t, err, "UpdateProfile(name) = %v; want nil", err)
			require.Equal(t, "Grace Hopper", got.Name)
			require.Equal(t, u.Email, got.Email)
			require.True(t, got.UpdatedAt.Equal(f.clock.Now()), "UpdatedAt = %v; want %v", got.UpdatedAt, f.clock.Now())
			require.Equal(t, u.PasswordHash, f.storedHash(t, u.ID), "a profile update touched the password")
			require.EqualValues(t, 1, countEvents(t, f.s.DB(), models.EventProfileUpdated, &u.ID), "user.updated rows")
		})

		t.Run("OKEmailClearsVerification", func(t *testing.T) {
			u := f.user(t, "old@example.com")
			require.NoError(t, f.s.Users.MarkEmailVerified(ctx, u.ID))
			got, err := f.s.Users.UpdateProfile(ctx, u.ID, repositories.ProfileInput{Email: ptr("New@Example.com")})
			require.NoError(t, err, "UpdateProfile(email) = %v; want nil", err)
			require.Equal(t, "New@Example.com", got.Email)
			require.Equal(t, "new@example.com", got.EmailNormalized)
			require.Nil(t, got.EmailVerifiedAt, "a new email must be unverified")
			_, err = f.s.Users.FindByEmail(ctx, "old@example.com")
			require.ErrorIs(t, err, repositories.ErrNotFound, "the old email still finds the user")
			found, err := f.s.Users.FindByEmail(ctx, "new@example.com")
			require.NoError(t, err)
			require.Equal(t, u.ID, found.ID)
		})

		t.Run("OKCaseOnlyKeepsVerification", func(t *testing.T) {
			u := f.user(t, "case@example.com")
			require.NoError(t, f.s.Users.MarkEmailVerified(ctx, u.ID))
			got, err := f.s.Users.UpdateProfile(ctx, u.ID, repositories.ProfileInput{Email: ptr("CASE@example.com")})
			require.NoError(t, err)
			require.Equal(t, "CASE@example.com", got.Email)
			require.NotNil(t, got.EmailVerifiedAt, "changing only the case of an address unverified it")
		})

		t.Run("OKNoChangeWritesNothing", func(t *testing.T) {
			u := f.user(t, "same@example.com")
			before := snapshotTables(t, f.s.DB())
			got, err := f.s.Users.UpdateProfile(ctx, u.ID, repositories.ProfileInput{Name: ptr(u.Name), Email: ptr(u.Email)})
			require.NoError(t, err)
			require.Equal(t, u.ID, got.ID)
			require.Equal(t, before, snapshotTables(t, f.s.DB()), "an update that changes nothing wrote rows")
		})

		t.Run("ErrNotFound", func(t *testing.T) {
			for _, id := range []models.UUID{models.NewUUID(), "not-a-uuid"} {
				_, err := f.s.Users.UpdateProfile(ctx, id, repositories.ProfileInput{Name: ptr("X")})
				require.ErrorIs(t, err, idErr(id, repositories.ErrNotFound), "UpdateProfile(%q) = %v; want %v", id, err, idErr(id, repositories.ErrNotFound))
			}
		})

		t.Run("ErrInvalidInput", func(t *testing.T) {
			u := f.user(t, "invalid@example.com")
			before := snapshotTables(t, f.s.DB())
			for _, in := range []repositories.ProfileInput{{Name: ptr("")}, {Email: ptr("nope")}, {Email: ptr("")}} {
				_, err := f.s.Users.UpdateProfile(ctx, u.ID, in)
				require.ErrorIs(t, err, repositories.ErrInvalidInput, "UpdateProfile(%+v) = %v; want ErrInvalidInput", in, err)
			}
			require.Equal(t, before, snapshotTables(t, f.s.DB()))
		})

		t.Run("ErrDuplicate", func(t *testing.T) {
			f.user(t, "first@example.com")
			u := f.user(t, "second@example.com")
			before := snapshotTables(t, f.s.DB())
			_, err := f.s.Users.UpdateProfile(ctx, u.ID, repositories.ProfileInput{Email: ptr("FIRST@example.com")})
			require.ErrorIs(t, err, repositories.ErrDuplicate, "UpdateProfile(taken email) = %v; want ErrDuplicate", err)
			require.Equal(t, before, snapshotTables(t, f.s.DB()))
		})
	})
}

func TestUsersChangePassword(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b Backend) {
		f := newFixture(t, b)
		ctx := requestCtx()
		h := hooks.DefaultHasher()
		const next = "a brand new passphrase"

		t.Run("OK", func(t *testing.T) {
			u := f.user(t, "change@example.com")
			err := f.s.Users.ChangePassword(ctx, u.ID, userPassword, next, next, "")
			require.NoError(t, err, "ChangePassword(right current) = %v; want nil", err)
			stored := f.storedHash(t, u.ID)
			ok, err := h.Verify(stored, next)
			require.NoError(t, err)
			require.True(t, ok, "the new password does not verify against users.password")
			require.NotEqual(t, u.PasswordHash, stored)
			require.EqualValues(t, 1, countEvents(t, f.s.DB(), models.EventPasswordChanged, &u.ID), "password.changed rows")
		})

		t.Run("ErrInvalidCredentials", func(t *testing.T) {
			u := f.user(t, "wrong-current@example.com")
			before := snapshotTables(t, f.s.DB())
			err := f.s.Users.ChangePassword(ctx, u.ID, userPassword+"x", next, next, "")
			require.ErrorIs(t, err, repositories.ErrInvalidCredentials, "ChangePassword(wrong current) = %v; want ErrInvalidCredentials", err)
			require.Equal(t, before, snapshotTables(t, f.s.DB()), "a refused ChangePassword wrote rows")
		})

		t.Run("ErrInvalidInput", func(t *testing.T) {
			u := f.user(t, "invalid-next@example.com")
			before := snapshotTables(t, f.s.DB())
			for _, c := range []struct{ next, confirm string }{{"short", "short"}, {next, next + "!"}, {"", ""}} {
				err := f.s.Users.ChangePassword(ctx, u.ID, userPassword, c.next, c.confirm, "")
				require.ErrorIs(t, err, repositories.ErrInvalidInput, "ChangePassword(%q, %q) = %v; want ErrInvalidInput", c.next, c.confirm, err)
			}
			require.Equal(t, before, snapshotTables(t, f.s.DB()))
		})

		t.Run("ErrNotFound", func(t *testing.T) {
			for _, id := range []models.UUID{models.NewUUID(), "not-a-uuid"} {
				err := f.s.Users.ChangePassword(ctx, id, userPassword, next, next, "")
				require.ErrorIs(t, err, idErr(id, repositories.ErrNotFound), "ChangePassword(%q) = %v; want %v", id, err, idErr(id, repositories.ErrNotFound))
			}
		})
	})
}

func TestUsersMarkEmailVerified(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b Backend) {
		f := newFixture(t, b)
		ctx := requestCtx()

		t.Run("OK", func(t *testing.T) {
			u := f.user(t, "verify@example.com")
			f.clock.Advance(time.Hour)
			require.NoError(t, f.s.Users.MarkEmailVerified(ctx, u.ID))
			got, err := f.s.Users.FindByID(ctx, u.ID)
			require.NoError(t, err)
			require.NotNil(t, got.EmailVerifiedAt)
			require.True(t, got.EmailVerifiedAt.Equal(f.clock.Now()), "EmailVerifiedAt = %v; want %v", got.EmailVerifiedAt, f.clock.Now())
			require.EqualValues(t, 1, countEvents(t, f.s.DB(), models.EventEmailVerified, &u.ID))
		})

		t.Run("ErrNotFound", func(t *testing.T) {
			before := snapshotTables(t, f.s.DB())
			for _, id := range []models.UUID{models.NewUUID(), "not-a-uuid", ""} {
				err := f.s.Users.MarkEmailVerified(ctx, id)
				require.ErrorIs(t, err, idErr(id, repositories.ErrNotFound), "MarkEmailVerified(%q) = %v; want %v", id, err, idErr(id, repositories.ErrNotFound))
			}
			require.Equal(t, before, snapshotTables(t, f.s.DB()))
		})
	})
}

func TestUsersDelete(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b Backend) {
		f := newFixture(t, b)
		ctx := requestCtx()

		t.Run("OK", func(t *testing.T) {
			u := f.user(t, "delete@example.com")
			other := f.user(t, "keep@example.com")
			for _, id := range []models.UUID{u.ID, other.ID} {
				_, _, err := f.s.Sessions.Create(ctx, id, repositories.SessionInput{})
				require.NoError(t, err)
				_, _, err = f.s.EmailVerifications.Issue(ctx, id)
				require.NoError(t, err)
			}
			f.requestReset(t, u.Email)
			trail := countRows(t, f.s.DB(), "user_activity_log", "user_id = ?", u.ID)
			require.NotZero(t, trail)

			require.NoError(t, f.s.Users.Delete(ctx, u.ID), "Delete(%s)", u.ID)
			_, err := f.s.Users.FindByID(ctx, u.ID)
			require.ErrorIs(t, err, repositories.ErrNotFound)
			for _, table := range []string{"sessions", "password_resets", "email_verifications"} {
				require.Zero(t, countRows(t, f.s.DB(), table, "user_id = ?", u.ID), "%s rows of a deleted user remain", table)
			}
			for _, table := range []string{"sessions", "email_verifications"} {
				require.EqualValues(t, 1, countRows(t, f.s.DB(), table, "user_id = ?", other.ID), "%s rows of another user went", table)
			}
			require.Zero(t, countRows(t, f.s.DB(), "user_activity_log", "user_id = ?", u.ID))
			require.EqualValues(t, trail+1, countRows(t, f.s.DB(), "user_activity_log", "user_id IS NULL"),
				"the activity trail must outlive the user (user_id NULL) plus one user.deleted row")
			var meta string
			require.NoError(t, f.s.DB().Raw("SELECT metadata FROM user_activity_log WHERE event = ?", string(models.EventUserDeleted)).Scan(&meta).Error)
			require.Contains(t, meta, string(u.ID), "user.deleted metadata = %s; want the user id", meta)
		})

		t.Run("ErrNotFound", func(t *testing.T) {
			u := f.user(t, "twice@example.com")
			require.NoError(t, f.s.Users.Delete(ctx, u.ID))
			for _, id := range []models.UUID{u.ID, models.NewUUID(), "not-a-uuid"} {
				err := f.s.Users.Delete(ctx, id)
				require.ErrorIs(t, err, idErr(id, repositories.ErrNotFound), "Delete(%q) = %v; want %v", id, err, idErr(id, repositories.ErrNotFound))
			}
		})
	})
}

func TestUsersAuthenticate(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b Backend) {
		f := newFixture(t, b)
		ctx := requestCtx()
		u := f.user(t, "login@example.com")

		t.Run("ErrInvalidCredentials", func(t *testing.T) {
			before := f.storedHash(t, u.ID)
			_, wrong := f.s.Users.Authenticate(ctx, "login@example.com", userPassword+"!")
			require.ErrorIs(t, wrong, repositories.ErrInvalidCredentials, "Authenticate(wrong password) = %v; want ErrInvalidCredentials", wrong)
			_, unknown := f.s.Users.Authenticate(ctx, "nobody@example.com", userPassword)
			require.ErrorIs(t, unknown, repositories.ErrInvalidCredentials, "Authenticate(unknown email) = %v; want ErrInvalidCredentials", unknown)
			require.Equal(t, wrong.Error(), unknown.Error(), "an unknown email and a wrong password must fail alike")
			require.Equal(t, before, f.storedHash(t, u.ID))
			got, err := f.s.Users.FindByID(ctx, u.ID)
			require.NoError(t, err)
			require.EqualValues(t, 1, got.FailedLogins, "FailedLogins after one wrong password")
			require.NotNil(t, got.LastFailedLoginAt)
			require.True(t, got.LastFailedLoginAt.Equal(f.clock.Now()))
			require.EqualValues(t, 1, countEvents(t, f.s.DB(), models.EventLoginFailed, &u.ID))
			require.EqualValues(t, 1, countEvents(t, f.s.DB(), models.EventLoginFailed, nil), "login.failed without a user for the unknown email")
		})

		t.Run("OK", func(t *testing.T) {
			got, err := f.s.Users.Authenticate(ctx, "  LOGIN@example.com", userPassword)
			require.NoError(t, err, "Authenticate(right password) = %v; want nil", err)
			require.Equal(t, u.ID, got.ID)
			require.Zero(t, got.FailedLogins)
			require.Equal(t, u.PasswordHash, f.storedHash(t, u.ID), "a current hash was rehashed")
			require.EqualValues(t, 1, countEvents(t, f.s.DB(), models.EventLoginSucceeded, &u.ID))
			stored, err := f.s.Users.FindByID(ctx, u.ID)
			require.NoError(t, err)
			require.Zero(t, stored.FailedLogins, "failed_logins after a success")
		})
	})
}

// TestUsersModelHooksThroughGORM covers host code writing users with GORM
// itself through store.DB(): a plaintext Password is hashed, with the Store's
// hasher, and cleared; saving a loaded user never rehashes; setting
// Password and saving hashes it. The hooks write no activity row: the
// repositories own the audit trail.
func TestUsersModelHooksThroughGORM(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b Backend) {
		storeHasher, err := hooks.NewHasher(hooks.Params{Memory: 46 * 1024, Iterations: 1, Parallelism: 1, SaltLength: 16, KeyLength: 32})
		require.NoError(t, err)
		f := newFixture(t, b, withStoreOptions(authstore.WithHasher(storeHasher)))
		ctx := requestCtx()
		db := f.s.DB().WithContext(ctx)
		const pw, next = "host code passphrase", "host code new passphrase"
		u := &models.User{Name: "Host", Email: "Host@Example.com", Password: pw}
		require.NoError(t, db.Create(u).Error)

		t.Run("CreateHashes", func(t *testing.T) {
			require.Empty(t, u.Password, "db.Create left the plaintext on the value")
			require.True(t, u.ID.Valid())
			require.Equal(t, "host@example.com", u.EmailNormalized)
			stored := f.storedHash(t, u.ID)
			require.Equal(t, u.PasswordHash, stored)
			params, err := hooks.ParseArgon2id(stored)
			require.NoError(t, err)
			require.Equal(t, storeHasher.Params(), params, "the hook hashed with other parameters than the Store's hasher")
			ok, err := storeHasher.Verify(stored, pw)
			require.NoError(t, err)
			require.True(t, ok, "the hook's hash does not verify the password")
			require.EqualValues(t, 0, countEvents(t, f.s.DB(), models.EventRegistered, &u.ID), "a hook wrote user.registered")
			found, _ := scanForSecrets(t, f.s.DB(), map[string]string{"password": pw})
			require.Empty(t, found)
		})

		t.Run("SaveLoadedNeverRehashes", func(t *testing.T) {
			before := f.storedHash(t, u.ID)
			var loaded models.User
			require.NoError(t, db.Where("id = ?", u.ID).Take(&loaded).Error)
			loaded.Name = "Host Renamed"
			require.NoError(t, db.Save(&loaded).Error)
			require.Equal(t, before, f.storedHash(t, u.ID), "db.Save of a loaded user changed users.password")
			require.Zero(t, countEvents(t, f.s.DB(), models.EventPasswordChanged, &u.ID))
			got, err := f.s.Users.FindByID(ctx, u.ID)
			require.NoError(t, err)
			require.Equal(t, "Host Renamed", got.Name)
		})

		t.Run("SetPasswordHashes", func(t *testing.T) {
			before := f.storedHash(t, u.ID)
			var loaded models.User
			require.NoError(t, db.Where("id = ?", u.ID).Take(&loaded).Error)
			loaded.Password = next
			require.NoError(t, db.Save(&loaded).Error)
			require.Empty(t, loaded.Password)
			stored := f.storedHash(t, u.ID)
			require.NotEqual(t, before, stored)
			ok, err := storeHasher.Verify(stored, next)
			require.NoError(t, err)
			require.True(t, ok, "the saved password does not verify")
			require.EqualValues(t, 0, countEvents(t, f.s.DB(), models.EventPasswordChanged, &u.ID), "a hook wrote password.changed")
			_, err = f.s.Users.Authenticate(ctx, "host@example.com", next)
			require.NoError(t, err)
		})
	})
}

// TestUsersAuthenticateRequiresVerifiedEmail covers AUTH_REQUIRE_EMAIL_VERIFICATION:
// an unverified user is refused with ErrEmailNotVerified, but only after a
// correct password, and accepted once verified.
func TestUsersAuthenticateRequiresVerifiedEmail(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b Backend) {
		f := newFixture(t, b, withConfig(func(c *config.Config) { c.RequireEmailVerification = true }))
		ctx := requestCtx()
		users := f.s.Users
		u := f.user(t, "unverified@example.com")

		t.Run("ErrInvalidCredentials", func(t *testing.T) {
			_, err := users.Authenticate(ctx, u.Email, userPassword+"!")
			require.ErrorIs(t, err, repositories.ErrInvalidCredentials, "Authenticate(unverified, wrong password) = %v; want ErrInvalidCredentials", err)
			require.False(t, errors.Is(err, repositories.ErrEmailNotVerified), "a wrong password revealed that the email is unverified")
		})

		t.Run("ErrEmailNotVerified", func(t *testing.T) {
			_, err := users.Authenticate(ctx, u.Email, userPassword)
			require.ErrorIs(t, err, repositories.ErrEmailNotVerified, "Authenticate(unverified, right password) = %v; want ErrEmailNotVerified", err)
			require.Zero(t, countEvents(t, f.s.DB(), models.EventLoginSucceeded, &u.ID))
		})

		t.Run("OK", func(t *testing.T) {
			_, token, err := f.s.EmailVerifications.Issue(ctx, u.ID)
			require.NoError(t, err)
			_, err = f.s.EmailVerifications.Consume(ctx, token)
			require.NoError(t, err)
			got, err := users.Authenticate(ctx, u.Email, userPassword)
			require.NoError(t, err, "Authenticate(verified, right password) = %v; want nil", err)
			require.Equal(t, u.ID, got.ID)
			// A store over the same database with the default setting.
			def := f.sibling(t, authstore.WithConfig(f.configWith(func(c *config.Config) {
				c.RequireEmailVerification = config.Default().RequireEmailVerification
			})))
			_, err = def.Users.Authenticate(ctx, u.Email, userPassword)
			require.NoError(t, err, "the default configuration does not require verification")
		})
	})
}

// TestUsersPasswordChangeEndsAccess proves that ChangePassword and a
// completed reset end the user's other sessions, revoke their refresh and
// access tokens and void outstanding resets; other users keep theirs. (That
// it happens in one transaction is TestAtomicityAccountChangesAllOrNothing.)
//
// SECURITY 24: a password change or completed reset ends the user's other sessions, revokes their refresh tokens and voids outstanding reset tokens.
func TestUsersPasswordChangeEndsAccess(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b Backend) {
		f := newFixture(t, b)
		ctx := requestCtx()
		const next = "a brand new passphrase"

		// setup gives a user three sessions, a grant and an outstanding
		// reset, and a bystander the same.
		type account struct {
			user            *models.User
			sessions        []string
			grant           grantRows
			reset           string
			bystander       *models.User
			bystanderGrant  grantRows
			bystanderReset  string
			bystanderSessID models.UUID
		}
		setup := func(t *testing.T, name string) account {
			a := account{user: f.user(t, name+"@example.com"), bystander: f.user(t, name+"-bystander@example.com")}
			for i := 0; i < 3; i++ {
				_, tok, err := f.s.Sessions.Create(ctx, a.user.ID, repositories.SessionInput{})
				require.NoError(t, err)
				a.sessions = append(a.sessions, tok)
			}
			bs, _, err := f.s.Sessions.Create(ctx, a.bystander.ID, repositories.SessionInput{})
			require.NoError(t, err)
			a.bystanderSessID = bs.ID
			a.grant = f.insertGrant(t, a.user.ID)
			a.bystanderGrant = f.insertGrant(t, a.bystander.ID)
			a.reset = f.requestReset(t, a.user.Email)
			a.bystanderReset = f.requestReset(t, a.bystander.Email)
			return a
		}
		checkBystander := func(t *testing.T, a account) {
			require.EqualValues(t, 1, countRows(t, f.s.DB(), "sessions", "id = ?", a.bystanderSessID), "another user's session ended")
			rt, at := a.bystanderGrant.revoked(t, f.s.DB())
			require.False(t, rt || at, "another user's tokens were revoked")
			require.EqualValues(t, 1, countRows(t, f.s.DB(), "password_resets", "token_hash = ? AND used_at IS NULL", hooks.Digest(a.bystanderReset)), "another user's reset was voided")
		}

		t.Run("ChangePassword", func(t *testing.T) {
			a := setup(t, "change")
			keep, err := f.s.Sessions.Find(ctx, a.sessions[0])
			require.NoError(t, err)
			require.NoError(t, f.s.Users.ChangePassword(ctx, a.user.ID, userPassword, next, next, keep.ID))

			_, err = f.s.Sessions.Find(ctx, a.sessions[0])
			require.NoError(t, err, "ChangePassword ended the session it was asked to keep")
			for _, tok := range a.sessions[1:] {
				_, err := f.s.Sessions.Find(ctx, tok)
				require.ErrorIs(t, err, repositories.ErrNotFound, "Find(other session) after ChangePassword = %v; want ErrNotFound", err)
			}
			rt, at := a.grant.revoked(t, f.s.DB())
			require.True(t, rt, "ChangePassword left the refresh token live")
			require.True(t, at, "ChangePassword left the access token live")
			_, err = f.s.PasswordResets.Consume(ctx, a.reset)
			require.Error(t, err, "an outstanding reset survived ChangePassword")
			require.True(t, errors.Is(err, repositories.ErrNotFound) || errors.Is(err, repositories.ErrUsed), "Consume(voided reset) = %v; want ErrNotFound or ErrUsed", err)
			checkBystander(t, a)
		})

		t.Run("CompletedReset", func(t *testing.T) {
			a := setup(t, "reset")
			// A second outstanding reset, written as host code would.
			other, err := hooks.NewToken()
			require.NoError(t, err)
			require.NoError(t, f.s.DB().WithContext(ctx).Create(&models.PasswordReset{UserID: a.user.ID, Email: a.user.Email, Token: other, ExpiresAt: f.s.Now().Add(time.Hour)}).Error)

			_, err = f.s.PasswordResets.Reset(ctx, a.reset, next, next)
			require.NoError(t, err)
			for _, tok := range a.sessions {
				_, err := f.s.Sessions.Find(ctx, tok)
				require.ErrorIs(t, err, repositories.ErrNotFound, "Find(session) after a reset = %v; want ErrNotFound", err)
			}
			rt, at := a.grant.revoked(t, f.s.DB())
			require.True(t, rt, "a reset left the refresh token live")
			require.True(t, at, "a reset left the access token live")
			_, err = f.s.PasswordResets.Consume(ctx, other)
			require.True(t, errors.Is(err, repositories.ErrNotFound) || errors.Is(err, repositories.ErrUsed), "Consume(other outstanding reset) = %v; want ErrNotFound or ErrUsed", err)
			checkBystander(t, a)
		})
	})
}

// TestUsersNoAccountEnumeration proves that a reset request for an
// unknown email answers like a known one and writes nothing; a login with
// an unknown email does the same Argon2id work, once, as a wrong password.
//
// SECURITY 27: a reset request for an unknown email returns what a known one returns; a login with an unknown email runs the verifier exactly once.
func TestUsersNoAccountEnumeration(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b Backend) {
		f := newFixture(t, b)
		ctx := requestCtx()
		u := f.user(t, "known@example.com")

		t.Run("ResetRequest", func(t *testing.T) {
			before := rowCounts(t, f.s.DB())
			calls := 0
			deliver := func(context.Context, string, string) error { calls++; return nil }
			unknownErr := f.s.PasswordResets.Request(ctx, "unknown@example.com", deliver)
			// Only the request's audit row, which the known path writes too
			// (issue 11 class 2: the same work either way).
			before["user_activity_log"]++
			require.Equal(t, before, rowCounts(t, f.s.DB()), "Request(unknown email) wrote rows other than its audit row")
			require.Zero(t, calls, "Request(unknown email) called deliver")
			knownErr := f.s.PasswordResets.Request(ctx, u.Email, deliver)
			require.Equal(t, knownErr, unknownErr, "Request(unknown) = %v; Request(known) = %v; want the same", unknownErr, knownErr)
			require.NoError(t, unknownErr)
			require.Equal(t, 1, calls, "Request(known email) called deliver %d times", calls)
		})

		t.Run("LoginVerifierRunsOnce", func(t *testing.T) {
			var unknownErr, wrongErr error
			unknown := allocatedBytes(func() { _, unknownErr = f.s.Users.Authenticate(ctx, "unknown@example.com", userPassword) })
			wrong := allocatedBytes(func() { _, wrongErr = f.s.Users.Authenticate(ctx, u.Email, userPassword+"!") })
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

// TestUsersFailedLoginsCountedAtomically proves that 50 concurrent wrong
// passwords count 50 and log 50 failures; a success resets the count.
//
// SECURITY 28: failed logins are counted per account atomically (50 concurrent wrong attempts count 50).
func TestUsersFailedLoginsCountedAtomically(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b Backend) {
		// Let every goroutine verify at once, so that the failures reach the
		// database together instead of one hash slot apart, against a light
		// stored hash (see lightHash).
		// Lockout off: this test proves the count; TestUsersLockout proves
		// the lock (and one lock under the same burst).
		f := newFixture(t, b, withStoreOptions(authstore.WithHasher(hooks.DefaultHasher().WithConcurrency(50))),
			withConfig(func(c *config.Config) { c.LockoutThreshold = 0 }))
		ctx := requestCtx()
		u := f.user(t, "counted@example.com")
		u.PasswordHash = lightHash()
		require.NoError(t, f.s.DB().Model(u).Update("password", u.PasswordHash).Error)

		t.Run("OK", func(t *testing.T) {
			const n = 50
			errs := make([]error, n)
			barrier(n, func(i int) {
				_, errs[i] = f.s.Users.Authenticate(ctx, u.Email, fmt.Sprintf("wrong password %d", i))
			})
			for i, err := range errs {
				require.ErrorIs(t, err, repositories.ErrInvalidCredentials, "Authenticate(goroutine %d) = %v; want ErrInvalidCredentials", i, err)
			}
			got, err := f.s.Users.FindByID(ctx, u.ID)
			require.NoError(t, err)
			require.EqualValues(t, n, got.FailedLogins, "failed_logins = %d; want %d", got.FailedLogins, n)
			require.EqualValues(t, n, countEvents(t, f.s.DB(), models.EventLoginFailed, &u.ID), "login.failed rows")
			require.Equal(t, u.PasswordHash, f.storedHash(t, u.ID))

			_, err = f.s.Users.Authenticate(ctx, u.Email, userPassword)
			require.NoError(t, err)
			got, err = f.s.Users.FindByID(ctx, u.ID)
			require.NoError(t, err)
			require.Zero(t, got.FailedLogins, "failed_logins after a success = %d; want 0", got.FailedLogins)
		})
	})
}

// TestUsersPasswordHashIsArgon2id proves that users.password is an Argon2id
// PHC string at or above OWASP's floor, with a salt of at least 16 bytes,
// and two equal passwords hash differently.
//
// SECURITY 4: passwords are Argon2id PHC strings at or above OWASP's floor, salt ≥ 16 bytes; two equal passwords hash differently.
func TestUsersPasswordHashIsArgon2id(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b Backend) {
		f := newFixture(t, b)
		a := f.register(t, "same-a@example.com", userPassword)
		c := f.register(t, "same-b@example.com", userPassword)

		t.Run("OK", func(t *testing.T) {
			var hashes []string
			for _, u := range []*models.User{a, c} {
				stored := f.storedHash(t, u.ID)
				require.Regexp(t, phcRE, stored, "users.password = %q; want an Argon2id PHC string", stored)
				p, err := hooks.ParseArgon2id(stored)
				require.NoError(t, err, "ParseArgon2id(users.password) = %v", err)
				require.NoError(t, p.Validate(), "users.password parameters %+v are below OWASP's floor", p)
				require.GreaterOrEqual(t, p.SaltLength, uint32(16), "salt is %d bytes; want >= 16", p.SaltLength)
				require.GreaterOrEqual(t, p.Memory, hooks.DefaultParams().Memory, "memory %d KiB; want >= 19 MiB at t=2", p.Memory)
				require.GreaterOrEqual(t, p.Iterations, hooks.DefaultParams().Iterations)
				hashes = append(hashes, stored)
			}
			require.NotEqual(t, hashes[0], hashes[1], "two equal passwords have the same hash")
			ok, err := hooks.DefaultHasher().Verify(hashes[1], userPassword)
			require.NoError(t, err)
			require.True(t, ok, "the stored hash does not verify its password")
		})
	})
}

// TestUsersRehashOnLogin proves that a stale hash (weaker parameters, or
// an imported bcrypt hash) is upgraded to the current Argon2id parameters on
// the next successful login and only then; a wrong password leaves the
// stored hash byte-identical; a stored hash asking for 4 GiB is refused
// quickly and without allocating.
//
// SECURITY 5: rehash on login only after a successful verify; a wrong password leaves the hash byte-identical; hostile parameters are refused; bcrypt imports are upgraded.
func TestUsersRehashOnLogin(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b Backend) {
		weak := weakHasher(t)
		f := newFixture(t, b, withStoreOptions(authstore.WithHasher(weak)))
		current := f.sibling(t).Users // the same database, default parameters
		ctx := requestCtx()
		def := hooks.DefaultParams()

		t.Run("WeakArgon2idUpgraded", func(t *testing.T) {
			u := f.register(t, "weak@example.com", userPassword)
			old := f.storedHash(t, u.ID)
			p, err := hooks.ParseArgon2id(old)
			require.NoError(t, err)
			require.Equal(t, weak.Params(), p, "the store WithHasher did not hash with its parameters")

			_, err = current.Authenticate(ctx, u.Email, userPassword+"x")
			require.ErrorIs(t, err, repositories.ErrInvalidCredentials)
			require.Equal(t, old, f.storedHash(t, u.ID), "a wrong password changed the stored hash")

			got, err := current.Authenticate(ctx, u.Email, userPassword)
			require.NoError(t, err, "Authenticate(right password) = %v; want nil", err)
			upgraded := f.storedHash(t, u.ID)
			require.NotEqual(t, old, upgraded, "a stale hash was not upgraded on a successful login")
			require.Equal(t, upgraded, got.PasswordHash)
			p, err = hooks.ParseArgon2id(upgraded)
			require.NoError(t, err)
			require.Equal(t, def, p, "upgraded hash parameters")
			ok, err := hooks.DefaultHasher().Verify(upgraded, userPassword)
			require.NoError(t, err)
			require.True(t, ok, "the upgraded hash does not verify the password")

			_, err = current.Authenticate(ctx, u.Email, userPassword)
			require.NoError(t, err)
			require.Equal(t, upgraded, f.storedHash(t, u.ID), "a current hash was rehashed")
		})

		t.Run("BcryptUpgraded", func(t *testing.T) {
			u := f.user(t, "bcrypt@example.com")
			const pw = "imported from php"
			raw, err := bcrypt.GenerateFromPassword([]byte(pw), bcrypt.MinCost)
			require.NoError(t, err)
			imported := "$2y$" + string(raw[4:])
			require.NoError(t, f.s.DB().Exec("UPDATE users SET password = ? WHERE id = ?", imported, u.ID).Error)

			_, err = current.Authenticate(ctx, u.Email, pw+"x")
			require.ErrorIs(t, err, repositories.ErrInvalidCredentials)
			require.Equal(t, imported, f.storedHash(t, u.ID), "a wrong password changed the imported hash")

			_, err = current.Authenticate(ctx, u.Email, pw)
			require.NoError(t, err, "Authenticate(bcrypt user, right password) = %v; want nil", err)
			upgraded := f.storedHash(t, u.ID)
			p, err := hooks.ParseArgon2id(upgraded)
			require.NoError(t, err, "users.password after login = %q; want Argon2id", upgraded)
			require.Equal(t, def, p)
			_, err = current.Authenticate(ctx, u.Email, pw)
			require.NoError(t, err, "login after the upgrade")
		})

		t.Run("HostileParamsRefused", func(t *testing.T) {
			u := f.user(t, "hostile@example.com")
			salt := base64.RawStdEncoding.EncodeToString(make([]byte, 16))
			key := base64.RawStdEncoding.EncodeToString(make([]byte, 32))
			hostile := "$argon2id$v=19$m=4194304,t=1,p=1$" + salt + "$" + key // 4 GiB
			require.NoError(t, f.s.DB().Exec("UPDATE users SET password = ? WHERE id = ?", hostile, u.ID).Error)
			var err error
			var took time.Duration
			alloc := allocatedBytes(func() {
				start := time.Now()
				_, err = current.Authenticate(ctx, u.Email, userPassword)
				took = time.Since(start)
			})
			require.ErrorIs(t, err, repositories.ErrInvalidCredentials, "Authenticate(4 GiB hash) = %v; want ErrInvalidCredentials", err)
			require.Less(t, alloc, uint64(4<<20), "Authenticate(4 GiB hash) allocated %d bytes; want no hashing", alloc)
			require.Less(t, took, 2*time.Second, "Authenticate(4 GiB hash) took %v", took)
			require.Equal(t, hostile, f.storedHash(t, u.ID))
		})
	})
}

// TestUsersPasswordNotTruncated proves that every byte of a long password
// counts, and a password over hooks.MaxPasswordLength is refused with
// ErrInvalidInput before any hashing.
//
// SECURITY 6: passwords are never truncated; a documented maximum length is enforced before hashing.
func TestUsersPasswordNotTruncated(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b Backend) {
		f := newFixture(t, b)
		ctx := requestCtx()
		long := strings.Repeat("0123456789", 10) // 100 bytes
		changed := long[:99] + "X"

		t.Run("OK", func(t *testing.T) {
			u := f.register(t, "long@example.com", long)
			for _, wrong := range []string{changed, long[:72], long[:99]} {
				_, err := f.s.Users.Authenticate(ctx, u.Email, wrong)
				require.ErrorIs(t, err, repositories.ErrInvalidCredentials, "Authenticate(%d-byte near match) = %v; want ErrInvalidCredentials", len(wrong), err)
			}
			_, err := f.s.Users.Authenticate(ctx, u.Email, long)
			require.NoError(t, err)

			max := strings.Repeat("m", hooks.MaxPasswordLength)
			m := f.register(t, "max@example.com", max)
			ok, err := hooks.DefaultHasher().Verify(f.storedHash(t, m.ID), max[:hooks.MaxPasswordLength-1]+"n")
			require.NoError(t, err)
			require.False(t, ok, "a password differing in its last byte of %d verifies", hooks.MaxPasswordLength)
		})

		t.Run("ErrInvalidInput", func(t *testing.T) {
			u := f.user(t, "too-long@example.com")
			token := f.requestReset(t, u.Email)
			tooLong := strings.Repeat("x", hooks.MaxPasswordLength+1)
			before := snapshotTables(t, f.s.DB())
			calls := map[string]func() error{
				"Users.Create": func() error {
					_, err := f.s.Users.Create(ctx, repositories.UserInput{Name: "Ada", Email: "new@example.com", Password: tooLong, PasswordConfirmation: tooLong})
					return err
				},
				"Users.ChangePassword": func() error {
					return f.s.Users.ChangePassword(ctx, u.ID, userPassword, tooLong, tooLong, "")
				},
				"PasswordResets.Reset": func() error {
					_, err := f.s.PasswordResets.Reset(ctx, token, tooLong, tooLong)
					return err
				},
			}
			for name, call := range calls {
				var err error
				alloc := allocatedBytes(func() { err = call() })
				require.ErrorIs(t, err, repositories.ErrInvalidInput, "%s(%d-byte password) = %v; want ErrInvalidInput", name, len(tooLong), err)
				require.Less(t, alloc, uint64(4<<20), "%s(%d-byte password) allocated %d bytes: it hashed before refusing", name, len(tooLong), alloc)
			}
			require.Equal(t, before, snapshotTables(t, f.s.DB()))

			// The hook refuses it too, for host code writing users itself.
			err := f.s.DB().WithContext(ctx).Create(&models.User{Name: "Ada", Email: "hook@example.com", Password: tooLong}).Error
			require.ErrorIs(t, err, hooks.ErrPasswordTooLong, "db.Create(user with %d-byte password) = %v; want ErrPasswordTooLong", len(tooLong), err)
			require.Equal(t, before, snapshotTables(t, f.s.DB()))
		})
	})
}

// SECURITY 42: consecutive failed logins lock the account for a growing
// time; counted atomically; a lock is refused like a wrong password
// (ErrAccountLocked matches ErrInvalidCredentials), the right password
// included; a success resets; an operator can lock and unlock; every
// transition is an activity row.
func TestUsersLockout(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b Backend) {
		f := newFixture(t, b, withConfig(func(c *config.Config) { c.LockoutThreshold, c.LockoutDuration = 3, time.Minute }))
		ctx := requestCtx()

		t.Run("LocksAndGrows", func(t *testing.T) {
			u := f.user(t, "lockout@example.com")
			for i := 1; i <= 3; i++ {
				_, err := f.s.Users.Authenticate(ctx, u.Email, "wrong password")
				require.ErrorIs(t, err, repositories.ErrInvalidCredentials, "attempt %d", i)
				if i < 3 {
					require.NotErrorIs(t, err, repositories.ErrAccountLocked, "attempt %d locked the account", i)
				}
			}
			_, err := f.s.Users.Authenticate(ctx, u.Email, userPassword)
			require.ErrorIs(t, err, repositories.ErrAccountLocked, "the right password during the lock")
			require.ErrorIs(t, err, repositories.ErrInvalidCredentials)
			require.EqualValues(t, 1, countEvents(t, f.s.DB(), models.EventAccountLocked, &u.ID))
			got, err := f.s.Users.FindByID(ctx, u.ID)
			require.NoError(t, err)
			require.EqualValues(t, 3, got.FailedLogins, "the refused right password counted as a failure")
			require.True(t, got.LockedUntil.Equal(f.clock.Now().Add(time.Minute)), "locked_until = %v", got.LockedUntil)

			f.clock.Advance(61 * time.Second)
			_, err = f.s.Users.Authenticate(ctx, u.Email, "wrong again")
			require.ErrorIs(t, err, repositories.ErrAccountLocked, "a failure past a lock, still over the threshold, locks again")
			got, err = f.s.Users.FindByID(ctx, u.ID)
			require.NoError(t, err)
			require.True(t, got.LockedUntil.Equal(f.clock.Now().Add(2*time.Minute)), "the second lock lasts twice as long: %v", got.LockedUntil)
			require.EqualValues(t, 2, got.Lockouts)

			f.clock.Advance(121 * time.Second)
			_, err = f.s.Users.Authenticate(ctx, u.Email, userPassword)
			require.NoError(t, err, "the right password after the lock")
			got, err = f.s.Users.FindByID(ctx, u.ID)
			require.NoError(t, err)
			require.Zero(t, got.FailedLogins)
			require.Zero(t, got.Lockouts)
			require.Nil(t, got.LockedUntil)
		})

		t.Run("UnknownEmailCostsTheSame", func(t *testing.T) {
			u := f.user(t, "locked-cost@example.com")
			require.NoError(t, f.s.Users.Lock(ctx, u.ID, time.Hour))
			for name, email := range map[string]string{"locked": u.Email, "unknown": "nobody-here@example.com"} {
				var err error
				n := allocatedBytes(func() { _, err = f.s.Users.Authenticate(ctx, email, userPassword) })
				require.ErrorIs(t, err, repositories.ErrInvalidCredentials, name)
				require.Greater(t, n, uint64(15<<20), "%s: %d bytes, no Argon2id run", name, n)
			}
		})

		t.Run("OperatorLockUnlock", func(t *testing.T) {
			u := f.user(t, "operator-lock@example.com")
			require.ErrorIs(t, f.s.Users.Lock(ctx, "nope", time.Hour), repositories.ErrInvalidInput)
			require.ErrorIs(t, f.s.Users.Lock(ctx, u.ID, 0), repositories.ErrInvalidInput)
			require.ErrorIs(t, f.s.Users.Lock(ctx, models.NewUUID(), time.Hour), repositories.ErrNotFound)
			require.NoError(t, f.s.Users.Lock(ctx, u.ID, time.Hour))
			_, err := f.s.Users.Authenticate(ctx, u.Email, userPassword)
			require.ErrorIs(t, err, repositories.ErrAccountLocked)
			require.NoError(t, f.s.Users.Unlock(ctx, u.ID))
			require.EqualValues(t, 1, countEvents(t, f.s.DB(), models.EventAccountUnlocked, &u.ID))
			require.NoError(t, f.s.Users.Unlock(ctx, u.ID), "unlocking twice")
			require.EqualValues(t, 1, countEvents(t, f.s.DB(), models.EventAccountUnlocked, &u.ID), "a second unlock recorded a transition")
			_, err = f.s.Users.Authenticate(ctx, u.Email, userPassword)
			require.NoError(t, err)
			a := lastEvent(t, f.s.DB(), models.EventAccountLocked)
			require.Contains(t, a.Metadata, `"by":"operator"`)
		})

		t.Run("ConcurrentFailuresOneLock", func(t *testing.T) {
			u := f.user(t, "lock-race@example.com")
			f.warmPool(t)
			const n = 50
			errs := make([]error, n)
			barrier(n, func(i int) { _, errs[i] = f.s.Users.Authenticate(ctx, u.Email, "wrong password") })
			requireNoLockErrors(t, errs)
			for i, err := range errs {
				require.ErrorIs(t, err, repositories.ErrInvalidCredentials, "goroutine %d", i)
			}
			got, err := f.s.Users.FindByID(ctx, u.ID)
			require.NoError(t, err)
			require.EqualValues(t, n, got.FailedLogins, "failures lost")
			require.EqualValues(t, 1, got.Lockouts, "one lock")
			require.EqualValues(t, 1, countEvents(t, f.s.DB(), models.EventAccountLocked, &u.ID))
		})
	})
}

// TestUsersSetPassword covers the operator's password change: no current
// password, and afterwards the old password fails and the new one works,
// and everything the old one opened is ended as by a completed reset
// (SECURITY 24), the user's alone.
func TestUsersSetPassword(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b Backend) {
		f := newFixture(t, b)
		ctx := requestCtx()
		const next = "an operator's passphrase"

		t.Run("OK", func(t *testing.T) {
			u := f.register(t, "set-password@example.com", userPassword)
			bystander := f.user(t, "set-password-bystander@example.com")
			_, sess, err := f.s.Sessions.Create(ctx, u.ID, repositories.SessionInput{})
			require.NoError(t, err)
			bs, _, err := f.s.Sessions.Create(ctx, bystander.ID, repositories.SessionInput{})
			require.NoError(t, err)
			grant := f.insertGrant(t, u.ID)
			bystanderGrant := f.insertGrant(t, bystander.ID)
			_, pat, err := f.s.PersonalTokens.Create(ctx, u.ID, "script", nil, nil)
			require.NoError(t, err)
			_, bystanderPAT, err := f.s.PersonalTokens.Create(ctx, bystander.ID, "script", nil, nil)
			require.NoError(t, err)
			reset := f.requestReset(t, u.Email)

			require.NoError(t, f.s.Users.SetPassword(ctx, u.ID, next), "SetPassword(%s)", u.ID)

			_, err = f.s.Users.Authenticate(ctx, u.Email, userPassword)
			require.ErrorIs(t, err, repositories.ErrInvalidCredentials, "Authenticate(old password) = %v; want ErrInvalidCredentials", err)
			got, err := f.s.Users.Authenticate(ctx, u.Email, next)
			require.NoError(t, err, "Authenticate(new password) = %v; want nil", err)
			require.Equal(t, u.ID, got.ID)

			_, err = f.s.Sessions.Find(ctx, sess)
			require.ErrorIs(t, err, repositories.ErrNotFound, "the user's session outlived SetPassword")
			rt, at := grant.revoked(t, f.s.DB())
			require.True(t, rt && at, "SetPassword left the grant live (refresh revoked %v, access revoked %v)", rt, at)
			_, err = f.s.PersonalTokens.Find(ctx, pat)
			require.Error(t, err, "the user's personal token outlived SetPassword")
			_, err = f.s.PasswordResets.Consume(ctx, reset)
			require.True(t, errors.Is(err, repositories.ErrNotFound) || errors.Is(err, repositories.ErrUsed), "Consume(outstanding reset) = %v; want ErrNotFound or ErrUsed", err)

			require.EqualValues(t, 1, countRows(t, f.s.DB(), "sessions", "id = ?", bs.ID), "another user's session ended")
			rt, at = bystanderGrant.revoked(t, f.s.DB())
			require.False(t, rt || at, "another user's tokens were revoked")
			_, err = f.s.PersonalTokens.Find(ctx, bystanderPAT)
			require.NoError(t, err, "another user's personal token was revoked")

			require.EqualValues(t, 1, countEvents(t, f.s.DB(), models.EventPasswordSetByOperator, &u.ID), "password.set_by_operator rows")
			require.EqualValues(t, 1, countEvents(t, f.s.DB(), models.EventPasswordChanged, &u.ID), "password.changed rows")
		})

		t.Run("LockStays", func(t *testing.T) {
			u := f.user(t, "set-password-locked@example.com")
			require.NoError(t, f.s.Users.Lock(ctx, u.ID, time.Hour))
			require.NoError(t, f.s.Users.SetPassword(ctx, u.ID, next))
			_, err := f.s.Users.Authenticate(ctx, u.Email, next)
			require.ErrorIs(t, err, repositories.ErrAccountLocked, "Authenticate(new password) of a locked user = %v; want ErrAccountLocked", err)
			require.NoError(t, f.s.Users.Unlock(ctx, u.ID))
			_, err = f.s.Users.Authenticate(ctx, u.Email, next)
			require.NoError(t, err)
		})

		t.Run("ErrInvalidInput", func(t *testing.T) {
			u := f.user(t, "set-password-invalid@example.com")
			before := snapshotTables(t, f.s.DB())
			for _, p := range []string{"", "short", strings.Repeat("x", hooks.MaxPasswordLength+1)} {
				err := f.s.Users.SetPassword(ctx, u.ID, p)
				require.ErrorIs(t, err, repositories.ErrInvalidInput, "SetPassword(%d bytes) = %v; want ErrInvalidInput", len(p), err)
			}
			require.Equal(t, before, snapshotTables(t, f.s.DB()), "a refused SetPassword wrote rows")
		})

		t.Run("ErrNotFound", func(t *testing.T) {
			before := snapshotTables(t, f.s.DB())
			for _, id := range []models.UUID{models.NewUUID(), "not-a-uuid", ""} {
				err := f.s.Users.SetPassword(ctx, id, next)
				require.ErrorIs(t, err, idErr(id, repositories.ErrNotFound), "SetPassword(%q) = %v; want %v", id, err, idErr(id, repositories.ErrNotFound))
			}
			require.Equal(t, before, snapshotTables(t, f.s.DB()), "a SetPassword of no user wrote rows")
		})
	})
}
