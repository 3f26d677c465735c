package protocol_test

import (
	"slices"
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

// FuzzScopes fuzzes NormalizeScopes, CheckScope and MissingScope with a
// list of scopes (list split at '\n'): no panic; an error is bounded; an
// accepted list is at most MaxScopes tokens of the RFC 6749 3.3 grammar,
// at most MaxScopeListLength bytes joined by spaces,
// without duplicates, in first-occurrence order, idempotent, and
// round-trips through the space-separated scope string of a token; a
// refused list holds a token CheckScope refuses, too many, or too many
// bytes joined.
func FuzzScopes(f *testing.F) {
	for _, s := range []string{
		"read\nwrite\nread\nadmin:all", "", "read", "\n", "a b", `a"b`, `a\b`, "é", "read\x00",
		"read\twrite", strings.Repeat("a", protocol.MaxScopeLength), strings.Repeat("a", protocol.MaxScopeLength+1),
		strings.Repeat("x\n", protocol.MaxScopes) + "y", strings.Repeat("x\n", protocol.MaxScopes-1) + "x",
		"!#$%&'()*+,-./0123456789:;<=>?@[]^_`{|}~", "\x7f", "\x21\x7e",
	} {
		f.Add(s)
	}
	// Eight distinct scopes of 127 bytes: 1023 bytes joined, and one more.
	var long []string
	for i := range 8 {
		long = append(long, strings.Repeat(string(rune('a'+i)), protocol.MaxScopeLength-1))
	}
	f.Add(strings.Join(long, "\n"))
	f.Add(strings.Join(append(long, "zz"), "\n"))
	f.Fuzz(func(t *testing.T, list string) {
		in := strings.Split(list, "\n")
		out, err := protocol.NormalizeScopes(in)
		if err != nil {
			if len(err.Error()) > 250 { // at most 32 bytes of a scope, quoted
				t.Fatalf("error of %d bytes", len(err.Error()))
			}
			bad := len(in) > protocol.MaxScopes
			var unique []string
			for _, s := range in {
				bad = bad || protocol.CheckScope(s) != nil
				if !slices.Contains(unique, s) {
					unique = append(unique, s)
				}
			}
			bad = bad || len(strings.Join(unique, " ")) > protocol.MaxScopeListLength
			if !bad {
				t.Fatalf("NormalizeScopes(%q) = %v, but every scope is valid", in, err)
			}
			return
		}
		if out == nil || len(out) > protocol.MaxScopes || len(out) > len(in) || len(strings.Join(out, " ")) > protocol.MaxScopeListLength {
			t.Fatalf("NormalizeScopes(%q) = %q", in, out)
		}
		seen := map[string]bool{}
		j := 0
		for _, s := range out {
			if s == "" || len(s) > protocol.MaxScopeLength || seen[s] {
				t.Fatalf("NormalizeScopes(%q) holds %q: empty, too long or twice", in, s)
			}
			seen[s] = true
			for i := 0; i < len(s); i++ {
				if c := s[i]; c < 0x21 || c > 0x7e || c == '"' || c == '\\' {
					t.Fatalf("NormalizeScopes(%q) holds %q with byte %#x", in, s, c)
				}
			}
			// First-occurrence order: s is the next input not seen before.
			for j < len(in) && seen[in[j]] && in[j] != s {
				j++
			}
			if j == len(in) || in[j] != s {
				t.Fatalf("NormalizeScopes(%q) = %q: not in first-occurrence order", in, out)
			}
		}
		for _, s := range in {
			if !seen[s] {
				t.Fatalf("NormalizeScopes(%q) lost %q", in, s)
			}
		}
		again, err := protocol.NormalizeScopes(out)
		if err != nil || !slices.Equal(again, out) {
			t.Fatalf("NormalizeScopes is not idempotent on %q: %q, %v", out, again, err)
		}
		c := protocol.Claims{Scope: strings.Join(out, " ")}
		if got := c.Scopes(); !slices.Equal(got, out) && !(len(out) == 0 && len(got) == 0) {
			t.Fatalf("scope string %q reads back as %q", c.Scope, got)
		}
		if s, missing := protocol.MissingScope(out, out); missing {
			t.Fatalf("MissingScope(%q, itself) = %q", out, s)
		}
		if len(out) > 0 {
			if s, missing := protocol.MissingScope(out, out[1:]); !missing || s != out[0] {
				t.Fatalf("MissingScope(%q, %q) = %q, %v", out, out[1:], s, missing)
			}
		}
	})
}
