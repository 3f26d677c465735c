package integration

// Tests of repositories.Cleanup (every table that expires, and the
// retention of user_activity_log): SECURITY.md 32, and the monitoring
// views.

import (
	"context"
	"errors"
	"sort"
	"testing"
	"time"

	"github.com/forgeauth/authstore/models"
	"github.com/forgeauth/authstore/repositories"
	"github.com/stretchr/testify/require"
	"gorm.io/gorm"
)

// cleanupSeed is a mix of live and expired rows in every table that
// expires, with the ids a purge must delete.
type cleanupSeed struct {
	user    *models.User
	client  *models.Client
	deleted map[string][]string // table -> ids a purge removes
	kept    map[string][]string // table -> ids it keeps
}

// seedCleanup writes the mix relative to now: "old" rows expired an hour
// ago, "live" ones expire in an hour.
func seedCleanup(t *testing.T, db *gorm.DB, now time.Time) *cleanupSeed {
	t.Helper()
	past, future := now.Add(-time.Hour), now.Add(time.Hour)
	sd := &cleanupSeed{deleted: map[string][]string{}, kept: map[string][]string{}}
	mark := func(table string, id models.UUID, purge bool) {
		if purge {
			sd.deleted[table] = append(sd.deleted[table], id.String())
		} else {
			sd.kept[table] = append(sd.kept[table], id.String())
		}
	}
	create := func(v any) { require.NoError(t, db.Create(v).Error) }

	sd.user = &models.User{Name: "Purge", Email: "purge@example.com", PasswordHash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0c2FsdA$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g"}
	create(sd.user)
	uid := sd.user.ID
	create(&models.Activity{UserID: &uid, Event: string(models.EventRegistered), Metadata: "{}", CreatedAt: now}) // as Users.Create records it
	sd.client = &models.Client{Name: "purge", RedirectURIs: models.Strings{"https://app.example.com/cb"}}
	create(sd.client)

	for _, c := range []struct {
		exp     time.Time
		revoked bool
		purge   bool
	}{{past, false, true}, {future, false, false}, {future, true, false}, {past, true, true}} {
		at := &models.AccessToken{ClientID: sd.client.ID, UserID: &uid, Revoked: c.revoked, ExpiresAt: c.exp}
		create(at)
		mark("oauth_access_tokens", at.ID, c.purge)
	}
	// Family A is alive (its newest token is unexpired): its used, expired
	// parent is needed for reuse detection. Family B is dead: both go.
	famA := models.NewUUID()
	a1 := &models.RefreshToken{FamilyID: famA, TokenHash: "a1", ClientID: sd.client.ID, UserID: &uid, UsedAt: &past, ExpiresAt: past}
	create(a1)
	a2 := &models.RefreshToken{FamilyID: famA, ParentID: &a1.ID, TokenHash: "a2", ClientID: sd.client.ID, UserID: &uid, ExpiresAt: future}
	create(a2)
	famB := models.NewUUID()
	b1 := &models.RefreshToken{FamilyID: famB, TokenHash: "b1", ClientID: sd.client.ID, UserID: &uid, UsedAt: &past, ExpiresAt: past.Add(-time.Hour)}
	create(b1)
	b2 := &models.RefreshToken{FamilyID: famB, ParentID: &b1.ID, TokenHash: "b2", ClientID: sd.client.ID, UserID: &uid, ExpiresAt: past}
	create(b2)
	mark("oauth_refresh_tokens", a1.ID, false)
	mark("oauth_refresh_tokens", a2.ID, false)
	mark("oauth_refresh_tokens", b1.ID, true)
	mark("oauth_refresh_tokens", b2.ID, true)

	for i, exp := range []time.Time{past, future} {
		c := &models.AuthorizationCode{CodeHash: []string{"c-old", "c-live"}[i], ClientID: sd.client.ID, UserID: uid, RedirectURI: "https://app.example.com/cb", ExpiresAt: exp}
		create(c)
		mark("oauth_authorization_codes", c.ID, i == 0)
	}
	// Authorization requests of the provider: a redeemed one is kept until
	// it expires (a replay of its code must be recognised).
	for i, used := range []*time.Time{&past, &past, nil} {
		exp := []time.Time{past, future, past}[i]
		r := &models.AuthRequest{ClientID: sd.client.ID, RedirectURI: "https://app.example.com/cb", ResponseType: "code", UsedAt: used, ExpiresAt: exp}
		create(r)
		mark("oauth_auth_requests", r.ID, i != 1)
	}
	for i, exp := range []*time.Time{&past, &future, nil} {
		p := &models.PersonalAccessToken{UserID: uid, Name: "pat", TokenHash: []string{"p-old", "p-live", "p-forever"}[i], Prefix: "asp_", ExpiresAt: exp}
		create(p)
		mark("oauth_personal_access_tokens", p.ID, i == 0)
	}
	for i, exp := range []time.Time{past, future} {
		s := &models.Session{UserID: uid, TokenHash: []string{"s-old", "s-live"}[i], LastActivityAt: now, ExpiresAt: exp}
		create(s)
		mark("sessions", s.ID, i == 0)
		r := &models.PasswordReset{UserID: uid, Email: "purge@example.com", TokenHash: []string{"r-old", "r-live"}[i], ExpiresAt: exp}
		create(r)
		mark("password_resets", r.ID, i == 0)
		v := &models.EmailVerification{UserID: uid, Email: "purge@example.com", TokenHash: []string{"v-old", "v-live"}[i], ExpiresAt: exp}
		create(v)
		mark("email_verifications", v.ID, i == 0)
		c := &models.TwoFactorChallenge{UserID: uid, TokenHash: []string{"c-old", "c-live"}[i], ExpiresAt: exp}
		create(c)
		mark("two_factor_challenges", c.ID, i == 0)
		if i == 1 {
			// A challenge used an hour ago goes though it has not
			// expired: it is single use.
			used := &models.TwoFactorChallenge{UserID: uid, TokenHash: "c-used", ExpiresAt: exp, UsedAt: &past}
			create(used)
			mark("two_factor_challenges", used.ID, true)
		}
		// A TOTP step used an hour ago is outside every window; one used
		// now is not.
		st := &models.TwoFactorUsedStep{UserID: uid, Step: int64(i), UsedAt: []time.Time{past, now}[i]}
		create(st)
		mark("two_factor_used_steps", st.ID, i == 0)
	}
	// Signing keys: a retired key past its removal time goes; one retired
	// still validating, the current and the next key stay.
	for i, k := range []struct {
		state  string
		remove *time.Time
	}{{models.KeyStateRetired, &past}, {models.KeyStateRetired, &future}, {models.KeyStateCurrent, nil}, {models.KeyStateNext, nil}} {
		row := &models.SigningKey{Algorithm: "EdDSA", State: k.state, PublicKey: "{}", PrivateKey: "sealed", ActivatesAt: past, RemoveAt: k.remove}
		if k.state != models.KeyStateRetired {
			row.Slot = &k.state
		}
		create(row)
		mark("signing_keys", row.ID, i == 0)
	}
	return sd
}

func (sd *cleanupSeed) counts() map[string]int64 {
	out := map[string]int64{}
	for _, tb := range []string{"oauth_access_tokens", "oauth_refresh_tokens", "oauth_authorization_codes", "oauth_auth_requests",
		"oauth_personal_access_tokens", "sessions", "password_resets", "email_verifications", "signing_keys",
		"two_factor_challenges", "two_factor_used_steps"} {
		out[tb] = int64(len(sd.deleted[tb]))
	}
	return out
}

func idsOf(t *testing.T, db *gorm.DB, table string) []string {
	t.Helper()
	var ids []string
	require.NoError(t, db.Table(table).Pluck("id", &ids).Error)
	sort.Strings(ids)
	return ids
}

func sorted(s []string) []string {
	out := append([]string(nil), s...)
	sort.Strings(out)
	return out
}

// TestCleanupPurge seeds live and expired rows in every table that expires
// and checks the dry run, the stats, the purge in batches, a second purge,
// and that a refresh-token family goes only when its newest token expires.
//
// SECURITY 32: cleanup is batched, idempotent, and never deletes a row still needed.
func TestCleanupPurge(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b Backend) {
		f := newFixture(t, b)
		s, clock, cleanup := f.s, f.clock, f.s.Cleanup
		ctx := context.Background()
		sd := seedCleanup(t, s.DB(), s.Now())
		want := sd.counts()
		want["user_activity_log"] = 0
		delete(want, "user_activity_log")

		t.Run("DryRunCountsAndDeletesNothing", func(t *testing.T) {
			before := snapshotTables(t, s.DB())
			res, err := cleanup.Purge(ctx, repositories.PurgeOptions{DryRun: true})
			require.NoError(t, err)
			require.True(t, res.DryRun)
			require.Equal(t, want, res.Tables)
			require.Equal(t, before, snapshotTables(t, s.DB()), "a dry run changed the database")
		})

		t.Run("StatsReportBacklogAndLag", func(t *testing.T) {
			stats, err := cleanup.Stats(ctx)
			require.NoError(t, err)
			got := map[string]int64{}
			for _, st := range stats {
				if st.Table == "user_activity_log" {
					require.Positive(t, st.Rows)
					continue
				}
				got[st.Table] = st.Expired
				require.Equal(t, int64(len(sd.deleted[st.Table])+len(sd.kept[st.Table])), st.Rows, st.Table)
				lag := time.Hour
				if st.Table == "oauth_refresh_tokens" {
					lag = 2 * time.Hour // b1 expired an hour before b2
				}
				require.Equal(t, lag, st.OldestExpiredAge, "%s: oldest expired age", st.Table)
			}
			require.Equal(t, want, got)
		})

		t.Run("DeletesExactlyTheExpiredRows", func(t *testing.T) {
			var batches int
			res, err := cleanup.Purge(ctx, repositories.PurgeOptions{BatchSize: 1, Progress: func(string, int64, int64) { batches++ }})
			require.NoError(t, err)
			require.Equal(t, want, res.Tables)
			require.Equal(t, int64(15), res.Total)
			require.Equal(t, 15, batches, "batch size 1 deletes one row per batch")
			for table, kept := range sd.kept {
				require.Equal(t, sorted(kept), idsOf(t, s.DB(), table), "%s: survivors", table)
			}
		})

		t.Run("SecondPurgeDeletesNothing", func(t *testing.T) {
			res, err := cleanup.Purge(ctx, repositories.PurgeOptions{})
			require.NoError(t, err)
			require.Zero(t, res.Total)
		})

		t.Run("FamilyGoesWhenItDies", func(t *testing.T) {
			clock.Advance(2 * time.Hour) // family A's newest token expires too
			res, err := cleanup.Purge(ctx, repositories.PurgeOptions{})
			require.NoError(t, err)
			require.Equal(t, int64(2), res.Tables["oauth_refresh_tokens"])
			require.Empty(t, idsOf(t, s.DB(), "oauth_refresh_tokens"))
		})
	})
}

