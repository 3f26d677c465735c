package integration

// Tests of repositories.PersonalTokens (table
// oauth_personal_access_tokens): each method's success and error paths,
// and SECURITY.md 22.

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/forgeauth/authstore/hooks"
	"github.com/forgeauth/authstore/models"
	"github.com/forgeauth/authstore/repositories"
	"github.com/stretchr/testify/require"
	"gorm.io/gorm"
)

func TestPersonalTokensCreateFindRevoke(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b Backend) {
		f := newFixture(t, b)
		ctx := requestCtx()
		uid := f.user(t, "u@example.com").ID

		t.Run("CreateFindList", func(t *testing.T) {
			row, tok, err := f.s.PersonalTokens.Create(ctx, uid, " CI deploy ", []string{"repo"}, nil)
			require.NoError(t, err)
			require.Equal(t, "CI deploy", row.Name)
			require.Nil(t, row.ExpiresAt)
			got, err := f.s.PersonalTokens.Find(ctx, tok)
			require.NoError(t, err)
			require.Equal(t, row.ID, got.ID)
			require.Equal(t, models.Strings{"repo"}, got.Scopes)
			list, err := f.s.PersonalTokens.ListForUser(ctx, uid)
			require.NoError(t, err)
			require.Len(t, list, 1)
			require.Equal(t, row.ID, list[0].ID)
			require.EqualValues(t, 1, countRows(t, f.s.DB(), "user_activity_log", "event = ? AND user_id = ?", string(models.EventPersonalTokenCreated), uid))
			b, err := json.Marshal(got)
			require.NoError(t, err)
			require.NotContains(t, string(b), got.TokenHash, "the digest serialises to JSON")
		})

		t.Run("Errors", func(t *testing.T) {
			past := f.clock.Now().Add(-time.Second)
			now := f.clock.Now()
			before := snapshotTables(t, f.s.DB())
			for name, tc := range map[string]struct {
				user    models.UUID
				name    string
				expires *time.Time
				want    error
			}{
				"empty name":     {uid, "", nil, repositories.ErrInvalidInput},
				"past expiry":    {uid, "x", &past, repositories.ErrInvalidInput},
				"expiry now":     {uid, "x", &now, repositories.ErrInvalidInput},
				"malformed user": {"u", "x", nil, repositories.ErrInvalidInput},
				"unknown user":   {models.NewUUID(), "x", nil, repositories.ErrMissingReferent},
			} {
				_, _, err := f.s.PersonalTokens.Create(ctx, tc.user, tc.name, nil, tc.expires)
				require.ErrorIs(t, err, tc.want, "%s: Create = %v; want %v", name, err, tc.want)
			}
			require.Equal(t, before, snapshotTables(t, f.s.DB()))
			for _, tok := range []string{"", "asp_", "nope", "asp_" + strings.Repeat("A", 43), strings.Repeat("a", 1000)} {
				_, err := f.s.PersonalTokens.Find(ctx, tok)
				require.ErrorIs(t, err, repositories.ErrNotFound, "Find(%.20q)", tok)
			}
			_, err := f.s.PersonalTokens.ListForUser(ctx, "u")
			require.ErrorIs(t, err, repositories.ErrInvalidInput)
		})

		t.Run("Revoke", func(t *testing.T) {
			row, tok, err := f.s.PersonalTokens.Create(ctx, uid, "x", nil, nil)
			require.NoError(t, err)
			other := f.user(t, "o@example.com").ID
			require.ErrorIs(t, f.s.PersonalTokens.Revoke(ctx, other, row.ID), repositories.ErrNotFound, "another user revoked my token")
			_, err = f.s.PersonalTokens.Find(ctx, tok)
			require.NoError(t, err)
			require.NoError(t, f.s.PersonalTokens.Revoke(ctx, uid, row.ID))
			_, err = f.s.PersonalTokens.Find(ctx, tok)
			require.ErrorIs(t, err, repositories.ErrRevoked)
			require.NoError(t, f.s.PersonalTokens.Revoke(ctx, uid, row.ID), "revoking twice is a no-op")
			require.EqualValues(t, 1, countEvents(t, f.s.DB(), models.EventPersonalTokenRevoked))
			require.ErrorIs(t, f.s.PersonalTokens.Revoke(ctx, uid, models.NewUUID()), repositories.ErrNotFound)
		})
	})
}

