package hooks_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/forgeauth/authstore/hooks"
)

func TestEvents(t *testing.T) {
	events := hooks.Events()
	require.Len(t, events, 22)
	seen := map[hooks.Event]bool{}
	for _, e := range events {
		require.True(t, e.Valid(), e)
		require.Regexp(t, `^[a-z_]+(\.[a-z_]+)?$`, string(e))
		require.False(t, seen[e], "duplicate %q", e)
		seen[e] = true
	}
	require.Equal(t, hooks.Event("refresh_token.reused"), hooks.EventRefreshTokenReused)
	require.False(t, hooks.Event("").Valid())
	require.False(t, hooks.Event("login.Succeeded").Valid())

	events[0] = "mutated" // Events returns a copy.
	require.Equal(t, hooks.EventRegistered, hooks.Events()[0])
}