// TestCleanupPurgeActivityRetention checks that activity rows are kept
// forever by default and purged past ActivityRetention when it is set.
func TestCleanupPurgeActivityRetention(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b Backend) {
		f := newFixture(t, b)
		s, cleanup := f.s, f.s.Cleanup
		ctx := context.Background()
		u := f.user(t, "old@example.com") // user.registered at t0
		f.clock.Advance(48 * time.Hour)
		require.NoError(t, s.Activity.Record(ctx, &u.ID, "logout", nil))
		require.EqualValues(t, 2, countRows(t, s.DB(), "user_activity_log", "user_id = ?", u.ID), "user.registered at t0 and logout 48 h later")

		res, err := cleanup.Purge(ctx, repositories.PurgeOptions{})
		require.NoError(t, err)
		require.Zero(t, res.Tables["user_activity_log"], "activity is kept forever by default")

		res, err = cleanup.Purge(ctx, repositories.PurgeOptions{ActivityRetention: 24 * time.Hour})
		require.NoError(t, err)
		require.Equal(t, int64(1), res.Tables["user_activity_log"])
		left, err := s.Activity.ListForUser(ctx, u.ID, 10)
		require.NoError(t, err)
		require.Len(t, left, 1)
		require.Equal(t, "logout", left[0].Event)
	})
}

