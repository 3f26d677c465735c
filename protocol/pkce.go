package protocol

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
)

// PKCEMethodS256 is the only PKCE code_challenge_method accepted (RFC 7636
// 4.2; RFC 9700 2.1.1 rules out "plain").
const PKCEMethodS256 = "S256"

// NewVerifier returns a random RFC 7636 code verifier: 43 characters of
// the unreserved set carrying 256 bits from crypto/rand.
func NewVerifier() (string, error) {
	var b [32]byte
	if _, err := io.ReadFull(rand.Reader, b[:]); err != nil {
		return "", fmt.Errorf("pkce verifier: random source failed: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b[:]), nil
}

// S256Challenge returns the RFC 7636 S256 code challenge of verifier:
// unpadded base64url of its SHA-256.
func S256Challenge(verifier string) string {
	sum := sha256.Sum256([]byte(verifier))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// ValidVerifier reports whether v is a well-formed RFC 7636 code verifier:
// 43 to 128 characters of [A-Za-z0-9-._~].
func ValidVerifier(v string) bool {
	if len(v) < 43 || len(v) > 128 {
		return false
	}
	for i := 0; i < len(v); i++ {
		switch c := v[i]; {
		case 'A' <= c && c <= 'Z', 'a' <= c && c <= 'z', '0' <= c && c <= '9',
			c == '-', c == '.', c == '_', c == '~':
		default:
			return false
		}
	}
	return true
}

// ValidChallenge reports whether c has the form of an S256 challenge:
// unpadded base64url of 32 bytes (43 characters), strictly encoded (RFC
// 7515 2): the last character's two unused bits are zero, as in every
// S256Challenge, so no second spelling of a challenge is stored.
func ValidChallenge(c string) bool {
	if len(c) != 43 {
		return false
	}
	for i := 0; i < len(c); i++ {
		switch ch := c[i]; {
		case 'A' <= ch && ch <= 'Z', 'a' <= ch && ch <= 'z', '0' <= ch && ch <= '9', ch == '-', ch == '_':
		default:
			return false
		}
	}
	_, err := base64.RawURLEncoding.Strict().DecodeString(c)
	return err == nil
}

// VerifyS256 reports, comparing in constant time, whether verifier is valid
// and its S256Challenge equals challenge.
func VerifyS256(challenge, verifier string) bool {
	if !ValidVerifier(verifier) {
		return false
	}
	return subtle.ConstantTimeCompare([]byte(S256Challenge(verifier)), []byte(challenge)) == 1
}

// ErrVerifierMismatch is returned by CheckPKCE when the verifier is well
// formed but does not match the challenge: the caller treats it as failed
// authentication, not as malformed input.
var ErrVerifierMismatch = errors.New("code_verifier does not match the code_challenge")

// CheckChallenge validates the PKCE parameters of an authorization request:
// none at all, or an S256 challenge with method S256.
func CheckChallenge(challenge, method string) error {
	switch {
	case challenge == "" && method == "":
		return nil
	case method == "":
		return errors.New("code_challenge_method is missing; only S256 is supported")
	case method != PKCEMethodS256:
		return fmt.Errorf("code_challenge_method %q is not supported; only S256 is", Clip(method, 16))
	case !ValidChallenge(challenge):
		return errors.New("code_challenge is not an S256 challenge (43 base64url characters, strictly encoded)")
	}
	return nil
}

// CheckPKCE checks the verifier a token request presents against the
// challenge (and method) stored with the code (RFC 7636 4.6). A verifier is
// required exactly when there is a challenge. It returns ErrVerifierMismatch
// for a well-formed verifier that does not match, and another error for
// anything malformed or missing.
func CheckPKCE(challenge, method, verifier string) error {
	switch {
	case challenge == "" && verifier != "":
		return errors.New("code_verifier given but the code has no code_challenge")
	case challenge == "":
		return nil
	case verifier == "":
		return errors.New("code_verifier is missing")
	case method != PKCEMethodS256:
		return errors.New("code was issued with an unsupported code_challenge_method")
	case !ValidVerifier(verifier):
		return errors.New("code_verifier is not 43-128 characters of [A-Za-z0-9-._~]")
	case !VerifyS256(challenge, verifier):
		return ErrVerifierMismatch
	}
	return nil
}

// Clip shortens s to n bytes for an error message.
func Clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}
