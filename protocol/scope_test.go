package protocol_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/forgeauth/authstore/protocol"
)

func TestNormalizeScopes(t *testing.T) {
	got, err := protocol.NormalizeScopes([]string{"read", "write", "read", "admin:all"})
	require.NoError(t, err)
	require.Equal(t, []string{"read", "write", "admin:all"}, got)
	got, err = protocol.NormalizeScopes(nil)
	require.NoError(t, err)
	require.NotNil(t, got)
	require.Empty(t, got)
	for _, bad := range [][]string{{""}, {"a b"}, {`a"b`}, {`a\b`}, {"é"}, {strings.Repeat("a", protocol.MaxScopeLength+1)}, make([]string, protocol.MaxScopes+1)} {
		_, err := protocol.NormalizeScopes(bad)
		require.Error(t, err, "NormalizeScopes(%q)", bad)
	}
}