// TestCleanupPurgeCancelledMidway cancels a purge between batches.
//
// SECURITY 32: a cancelled purge commits every batch it reported and nothing more; a later one finishes.
func TestCleanupPurgeCancelledMidway(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b Backend) {
		f := newFixture(t, b)
		s, cleanup := f.s, f.s.Cleanup
		u := f.user(t, "many@example.com")
		var rows []models.Session
		for i := 0; i < 50; i++ {
			rows = append(rows, models.Session{UserID: u.ID, TokenHash: models.NewUUID().String(), LastActivityAt: s.Now(), ExpiresAt: s.Now().Add(-time.Minute)})
		}
		require.NoError(t, s.DB().CreateInBatches(&rows, 25).Error)

		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		res, err := cleanup.Purge(ctx, repositories.PurgeOptions{BatchSize: 5, Progress: func(table string, _, total int64) {
			if table == "sessions" && total >= 10 {
				cancel()
			}
		}})
		require.True(t, errors.Is(err, context.Canceled), "Purge after cancel = %v; want context.Canceled", err)
		require.Equal(t, int64(10), res.Tables["sessions"], "batches done before the cancel")
		require.Equal(t, int64(40), countRows(t, s.DB(), "sessions", "1 = 1"), "every reported deletion committed, nothing more")

		res, err = cleanup.Purge(context.Background(), repositories.PurgeOptions{BatchSize: 5})
		require.NoError(t, err)
		require.Equal(t, int64(40), res.Tables["sessions"], "a later purge finishes the job")
	})
}

