package protocol_test

import (
	"errors"
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
	// Strict base64url: the 3 other spellings of the last character (its
	// unused bits set) are not a challenge.
	require.True(t, protocol.ValidChallenge(challenge))
	for _, last := range "NOP" {
		require.False(t, protocol.ValidChallenge(challenge[:42]+string(last)), "ValidChallenge(...%c)", last)
		require.Error(t, protocol.CheckChallenge(challenge[:42]+string(last), protocol.PKCEMethodS256))
	}

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

// FuzzPKCE fuzzes the PKCE checks: no panic; ValidVerifier and
// ValidChallenge hold exactly for the RFC 7636 grammars; a verifier
// verifies against a challenge only when the challenge is its S256, and
// every valid verifier verifies against its own; CheckChallenge accepts
// only no PKCE or S256 with a well-formed challenge; a verifier changed at
// one position (pos, to the unreserved character alt) never verifies.
func FuzzPKCE(f *testing.F) {
	const verifier, challenge = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk", "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
	for _, s := range [][3]string{
		{verifier, challenge, "S256"},
		{verifier, challenge, "plain"},
		{verifier, challenge, ""},
		{verifier, challenge, "s256"},
		{verifier[:42], challenge, "S256"},
		{verifier + "~", challenge[:42] + "N", "S256"},
		{verifier, challenge + "=", "S256"},
		{"", "", ""},
		{verifier, "", ""},
		{"", challenge, "S256"},
		{strings.Repeat("~", 128), strings.Repeat("_", 43), "S256"},
		{verifier, challenge[:42] + "N", "S256"}, // spare bits set
		{strings.Repeat("a", 129), challenge[:42] + "+", "S256"},
		{strings.Repeat("a", 42) + "é", challenge[:42] + "/", "S256"},
	} {
		f.Add(s[0], s[1], s[2], uint8(7), uint8(3))
	}
	const unreserved = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~"
	f.Fuzz(func(t *testing.T, v, c, method string, pos, alt uint8) {
		okV := len(v) >= 43 && len(v) <= 128 && strings.Trim(v, unreserved) == ""
		if protocol.ValidVerifier(v) != okV {
			t.Fatalf("ValidVerifier(%q) = %v; want %v", v, !okV, okV)
		}
		// 43 base64url characters, the last of which carries 4 bits of
		// the hash and 2 zero bits.
		okC := len(c) == 43 && strings.Trim(c, b64url) == "" && strings.IndexByte(b64url, c[42])%4 == 0
		if protocol.ValidChallenge(c) != okC {
			t.Fatalf("ValidChallenge(%q) = %v; want %v", c, !okC, okC)
		}
		own := protocol.S256Challenge(v)
		if !protocol.ValidChallenge(own) {
			t.Fatalf("S256Challenge(%q) = %q is not a valid challenge", v, own)
		}
		if protocol.VerifyS256(own, v) != okV || (protocol.CheckPKCE(own, protocol.PKCEMethodS256, v) == nil) != okV {
			t.Fatalf("verifier %q against its own challenge: VerifyS256 and CheckPKCE disagree with ValidVerifier (%v)", v, okV)
		}
		if protocol.VerifyS256(c, v) && (c != own || !okV) {
			t.Fatalf("VerifyS256(%q, %q) = true; its challenge is %q", c, v, own)
		}
		err := protocol.CheckPKCE(c, method, v)
		if err == nil && c != "" && !(method == protocol.PKCEMethodS256 && okV && c == own) {
			t.Fatalf("CheckPKCE(%q, %q, %q) = nil", c, method, v)
		}
		if err == nil && c == "" && v != "" {
			t.Fatalf("CheckPKCE accepts a verifier without a challenge")
		}
		if errors.Is(err, protocol.ErrVerifierMismatch) && (!okV || c == own) {
			t.Fatalf("CheckPKCE(%q, %q, %q) = ErrVerifierMismatch for a malformed or matching verifier", c, method, v)
		}
		if err := protocol.CheckChallenge(c, method); err == nil {
			if !(c == "" && method == "") && !(method == protocol.PKCEMethodS256 && okC) {
				t.Fatalf("CheckChallenge(%q, %q) = nil", c, method)
			}
		} else if len(err.Error()) > 200 {
			t.Fatalf("CheckChallenge error of %d bytes", len(err.Error()))
		}
		if err != nil && len(err.Error()) > 200 {
			t.Fatalf("CheckPKCE error of %d bytes", len(err.Error()))
		}
		if okV {
			i := int(pos) % len(v)
			ch := unreserved[int(alt)%len(unreserved)]
			if ch != v[i] {
				mutated := v[:i] + string(ch) + v[i+1:]
				if protocol.VerifyS256(own, mutated) || protocol.CheckPKCE(own, protocol.PKCEMethodS256, mutated) == nil {
					t.Fatalf("%q verifies against the challenge of %q", mutated, v)
				}
			}
		}
	})
}
