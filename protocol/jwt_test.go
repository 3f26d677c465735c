package protocol_test

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/require"

	"github.com/forgeauth/authstore/protocol"
)

// The keys, issuer and clock of the JWT tests.
var (
	keyA      = []byte("protocol-test-key-a-0123456789abcdef")
	keyB      = []byte("protocol-test-key-b-0123456789abcdef")
	jwtIssuer = "https://auth.example.com"
	jwtNow    = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
)

func clockAt(t time.Time) func() time.Time { return func() time.Time { return t } }

// b64url is the alphabet of RFC 7515 base64url.
const b64url = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"

// testToken signs a valid access token with key, issued at jwtNow for an
// hour.
func testToken(t testing.TB, key []byte, scopes ...string) string {
	t.Helper()
	c := protocol.NewClaims(jwtIssuer, "0190a6e1-7b5c-7d0e-8f00-000000000001", "0190a6e1-7b5c-7d0e-8f00-0000000000c1",
		"0190a6e1-7b5c-7d0e-8f00-0000000000a1", scopes, jwtNow, jwtNow.Add(time.Hour))
	tok, err := protocol.SignAccessToken(key, c)
	require.NoError(t, err)
	return tok
}

// resign signs header and payload JSON as given with key (HS256), with no
// re-encoding of either.
func resign(t testing.TB, key []byte, header, payload string) string {
	t.Helper()
	input := base64.RawURLEncoding.EncodeToString([]byte(header)) + "." + base64.RawURLEncoding.EncodeToString([]byte(payload))
	sig, err := jwt.SigningMethodHS256.Sign(input, key)
	require.NoError(t, err)
	return input + "." + base64.RawURLEncoding.EncodeToString(sig)
}

// payloadOf returns the decoded claims segment of token.
func payloadOf(t testing.TB, token string) string {
	t.Helper()
	b, err := base64.RawURLEncoding.DecodeString(strings.Split(token, ".")[1])
	require.NoError(t, err)
	return string(b)
}

// spareBitVariants returns token with its last character replaced by every
// other character that decodes to the same bytes (non-zero unused bits).
func spareBitVariants(token string) []string {
	last := token[len(token)-1]
	segLen := len(token) - strings.LastIndexByte(token, '.') - 1
	var spare int // unused bits of the last character: 2 or 4
	switch segLen % 4 {
	case 2:
		spare = 4
	case 3:
		spare = 2
	default:
		return nil
	}
	idx := strings.IndexByte(b64url, last)
	var out []string
	for i := 0; i < 64; i++ {
		if i != idx && i>>spare == idx>>spare {
			out = append(out, token[:len(token)-1]+string(b64url[i]))
		}
	}
	return out
}