// TestCleanupViewsListWhatPurgeDeletes compares the monitoring views, which use the
// database's clock, with a dry run at the real time.
func TestCleanupViewsListWhatPurgeDeletes(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b Backend) {
		ctx := context.Background()
		// The real clock, not a fixture's fake one: the views read the
		// database's own clock.
		s := openMigrated(t, b)
		cleanup := s.Cleanup
		sd := seedCleanup(t, s.DB(), time.Now())
		res, err := cleanup.Purge(ctx, repositories.PurgeOptions{DryRun: true})
		require.NoError(t, err)

		viewIDs := func(view, col, kind string) []string {
			var ids []string
			require.NoError(t, s.DB().Table(view).Where(col+" = ?", kind).Pluck("id", &ids).Error)
			sort.Strings(ids)
			return ids
		}
		for table, kind := range map[string]string{"oauth_access_tokens": "access_token", "oauth_refresh_tokens": "refresh_token",
			"oauth_authorization_codes": "authorization_code", "oauth_personal_access_tokens": "personal_access_token"} {
			require.Equal(t, sorted(sd.deleted[table]), viewIDs("oauth_expired_tokens", "token_type", kind), table)
			require.Equal(t, int64(len(sd.deleted[table])), res.Tables[table])
		}
		for table, kind := range map[string]string{"sessions": "session", "password_resets": "password_reset", "email_verifications": "email_verification",
			"two_factor_challenges": "two_factor_challenge"} {
			require.Equal(t, sorted(sd.deleted[table]), viewIDs("expired_auth_records", "record_type", kind), table)
			require.Equal(t, int64(len(sd.deleted[table])), res.Tables[table])
		}

		_, err = cleanup.Purge(ctx, repositories.PurgeOptions{})
		require.NoError(t, err)
		var n int64
		require.NoError(t, s.DB().Table("oauth_expired_tokens").Count(&n).Error)
		require.Zero(t, n)
		require.NoError(t, s.DB().Table("expired_auth_records").Count(&n).Error)
		require.Zero(t, n)
	})
}
