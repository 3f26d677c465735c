package protocol

import (
	"errors"
	"fmt"
	"slices"
)

// Limits on the scopes one client, code or token carries.
const (
	// MaxScopes bounds how many scopes one list holds.
	MaxScopes = 64
	// MaxScopeLength bounds one scope, in bytes.
	MaxScopeLength = 128
	// MaxScopeListLength bounds a list's scopes joined by spaces, in bytes:
	// the scope claim of an access token, which MaxJWTLength counts.
	MaxScopeListLength = 1024
)

// NormalizeScopes validates scope tokens (RFC 6749 3.3: one or more
// printable ASCII characters other than space, '"' and '\') and removes
// duplicates, keeping the first occurrence: at most MaxScopes scopes of
// MaxScopeLength bytes, at most MaxScopeListLength bytes joined by spaces.
// The result is never nil.
func NormalizeScopes(scopes []string) ([]string, error) {
	if len(scopes) > MaxScopes {
		return nil, fmt.Errorf("at most %d scopes are allowed, got %d", MaxScopes, len(scopes))
	}
	out := make([]string, 0, len(scopes))
	seen := make(map[string]bool, len(scopes))
	joined := 0 // the length of out joined by spaces
	for i, s := range scopes {
		if err := CheckScope(s); err != nil {
			return nil, fmt.Errorf("scope %d %w", i, err)
		}
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
			if joined += len(s) + min(len(out)-1, 1); joined > MaxScopeListLength {
				return nil, fmt.Errorf("scopes joined by spaces are longer than %d bytes", MaxScopeListLength)
			}
		}
	}
	return out, nil
}

// CheckScope validates one scope token (RFC 6749 3.3). The error quotes at
// most the first 32 bytes of s.
func CheckScope(s string) error {
	if s == "" {
		return errors.New("is empty")
	}
	if len(s) > MaxScopeLength {
		return fmt.Errorf("is longer than %d bytes", MaxScopeLength)
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x21 || c > 0x7e || c == '"' || c == '\\' {
			return fmt.Errorf("%q holds a character outside RFC 6749 3.3", Clip(s, 32))
		}
	}
	return nil
}

// MissingScope returns the first scope of want that have lacks, and whether
// there is one.
func MissingScope(want, have []string) (string, bool) {
	for _, s := range want {
		if !slices.Contains(have, s) {
			return s, true
		}
	}
	return "", false
}