// TestHardeningJWTParsing is issue 11's class 11: ParseAccessToken parses
// strictly (RFC 7515 base64url without padding or spare bits in every
// segment, numeric dates only), and every single-character change of a
// valid token is refused.
func TestHardeningJWTParsing(t *testing.T) {
	good := testToken(t, keyA, "read", "write")
	parse := func(tok string) error {
		_, err := protocol.ParseAccessToken(tok, keyA, jwtIssuer, clockAt(jwtNow))
		return err
	}
	require.NoError(t, parse(good))

	t.Run("SpareBits", func(t *testing.T) {
		// An HS256 signature is 32 bytes: 43 characters, the last with 2
		// unused bits, so 3 other characters decode to the same signature.
		variants := spareBitVariants(good)
		require.Len(t, variants, 3)
		for _, v := range variants {
			sig, err := base64.RawURLEncoding.DecodeString(v[strings.LastIndexByte(v, '.')+1:])
			require.NoError(t, err, "the lenient decoder takes %q", v[len(v)-1:])
			require.Equal(t, sig, mustSig(t, good), "the variant decodes to the same signature")
			require.ErrorIs(t, parse(v), protocol.ErrTokenInvalid, "ParseAccessToken(last char %q) = nil; want ErrTokenInvalid", v[len(v)-1:])
		}
		// The header and the claims are checked as well: a segment of
		// length 2 or 3 mod 4 with spare bits set, re-signed with the key.
		for _, seg := range []int{0, 1} {
			parts := strings.Split(good, ".")
			for len(parts[seg])%4 == 0 || len(parts[seg])%4 == 1 {
				// Pad the JSON with a space until the segment has spare bits.
				raw, _ := base64.RawURLEncoding.DecodeString(parts[seg])
				parts[seg] = base64.RawURLEncoding.EncodeToString(append(raw, ' '))
			}
			for _, v := range spareBitVariants(parts[seg]) {
				parts := append([]string(nil), parts...)
				parts[seg] = v
				input := strings.Join(parts[:2], ".")
				sig, err := jwt.SigningMethodHS256.Sign(input, keyA)
				require.NoError(t, err)
				tok := input + "." + base64.RawURLEncoding.EncodeToString(sig)
				require.ErrorIs(t, parse(tok), protocol.ErrTokenInvalid, "segment %d with spare bits: ParseAccessToken = nil", seg)
			}
		}
	})

	t.Run("NotBase64URL", func(t *testing.T) {
		i := strings.LastIndexByte(good, '.') + 10
		for name, tok := range map[string]string{
			"padding":            good + "=",
			"padding in claims":  strings.Replace(good, ".", "=.", 2),
			"LF in signature":    good[:i] + "\n" + good[i:],
			"CR LF in signature": good[:i] + "\r\n" + good[i:],
			"space":              good[:i] + " " + good[i:],
			"std alphabet +":     good[:i] + "+" + good[i+1:],
			"std alphabet /":     good[:i] + "/" + good[i+1:],
			"trailing LF":        good + "\n",
			"leading space":      " " + good,
			"four segments":      good + ".AAAA",
			"empty signature":    good[:strings.LastIndexByte(good, '.')+1],
			"empty":              "",
			"dots":               "..",
		} {
			require.ErrorIs(t, parse(tok), protocol.ErrTokenInvalid, "%s: ParseAccessToken = nil; want ErrTokenInvalid", name)
		}
	})

	t.Run("NumericDatesOnly", func(t *testing.T) {
		const header = `{"alg":"HS256","typ":"at+jwt"}`
		payload := payloadOf(t, good)
		var m map[string]any
		require.NoError(t, json.Unmarshal([]byte(payload), &m))
		exp, iat := int64(m["exp"].(float64)), int64(m["iat"].(float64))
		// The control: the same claims re-signed as numbers validate.
		require.NoError(t, parse(resign(t, keyA, header, payload)))
		for name, edit := range map[string]func(map[string]any){
			"exp string":      func(m map[string]any) { m["exp"] = itoa(exp) },
			"iat string":      func(m map[string]any) { m["iat"] = itoa(iat) },
			"nbf string":      func(m map[string]any) { m["nbf"] = itoa(iat) },
			"exp null":        func(m map[string]any) { m["exp"] = nil },
			"iat null":        func(m map[string]any) { m["iat"] = nil },
			"exp bool":        func(m map[string]any) { m["exp"] = true },
			"exp array":       func(m map[string]any) { m["exp"] = []int64{exp} },
			"exp object":      func(m map[string]any) { m["exp"] = map[string]int64{"n": exp} },
			"no iat":          func(m map[string]any) { delete(m, "iat") },
			"no exp":          func(m map[string]any) { delete(m, "exp") },
			"EXP string":      func(m map[string]any) { delete(m, "exp"); m["EXP"] = itoa(exp) },
			"exp huge":        func(m map[string]any) { m["exp"] = json.Number("1e400") },
			"future nbf":      func(m map[string]any) { m["nbf"] = exp },
			"exp in the past": func(m map[string]any) { m["exp"] = iat - 1 },
		} {
			m := map[string]any{}
			require.NoError(t, json.Unmarshal([]byte(payload), &m))
			edit(m)
			b, err := json.Marshal(m)
			require.NoError(t, err)
			err = parse(resign(t, keyA, header, string(b)))
			require.Error(t, err, "%s: ParseAccessToken(%s) = nil", name, b)
			if name != "exp in the past" {
				require.ErrorIs(t, err, protocol.ErrTokenInvalid, "%s: ParseAccessToken(%s) = %v; want ErrTokenInvalid", name, b, err)
			}
		}
		// A date given as a fraction or with an exponent is a JSON number
		// (RFC 7519 2, NumericDate) and is accepted.
		m["exp"] = json.Number(itoa(exp) + ".5")
		s := itoa(iat) // 1767323045 as 1.767323045e9
		m["iat"] = json.Number(s[:1] + "." + s[1:] + "e" + itoa(int64(len(s)-1)))
		b, err := json.Marshal(m)
		require.NoError(t, err)
		require.NoError(t, parse(resign(t, keyA, header, string(b))), "ParseAccessToken(%s)", b)
	})

	t.Run("Header", func(t *testing.T) {
		payload := payloadOf(t, good)
		for name, header := range map[string]string{
			"crit":     `{"alg":"HS256","typ":"at+jwt","crit":["exp"]}`,
			"typ JWT":  `{"alg":"HS256","typ":"JWT"}`,
			"no typ":   `{"alg":"HS256"}`,
			"alg none": `{"alg":"none","typ":"at+jwt"}`,
			"HS512":    `{"alg":"HS512","typ":"at+jwt"}`,
			"array":    `[]`,
		} {
			require.ErrorIs(t, parse(resign(t, keyA, header, payload)), protocol.ErrTokenInvalid, name)
		}
	})

	t.Run("EverySingleCharacterChange", func(t *testing.T) {
		// Every position, every base64url character (and '.'): SECURITY 3
		// for JWTs.
		n := 0
		for i := 0; i < len(good); i++ {
			for _, c := range []byte(b64url + ".") {
				if c == good[i] {
					continue
				}
				tok := good[:i] + string(c) + good[i+1:]
				require.ErrorIs(t, parse(tok), protocol.ErrTokenInvalid, "token with %q at %d validates", c, i)
				n++
			}
		}
		t.Logf("%d single-character variants of a %d-character token refused", n, len(good))
	})

	t.Run("ErrorsAreBounded", func(t *testing.T) {
		huge := good + strings.Repeat("A", 10000)
		for _, tok := range []string{huge, strings.Repeat("A.", 500), good[:len(good)-1] + "\n"} {
			err := parse(tok)
			require.ErrorIs(t, err, protocol.ErrTokenInvalid)
			require.LessOrEqual(t, len(err.Error()), 120, "error %q", err)
			require.NotContains(t, err.Error(), good[:20])
		}
	})
}

