package protocol_test

import (
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/forgeauth/authstore/protocol"
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
		require.NoError(t, protocol.ValidateRedirectURI(uri), uri)
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
		{"https://app.example.com/" + strings.Repeat("a", protocol.MaxRedirectURILength), "longer than"},
	} {
		err := protocol.ValidateRedirectURI(tc.uri)
		require.Error(t, err, "ValidateRedirectURI(%q)", tc.uri)
		require.Contains(t, err.Error(), tc.problem, "protocol.ValidateRedirectURI(%q)", tc.uri)
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
		require.Equal(t, tc.want, protocol.MatchRedirectURI(reg, tc.uri), "protocol.MatchRedirectURI(%q)", tc.uri)
	}
	require.False(t, protocol.MatchRedirectURI(nil, "https://app.example.com/cb"))
}

// FuzzRedirectURI fuzzes ValidateRedirectURI and MatchRedirectURI: no
// panic; an error is bounded; an accepted URI satisfies the documented
// grammar (ASCII without space or control, no fragment or user
// information, at most MaxRedirectURILength bytes; https with a host,
// loopback http, or a private-use scheme with a dot), registers as itself
// (ValidateRedirectURIs) and matches itself; and another URI matches it
// only by the RFC 8252 7.3 exception: the same loopback-IP http URI with
// another port, itself a valid redirect URI.
func FuzzRedirectURI(f *testing.F) {
	for _, s := range [][2]string{
		{"https://app.example.com/cb", "https://app.example.com/cb"},
		{"https://app.example.com/cb", "https://app.example.com/cb/"},
		{"https://app.example.com:8443/cb?x=1", "https://app.example.com:8443/cb?x=1#f"},
		{"http://127.0.0.1:8080/cb", "http://127.0.0.1:51234/cb"},
		{"http://127.0.0.1/cb", "http://127.0.0.1:0/cb"},
		{"http://127.0.0.1/cb", "http://127.0.0.1:65536/cb"},
		{"http://127.0.0.1/cb", "http://127.0.0.1:/cb"},
		{"http://127.0.0.1", "http://127.0.0.1:80"},
		{"http://127.0.0.1", "http://127.0.0.1:80@evil.com"},
		{"http://[::1]/native?x=1", "http://[::1]:4000/native?x=1"},
		{"http://[::1]", "http://[::1]:1#x"},
		{"http://localhost:3000/cb", "http://localhost:3001/cb"},
		{"com.example.app:/cb", "com.example.App:/cb"},
		{"com.example.app:cb", "com.example.app:cb"},
		{"https://user:pw@app.example.com/cb", "https://app.example.com/cb"},
		{"javascript:alert(1)", "data:text/html,x"},
		{"https:cb", "https:///cb"},
		{"http://127.0.0.1.evil.com/cb", "http://127.0.0.1@evil.com/cb"},
		{"https://app.example.com/\x00", "https://app.example.com/é"},
		{"", "%"},
		{strings.Repeat("b", 1990) + ":x", "\x00"}, // a long scheme, once echoed whole
	} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, uri, other string) {
		err := protocol.ValidateRedirectURI(uri)
		if err != nil {
			if len(err.Error()) > 400 { // at most 48 bytes of uri, quoted
				t.Fatalf("error of %d bytes", len(err.Error()))
			}
			if _, err := protocol.ValidateRedirectURIs([]string{uri}); err == nil {
				t.Fatalf("ValidateRedirectURIs accepts %q, which ValidateRedirectURI refuses", uri)
			}
			return
		}
		requireRedirectGrammar(t, uri)
		if got, err := protocol.ValidateRedirectURIs([]string{uri, uri}); err != nil || len(got) != 1 || got[0] != uri {
			t.Fatalf("ValidateRedirectURIs(%q twice) = %q, %v", uri, got, err)
		}
		if !protocol.MatchRedirectURI([]string{uri}, uri) {
			t.Fatalf("%q does not match itself", uri)
		}
		if other == uri || !protocol.MatchRedirectURI([]string{uri}, other) {
			return
		}
		// Only the loopback port may differ.
		if protocol.ValidateRedirectURI(other) != nil {
			t.Fatalf("%q matches %q but is not a valid redirect uri", other, uri)
		}
		u, _ := url.Parse(uri)
		o, _ := url.Parse(other)
		if u.Scheme != "http" || (u.Hostname() != "127.0.0.1" && u.Hostname() != "::1") ||
			o.Scheme != u.Scheme || o.Host == u.Host && o.Port() == u.Port() || o.Hostname() != u.Hostname() ||
			o.EscapedPath() != u.EscapedPath() || o.RawQuery != u.RawQuery || o.ForceQuery != u.ForceQuery || o.Opaque != "" {
			t.Fatalf("%q matches %q though it differs in more than a loopback port", other, uri)
		}
	})
}

// requireRedirectGrammar fails unless uri has the documented form of a
// redirect URI.
func requireRedirectGrammar(t *testing.T, uri string) {
	t.Helper()
	if uri == "" || len(uri) > protocol.MaxRedirectURILength || strings.ContainsAny(uri, "#") {
		t.Fatalf("accepted %q: empty, too long or with a fragment", uri)
	}
	for i := 0; i < len(uri); i++ {
		if uri[i] <= 0x20 || uri[i] >= 0x7f {
			t.Fatalf("accepted %q with byte %#x", uri, uri[i])
		}
	}
	u, err := url.Parse(uri)
	if err != nil || u.User != nil {
		t.Fatalf("accepted %q: %v, user %v", uri, err, u.User)
	}
	switch {
	case u.Scheme == "https":
		if u.Host == "" || u.Opaque != "" {
			t.Fatalf("accepted https %q without a host", uri)
		}
	case u.Scheme == "http":
		if h := u.Hostname(); h != "127.0.0.1" && h != "::1" && h != "localhost" {
			t.Fatalf("accepted http %q on host %q", uri, h)
		}
	case !strings.Contains(u.Scheme, "."):
		t.Fatalf("accepted scheme %q", u.Scheme)
	}
	if p := u.Port(); p != "" {
		if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
			t.Fatalf("accepted %q with port %q", uri, p)
		}
	}
}
