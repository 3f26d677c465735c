package protocol_test

import (
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