func mustSig(t *testing.T, token string) []byte {
	t.Helper()
	b, err := base64.RawURLEncoding.Strict().DecodeString(token[strings.LastIndexByte(token, '.')+1:])
	require.NoError(t, err)
	return b
}

func itoa(n int64) string { b, _ := json.Marshal(n); return string(b) }

// FuzzParseAccessToken fuzzes ParseAccessToken on two fronts. token is any
// input: it never panics, and what it accepts under keyA is refused under
// keyB and is exactly what SignAccessToken makes of its claims (so no
// second spelling of a token validates). The claim fields are signed by
// SignAccessToken with keyA: the token validates under keyA with the same
// claims when they are complete and fit MaxJWTLength, never under keyB, and
// the token changed at one position (pos, to alphabet character alt) never
// validates.
func FuzzParseAccessToken(f *testing.F) {
	good := testToken(f, keyA, "read", "write")
	variants := append(spareBitVariants(good), good+"=", good[:50]+"\n"+good[50:], strings.ToUpper(good),
		resign(f, keyA, `{"alg":"HS256","typ":"at+jwt"}`, strings.Replace(payloadOf(f, good), `"exp":`+itoa(jwtNow.Add(time.Hour).Unix()), `"exp":"`+itoa(jwtNow.Add(time.Hour).Unix())+`"`, 1)),
		testToken(f, keyB), "", "a.b.c", "..", "eyJhbGciOiJub25lIn0.e30.")
	const sub, client, jti = "0190a6e1-7b5c-7d0e-8f00-000000000001", "0190a6e1-7b5c-7d0e-8f00-0000000000c1", "0190a6e1-7b5c-7d0e-8f00-0000000000a1"
	iat, exp := jwtNow.Unix(), jwtNow.Add(time.Hour).Unix()
	f.Add(good, sub, client, jti, "read write", iat, exp, uint16(0), byte(0))
	f.Add(good, sub, client, jti, "read write", iat, exp, uint16(len(good)-1), byte(1))
	for i, v := range variants {
		f.Add(v, sub, client, jti, "", iat-int64(i), exp, uint16(i*37), byte(i))
	}
	f.Add("x", "", client, jti, "", iat, exp, uint16(5), byte(63))
	f.Add("x", sub, "", jti, "a", iat, exp, uint16(5), byte(63))
	f.Add("x", sub, client, jti, "", iat, iat-1, uint16(5), byte(63))
	f.Add("x", sub, client, jti, strings.Repeat("s", 3000), iat, exp, uint16(9), byte(2))
	f.Add("x", "\xff", client, jti, "é", iat, exp, uint16(9), byte(2))

	f.Fuzz(func(t *testing.T, token, sub, client, jti, scope string, iat, exp int64, pos uint16, alt byte) {
		now := clockAt(jwtNow)
		// Any input.
		if c, err := protocol.ParseAccessToken(token, keyA, jwtIssuer, now); err == nil {
			if _, err := protocol.ParseAccessToken(token, keyB, jwtIssuer, now); err == nil {
				t.Fatalf("%q validates under two keys", token)
			}
			again, err := protocol.SignAccessToken(keyA, *c)
			if err != nil || again != token {
				t.Fatalf("accepted %q, which is not how its claims sign: %q", token, again)
			}
		} else if !errors.Is(err, protocol.ErrTokenInvalid) && !errors.Is(err, protocol.ErrTokenExpired) {
			t.Fatalf("ParseAccessToken(%q) = %v; want ErrTokenInvalid or ErrTokenExpired", token, err)
		} else if len(err.Error()) > 120 {
			t.Fatalf("error of %d bytes: %q", len(err.Error()), err)
		}

		// Claims signed by the function under test. Dates within what a
		// NumericDate carries to the second.
		const maxDate = 1 << 40
		if iat < 0 || exp < 0 || iat > maxDate || exp > maxDate {
			return
		}
		c := protocol.NewClaims(jwtIssuer, sub, client, jti, strings.Fields(scope), time.Unix(iat, 0), time.Unix(exp, 0))
		signed, err := protocol.SignAccessToken(keyA, c)
		if err != nil {
			t.Fatalf("SignAccessToken = %v", err)
		}
		if _, err := protocol.ParseAccessToken(signed, keyB, jwtIssuer, now); !errors.Is(err, protocol.ErrTokenInvalid) {
			t.Fatalf("a token signed with keyA parses under keyB: %v", err)
		}
		got, err := protocol.ParseAccessToken(signed, keyA, jwtIssuer, now)
		valid := jti != "" && client != "" && len(signed) <= protocol.MaxJWTLength && iat <= jwtNow.Unix() && exp > jwtNow.Unix()
		switch {
		case valid && err != nil:
			t.Fatalf("ParseAccessToken(SignAccessToken(%+v)) = %v; want nil", c, err)
		case !valid && err == nil:
			t.Fatalf("ParseAccessToken(SignAccessToken(%+v)) = nil; want an error", c)
		case err == nil && utf8.ValidString(sub+client+jti+scope) &&
			(got.Subject != sub || got.ClientID != client || got.ID != jti || got.Scope != strings.Join(strings.Fields(scope), " ") ||
				got.ExpiresAt.Unix() != exp || got.IssuedAt.Unix() != iat):
			t.Fatalf("claims did not round-trip: %+v; want %+v", got, c)
		}
		if err != nil {
			return
		}
		i := int(pos) % len(signed)
		ch := b64url[int(alt)%len(b64url)]
		if ch == signed[i] {
			return
		}
		mutated := signed[:i] + string(ch) + signed[i+1:]
		if _, err := protocol.ParseAccessToken(mutated, keyA, jwtIssuer, now); !errors.Is(err, protocol.ErrTokenInvalid) {
			t.Fatalf("%q with %q at %d: ParseAccessToken = %v; want ErrTokenInvalid", signed, ch, i, err)
		}
	})
}

