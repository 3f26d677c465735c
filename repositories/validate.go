package repositories

import (
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/forgeauth/authstore/models"
	"github.com/forgeauth/authstore/protocol"
)

// Limits on user input.
const (
	// MaxNameLength bounds a display name (user, client, personal token),
	// in characters.
	MaxNameLength = 255
	// MaxEmailLength is RFC 5321's path limit, in bytes.
	MaxEmailLength = 254
	// MaxListLimit is the most rows one List call returns.
	MaxListLimit = 1000
	// maxTokenLength bounds a presented token, code or secret: longer input
	// cannot be one of ours and is refused before any digest or lookup.
	maxTokenLength = 512
)

// validID refuses an id that is not a canonical UUID, so that no malformed
// id reaches a PostgreSQL uuid column.
func validID(what string, id models.UUID) error {
	if !id.Valid() {
		return fmt.Errorf("%s is not a uuid: %w", what, ErrInvalidInput)
	}
	return nil
}

// validOptionalID is validID for an optional id.
func validOptionalID(what string, id *models.UUID) error {
	if id == nil {
		return nil
	}
	return validID(what, *id)
}

// firstErr returns the first non-nil error of checks (validID results).
func firstErr(checks ...error) error {
	for _, err := range checks {
		if err != nil {
			return err
		}
	}
	return nil
}

// checkLifetime refuses a non-positive lifetime from a hand-built Config.
func checkLifetime(name string, d time.Duration) error {
	if d <= 0 {
		return fmt.Errorf("%s lifetime is not positive: %w", name, ErrInvalidInput)
	}
	return nil
}

// checkName trims a display name and checks that it is present, not too
// long and free of control characters.
func checkName(what, name string) (string, error) {
	name = strings.TrimSpace(name)
	switch {
	case name == "":
		return "", fmt.Errorf("%s is empty: %w", what, ErrInvalidInput)
	case utf8.RuneCountInString(name) > MaxNameLength:
		return "", fmt.Errorf("%s is longer than %d characters: %w", what, MaxNameLength, ErrInvalidInput)
	case !utf8.ValidString(name) || strings.ContainsAny(name, "\x00\r\n"):
		return "", fmt.Errorf("%s has invalid characters: %w", what, ErrInvalidInput)
	}
	return name, nil
}

// checkList validates the limit and offset of a List call.
func checkList(limit, offset int) error {
	if limit < 1 || limit > MaxListLimit {
		return fmt.Errorf("limit must be 1 to %d, got %d: %w", MaxListLimit, limit, ErrInvalidInput)
	}
	if offset < 0 {
		return fmt.Errorf("offset must not be negative, got %d: %w", offset, ErrInvalidInput)
	}
	return nil
}

// normalizeScopes validates and deduplicates scopes (protocol.NormalizeScopes).
func normalizeScopes(scopes []string) (models.Strings, error) {
	out, err := protocol.NormalizeScopes(scopes)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", err, ErrInvalidScope)
	}
	return out, nil
}

// allowedScopes checks requested scopes against a client's registered ones.
// A client with no registered scopes may ask for any.
func allowedScopes(client *models.Client, scopes []string) error {
	if len(client.Scopes) == 0 {
		return nil
	}
	if s, missing := protocol.MissingScope(scopes, client.Scopes); missing {
		return fmt.Errorf("scope %q is not registered for the client: %w", s, ErrInvalidScope)
	}
	return nil
}
