package models_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/forgeauth/authstore/models"
)

func TestEvents(t *testing.T) {
	events := models.Events()
	require.Len(t, events, 42) // 28, the signing keys' four (issue 13), two-factor's nine (issue 16), login.session
	seen := map[models.Event]bool{}
	for _, e := range events {
		require.True(t, e.Valid(), e)
		require.Regexp(t, `^[a-z_]+(\.[a-z_]+)?$`, string(e))
		require.False(t, seen[e], "duplicate %q", e)
		seen[e] = true
	}
	require.Equal(t, models.Event("refresh_token.reused"), models.EventRefreshTokenReused)
	require.False(t, models.Event("").Valid())
	require.False(t, models.Event("login.Succeeded").Valid())

	events[0] = "mutated" // Events returns a copy.
	require.Equal(t, models.EventRegistered, models.Events()[0])
}
