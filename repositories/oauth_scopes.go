package repositories

import (
	"fmt"

	"github.com/forgeauth/authstore/models"
)

// Limits on the lists a client, code or token carries.
const (
	maxScopes      = 64
	maxScopeLength = 128
	maxNameLength  = 255
	// maxTokenLength bounds a presented token, code or secret: longer input
	// cannot be one of ours and is refused before any digest or lookup.
	maxTokenLength = 512
)

// normalizeScopes validates scope tokens (RFC 6749 3.3: one or more
// printable ASCII characters other than space, '"' and '\') and removes
// duplicates, keeping the first occurrence. The result is never nil.
func normalizeScopes(scopes []string) (models.Strings, error) {
	if len(scopes) > maxScopes {
		return nil, fmt.Errorf("at most %d scopes are allowed, got %d: %w", maxScopes, len(scopes), ErrInvalidInput)
	}
	out := make(models.Strings, 0, len(scopes))
	seen := make(map[string]bool, len(scopes))
	for i, s := range scopes {
		if err := checkScope(s); err != nil {
			return nil, fmt.Errorf("scope %d %w", i, err)
		}
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out, nil
}

func checkScope(s string) error {
	if s == "" {
		return fmt.Errorf("is empty: %w", ErrInvalidInput)
	}
	if len(s) > maxScopeLength {
		return fmt.Errorf("is longer than %d bytes: %w", maxScopeLength, ErrInvalidInput)
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x21 || c > 0x7e || c == '"' || c == '\\' {
			return fmt.Errorf("%q holds a character outside RFC 6749 3.3: %w", s, ErrInvalidInput)
		}
	}
	return nil
}

// subset reports the first scope of want that have lacks, and whether there
// is none.
func subset(want, have []string) (string, bool) {
	for _, s := range want {
		if !models.Strings(have).Contains(s) {
			return s, false
		}
	}
	return "", true
}

// allowedScopes checks requested scopes against a client's registered ones.
// A client with no registered scopes may ask for any.
func allowedScopes(client *models.Client, scopes []string) error {
	if len(client.Scopes) == 0 {
		return nil
	}
	if s, ok := subset(scopes, client.Scopes); !ok {
		return fmt.Errorf("scope %q is not registered for the client: %w", s, ErrInvalidInput)
	}
	return nil
}
