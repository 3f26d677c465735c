package protocol

import (
	"fmt"
	"net/url"
	"strconv"
	"strings"
)

// MaxRedirectURILength is the longest redirect URI, in bytes, that
// ValidateRedirectURI accepts.
const MaxRedirectURILength = 2000

// MaxRedirectURIs bounds how many redirect URIs one client registers.
const MaxRedirectURIs = 32

// ValidateRedirectURI reports whether uri may be registered as a redirect
// URI (RFC 9700 2.1, RFC 8252 7): an absolute URI without a fragment or user
// information, no longer than MaxRedirectURILength, that is either https
// with a host, http on a loopback host (127.0.0.1, [::1] or localhost), or a
// private-use scheme for native apps, which must hold a dot (a reverse
// domain name such as com.example.app:/callback). The error names the
// problem and quotes at most the first 48 bytes of uri.
func ValidateRedirectURI(uri string) error {
	if problem := redirectURIProblem(uri); problem != "" {
		return fmt.Errorf("redirect uri %q %s", Clip(uri, 48), problem)
	}
	return nil
}

func redirectURIProblem(uri string) string {
	if uri == "" {
		return "is empty"
	}
	if len(uri) > MaxRedirectURILength {
		return fmt.Sprintf("is longer than %d bytes", MaxRedirectURILength)
	}
	for i := 0; i < len(uri); i++ {
		if c := uri[i]; c <= 0x20 || c >= 0x7f {
			return "holds a space, a control or a non-ASCII character"
		}
	}
	if strings.Contains(uri, "#") {
		return "has a fragment"
	}
	u, err := url.Parse(uri)
	if err != nil {
		return "is not a valid uri"
	}
	if u.Scheme == "" {
		return "is not absolute"
	}
	if u.User != nil {
		return "has user information"
	}
	switch u.Scheme {
	case "https":
		if u.Opaque != "" || u.Hostname() == "" {
			return "has no host"
		}
	case "http":
		if u.Opaque != "" || !isLoopbackHost(u.Hostname()) {
			return "uses http on a host other than 127.0.0.1, [::1] or localhost"
		}
	default:
		if !strings.Contains(u.Scheme, ".") {
			return fmt.Sprintf("has scheme %q: want https, loopback http, or a private-use scheme with a dot (com.example.app)", Clip(u.Scheme, 24))
		}
		if u.Opaque == "" && u.Host == "" && u.Path == "" {
			return "has nothing after its scheme"
		}
	}
	if p := u.Port(); p != "" {
		if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
			return "has a port outside 1-65535"
		}
	}
	return ""
}

func isLoopbackHost(h string) bool { return h == "127.0.0.1" || h == "::1" || h == "localhost" }

// ValidateRedirectURIs validates a client's list of redirect URIs (at most
// MaxRedirectURIs) and returns it without duplicates, in order.
func ValidateRedirectURIs(uris []string) ([]string, error) {
	if len(uris) > MaxRedirectURIs {
		return nil, fmt.Errorf("at most %d redirect uris are allowed, got %d", MaxRedirectURIs, len(uris))
	}
	out := make([]string, 0, len(uris))
	seen := map[string]bool{}
	for _, u := range uris {
		if err := ValidateRedirectURI(u); err != nil {
			return nil, err
		}
		if !seen[u] {
			seen[u] = true
			out = append(out, u)
		}
	}
	return out, nil
}

// MatchRedirectURI reports whether uri equals one of the registered redirect
// URIs exactly, byte for byte: no trailing-slash, case, query or prefix
// leniency (RFC 9700 2.1). The one exception is RFC 8252 7.3: for a
// registered http://127.0.0.1 or http://[::1] URI, uri may name any port
// (or none), everything else being equal.
func MatchRedirectURI(registered []string, uri string) bool {
	for _, r := range registered {
		if r == uri || loopbackPortMatch(r, uri) {
			return true
		}
	}
	return false
}

// loopbackPortMatch reports whether reg and uri are the same loopback-IP
// http URI but for the port.
func loopbackPortMatch(reg, uri string) bool {
	for _, host := range []string{"http://127.0.0.1", "http://[::1]"} {
		regRest, ok1 := strings.CutPrefix(reg, host)
		uriRest, ok2 := strings.CutPrefix(uri, host)
		if !ok1 || !ok2 {
			continue
		}
		regRest, ok1 = stripPort(regRest)
		uriRest, ok2 = stripPort(uriRest)
		return ok1 && ok2 && regRest == uriRest &&
			(regRest == "" || regRest[0] == '/' || regRest[0] == '?')
	}
	return false
}

// stripPort removes a leading ":port" (1-65535) from s. It reports false for
// a malformed port.
func stripPort(s string) (string, bool) {
	if !strings.HasPrefix(s, ":") {
		return s, true
	}
	i := 1
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	n, err := strconv.Atoi(s[1:i])
	if err != nil || i > 6 || n < 1 || n > 65535 {
		return "", false
	}
	return s[i:], true
}
