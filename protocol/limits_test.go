package protocol

import (
	"encoding/base64"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// TestMaxJWTLengthHasHeadroom signs the largest token the limits allow
// with what the signing-key work brings (an RSA 4096 signature, a kid of
// MaxKeyIDLength bytes, an issuer and an audience of MaxIssuerLength
// bytes), every string in the characters JSON escapes to six bytes, and
// checks that MaxJWTLength holds it and ParseAccessToken's length check
// lets it through; and that today's HS256 token at the limits is shorter.
func TestMaxJWTLengthHasHeadroom(t *testing.T) {
	worst := func(n int) string { return strings.Repeat("<", n) }
	var scopes []string
	for left := MaxScopeListLength; left > 0; {
		n := min(MaxScopeLength, left)
		if len(scopes) > 0 {
			n = min(MaxScopeLength, left-1)
		}
		scopes = append(scopes, string(rune('a'+len(scopes)))+worst(n-1))
		left -= n + min(len(scopes)-1, 1)
	}
	if got := len(strings.Join(scopes, " ")); got != MaxScopeListLength {
		t.Fatalf("scope list of %d bytes; want %d", got, MaxScopeListLength)
	}
	if _, err := NormalizeScopes(scopes); err != nil {
		t.Fatalf("NormalizeScopes(the longest list) = %v", err)
	}
	id := strings.Repeat("f", maxIDLength)
	far := time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC)
	c := NewClaims(worst(MaxIssuerLength), id, id, id, scopes, far, far)
	c.Audience = jwt.ClaimStrings{worst(MaxIssuerLength)}
	c.NotBefore = jwt.NewNumericDate(far)

	tok := jwt.NewWithClaims(jwt.SigningMethodRS256, c)
	tok.Header["typ"] = AccessTokenType
	tok.Header["kid"] = worst(MaxKeyIDLength)
	unsigned, err := tok.SigningString()
	if err != nil {
		t.Fatal(err)
	}
	// An RSA 4096 signature is 512 bytes whatever it signs.
	signed := unsigned + "." + base64.RawURLEncoding.EncodeToString(make([]byte, 4096/8))
	t.Logf("RS256-4096 token at every limit: %d bytes; MaxJWTLength %d", len(signed), MaxJWTLength)
	if len(signed) > MaxJWTLength {
		t.Fatalf("the largest RS256 token is %d bytes, over MaxJWTLength %d", len(signed), MaxJWTLength)
	}

	hs, err := SignAccessToken([]byte(strings.Repeat("k", MinHS256KeyLength)), NewClaims(worst(MaxIssuerLength), id, id, id, scopes, far.Add(-2*time.Hour), far))
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("HS256 token at every limit today: %d bytes", len(hs))
	if len(hs) > len(signed) {
		t.Fatalf("today's largest token (%d bytes) is longer than the RS256 one", len(hs))
	}
	if _, err := ParseAccessToken(hs, []byte(strings.Repeat("k", MinHS256KeyLength)), worst(MaxIssuerLength), func() time.Time { return far.Add(-time.Hour) }); err != nil {
		t.Fatalf("ParseAccessToken(the largest HS256 token) = %v", err)
	}
	if _, err := ParseAccessToken(strings.Repeat("a", MaxJWTLength+1), nil, "", time.Now); err == nil || !strings.Contains(err.Error(), "longer than") {
		t.Fatalf("ParseAccessToken(MaxJWTLength+1 bytes) = %v; want refused for its length", err)
	}
}
