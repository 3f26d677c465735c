package integration

// Issue 11, remaining bounds: times outside what both databases store (a
// year after 9999, before 1) are refused where they enter as data (an
// import's timestamps, an operator's lock) with ErrInvalidInput naming the
// field, and mean what they say where they bound a query (the activity
// log's ListSince and Purge: SQLite compares times as text, where
// "10000-..." sorts before "2026-..."), on every backend.

import (
	"context"
	"testing"
	"time"

	"github.com/forgeauth/authstore/models"
	"github.com/forgeauth/authstore/repositories"
	"github.com/stretchr/testify/require"
)

// farFuture is a time no database column stores (year 10000); ancient is
// one before year 1.
var (
	farFuture = time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)
	ancient   = time.Date(0, 12, 31, 0, 0, 0, 0, time.UTC)
	lastDay   = time.Date(9999, 12, 31, 23, 59, 59, 999999000, time.UTC)
)

func TestHardeningBounds(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b Backend) {
		f := newFixture(t, b)
		ctx := context.Background()
		ada := f.user(t, "ada@example.com")

		t.Run("import times", func(t *testing.T) {
			at := func(mutate func(*repositories.ImportUser)) error {
				u := repositories.ImportUser{Name: "Imported", Email: "imported@example.com", PasswordHash: userHash()}
				mutate(&u)
				_, err := f.s.Users.Import(ctx, []repositories.ImportUser{u}, repositories.ImportOptions{DryRun: true})
				return err
			}
			client := func(mutate func(*repositories.ImportClient)) error {
				c := repositories.ImportClient{ID: models.NewUUID(), Name: "Imported", RedirectURIs: []string{redirectURI}, GrantTypes: []string{"authorization_code"}}
				mutate(&c)
				_, err := f.s.Clients.Import(ctx, []repositories.ImportClient{c}, repositories.ImportOptions{DryRun: true})
				return err
			}
			for _, bad := range []time.Time{farFuture, ancient} {
				for field, err := range map[string]error{
					"created_at":        at(func(u *repositories.ImportUser) { u.CreatedAt = bad }),
					"updated_at":        at(func(u *repositories.ImportUser) { u.UpdatedAt = bad }),
					"email_verified_at": at(func(u *repositories.ImportUser) { u.EmailVerifiedAt = &bad }),
				} {
					requireRefused(t, "Users.Import "+field+" "+bad.String(), err, repositories.ErrInvalidInput)
					require.Contains(t, err.Error(), field)
				}
				for field, err := range map[string]error{
					"created_at": client(func(c *repositories.ImportClient) { c.CreatedAt = bad }),
					"updated_at": client(func(c *repositories.ImportClient) { c.UpdatedAt = bad }),
				} {
					requireRefused(t, "Clients.Import "+field+" "+bad.String(), err, repositories.ErrInvalidInput)
					require.Contains(t, err.Error(), field)
				}
			}
			// The last instant both databases store, and the first, are kept.
			first := time.Date(1, 1, 1, 0, 0, 0, 1000, time.UTC)
			res, err := f.s.Users.Import(ctx, []repositories.ImportUser{{Name: "Edge", Email: "edge@example.com", PasswordHash: userHash(), CreatedAt: first, UpdatedAt: lastDay, EmailVerifiedAt: &lastDay}}, repositories.ImportOptions{})
			require.NoError(t, err)
			u, err := f.s.Users.FindByID(ctx, res.Rows[0].ID)
			require.NoError(t, err)
			require.True(t, u.CreatedAt.Equal(first), "created_at %v; want %v", u.CreatedAt, first)
			require.True(t, u.UpdatedAt.Equal(lastDay), "updated_at %v; want %v", u.UpdatedAt, lastDay)
			require.True(t, u.EmailVerifiedAt.Equal(lastDay))
		})

		t.Run("activity log times", func(t *testing.T) {
			all, err := f.s.Activity.ListSince(ctx, time.Time{}, repositories.MaxListLimit)
			require.NoError(t, err)
			require.NotEmpty(t, all, "ListSince(zero time) is every event")
			for _, since := range []time.Time{farFuture, lastDay} {
				got, err := f.s.Activity.ListSince(ctx, since, repositories.MaxListLimit)
				require.NoError(t, err, "ListSince(%v)", since)
				require.Empty(t, got, "ListSince(%v) listed events written before it", since)
			}
			for _, since := range []time.Time{ancient, time.Date(-5000, 1, 1, 0, 0, 0, 0, time.UTC)} {
				got, err := f.s.Activity.ListSince(ctx, since, repositories.MaxListLimit)
				require.NoError(t, err, "ListSince(%v)", since)
				require.Len(t, got, len(all), "ListSince(%v) is every event", since)
			}
			n, err := f.s.Activity.Purge(ctx, time.Time{})
			require.NoError(t, err)
			require.Zero(t, n, "Purge(zero time) deleted events")
			n, err = f.s.Activity.Purge(ctx, ancient)
			require.NoError(t, err)
			require.Zero(t, n, "Purge(before year 1) deleted events")
			n, err = f.s.Activity.Purge(ctx, farFuture)
			require.NoError(t, err)
			require.Equal(t, int64(len(all)), n, "Purge(year 10000) is every event")
			left, err := f.s.Activity.ListForUser(ctx, ada.ID, repositories.MaxListLimit)
			require.NoError(t, err)
			require.Empty(t, left)
		})

		t.Run("operator lock", func(t *testing.T) {
			require.NoError(t, f.s.Users.Lock(ctx, ada.ID, repositories.MaxOperatorLock), "a lock until unlocked")
			err := f.s.Users.Lock(ctx, ada.ID, repositories.MaxOperatorLock+time.Second)
			requireRefused(t, "Lock(MaxOperatorLock + 1s)", err, repositories.ErrInvalidInput)
			require.Contains(t, err.Error(), "duration")
			var u models.User
			require.NoError(t, f.s.DB().Where("id = ?", ada.ID).Take(&u).Error)
			require.True(t, u.LockedUntil.Equal(f.clock.Now().Add(repositories.MaxOperatorLock)), "the refused lock changed the stored one: %v", u.LockedUntil)
		})
	})
}