// BenchmarkParseAccessToken is the verification alone (no database): HS256
// beside RS256 (2048-bit), ES256 and EdDSA, the cost an algorithm adds to
// every Validate.
func BenchmarkParseAccessToken(b *testing.B) {
	now := time.Now()
	c := protocol.NewAudienceClaims("https://auth.example.com", "https://api.example.com", "6c3f7f0e-4d5e-4c8e-9f0a-1b2c3d4e5f60",
		"7c3f7f0e-4d5e-4c8e-9f0a-1b2c3d4e5f60", "8c3f7f0e-4d5e-4c8e-9f0a-1b2c3d4e5f60", []string{"read", "write"}, now, now.Add(time.Hour))
	clock := func() time.Time { return now }
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		b.Fatal(err)
	}
	ecKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		b.Fatal(err)
	}
	_, edKey, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		b.Fatal(err)
	}
	secret := []byte("a benchmark secret of 32 bytes or more")
	b.Run("HS256", func(b *testing.B) {
		tok, err := protocol.SignAccessToken(secret, c)
		if err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		for b.Loop() {
			if _, err := protocol.ParseAccessToken(tok, secret, "https://auth.example.com", clock); err != nil {
				b.Fatal(err)
			}
		}
	})
	for _, k := range []struct {
		alg  string
		priv crypto.Signer
	}{{"RS256", rsaKey}, {"ES256", ecKey}, {"EdDSA", edKey}} {
		b.Run(k.alg, func(b *testing.B) {
			tok, err := protocol.SignAccessTokenWith(k.alg, "9c3f7f0e-4d5e-4c8e-9f0a-1b2c3d4e5f60", k.priv, c)
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				if _, err := protocol.ParseAccessTokenWith(tok, k.alg, k.priv.Public(), "https://auth.example.com", clock); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
