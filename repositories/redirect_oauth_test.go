package repositories

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/forgeauth/authstore/config"
	"github.com/stretchr/testify/require"
)

func TestValidateRedirectURI(t *testing.T) {
	for _, uri := range []string{
		"https://app.example.com/cb",
		"https://app.example.com:8443/cb?x=1",
		"https://app.example.com",
		"http://127.0.0.1/cb",
		"http://127.0.0.1:8080/cb",
		"http://[::1]:53682/",
		"http://localhost:3000/cb",
		"com.example.app:/oauth2redirect",
		"com.example.app:/cb",
		"com.example.app:cb",
	} {
		require.NoError(t, ValidateRedirectURI(uri), uri)
	}
	for _, tc := range []struct{ uri, problem string }{
		{"", "is empty"},
		{"/cb", "is not absolute"},
		{"app.example.com/cb", "is not absolute"},
		{"https://app.example.com/cb#frag", "fragment"},
		{"https://app.example.com/cb#", "fragment"},
		{"http://app.example.com/cb", "http on a host other than"},
		{"http://127.0.0.2/cb", "http on a host other than"},
		{"http://localhost.evil.com/cb", "http on a host other than"},
		{"https:///cb", "has no host"},
		{"https:cb", "has no host"},
		{"https://user:pw@app.example.com/cb", "user information"},
		{"javascript:alert(1)", `scheme "javascript"`},
		{"data:text/html,x", `scheme "data"`},
		{"file:///etc/passwd", `scheme "file"`},
		{"myapp:/cb", `scheme "myapp"`},
		{"com.example.app:", "nothing after its scheme"},
		{"https://app.example.com/c b", "space"},
		{"https://app.example.com/\x00", "control"},
		{"https://app.example.com/é", "non-ASCII"},
		{"http://127.0.0.1:0/cb", "port"},
		{"http://127.0.0.1:65536/cb", "port"},
		{"https://app.example.com/" + strings.Repeat("a", MaxRedirectURILength), "longer than"},
	} {
		err := ValidateRedirectURI(tc.uri)
		require.ErrorIs(t, err, ErrInvalidInput, "ValidateRedirectURI(%q)", tc.uri)
		require.Contains(t, err.Error(), tc.problem, "ValidateRedirectURI(%q)", tc.uri)
	}
}

func TestMatchRedirectURI(t *testing.T) {
	reg := []string{
		"https://app.example.com/cb",
		"http://127.0.0.1:8080/cb",
		"http://[::1]/native?x=1",
		"http://localhost:3000/cb",
		"com.example.app:/cb",
	}
	for _, tc := range []struct {
		uri  string
		want bool
	}{
		{"https://app.example.com/cb", true},
		{"https://app.example.com/cb/", false},
		{"https://app.example.com/CB", false},
		{"https://APP.example.com/cb", false},
		{"HTTPS://app.example.com/cb", false},
		{"https://app.example.com/cb?x=1", false},
		{"https://app.example.com/cb#x", false},
		{"https://app.example.com/c", false},
		{"https://app.example.com/cb2", false},
		{"https://app.example.com/cb/../cb", false},
		{"https://app.example.com:443/cb", false},
		{"https://app.example.com.evil.com/cb", false},
		{"https://app.example.com%2fcb", false},
		{"http://app.example.com/cb", false},
		// RFC 8252 7.3: loopback IP literals may vary the port, nothing else.
		{"http://127.0.0.1:8080/cb", true},
		{"http://127.0.0.1:51234/cb", true},
		{"http://127.0.0.1/cb", true},
		{"http://127.0.0.1:51234/cb/", false},
		{"http://127.0.0.1:51234/cb?x=1", false},
		{"http://127.0.0.1:51234/cb#x", false},
		{"http://127.0.0.1:0/cb", false},
		{"http://127.0.0.1:99999/cb", false},
		{"http://127.0.0.1:/cb", false},
		{"http://127.0.0.1.evil.com/cb", false},
		{"http://127.0.0.1@evil.com/cb", false},
		{"https://127.0.0.1:8080/cb", false},
		{"http://[::1]:4000/native?x=1", true},
		{"http://[::1]/native?x=1", true},
		{"http://[::1]:4000/native?x=2", false},
		{"http://[::1]:4000/native", false},
		// localhost is matched exactly.
		{"http://localhost:3000/cb", true},
		{"http://localhost:3001/cb", false},
		{"com.example.app:/cb", true},
		{"com.example.app:/cb/", false},
		{"com.example.App:/cb", false},
		{"", false},
	} {
		require.Equal(t, tc.want, MatchRedirectURI(reg, tc.uri), "MatchRedirectURI(%q)", tc.uri)
	}
	require.False(t, MatchRedirectURI(nil, "https://app.example.com/cb"))
}

