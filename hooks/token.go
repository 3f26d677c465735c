package hooks

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
)

// TokenBytes is the number of random bytes (256 bits) in a token.
const TokenBytes = 32

// ErrRandom reports that the random source failed or returned too few bytes.
// Callers get an error, never a weaker fallback.
var ErrRandom = errors.New("random source failed")

func readRandom(r io.Reader, n int) ([]byte, error) {
	b := make([]byte, n)
	if _, err := io.ReadFull(r, b); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrRandom, err)
	}
	return b, nil
}

// NewToken returns TokenBytes bytes from crypto/rand encoded as unpadded
// base64url: 43 URL-safe characters. Store only its Digest.
func NewToken() (string, error) { return NewTokenFrom(rand.Reader) }

// NewTokenFrom is like NewToken but reads from r. A failing or short read
// returns an error wrapping ErrRandom.
func NewTokenFrom(r io.Reader) (string, error) {
	b, err := readRandom(r, TokenBytes)
	if err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// NewPrefixedToken returns prefix followed by a NewToken, as used for
// personal access tokens (for example with prefix "asp_").
func NewPrefixedToken(prefix string) (string, error) {
	t, err := NewToken()
	if err != nil {
		return "", err
	}
	return prefix + t, nil
}

// Digest returns the lowercase hex SHA-256 of token (64 characters), the form
// in which tokens are stored and looked up.
func Digest(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}