// TestPersonalTokensPrefixedDigestedThrottled checks that personal tokens have a
// recognisable prefix, are stored as digests, expire, can be revoked, and
// record last_used_at at most once a minute.
//
// SECURITY 22: personal tokens have a recognisable prefix, are stored as digests, expire, can be revoked, and record last_used_at (throttled).
func TestPersonalTokensPrefixedDigestedThrottled(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b Backend) {
		f := newFixture(t, b)
		ctx := requestCtx()
		uid := f.user(t, "u@example.com").ID
		var updates int
		require.NoError(t, f.s.DB().Callback().Update().After("gorm:update").Register("oauth:count_pat_updates", func(tx *gorm.DB) {
			if tx.Statement.Table == "oauth_personal_access_tokens" && tx.Error == nil {
				updates++
			}
		}))
		exp := f.clock.Now().Add(24 * time.Hour)
		row, tok, err := f.s.PersonalTokens.Create(ctx, uid, "deploy", []string{"repo"}, &exp)
		require.NoError(t, err)

		require.Regexp(t, `^asp_[A-Za-z0-9_-]{43}$`, tok)
		require.Equal(t, tok[:8], row.Prefix)
		var stored models.PersonalAccessToken
		require.NoError(t, f.s.DB().Where("id = ?", row.ID).Take(&stored).Error)
		require.Equal(t, hooks.Digest(tok), stored.TokenHash)
		require.Equal(t, tok[:8], stored.Prefix)
		require.True(t, stored.ExpiresAt.Equal(exp))

		// last_used_at: written on first use, not again within a minute.
		got, err := f.s.PersonalTokens.Find(ctx, tok)
		require.NoError(t, err)
		first := f.clock.Now()
		require.True(t, got.LastUsedAt.Equal(first))
		require.Equal(t, 1, updates)
		for range 5 {
			f.clock.Advance(10 * time.Second)
			got, err = f.s.PersonalTokens.Find(ctx, tok)
			require.NoError(t, err)
			require.True(t, got.LastUsedAt.Equal(first), "last_used_at moved within a minute")
		}
		require.Equal(t, 1, updates, "Find wrote within the throttle interval")
		f.clock.Advance(10 * time.Second) // 60 s after the first use
		got, err = f.s.PersonalTokens.Find(ctx, tok)
		require.NoError(t, err)
		require.True(t, got.LastUsedAt.Equal(f.clock.Now()))
		require.Equal(t, 2, updates)
		require.NoError(t, f.s.DB().Where("id = ?", row.ID).Take(&stored).Error)
		require.True(t, stored.LastUsedAt.Equal(f.clock.Now()), "last_used_at not stored")

		// Expiry.
		f.clock.Advance(24*time.Hour - 61*time.Second)
		_, err = f.s.PersonalTokens.Find(ctx, tok)
		require.NoError(t, err, "1 s before expiry")
		f.clock.Advance(time.Second)
		_, err = f.s.PersonalTokens.Find(ctx, tok)
		require.ErrorIs(t, err, repositories.ErrExpired)

		// Revocation.
		row2, tok2, err := f.s.PersonalTokens.Create(ctx, uid, "ci", nil, nil)
		require.NoError(t, err)
		require.NoError(t, f.s.PersonalTokens.Revoke(ctx, uid, row2.ID))
		_, err = f.s.PersonalTokens.Find(ctx, tok2)
		require.ErrorIs(t, err, repositories.ErrRevoked)
		a := lastEvent(t, f.s.DB(), models.EventPersonalTokenRevoked)
		require.Equal(t, &uid, a.UserID)
		require.Equal(t, requestIP, a.IPAddress)
	})
}