func TestNormalizeScopes(t *testing.T) {
	got, err := normalizeScopes([]string{"read", "write", "read", "admin:all"})
	require.NoError(t, err)
	require.Equal(t, []string{"read", "write", "admin:all"}, []string(got))
	got, err = normalizeScopes(nil)
	require.NoError(t, err)
	require.NotNil(t, got)
	require.Empty(t, got)
	for _, bad := range [][]string{{""}, {"a b"}, {`a"b`}, {`a\b`}, {"é"}, {strings.Repeat("a", maxScopeLength+1)}, make([]string, maxScopes+1)} {
		_, err := normalizeScopes(bad)
		require.ErrorIs(t, err, ErrInvalidInput, "normalizeScopes(%q)", bad)
	}
}

func TestLRU(t *testing.T) {
	c := newLRU[int, string](3)
	for i := range 3 {
		c.put(i, fmt.Sprint(i))
	}
	_, ok := c.get(0) // 0 becomes the most recently used
	require.True(t, ok)
	c.put(3, "3") // evicts 1, the least recently used
	_, ok = c.get(1)
	require.False(t, ok)
	for _, k := range []int{0, 2, 3} {
		v, ok := c.get(k)
		require.True(t, ok, k)
		require.Equal(t, fmt.Sprint(k), v)
	}
	require.Equal(t, 3, c.len())
	c.remove(2)
	require.Equal(t, 2, c.len())
}

func TestVerifiedSecretsKeyedByHash(t *testing.T) {
	v := newVerifiedSecrets(2)
	v.add("client", "hash-1", "secret")
	require.True(t, v.contains("client", "hash-1", "secret"))
	require.False(t, v.contains("client", "hash-2", "secret"), "a new hash (rotation) must miss")
	require.False(t, v.contains("client", "hash-1", "secreT"))
	require.False(t, v.contains("other", "hash-1", "secret"))
	// Field boundaries are unambiguous.
	require.False(t, v.contains("clienth", "ash-1", "secret"))
	// Bounded.
	v.add("a", "b", "c")
	v.add("d", "e", "f")
	require.Equal(t, 2, v.entries.len())
}

func TestSigningKey(t *testing.T) {
	var cfg = testConfig()
	cfg.JWTSecret = ""
	_, err := signingKey(cfg)
	require.True(t, errors.Is(err, ErrNoSigningKey))
	cfg.JWTSecret = "tiny-key-123"
	_, err = signingKey(cfg)
	require.ErrorIs(t, err, ErrNoSigningKey)
	require.NotContains(t, err.Error(), "tiny-key-123")
}

func TestTokenPairDoesNotPrintTokens(t *testing.T) {
	p := TokenPair{AccessToken: "eyJ.secret.jwt", RefreshToken: "refresh-secret", Scopes: []string{"read"}}
	for _, s := range []string{fmt.Sprint(p), fmt.Sprintf("%v", &p), fmt.Sprintf("%+v", p), fmt.Sprintf("%#v", p), fmt.Sprintf("%s", p)} {
		require.NotContains(t, s, "secret", s)
	}
}

func TestErrCodeReplayedMatchesErrUsed(t *testing.T) {
	require.ErrorIs(t, fmt.Errorf("x: %w", ErrCodeReplayed), ErrUsed)
}

func testConfig() config.Config { return config.Default() }
