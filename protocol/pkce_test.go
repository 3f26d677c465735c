package protocol_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/forgeauth/authstore/protocol"
)

func TestPKCE(t *testing.T) {
	// RFC 7636 Appendix B.
	const verifier, challenge = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk", "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
	require.Equal(t, challenge, protocol.S256Challenge(verifier))
	require.True(t, protocol.VerifyS256(challenge, verifier))
	require.False(t, protocol.VerifyS256(challenge, verifier[:42]+"a"))
	require.False(t, protocol.VerifyS256(challenge[:42], verifier))
	require.False(t, protocol.VerifyS256("", verifier))

	v, err := protocol.NewVerifier()
	require.NoError(t, err)
	require.True(t, protocol.ValidVerifier(v))
	require.True(t, protocol.VerifyS256(protocol.S256Challenge(v), v))

	// An invalid verifier never verifies, even against its own challenge.
	short := strings.Repeat("a", 42)
	require.False(t, protocol.VerifyS256(protocol.S256Challenge(short), short))
}

func TestValidVerifier(t *testing.T) {
	for v, want := range map[string]bool{
		strings.Repeat("a", 42):       false,
		strings.Repeat("a", 43):       true,
		strings.Repeat("Z9", 64):      true,
		strings.Repeat("a", 129):      false,
		strings.Repeat("-._~", 11):    true,
		strings.Repeat("a", 42) + "+": false,
		strings.Repeat("a", 42) + "/": false,
		strings.Repeat("a", 42) + "=": false,
		strings.Repeat("a", 42) + " ": false,
		strings.Repeat("a", 42) + "é": false,
		"":                            false,
	} {
		require.Equal(t, want, protocol.ValidVerifier(v), v)
	}
}
