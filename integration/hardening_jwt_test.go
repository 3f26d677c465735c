package integration

// Issue 11, class 11 (JWT parsing): access tokens are parsed strictly, and
// SECURITY.md 3 (a token differing by one character, or in case, is not
// found) holds for JWT access tokens: every position substituted by every
// base64url character, deleted, doubled by an insertion or changed in case,
// through AccessTokens.Validate, Tokens.Introspect, Tokens.Inspect and
// Tokens.Revoke (which revokes nothing), on every backend.

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"testing"

	"github.com/forgeauth/authstore/repositories"
	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/require"
)

// base64URLAlphabet is RFC 7515's base64url alphabet.
const base64URLAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"

// resignJWT signs the header and payload JSON, as given, with the
// fixture's key (HS256): the forger holds the key, so only the parser's
// strictness can refuse the token.
func resignJWT(t *testing.T, header, payload string) string {
	t.Helper()
	input := base64.RawURLEncoding.EncodeToString([]byte(header)) + "." + base64.RawURLEncoding.EncodeToString([]byte(payload))
	sig, err := jwt.SigningMethodHS256.Sign(input, []byte(jwtSecret))
	require.NoError(t, err)
	return input + "." + base64.RawURLEncoding.EncodeToString(sig)
}

func TestHardeningJWTParsing(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b Backend) {
		f := newFixture(t, b)
		ctx := requestCtx()
		uid := f.user(t, "jwt@example.com").ID
		c, _ := f.confidentialClient(t, nil)
		client := authed(f.s, c.ID)
		_, good, err := f.s.AccessTokens.Issue(ctx, c.ID, &uid, []string{"read"}, nil)
		require.NoError(t, err)

		// refused asserts that tok is refused the documented way: Validate
		// returns ErrInvalidCredentials (a bounded error, without the
		// token), Introspect reports it inactive without an error.
		refused := func(t *testing.T, what, tok string) {
			t.Helper()
			_, err := f.s.AccessTokens.Validate(ctx, tok)
			if !errors.Is(err, repositories.ErrInvalidCredentials) {
				t.Fatalf("%s: Validate = %v; want ErrInvalidCredentials", what, err)
			}
			if len(err.Error()) > 200 || strings.Contains(err.Error(), tok[:min(len(tok), 40)]) {
				t.Fatalf("%s: Validate error %q is long or holds the token", what, err)
			}
			in, err := f.s.Tokens.Introspect(ctx, client, tok)
			if err != nil || in.Active {
				t.Fatalf("%s: Introspect = %+v, %v; want inactive, nil", what, in, err)
			}
		}
		accepted := func(t *testing.T) {
			t.Helper()
			_, err := f.s.AccessTokens.Validate(ctx, good)
			require.NoError(t, err, "Validate(good)")
			in, err := f.s.Tokens.Introspect(ctx, client, good)
			require.NoError(t, err)
			require.True(t, in.Active, "Introspect(good) is inactive")
		}
		accepted(t)

		t.Run("SpareBits", func(t *testing.T) {
			// The signature's 43rd character carries 4 bits and 2 unused
			// ones: 3 other characters decode, leniently, to the same
			// signature.
			sig := good[strings.LastIndexByte(good, '.')+1:]
			require.Len(t, sig, 43)
			idx := strings.IndexByte(base64URLAlphabet, good[len(good)-1])
			n := 0
			for i := 0; i < 64; i++ {
				if i != idx && i>>2 == idx>>2 {
					refused(t, "last character "+base64URLAlphabet[i:i+1], good[:len(good)-1]+base64URLAlphabet[i:i+1])
					n++
				}
			}
			require.Equal(t, 3, n)
		})

		t.Run("NotBase64URL", func(t *testing.T) {
			i := strings.LastIndexByte(good, '.') + 10
			for what, tok := range map[string]string{
				"padding":            good + "=",
				"LF in signature":    good[:i] + "\n" + good[i:],
				"CR LF in signature": good[:i] + "\r\n" + good[i:],
				"trailing LF":        good + "\n",
				"space":              good[:i] + " " + good[i:],
			} {
				refused(t, what, tok)
			}
		})

		t.Run("NumericDatesOnly", func(t *testing.T) {
			parts := strings.Split(good, ".")
			header, err := base64.RawURLEncoding.DecodeString(parts[0])
			require.NoError(t, err)
			payload, err := base64.RawURLEncoding.DecodeString(parts[1])
			require.NoError(t, err)
			// The control: the same claims re-signed validate.
			_, err = f.s.AccessTokens.Validate(ctx, resignJWT(t, string(header), string(payload)))
			require.NoError(t, err, "the re-signed token")
			for _, claim := range []string{"exp", "iat"} {
				var m map[string]json.RawMessage
				require.NoError(t, json.Unmarshal(payload, &m))
				m[claim] = json.RawMessage(`"` + string(m[claim]) + `"`) // the same date as a string
				edited, err := json.Marshal(m)
				require.NoError(t, err)
				refused(t, claim+" as a string", resignJWT(t, string(header), string(edited)))
			}
		})

		t.Run("EverySingleCharacterChange", func(t *testing.T) {
			// Every position, every base64url character: the full product,
			// about 63 x 430 variants, each refused by both calls.
			n := 0
			for i := 0; i < len(good); i++ {
				for j := 0; j < len(base64URLAlphabet); j++ {
					if base64URLAlphabet[j] == good[i] {
						continue
					}
					refused(t, "position "+strconv.Itoa(i)+" as "+base64URLAlphabet[j:j+1], good[:i]+base64URLAlphabet[j:j+1]+good[i+1:])
					n++
				}
			}
			t.Logf("%d single-character variants of a %d-character access token refused by Validate and Introspect", n, len(good))
		})

		t.Run("OneCharacterInsertedDeletedOrCaseChanged", func(t *testing.T) {
			// SECURITY 3 through every call that takes a JWT: Validate,
			// Introspect, the operator's Inspect, and Revoke, which must
			// revoke nothing for a near miss. Each position: the character
			// deleted, one inserted before it, and its case changed.
			var variants []string
			for i := 0; i <= len(good); i++ {
				variants = append(variants, good[:i]+"A"+good[i:])
				if i == len(good) {
					break
				}
				variants = append(variants, good[:i]+good[i+1:])
				if c := good[i]; c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' {
					variants = append(variants, good[:i]+string(c^0x20)+good[i+1:])
				}
			}
			for _, v := range variants {
				if v == good {
					continue // inserting the character already there
				}
				refused(t, "near miss", v)
				in, err := f.s.Tokens.Inspect(ctx, v)
				require.NoError(t, err)
				require.Equal(t, repositories.TokenUnknown, in.State, "Inspect found a near miss of the token")
				require.NoError(t, f.s.Tokens.Revoke(ctx, client, v, "access_token"))
			}
			t.Logf("%d near misses (deleted, inserted, case-changed characters) refused by Validate, Introspect and Inspect, and revoking none", len(variants))
		})

		// Nothing was revoked or changed by the refusals.
		accepted(t)
	})
}
